#include "aws/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace eventlogger::aws {
namespace {

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Leading "~/" means HOME, as in the CLI.
std::string ExpandHome(const std::string& path, const AwsEnvironment& env) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const std::optional<std::string> home = env.Get("HOME");
    if (home) return *home + path.substr(1);
  }
  return path;
}

// Reads and parses a shared file. nullopt (not an error) when the file does
// not exist: having no ~/.aws is normal.
Result<std::optional<IniFile>> LoadIni(const std::string& path) {
  if (path.empty()) return std::optional<IniFile>();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<IniFile>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read AWS shared file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Result<IniFile> parsed = ParseIni(text.str());
  if (!parsed.ok()) {
    return Status::InvalidArgument("AWS shared file " + path + ": " + parsed.status().message());
  }
  return std::optional<IniFile>(std::move(parsed).value());
}

const std::map<std::string, std::string>* FindSection(const IniFile& file, const std::string& name) {
  auto it = file.find(name);
  return it == file.end() ? nullptr : &it->second;
}

// The profile's section in the config file: [profile NAME], or [default]
// for the default profile (the CLI accepts [profile default] too).
const std::map<std::string, std::string>* FindConfigProfile(const IniFile& file, const std::string& profile) {
  if (const auto* section = FindSection(file, "profile " + profile)) return section;
  if (profile == "default") return FindSection(file, "default");
  return nullptr;
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>& section, const char* key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Credentials from one profile section; nullopt when it names none.
Result<std::optional<Credentials>> FromSection(const std::map<std::string, std::string>& section,
                                               const std::string& where) {
  std::optional<std::string> key = Lookup(section, "aws_access_key_id");
  std::optional<std::string> secret = Lookup(section, "aws_secret_access_key");
  if (!key && !secret) return std::optional<Credentials>();
  if (!key || !secret) {
    return Status::InvalidArgument(where + " has only one of aws_access_key_id and aws_secret_access_key");
  }
  Credentials credentials{*key, *secret, ""};
  if (auto token = Lookup(section, "aws_session_token")) {
    credentials.session_token = *token;
  } else if (auto legacy = Lookup(section, "aws_security_token")) {
    credentials.session_token = *legacy;
  }
  return std::optional<Credentials>(std::move(credentials));
}

}  // namespace

AwsEnvironment AwsEnvironment::Process() {
  return AwsEnvironment{[](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }};
}

AwsEnvironment AwsEnvironment::FromMap(std::map<std::string, std::string> variables) {
  return AwsEnvironment{[variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  }};
}

std::optional<std::string> AwsEnvironment::Get(std::string_view name) const {
  if (!get) return std::nullopt;
  std::optional<std::string> value = get(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

Result<IniFile> ParseIni(std::string_view text) {
  IniFile file;
  std::map<std::string, std::string>* section = nullptr;
  int line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view raw = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    const std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (raw[0] == ' ' || raw[0] == '\t') {
      // Continuation of a nested setting (e.g. "s3 =" blocks); not needed.
      if (section == nullptr) {
        return Status::InvalidArgument("line " + std::to_string(line_number) + " is indented outside a section");
      }
      continue;
    }
    if (line[0] == '[') {
      if (line.back() != ']') {
        return Status::InvalidArgument("line " + std::to_string(line_number) + " has an unterminated section name");
      }
      section = &file[std::string(Trim(line.substr(1, line.size() - 2)))];
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return Status::InvalidArgument("line " + std::to_string(line_number) + " is not `key = value`");
    }
    if (section == nullptr) {
      return Status::InvalidArgument("line " + std::to_string(line_number) + " comes before any [section]");
    }
    (*section)[Lower(Trim(line.substr(0, equals)))] = std::string(Trim(line.substr(equals + 1)));
  }
  return file;
}

std::string ResolveProfile(const AwsEnvironment& env) {
  return env.Get("AWS_PROFILE").value_or("default");
}

std::string SharedCredentialsPath(const AwsEnvironment& env) {
  if (auto path = env.Get("AWS_SHARED_CREDENTIALS_FILE")) return ExpandHome(*path, env);
  if (auto home = env.Get("HOME")) return *home + "/.aws/credentials";
  return {};
}

std::string SharedConfigPath(const AwsEnvironment& env) {
  if (auto path = env.Get("AWS_CONFIG_FILE")) return ExpandHome(*path, env);
  if (auto home = env.Get("HOME")) return *home + "/.aws/config";
  return {};
}

Result<Credentials> ResolveCredentials(const AwsEnvironment& env) {
  const std::optional<std::string> key = env.Get("AWS_ACCESS_KEY_ID");
  const std::optional<std::string> secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (key || secret) {
    if (!key || !secret) {
      return Status::InvalidArgument(
          "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or neither");
    }
    Credentials credentials{*key, *secret, ""};
    if (auto token = env.Get("AWS_SESSION_TOKEN")) {
      credentials.session_token = *token;
    } else if (auto legacy = env.Get("AWS_SECURITY_TOKEN")) {
      credentials.session_token = *legacy;
    }
    return credentials;
  }

  const std::string profile = ResolveProfile(env);
  const std::string credentials_path = SharedCredentialsPath(env);
  const std::string config_path = SharedConfigPath(env);
  bool profile_seen = false;

  Result<std::optional<IniFile>> credentials_file = LoadIni(credentials_path);
  if (!credentials_file.ok()) return credentials_file.status();
  if (*credentials_file) {
    if (const auto* section = FindSection(**credentials_file, profile)) {
      profile_seen = true;
      auto found = FromSection(*section, "profile " + profile + " in " + credentials_path);
      if (!found.ok()) return found.status();
      if (*found) return std::move(**found);
    }
  }

  Result<std::optional<IniFile>> config_file = LoadIni(config_path);
  if (!config_file.ok()) return config_file.status();
  if (*config_file) {
    if (const auto* section = FindConfigProfile(**config_file, profile)) {
      profile_seen = true;
      auto found = FromSection(*section, "profile " + profile + " in " + config_path);
      if (!found.ok()) return found.status();
      if (*found) return std::move(**found);
    }
  }

  std::string where = "no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are unset";
  where += profile_seen ? " and profile " + profile + " has no access keys"
                        : " and profile " + profile + " is not defined";
  where += " (looked in " + (credentials_path.empty() ? std::string("no credentials file") : credentials_path) +
           " and " + (config_path.empty() ? std::string("no config file") : config_path) + ")";
  return Status::NotFound(std::move(where));
}

Result<std::string> ResolveRegion(std::string_view explicit_region, const AwsEnvironment& env) {
  if (!explicit_region.empty()) return std::string(explicit_region);
  if (auto region = env.Get("AWS_REGION")) return *region;
  if (auto region = env.Get("AWS_DEFAULT_REGION")) return *region;
  const std::string profile = ResolveProfile(env);
  const std::string config_path = SharedConfigPath(env);
  Result<std::optional<IniFile>> config_file = LoadIni(config_path);
  if (!config_file.ok()) return config_file.status();
  if (*config_file) {
    if (const auto* section = FindConfigProfile(**config_file, profile)) {
      if (auto region = Lookup(*section, "region")) return *region;
    }
  }
  return Status::NotFound("no AWS region: pass region=, or set AWS_REGION or AWS_DEFAULT_REGION, or `region` for profile " +
                          profile + " in " + (config_path.empty() ? std::string("the AWS config file") : config_path));
}

}  // namespace eventlogger::aws
