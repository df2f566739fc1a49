#!/usr/bin/python3
"""Reads or writes a DynamoDB table with boto3, for dynamodb_document_store_test.cc.

It proves that another client (the AWS SDK for Python) sees exactly the item
format the document store documents, and that the store reads items another
client wrote.

Usage:
  dynamodb_items.py ENDPOINT REGION TABLE dump
      Scans the whole table (strongly consistent, every page) and prints
      {"Items": [...]} with each item in DynamoDB's low-level typed form
      ({"UserId": {"S": "..."}, ...}), sorted by (UserId, SortKey), as ASCII
      JSON (non-ASCII characters as \\u escapes).
  dynamodb_items.py ENDPOINT REGION TABLE put < ITEM_JSON
      Puts one item given in the same typed form on stdin.

Exits 3, with the reason on stderr, if boto3 cannot be imported: the calling
test must then fail, never pass or skip.
"""

import json
import sys

try:
    import boto3
except ImportError as error:
    sys.stderr.write(
        f"boto3 is not importable by {sys.executable}: {error}; "
        "install Debian's python3-boto3\n")
    sys.exit(3)


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("dump", "put"):
        sys.stderr.write(__doc__)
        return 2
    endpoint, region, table, mode = sys.argv[1:5]
    # dynalite ignores signatures; boto3 still signs with these.
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=region,
        aws_access_key_id="AKIDBOTO3TEST",
        aws_secret_access_key="dynalite-ignores-this-secret")
    if mode == "dump":
        items = []
        paginator = client.get_paginator("scan")
        for page in paginator.paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        items.sort(key=lambda item: (item.get("UserId", {}).get("S", ""),
                                     item.get("SortKey", {}).get("S", "")))
        json.dump({"Items": items}, sys.stdout, ensure_ascii=True,
                  sort_keys=True)
    else:
        item = json.load(sys.stdin)
        client.put_item(TableName=table, Item=item)
    return 0


if __name__ == "__main__":
    sys.exit(main())
