// Tests for what is specific to the ODBC MetadataStore: odbc: URLs and
// connection strings, redaction, picking the dialect from the DBMS, and
// driver-manager failures. Its behaviour as a store (batches, scans,
// timeouts, restarts) is tested with the libpq store's, against the same
// PostgreSQL through psqlODBC, in postgres_metadata_store_test.cc.
//
// Needs EVENTLOGGER_TEST_POSTGRES_URL from tests/support/test-servers.sh;
// fails without it.
#include "storage/odbc_metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace eventlogger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using std::chrono::milliseconds;

// "Driver={PostgreSQL Unicode};Server=…;Port=…;Database=…;Uid=…;" for
// EVENTLOGGER_TEST_POSTGRES_URL (postgresql://user@host:port/db), or "" if
// it is unset.
std::string TestServerConnectionString(std::string_view uid_override = "") {
  const char* url = std::getenv("EVENTLOGGER_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return "";
  std::string_view rest(url);
  rest = rest.substr(rest.find("://") + 3);
  rest = rest.substr(0, rest.find('?'));
  const std::string_view database = rest.substr(rest.find('/') + 1);
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view user = "postgres";
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    user = authority.substr(0, at);
    user = user.substr(0, user.find(':'));
    authority = authority.substr(at + 1);
  }
  const size_t colon = authority.rfind(':');
  return "Driver={PostgreSQL Unicode};Server=" + std::string(authority.substr(0, colon)) +
         ";Port=" + std::string(authority.substr(colon + 1)) +
         ";Database=" + std::string(database) +
         ";Uid=" + std::string(uid_override.empty() ? user : uid_override) + ";";
}

constexpr const char* kMissingServer =
    "EVENTLOGGER_TEST_POSTGRES_URL is not set. These tests need the real PostgreSQL that "
    "tests/support/test-servers.sh starts: run `eval \"$(tests/support/test-servers.sh start "
    "/tmp/state)\"` first.";

TEST(OdbcMetadataOptionsTest, OurAttributesAreStrippedAndTheRestKept) {
  Result<OdbcMetadataOptions> options = OdbcMetadataOptionsFromUrl(
      "odbc:Driver={PostgreSQL "
      "Unicode};Server=127.0.0.1;Port=55432;Database=eventlogger;Uid=postgres;"
      "pool_size=16;Statement_Timeout_Ms=3000;schema=tenant_1;pool_timeout_ms=250;connect_timeout_"
      "ms=900;"
      "SSLMode=require;");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(
      options->connection_string,
      "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=55432;Database=eventlogger;Uid=postgres;"
      "SSLMode=require;");
  EXPECT_EQ(options->pool_size, 16);
  EXPECT_EQ(options->statement_timeout, milliseconds(3000));
  EXPECT_EQ(options->pool_timeout, milliseconds(250));
  EXPECT_EQ(options->connect_timeout, milliseconds(900));
  EXPECT_EQ(options->schema, "tenant_1");

  // A DSN, no trailing ';', and a braced value holding ';' and '}}'.
  Result<OdbcMetadataOptions> dsn =
      OdbcMetadataOptionsFromUrl("odbc:DSN=events;PWD={a;b}}c};pool_size=2");
  ASSERT_TRUE(dsn.ok()) << dsn.status().ToString();
  EXPECT_EQ(dsn->connection_string, "DSN=events;PWD={a;b}}c};");
  EXPECT_EQ(dsn->pool_size, 2);
  EXPECT_EQ(dsn->statement_timeout, milliseconds(5000));
}

TEST(OdbcMetadataOptionsTest, BadValuesAreRejectedWithoutThePassword) {
  for (const char* url :
       {"odbc:DSN=x;PWD=S3cretPw;pool_size=0", "odbc:DSN=x;PWD=S3cretPw;pool_size=many",
        "odbc:DSN=x;Password=S3cretPw;schema=bad-name", "odbc:DSN=x;PWD={S3cretPw",
        "odbc:DSN=x;PWD=S3cretPw;garbage", "odbc:pool_size=2", "postgresql://u:S3cretPw@h/db"}) {
    Result<OdbcMetadataOptions> options = OdbcMetadataOptionsFromUrl(url);
    ASSERT_FALSE(options.ok()) << url;
    EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(options.status().message(), Not(HasSubstr("S3cretPw")))
        << options.status().ToString();
  }
}

TEST(OdbcMetadataOptionsTest, RedactsPasswords) {
  EXPECT_EQ(RedactOdbcConnectionString("odbc:DSN=x;UID=el;PWD=S3cret;"),
            "odbc:DSN=x;UID=el;PWD=***;");
  EXPECT_EQ(RedactOdbcConnectionString("Server=h;password={se;cr}}et};Uid=u"),
            "Server=h;password=***;Uid=u;");
  EXPECT_EQ(RedactOdbcConnectionString("Server=h;Uid=u;"), "Server=h;Uid=u;");
  EXPECT_THAT(RedactOdbcConnectionString("odbc:Server=h;PWD={S3cret"), Not(HasSubstr("S3cret")));
}

TEST(OdbcMetadataStoreTest, PicksThePostgresDialectFromTheDbms) {
  const std::string connection_string = TestServerConnectionString();
  ASSERT_FALSE(connection_string.empty()) << kMissingServer;
  Result<std::unique_ptr<MetadataStore>> store =
      OpenOdbcMetadataStore({.connection_string = connection_string, .pool_size = 2});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Kind(), "odbc-postgresql");
  EXPECT_TRUE((*store)->Ping().ok());
}

TEST(OdbcMetadataStoreTest, OpensFromAnOdbcUrl) {
  const std::string connection_string = TestServerConnectionString();
  ASSERT_FALSE(connection_string.empty()) << kMissingServer;
  Result<OdbcMetadataOptions> options =
      OdbcMetadataOptionsFromUrl("odbc:" + connection_string + "pool_size=1;");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  Result<std::unique_ptr<MetadataStore>> store = OpenOdbcMetadataStore(*options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Ping().ok());
}

TEST(OdbcMetadataStoreTest, PasswordsNeverAppearInStatusMessages) {
  const std::string connection_string = TestServerConnectionString("no_such_role");
  ASSERT_FALSE(connection_string.empty()) << kMissingServer;
  // The test server trusts every login, so the role is what fails here.
  for (const char* secret_attribute : {"PWD=Sup3r-Secret-PW;", "Password={Sup3r;Secret-PW};"}) {
    Result<std::unique_ptr<MetadataStore>> store =
        OpenOdbcMetadataStore({.connection_string = connection_string + secret_attribute});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Secret"))) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Sup3r"))) << store.status().ToString();
  }
}

TEST(OdbcMetadataStoreTest, UnknownDriverOrDsnIsAConfigurationError) {
  for (const char* connection_string : {"Driver={No Such ODBC Driver};Server=h;PWD=Sup3r-Secret;",
                                        "DSN=no_such_dsn_for_eventlogger;PWD=Sup3r-Secret;"}) {
    Result<std::unique_ptr<MetadataStore>> store =
        OpenOdbcMetadataStore({.connection_string = connection_string});
    ASSERT_FALSE(store.ok()) << connection_string;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Sup3r"))) << store.status().ToString();
  }
}

TEST(OdbcMetadataStoreTest, ServerDownIsUnavailable) {
  Result<std::unique_ptr<MetadataStore>> store = OpenOdbcMetadataStore(
      {.connection_string =
           "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=x;Uid=u;PWD=Sup3r;",
       .connect_timeout = milliseconds(2000)});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_THAT(store.status().message(), Not(HasSubstr("Sup3r")));
}

}  // namespace
}  // namespace eventlogger
