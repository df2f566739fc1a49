// Cross-checks SigV4Signer against botocore, the signer inside the AWS CLI and
// boto3, on the kind of requests this service actually sends.
//
// The AWS test suite (sigv4_signer_test.cc) pins the algorithm; this test pins
// agreement with a production client on realistic DynamoDB traffic: JSON
// bodies with non-ASCII text, session tokens, a local endpoint with an
// explicit port, plus one API Gateway and one S3 request for the path and
// body-hash options. Each case is signed by both at the same pinned time and
// the resulting Authorization, X-Amz-Date, X-Amz-Security-Token and
// x-amz-content-sha256 values must be byte-identical.
//
// botocore_sign.py is run with /usr/bin/python3 and Debian's python3-botocore.
// If that interpreter cannot import botocore the test fails instead of
// skipping, so a machine without it cannot report a green run.
#include "aws/sigv4_signer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace eventlogger::aws {
namespace {

using std::chrono::system_clock;

const std::filesystem::path kScript =
    std::filesystem::path(EVENTLOGGER_TEST_DATA_DIR) / "aws" / "botocore_sign.py";
constexpr const char* kPython = "/usr/bin/python3";

struct BotocoreCase {
  std::string name;
  std::string botocore_signer = "sigv4";  // or "s3v4"
  std::string region = "eu-west-1";
  std::string service = "dynamodb";
  std::string scheme = "https";
  std::string host = "dynamodb.eu-west-1.amazonaws.com";
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  HeaderList headers;  // without Host: botocore derives it from the URL
  std::string body;
  Credentials credentials;
  system_clock::time_point time;
  SigningOptions options;
};

// Keeps test names readable (and stable) in gtest and ctest output.
void PrintTo(const BotocoreCase& c, std::ostream* os) { *os << c.name; }

system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi,
                            int s) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} /
                               std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

Credentials LongTermCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          ""};
}

Credentials TemporaryCredentials() {
  return {"ASIAIOSFODNN7EXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
          "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD+example+"
          "session+token/with+slashes=="};
}

HeaderList DynamoHeaders(const std::string& operation) {
  return {{"Content-Type", "application/x-amz-json-1.0"},
          {"X-Amz-Target", "DynamoDB_20120810." + operation}};
}

// UTF-8 spelled out in bytes so the source file's encoding cannot matter:
// "é" is C3 A9, "日本" is E6 97 A5 E6 9C AC.
const std::string kPutItemBody =
    "{\"TableName\":\"events\",\"Item\":{"
    "\"id\":{\"S\":\"01HQ7Z3K5V8N2M4P6R8T0W2Y4A\"},"
    "\"source\":{\"S\":\"caf\xC3\xA9-checkout\"},"
    "\"message\":{\"S\":\"order from \xE6\x97\xA5\xE6\x9C\xAC, "
    "\\\"quoted\\\"\"},"
    "\"ts\":{\"N\":\"1709544615123\"}}}";

std::vector<BotocoreCase> Cases() {
  std::vector<BotocoreCase> cases;

  BotocoreCase put;
  put.name = "PutItemLongTermCredentials";
  put.headers = DynamoHeaders("PutItem");
  put.body = kPutItemBody;
  put.credentials = LongTermCredentials();
  put.time = At(2024, 3, 4, 9, 30, 15);
  cases.push_back(put);

  BotocoreCase put_token = put;
  put_token.name = "PutItemSessionToken";
  put_token.credentials = TemporaryCredentials();
  // One second before midnight: the date in the scope must be the UTC one.
  put_token.time = At(2024, 12, 31, 23, 59, 59);
  cases.push_back(put_token);

  BotocoreCase local = put;
  local.name = "PutItemLocalEndpointWithPort";
  local.scheme = "http";
  local.host = "127.0.0.1:8000";
  local.region = "us-west-2";
  local.credentials = {"fakeMyKeyId", "fakeSecretAccessKey", ""};
  cases.push_back(local);

  BotocoreCase local_token = local;
  local_token.name = "PutItemLocalEndpointSessionToken";
  local_token.credentials = TemporaryCredentials();
  local_token.time = At(2025, 2, 28, 0, 0, 0);
  cases.push_back(local_token);

  BotocoreCase query;
  query.name = "QueryWithClientHeaders";
  query.headers = DynamoHeaders("Query");
  // Headers an HTTP client adds: User-Agent is left unsigned by both
  // signers; whitespace runs must be collapsed identically; a repeated
  // header is joined with commas in order.
  query.headers.emplace_back("User-Agent", "eventlogger/0.1 (linux)");
  query.headers.emplace_back("Accept-Encoding", "identity");
  query.headers.emplace_back("X-Eventlogger-Note", "  two   spaces\tand tab  ");
  query.headers.emplace_back("X-Eventlogger-Trace", "first");
  query.headers.emplace_back("X-Eventlogger-Trace", "second");
  query.body =
      "{\"TableName\":\"events\",\"KeyConditionExpression\":\"#s = :s\","
      "\"ExpressionAttributeNames\":{\"#s\":\"source\"},"
      "\"ExpressionAttributeValues\":{\":s\":{\"S\":\"\xE6\x97\xA5\xE6\x9C\xAC"
      "\"}}}";
  query.body += "\n";
  query.credentials = TemporaryCredentials();
  query.time = At(2024, 2, 29, 12, 0, 1);
  cases.push_back(query);

  BotocoreCase batch;
  batch.name = "BatchWriteItemLargeBodyWithContentLength";
  batch.headers = DynamoHeaders("BatchWriteItem");
  batch.body = "{\"RequestItems\":{\"events\":[";
  for (int i = 0; i < 25; ++i) {
    if (i > 0) batch.body += ",";
    batch.body += "{\"PutRequest\":{\"Item\":{\"id\":{\"S\":\"evt-" +
                  std::to_string(i) + "\"},\"payload\":{\"S\":\"" +
                  std::string(2000, 'x') + "\xC3\xA9\"}}}}";
  }
  batch.body += "]}}";
  batch.headers.emplace_back("Content-Length",
                             std::to_string(batch.body.size()));
  batch.credentials = LongTermCredentials();
  batch.time = At(2024, 3, 4, 9, 30, 15);
  cases.push_back(batch);

  // API Gateway: exercises path normalisation, double encoding and query
  // sorting (repeated keys, encoded UTF-8) with the default options.
  BotocoreCase api;
  api.name = "ApiGatewayGetNormalisedPathAndQuery";
  api.service = "execute-api";
  api.host = "abc123.execute-api.eu-west-1.amazonaws.com";
  api.method = "GET";
  api.path = "/prod//events/caf%C3%A9/./drafts/../2024";
  api.query = "b=2&a=z&a=y&q=%E6%97%A5%E6%9C%AC&empty=&Z=upper";
  api.headers = {{"Accept", "application/json"}};
  api.credentials = TemporaryCredentials();
  api.time = At(2024, 3, 4, 9, 30, 15);
  cases.push_back(api);

  // S3: no normalisation, single encoding, signed x-amz-content-sha256.
  BotocoreCase s3;
  s3.name = "S3PutObjectSignedBodyHash";
  s3.botocore_signer = "s3v4";
  s3.service = "s3";
  s3.host = "event-archive.s3.eu-west-1.amazonaws.com";
  s3.method = "PUT";
  s3.path = "/2024//03/./caf%C3%A9%20menu.json";
  s3.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  s3.body = kPutItemBody;
  s3.credentials = TemporaryCredentials();
  s3.time = At(2024, 3, 4, 9, 30, 15);
  s3.options.normalize_path = false;
  s3.options.double_uri_encode = false;
  s3.options.sign_body_hash_header = true;
  cases.push_back(s3);

  return cases;
}

std::string AmzDate(system_clock::time_point t) {
  const std::time_t seconds = system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct BotocoreResult {
  int exit_code = -1;
  std::map<std::string, std::string> headers;  // lowercase name -> value
  std::string canonical_request;
  std::string error_output;
};

// Unique per process and call, since ctest may run cases in parallel.
std::filesystem::path TempPath(const std::string& stem) {
  static std::atomic<int> counter{0};
  return std::filesystem::temp_directory_path() /
         ("eventlogger_sigv4_" + std::to_string(::getpid()) + "_" +
          std::to_string(counter++) + "_" + stem);
}

BotocoreResult SignWithBotocore(const BotocoreCase& c) {
  const std::filesystem::path input = TempPath("input.txt");
  const std::filesystem::path errors = TempPath("stderr.txt");
  {
    std::ofstream out(input, std::ios::binary);
    out << "signer " << c.botocore_signer << "\n"
        << "method " << c.method << "\n"
        << "url " << c.scheme << "://" << c.host << c.path
        << (c.query.empty() ? "" : "?") << c.query << "\n"
        << "region " << c.region << "\n"
        << "service " << c.service << "\n"
        << "time " << AmzDate(c.time) << "\n"
        << "access_key " << c.credentials.access_key_id << "\n"
        << "secret_key " << c.credentials.secret_access_key << "\n"
        << "body_hex " << HexEncode(c.body) << "\n";
    if (!c.credentials.session_token.empty()) {
      out << "token " << c.credentials.session_token << "\n";
    }
    for (const auto& [name, value] : c.headers) {
      out << "header " << name << ":" << value << "\n";
    }
  }

  BotocoreResult result;
  const std::string command =
      ShellQuote(kPython) + " " + ShellQuote(kScript.string()) + " " +
      ShellQuote(input.string()) + " 2>" + ShellQuote(errors.string());
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r"); pipe != nullptr) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      output.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  {
    std::ifstream in(errors, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    result.error_output = text.str();
  }
  std::filesystem::remove(input);
  std::filesystem::remove(errors);

  const std::string marker = "canonical-request-follows\n";
  const size_t split = output.find(marker);
  if (split == std::string::npos) return result;
  result.canonical_request = output.substr(split + marker.size());
  std::istringstream lines(output.substr(0, split));
  std::string line;
  while (std::getline(lines, line)) {
    const size_t tab1 = line.find('\t');
    const size_t tab2 = line.find('\t', tab1 + 1);
    if (line.compare(0, tab1, "header") != 0 || tab2 == std::string::npos) {
      continue;
    }
    result.headers[line.substr(tab1 + 1, tab2 - tab1 - 1)] =
        line.substr(tab2 + 1);
  }
  return result;
}

std::string Lower(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

class SigV4BotocoreTest : public testing::TestWithParam<BotocoreCase> {};

TEST_P(SigV4BotocoreTest, MatchesBotocore) {
  const BotocoreCase& c = GetParam();

  const BotocoreResult reference = SignWithBotocore(c);
  ASSERT_EQ(reference.exit_code, 0) << "botocore_sign.py failed; stderr:\n"
                                    << reference.error_output;
  ASSERT_TRUE(reference.headers.count("authorization"))
      << "no Authorization from botocore; stderr:\n"
      << reference.error_output;

  SigningRequest request;
  request.method = c.method;
  request.path = c.path;
  request.query = c.query;
  request.headers = c.headers;
  request.headers.emplace_back("Host", c.host);
  request.body = c.body;
  const SigV4Signer signer(c.region, c.service);
  Result<SignedRequest> ours =
      signer.Sign(request, c.credentials, c.time, c.options);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();

  std::map<std::string, std::string> our_headers;
  for (const auto& [name, value] : ours->headers_to_add) {
    our_headers[Lower(name)] = value;
  }
  // Compared as whole maps so that a header only one side sets (e.g. a
  // stray x-amz-content-sha256) fails too.
  EXPECT_EQ(our_headers, reference.headers);
  for (const char* name : {"authorization", "x-amz-date",
                           "x-amz-security-token", "x-amz-content-sha256"}) {
    const auto it = reference.headers.find(name);
    if (it == reference.headers.end()) continue;
    EXPECT_EQ(our_headers[name], it->second) << name;
  }
  EXPECT_EQ(ours->canonical_request, reference.canonical_request);
}

INSTANTIATE_TEST_SUITE_P(Requests, SigV4BotocoreTest,
                         testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<BotocoreCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace eventlogger::aws
