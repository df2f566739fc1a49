#!/usr/bin/env python3
"""Checks template.yaml's structure with a YAML parser (PyYAML): the SAM
transform, the function as a provided.al2023 custom runtime built by the
Makefile, its environment naming the stores, the DynamoDB table's key
schema as the service creates and checks it, the IAM policies, the HTTP
API route, and the retry path: the queue the API function sends failed
writes to, its dead-letter queue, and the worker function it triggers.
With BINARY, every EVENTLOGGER_* variable must be an option of the
function's command. Usage: template_test.py ROOT [BINARY]"""
import os
import re
import subprocess
import sys
import unittest

import yaml

ROOT = sys.argv.pop(1) if len(sys.argv) > 1 else "."
BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else None
# The command each function's Handler runs (see 'eventlogger lambda').
COMMAND_OF_HANDLER = {"api": "lambda", "worker": "worker"}


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, !GetAtt, …) as {"Fn": value}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _tag)


def load():
    with open(os.path.join(ROOT, "template.yaml")) as f:
        return yaml.load(f, Loader=CloudFormationLoader)


class TemplateTest(unittest.TestCase):
    def setUp(self):
        self.template = load()
        self.resources = self.template["Resources"]
        self.function = self.resources["ApiFunction"]
        self.properties = self.function["Properties"]
        self.globals = self.template["Globals"]["Function"]

    def test_is_a_sam_template(self):
        self.assertEqual(self.template["AWSTemplateFormatVersion"], "2010-09-09")
        self.assertEqual(self.template["Transform"], "AWS::Serverless-2016-10-31")

    def test_the_function_is_a_custom_runtime_built_by_the_makefile(self):
        self.assertEqual(self.function["Type"], "AWS::Serverless::Function")
        self.assertEqual(self.globals["Runtime"], "provided.al2023")
        self.assertEqual(self.properties["Handler"], "api")
        self.assertEqual(self.function["Metadata"]["BuildMethod"], "makefile")
        code = os.path.join(ROOT, self.properties["CodeUri"])
        with open(os.path.join(code, "Makefile")) as f:
            makefile = f.read()
        # SAM runs `make build-<LogicalId>`: every makefile-built function needs its target.
        for name, resource in self.resources.items():
            if resource.get("Metadata", {}).get("BuildMethod") == "makefile":
                self.assertRegex(makefile, r"(?m)^build-%s:" % re.escape(name))
                self.assertIn("ARTIFACTS_DIR", makefile)

    def test_the_table_has_the_key_schema_the_service_expects(self):
        table = self.resources["EventsTable"]
        self.assertEqual(table["Type"], "AWS::DynamoDB::Table")
        props = table["Properties"]
        self.assertEqual(props["BillingMode"], "PAY_PER_REQUEST")
        keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
        self.assertEqual(keys, {"UserId": "HASH", "SortKey": "RANGE"})
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        self.assertEqual(types, {"UserId": "S", "SortKey": "S"})

    def test_the_environment_names_the_stores_and_secrets(self):
        env = self.properties["Environment"]["Variables"]
        self.assertEqual(env["EVENTLOGGER_METADATA"], {"Ref": "MetadataUrl"})
        self.assertIn("${EventsTable}", env["EVENTLOGGER_DOCUMENTS"]["Fn::Sub"])
        self.assertTrue(env["EVENTLOGGER_DOCUMENTS"]["Fn::Sub"].startswith("dynamodb://"))
        self.assertEqual(env["EVENTLOGGER_CURSOR_SECRET"], {"Ref": "CursorSecret"})
        self.assertTrue(env["EVENTLOGGER_DATA_DIR"].startswith("/tmp/"))
        # Every variable is an option of the binary (EVENTLOGGER_SOME_FLAG ↔ --some-flag).
        for name in env:
            self.assertRegex(name, r"^EVENTLOGGER_[A-Z0-9_]+$")
        # Secrets are parameters that CloudFormation never shows.
        params = self.template["Parameters"]
        self.assertTrue(params["MetadataUrl"]["NoEcho"])
        self.assertTrue(params["CursorSecret"]["NoEcho"])
        self.assertGreaterEqual(params["CursorSecret"]["MinLength"], 16)

    def test_the_function_may_use_its_table_and_is_routed_by_an_http_api(self):
        policies = self.properties["Policies"]
        self.assertIn({"DynamoDBCrudPolicy": {"TableName": {"Ref": "EventsTable"}}}, policies)
        events = list(self.properties["Events"].values())
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["Type"], "HttpApi")
        self.assertEqual(events[0]["Properties"]["Method"], "ANY")
        self.assertEqual(events[0]["Properties"]["Path"], "/{proxy+}")
        self.assertEqual(events[0]["Properties"]["PayloadFormatVersion"], "2.0")

    def test_the_deadline_leaves_room_for_the_store_timeout(self):
        self.assertGreater(self.globals["Timeout"], 5)  # --store-timeout-ms defaults to 5000

    def test_failed_writes_go_to_a_queue_with_a_dead_letter_queue(self):
        env = self.properties["Environment"]["Variables"]
        self.assertEqual(env["EVENTLOGGER_RETRY_QUEUE_URL"], {"Ref": "RetryQueue"})  # Ref of a queue is its URL
        queue = self.resources["RetryQueue"]
        self.assertEqual(queue["Type"], "AWS::SQS::Queue")
        redrive = queue["Properties"]["RedrivePolicy"]
        self.assertEqual(redrive["deadLetterTargetArn"], {"Fn::GetAtt": "RetryDeadLetterQueue.Arn"})
        self.assertEqual(redrive["maxReceiveCount"], {"Ref": "RetryMaxReceiveCount"})
        self.assertGreaterEqual(self.template["Parameters"]["RetryMaxReceiveCount"]["MinValue"], 1)
        dead = self.resources["RetryDeadLetterQueue"]
        self.assertEqual(dead["Type"], "AWS::SQS::Queue")
        # A message must outlive its retries: the dead-letter queue keeps it
        # at least as long as the queue did (SQS counts from the first send).
        self.assertGreaterEqual(dead["Properties"]["MessageRetentionPeriod"],
                                queue["Properties"]["MessageRetentionPeriod"])
        for name in ("RetryQueue", "RetryDeadLetterQueue"):
            self.assertTrue(self.resources[name]["Properties"]["SqsManagedSseEnabled"], name)

    def test_the_api_function_may_send_to_the_queue_and_ask_for_its_attributes(self):
        policies = self.properties["Policies"]
        self.assertIn({"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": "RetryQueue.QueueName"}}}, policies)
        statements = [s for p in policies if "Statement" in p for s in p["Statement"]]
        self.assertIn({"Effect": "Allow", "Action": "sqs:GetQueueAttributes",
                       "Resource": {"Fn::GetAtt": "RetryQueue.Arn"}}, statements)

    def test_the_worker_is_triggered_by_the_queue_and_reports_partial_batch_failures(self):
        worker = self.resources["WorkerFunction"]
        self.assertEqual(worker["Type"], "AWS::Serverless::Function")
        self.assertEqual(worker["Metadata"]["BuildMethod"], "makefile")
        props = worker["Properties"]
        self.assertEqual(props["Handler"], "worker")
        env = props["Environment"]["Variables"]
        api_env = self.properties["Environment"]["Variables"]
        # The same stores as the API function.
        for name in ("EVENTLOGGER_METADATA", "EVENTLOGGER_DOCUMENTS"):
            self.assertEqual(env[name], api_env[name], name)
        self.assertIn({"DynamoDBCrudPolicy": {"TableName": {"Ref": "EventsTable"}}}, props["Policies"])
        events = list(props["Events"].values())
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["Type"], "SQS")
        trigger = events[0]["Properties"]
        self.assertEqual(trigger["Queue"], {"Fn::GetAtt": "RetryQueue.Arn"})
        self.assertIn("ReportBatchItemFailures", trigger["FunctionResponseTypes"])
        self.assertLessEqual(trigger["BatchSize"], 10)
        # AWS: a queue's visibility timeout at least six times its function's
        # timeout, or a batch still being worked on is delivered again.
        timeout = props.get("Timeout", self.globals["Timeout"])
        self.assertGreaterEqual(self.resources["RetryQueue"]["Properties"]["VisibilityTimeout"], 6 * timeout)

    @unittest.skipIf(BINARY is None, "needs the binary (second argument)")
    def test_every_variable_is_an_option_of_the_function_command(self):
        for name, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            command = COMMAND_OF_HANDLER[resource["Properties"]["Handler"]]
            help_text = subprocess.run([BINARY, command, "--help"], capture_output=True, text=True,
                                       timeout=30, check=True).stdout
            options = set(re.findall(r"(?m)^  --([a-z0-9-]+)", help_text))
            self.assertTrue(options, help_text)
            for variable in resource["Properties"]["Environment"]["Variables"]:
                option = variable[len("EVENTLOGGER_"):].lower().replace("_", "-")
                self.assertIn(option, options, "%s: %s is not an option of '%s'" % (name, variable, command))


if __name__ == "__main__":
    unittest.main()
