// Tests for credential and region resolution with a controlled environment
// (AwsEnvironment::FromMap, never the process environment) and shared files
// written to a temporary HOME. Secrets used here are distinctive strings so
// the tests can prove no Status message ever contains one.
#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace eventlogger::aws {
namespace {

constexpr const char* kSecret = "SECRETxSECRETxSECRET";
constexpr const char* kFileSecret = "FILESECRETxFILESECRET";
constexpr const char* kToken = "TOKENxTOKENxTOKEN";

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsTest() {
    std::string pattern = "/tmp/eventlogger-credentials-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    home_ = pattern;
    std::filesystem::create_directories(home_ + "/.aws");
  }
  ~CredentialsTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(home_, ignored);
  }

  void Write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  void WriteCredentials(const std::string& text) { Write(home_ + "/.aws/credentials", text); }
  void WriteConfig(const std::string& text) { Write(home_ + "/.aws/config", text); }

  AwsEnvironment Env(std::map<std::string, std::string> variables = {}) {
    variables.emplace("HOME", home_);
    return AwsEnvironment::FromMap(std::move(variables));
  }

  static void ExpectNoSecrets(const Status& status) {
    for (const char* secret : {kSecret, kFileSecret, kToken}) {
      EXPECT_EQ(status.message().find(secret), std::string::npos) << status.message();
    }
  }

  std::string home_;
};

TEST_F(CredentialsTest, EnvironmentVariablesComeFirst) {
  WriteCredentials(std::string("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = ") + kFileSecret);
  Result<Credentials> credentials =
      ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", kSecret},
                              {"AWS_SESSION_TOKEN", kToken}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDENV");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
}

TEST_F(CredentialsTest, HalfSetEnvironmentIsAnErrorWithoutTheSecret) {
  Result<Credentials> only_secret = ResolveCredentials(Env({{"AWS_SECRET_ACCESS_KEY", kSecret}}));
  EXPECT_EQ(only_secret.status().code(), StatusCode::kInvalidArgument);
  ExpectNoSecrets(only_secret.status());
  Result<Credentials> only_key = ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  EXPECT_EQ(only_key.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CredentialsTest, EmptyVariablesCountAsUnset) {
  WriteCredentials(std::string("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = ") + kFileSecret);
  Result<Credentials> credentials =
      ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_PROFILE", ""}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "FILEKEY");
}

TEST_F(CredentialsTest, SharedCredentialsFileDefaultProfile) {
  WriteCredentials(std::string("# comment\n; another\n\n[default]\n  \naws_access_key_id=FILEKEY\n"
                               "aws_secret_access_key   =   ") +
                   kFileSecret + "  \r\naws_session_token = " + kToken + "\n[other]\naws_access_key_id = OTHER\n"
                   "aws_secret_access_key = othersecret\n");
  Result<Credentials> credentials = ResolveCredentials(Env());
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "FILEKEY");
  EXPECT_EQ(credentials->secret_access_key, kFileSecret);
  EXPECT_EQ(credentials->session_token, kToken);
}

TEST_F(CredentialsTest, AwsProfileSelectsTheSection) {
  WriteCredentials("[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n"
                   "[prod]\nAWS_ACCESS_KEY_ID = PROD\naws_secret_access_key = p\n");
  Result<Credentials> credentials = ResolveCredentials(Env({{"AWS_PROFILE", "prod"}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "PROD");
  EXPECT_EQ(credentials->secret_access_key, "p");
  EXPECT_EQ(credentials->session_token, "");
}

TEST_F(CredentialsTest, SharedCredentialsFileOverrideWithTilde) {
  Write(home_ + "/elsewhere", "[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = e\n");
  WriteCredentials("[default]\naws_access_key_id = HOMEFILE\naws_secret_access_key = h\n");
  Result<Credentials> credentials = ResolveCredentials(Env({{"AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere"}}));
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->access_key_id, "ELSEWHERE");
}

TEST_F(CredentialsTest, ConfigFileIsTheFallbackWithProfilePrefix) {
  WriteConfig("[default]\naws_access_key_id = CFGDEF\naws_secret_access_key = c\n"
              "[profile dev]\naws_access_key_id = CFGDEV\naws_secret_access_key = d\nregion = us-east-2\n"
              "s3 =\n  max_concurrent_requests = 20\n");
  Result<Credentials> by_default = ResolveCredentials(Env());
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->access_key_id, "CFGDEF");
  Result<Credentials> dev = ResolveCredentials(Env({{"AWS_PROFILE", "dev"}}));
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->access_key_id, "CFGDEV");
}

TEST_F(CredentialsTest, CredentialsFileWinsOverConfigFile) {
  WriteCredentials("[default]\naws_access_key_id = CREDS\naws_secret_access_key = a\n");
  WriteConfig("[default]\naws_access_key_id = CONFIG\naws_secret_access_key = b\n");
  Result<Credentials> credentials = ResolveCredentials(Env());
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "CREDS");
}

TEST_F(CredentialsTest, MissingProfileIsNotFound) {
  WriteCredentials("[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n");
  Result<Credentials> credentials = ResolveCredentials(Env({{"AWS_PROFILE", "nope"}}));
  EXPECT_EQ(credentials.status().code(), StatusCode::kNotFound);
  EXPECT_NE(credentials.status().message().find("nope"), std::string::npos);
}

TEST_F(CredentialsTest, NoSourcesAtAllIsNotFound) {
  Result<Credentials> credentials = ResolveCredentials(AwsEnvironment::FromMap({}));
  EXPECT_EQ(credentials.status().code(), StatusCode::kNotFound);
  Result<Credentials> with_home = ResolveCredentials(Env());  // HOME without ~/.aws files
  EXPECT_EQ(with_home.status().code(), StatusCode::kNotFound);
  EXPECT_NE(with_home.status().message().find(home_ + "/.aws/credentials"), std::string::npos);
}

TEST_F(CredentialsTest, HalfFilledProfileIsAnErrorWithoutTheSecret) {
  WriteCredentials(std::string("[default]\naws_secret_access_key = ") + kFileSecret + "\n");
  Result<Credentials> credentials = ResolveCredentials(Env());
  EXPECT_EQ(credentials.status().code(), StatusCode::kInvalidArgument);
  ExpectNoSecrets(credentials.status());
}

TEST_F(CredentialsTest, MalformedFileNamesTheLineNotItsText) {
  WriteCredentials(std::string("[default]\naws_access_key_id = A\n") + kFileSecret + "\n");
  Result<Credentials> credentials = ResolveCredentials(Env());
  EXPECT_EQ(credentials.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(credentials.status().message().find("line 3"), std::string::npos) << credentials.status().message();
  ExpectNoSecrets(credentials.status());
}

TEST_F(CredentialsTest, RegionOrder) {
  WriteConfig("[default]\nregion = ap-south-1\n[profile dev]\nregion = us-east-2\n");
  EXPECT_EQ(ResolveRegion("eu-west-1", Env({{"AWS_REGION", "us-west-2"}})).value(), "eu-west-1");
  EXPECT_EQ(ResolveRegion("", Env({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "eu-north-1"}})).value(),
            "us-west-2");
  EXPECT_EQ(ResolveRegion("", Env({{"AWS_DEFAULT_REGION", "eu-north-1"}})).value(), "eu-north-1");
  EXPECT_EQ(ResolveRegion("", Env()).value(), "ap-south-1");
  EXPECT_EQ(ResolveRegion("", Env({{"AWS_PROFILE", "dev"}})).value(), "us-east-2");
  EXPECT_EQ(ResolveRegion("", Env({{"AWS_CONFIG_FILE", "/nonexistent"}})).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolveRegion("", AwsEnvironment::FromMap({})).status().code(), StatusCode::kNotFound);
}

TEST(IniTest, ParsesSectionsKeysAndSkipsNestedBlocks) {
  Result<IniFile> file = ParseIni("[a]\nKey = Value With Spaces \n nested = ignored\n[ b ]\nx=1\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->at("a").at("key"), "Value With Spaces");
  EXPECT_EQ(file->at("a").count("nested"), 0u);
  EXPECT_EQ(file->at("b").at("x"), "1");
  EXPECT_EQ(ParseIni("x = 1\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIni("[unterminated\n").status().code(), StatusCode::kInvalidArgument);
}

TEST(AwsEnvironmentTest, ProcessReadsTheRealEnvironment) {
  ASSERT_EQ(setenv("EVENTLOGGER_CREDENTIALS_TEST_VAR", "value", 1), 0);
  EXPECT_EQ(AwsEnvironment::Process().Get("EVENTLOGGER_CREDENTIALS_TEST_VAR").value_or(""), "value");
  unsetenv("EVENTLOGGER_CREDENTIALS_TEST_VAR");
  EXPECT_FALSE(AwsEnvironment::Process().Get("EVENTLOGGER_CREDENTIALS_TEST_VAR").has_value());
}

}  // namespace
}  // namespace eventlogger::aws
