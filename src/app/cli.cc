#include "app/cli.h"

#include <signal.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/log.h"

namespace eventlogger {
namespace po = boost::program_options;

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kUsage = R"(eventlogger: records user events and gives them back, fast.

Usage:
  eventlogger serve [options]    run the HTTP service
  eventlogger serve --help       list the service's options
  eventlogger --version          print the version

Every option --some-option can also be set as EVENTLOGGER_SOME_OPTION.
)";

// Splits "host:port" (IPv6 as "[::1]:8080").
bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = listen.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long value = std::stoul(p);
  if (value > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(value);
  return true;
}

// EVENTLOGGER_MAX_BODY_BYTES → "max-body-bytes" when that option exists.
std::string EnvironmentToOption(const po::options_description& options, const std::string& name) {
  constexpr std::string_view kPrefix = "EVENTLOGGER_";
  if (!std::string_view(name).starts_with(kPrefix)) return {};
  std::string option;
  for (char c : name.substr(kPrefix.size())) {
    option.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return options.find_nothrow(option, false) != nullptr ? option : std::string();
}

}  // namespace

Result<ServiceOptions> ParseServeOptions(const std::vector<std::string>& args, std::string* help) {
  ServiceOptions out;
  std::string listen = "127.0.0.1:8080";
  int64_t max_body_bytes = static_cast<int64_t>(out.http.max_body_bytes);
  int64_t io_threads = std::max(1u, std::thread::hardware_concurrency());
  int64_t store_timeout_ms = out.handlers.store_timeout.count();
  int64_t idle_timeout_ms = out.http.idle_timeout.count();
  int64_t read_timeout_ms = out.http.read_timeout.count();
  int64_t shutdown_grace_ms = out.http.shutdown_grace.count();
  int64_t max_in_flight = static_cast<int64_t>(out.writer.max_in_flight);
  int64_t max_batch_size = static_cast<int64_t>(out.writer.max_batch_size);
  int64_t blocking_threads = out.blocking_threads;
  bool access_log = true;
  std::string log_level = "info";

  po::options_description options("eventlogger serve options");
  options.add_options()
      ("help", "show this help")
      ("listen", po::value(&listen)->default_value(listen), "HOST:PORT to listen on; port 0 picks a free port")
      ("data-dir", po::value(&out.data_dir)->default_value(out.data_dir), "directory for the embedded stores")
      ("metadata", po::value(&out.stores.metadata), "metadata store URL (default sqlite://DATA_DIR/metadata.db)")
      ("documents", po::value(&out.stores.documents), "document store URL (default rocksdb://DATA_DIR/documents)")
      ("max-body-bytes", po::value(&max_body_bytes)->default_value(max_body_bytes), "largest accepted request body, in bytes")
      ("io-threads", po::value(&io_threads)->default_value(io_threads), "threads serving HTTP")
      ("blocking-threads", po::value(&blocking_threads)->default_value(blocking_threads), "threads running store reads")
      ("store-timeout-ms", po::value(&store_timeout_ms)->default_value(store_timeout_ms), "answer 503 when a store write takes longer, in ms")
      ("max-in-flight", po::value(&max_in_flight)->default_value(max_in_flight), "events being written at once; beyond it requests get 503")
      ("max-batch-size", po::value(&max_batch_size)->default_value(max_batch_size), "most events per store transaction")
      ("idle-timeout-ms", po::value(&idle_timeout_ms)->default_value(idle_timeout_ms), "close keep-alive connections idle this long, in ms")
      ("read-timeout-ms", po::value(&read_timeout_ms)->default_value(read_timeout_ms), "time allowed to receive one request, in ms")
      ("shutdown-grace-ms", po::value(&shutdown_grace_ms)->default_value(shutdown_grace_ms), "time in-flight requests get at shutdown, in ms")
      ("access-log", po::value(&access_log)->default_value(access_log), "log one JSON line per request (true/false)")
      ("log-level", po::value(&log_level)->default_value(log_level), "debug, info, warn or error");

  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).run(), values);
    po::store(po::parse_environment(options,
                                    [&options](const std::string& name) {
                                      return EnvironmentToOption(options, name);
                                    }),
              values);
    po::notify(values);
  } catch (const po::error& e) {
    return Status::InvalidArgument(e.what());
  }
  if (values.count("help") != 0) {
    std::ostringstream text;
    text << options;
    *help = text.str();
    return out;
  }

  if (!SplitListen(listen, &out.http.host, &out.http.port)) {
    return Status::InvalidArgument("--listen must be HOST:PORT, got '" + listen + "'");
  }
  const auto require = [](bool ok, const char* message) {
    return ok ? Status::Ok() : Status::InvalidArgument(message);
  };
  for (const Status& s : {
           require(max_body_bytes >= 64 && max_body_bytes <= (64 << 20), "--max-body-bytes must be 64 to 67108864"),
           require(io_threads >= 1 && io_threads <= 256, "--io-threads must be 1 to 256"),
           require(blocking_threads >= 1 && blocking_threads <= 256, "--blocking-threads must be 1 to 256"),
           require(store_timeout_ms >= 1, "--store-timeout-ms must be positive"),
           require(max_in_flight >= 1, "--max-in-flight must be positive"),
           require(max_batch_size >= 1, "--max-batch-size must be positive"),
           require(idle_timeout_ms >= 1, "--idle-timeout-ms must be positive"),
           require(read_timeout_ms >= 1, "--read-timeout-ms must be positive"),
           require(shutdown_grace_ms >= 0, "--shutdown-grace-ms must not be negative"),
           require(log_level == "debug" || log_level == "info" || log_level == "warn" || log_level == "error",
                   "--log-level must be debug, info, warn or error"),
       }) {
    if (!s.ok()) return s;
  }
  out.http.max_body_bytes = static_cast<size_t>(max_body_bytes);
  out.http.io_threads = static_cast<int>(io_threads);
  out.http.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);
  out.http.read_timeout = std::chrono::milliseconds(read_timeout_ms);
  out.http.shutdown_grace = std::chrono::milliseconds(shutdown_grace_ms);
  out.http.access_log = access_log;
  out.handlers.store_timeout = std::chrono::milliseconds(store_timeout_ms);
  out.writer.max_in_flight = static_cast<size_t>(max_in_flight);
  out.writer.max_batch_size = static_cast<size_t>(max_batch_size);
  out.blocking_threads = static_cast<int>(blocking_threads);
  log::SetMinimumLevel(log_level == "debug"  ? log::Level::kDebug
                       : log_level == "warn" ? log::Level::kWarn
                       : log_level == "error" ? log::Level::kError
                                              : log::Level::kInfo);
  return out;
}

namespace {

int Serve(const std::vector<std::string>& args) {
  std::string help;
  Result<ServiceOptions> options = ParseServeOptions(args, &help);
  if (!options.ok()) {
    std::cerr << "eventlogger serve: " << options.status().message() << "\n"
              << "Run 'eventlogger serve --help' for the options.\n";
    return 2;
  }
  if (!help.empty()) {
    std::cout << help;
    return 0;
  }
  // Block the stop signals in every thread (threads inherit the mask), and
  // wait for them here: no async-signal-safety puzzles in handlers.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Result<std::unique_ptr<Service>> service = Service::Start(*options);
  if (!service.ok()) {
    log::Error("start failed", {{"error", service.status().ToString()}});
    log::Flush();
    return 1;
  }
  int received = 0;
  sigwait(&stop_signals, &received);
  log::Info("stopping", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*service)->Stop();
  log::Flush();
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "eventlogger " << kVersion << "\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") return Serve(args);
  std::cerr << "eventlogger: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}

}  // namespace eventlogger
