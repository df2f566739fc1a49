// AWS credentials and region, found the way the AWS CLI and SDKs find them,
// so an operator configures the service exactly like any AWS tool.
//
// Credentials, first match wins:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//      ~/.aws/credentials), section [<profile>];
//   3. the shared config file (AWS_CONFIG_FILE, else ~/.aws/config), section
//      [profile <profile>] ([default] for the default profile).
// The profile is AWS_PROFILE, else "default".
//
// Region, first match wins: an explicit value (e.g. a store URL's `region`
// parameter), AWS_REGION, AWS_DEFAULT_REGION, the config file's `region` for
// the profile.
//
// Not supported (yet): instance/container metadata endpoints, SSO,
// credential_process, role assumption. A profile using only those is
// reported as having no credentials.
//
// Secrets never appear in Status messages: errors name the variable, file,
// profile and key, never a value.
//
// Thread safety: the functions are pure apart from reading files and the
// given environment; AwsEnvironment::Process() reads the process environment
// with getenv, which is safe as long as nothing calls setenv concurrently.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4_signer.h"  // Credentials
#include "core/status.h"

namespace eventlogger::aws {

// Where settings come from: environment variables, looked up by name.
// Injected so tests control it without touching the process environment.
struct AwsEnvironment {
  std::function<std::optional<std::string>(std::string_view name)> get;

  // The process environment.
  static AwsEnvironment Process();
  // A fixed set of variables (tests).
  static AwsEnvironment FromMap(std::map<std::string, std::string> variables);

  // The variable's value; unset and empty are both nullopt, as in the CLI.
  std::optional<std::string> Get(std::string_view name) const;
};

// One parsed INI file: section name -> key -> value. Keys are lowercased,
// values trimmed; comments (# or ;) and blank lines are skipped.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;

// Parses the text of an AWS shared config or credentials file. Lines that
// are neither sections, comments nor key = value fail with InvalidArgument
// naming the line number (not its text, which could hold a secret).
// Indented lines continue the previous value (nested settings such as
// `s3 =` blocks) and are ignored.
Result<IniFile> ParseIni(std::string_view text);

// The profile to use: AWS_PROFILE, else "default".
std::string ResolveProfile(const AwsEnvironment& env);

// Credentials per the order above. NotFound when no source has them (with a
// message listing where it looked), InvalidArgument when a source is
// half-filled (an access key without a secret) or a file cannot be parsed.
Result<Credentials> ResolveCredentials(const AwsEnvironment& env);

// The region per the order above; `explicit_region` wins when non-empty.
// NotFound when no source names one.
Result<std::string> ResolveRegion(std::string_view explicit_region, const AwsEnvironment& env);

// Paths of the shared files, honouring the override variables and HOME.
// Empty when neither the override nor HOME is set.
std::string SharedCredentialsPath(const AwsEnvironment& env);
std::string SharedConfigPath(const AwsEnvironment& env);

}  // namespace eventlogger::aws
