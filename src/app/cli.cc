#include "app/cli.h"

#include <signal.h>

#include <boost/program_options.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <iostream>
#include <fstream>
#include <sstream>
#include <thread>

#include <filesystem>

#include "app/service.h"
#include "app/lambda_command.h"
#include "auth/api_key.h"
#include "auth/scopes.h"
#include "core/clock.h"
#include "core/json_output.h"
#include "core/log.h"
#include "core/timestamp.h"
#include "core/version.h"
#include "durability/intent_log.h"
#include "durability/outbox.h"
#include "durability/reconciler.h"
#include "core/validation.h"
#include "http/privacy_handlers.h"
#include "privacy/receipt_keys.h"

namespace eventlogger {
namespace po = boost::program_options;

namespace {


constexpr const char* kUsage = R"(eventlogger: records user events and gives them back, fast.

Usage:
  eventlogger serve [options]      run the HTTP service
  eventlogger lambda [options]     run as an AWS Lambda behind API Gateway (also as 'bootstrap')
  eventlogger worker [options]     run as the SQS-triggered Lambda completing failed store writes
                                   (also as 'bootstrap' with _HANDLER=worker)
  eventlogger migrate [options]    create or upgrade the stores' schema (idempotent)
  eventlogger retry stats|list|dead|replay (EVENT_ID|--all-dead)|purge-dead --older-than DURATION
                                   inspect and operate the retry outbox (also while serve runs)
  eventlogger reconcile [--user U] [--since T] [--until T] [--repair]
                                   compare the stores by eventId and report (or repair) gaps
  eventlogger keys create --name N --scopes S | list | revoke KEY_ID
                                   manage API keys (kept, hashed, in the metadata store)
  eventlogger erase --user U | --job ERASURE_ID
                                   erase a user's events now, with a signed receipt
  eventlogger verify-receipt --key KEY.pem | --hmac-secret S [RECEIPT_FILE]
                                   check an erasure receipt's signature and print what it attests
  eventlogger receipt-key          print the public key erasure receipts are signed with
  eventlogger COMMAND --help       the command's options
  eventlogger --version            print the version

Every option --some-option can also be set as EVENTLOGGER_SOME_OPTION.
)";

// Printed after the serve options: what the HTTP API takes.
constexpr const char* kServeApi = R"(
HTTP API (README.md has the details):
  POST /events                    {"userId", "eventType", "jsonDetails", "occurredAt"?, "sentAt"?};
                                  optional Idempotency-Key header
  POST /events/batch              {"events": [{…, "idempotencyKey"?, "occurredAt"?}, …], "sentAt"?}
       occurredAt: when the event happened (client clock); sentAt: when the client sent it. The
       event's timestamp is receivedAt - (sentAt - occurredAt), or occurredAt alone, or receivedAt
  GET  /events/{userId}           the user's events, a page at a time:
         limit=1..1000            events per page (default 100)
         order=asc|desc           oldest (default) or newest first
         eventType=a,b            only these types (or repeat eventType=)
         from=INSTANT             at or after (ISO 8601 with a zone, e.g. 2025-06-29T14:32:45Z)
         to=INSTANT               before
         cursor=…                 the next page: copy it from the Link: <…>; rel="next" header
       ETag on every page; If-None-Match → 304
  GET  /events/{userId}/{eventId} one event (ETag, 304), or 404
  GET  /healthz (alive), GET /readyz (stores reachable, schema current), GET /metrics

Privacy (admin scope):
  DELETE /users/{userId}/events   erase the user's events received until now: 202 + a job
  GET  /erasures/{erasureId}      the job: state, counts, and once done its signed receipt
  PUT|GET|DELETE /users/{userId}/hold
                                  a legal hold ({"reason": …}): erasure answers 409, retention skips

Authentication: Authorization: Bearer <API key or end-user JWT>. Required once any API key exists
(eventlogger keys create) or a --jwt-* key is set; /healthz, /readyz and /metrics never need it.
Missing or bad credentials: 401 with WWW-Authenticate; a scope or user they do not cover: 403.
Scopes: events:write (POST), events:read (GET), admin (both). An end-user token reaches only the
events of the user its "sub" names: reads always, writes when its "scope" claim has events:write.
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

// Options every store-touching command shares.
struct StoreOptions {
  std::string data_dir = "./data";
  StoreUrls urls;
};

void AddStoreOptions(po::options_description& options, StoreOptions& out) {
  options.add_options()
      ("data-dir", po::value(&out.data_dir)->default_value(out.data_dir), "directory for the embedded stores and the outbox")
      ("metadata", po::value(&out.urls.metadata), "metadata store URL (default sqlite://DATA_DIR/metadata.db)")
      ("documents", po::value(&out.urls.documents), "document store URL (default rocksdb://DATA_DIR/documents)")
      ("sql-pool-size", po::value(&out.urls.sql_pool_size)->default_value(8), "connections per SQL metadata store (PostgreSQL, ODBC), unless the URL sets pool_size")
      ("sql-statement-timeout-ms", po::value(&out.urls.sql_statement_timeout_ms)->default_value(5000), "SQL statement timeout in ms, unless the URL sets statement_timeout_ms");
}

}  // namespace

Result<WorkerOptions> ParseWorkerOptions(const std::vector<std::string>& args, std::string* help) {
  WorkerOptions out;
  StoreOptions stores;
  stores.data_dir = out.data_dir;
  int64_t deadline_margin_ms = out.deadline_margin.count();
  std::string log_level = "info";
  po::options_description options("eventlogger worker options");
  AddStoreOptions(options, stores);
  options.add_options()
      ("help", "show this help")
      ("deadline-margin-ms", po::value(&deadline_margin_ms)->default_value(deadline_margin_ms), "no store write starts closer than this to the invocation's deadline; records not attempted are reported as failures, for SQS to redeliver")
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
    text << options
         << "\nRuns as an SQS-triggered AWS Lambda (AWS_LAMBDA_RUNTIME_API; also as 'bootstrap' with _HANDLER=worker):\n"
            "each record is an event that `lambda --retry-queue-url` could not write to a store; the worker writes\n"
            "it and answers {\"batchItemFailures\": [...]} naming the records not done.\n";
    *help = text.str();
    return out;
  }
  if (deadline_margin_ms < 0 || deadline_margin_ms > 600'000) {
    return Status::InvalidArgument("--deadline-margin-ms must be 0 to 600000");
  }
  if (log_level != "debug" && log_level != "info" && log_level != "warn" && log_level != "error") {
    return Status::InvalidArgument("--log-level must be debug, info, warn or error");
  }
  log::SetMinimumLevel(log_level == "debug"  ? log::Level::kDebug
                       : log_level == "warn" ? log::Level::kWarn
                       : log_level == "error" ? log::Level::kError
                                              : log::Level::kInfo);
  out.data_dir = stores.data_dir;
  out.stores = stores.urls;
  out.deadline_margin = std::chrono::milliseconds(deadline_margin_ms);
  return out;
}

Result<ServiceOptions> ParseServeOptions(const std::vector<std::string>& args, std::string* help) {
  ServiceOptions out;
  std::string listen = "127.0.0.1:8080";
  int64_t max_body_bytes = static_cast<int64_t>(out.http.max_body_bytes);
  int64_t io_threads = std::max(1u, std::thread::hardware_concurrency());
  int64_t store_timeout_ms = out.handlers.store_timeout.count();
  int64_t idle_timeout_ms = out.http.idle_timeout.count();
  int64_t read_timeout_ms = out.http.read_timeout.count();
  int64_t header_timeout_ms = out.http.header_timeout.count();
  int64_t max_connections = out.http.max_connections;
  int64_t shutdown_grace_ms = out.http.shutdown_grace.count();
  int64_t max_in_flight = static_cast<int64_t>(out.writer.max_in_flight);
  int64_t max_batch_size = static_cast<int64_t>(out.writer.max_batch_size);
  int64_t blocking_threads = out.blocking_threads;
  int64_t read_cache_bytes = static_cast<int64_t>(out.read_cache.max_bytes);
  int64_t read_cache_max_age_ms = out.read_cache.max_age.count();
  bool access_log = true;
  std::string log_level = "info";
  std::string store_writers = "auto";
  std::string cursor_secret;
  double rate_limit = 0;
  double rate_burst = 0;
  int64_t api_key_refresh_ms = out.api_keys.refresh_interval.count();
  int64_t jwt_leeway_s = out.jwt.leeway.count();
  int64_t retry_queue_reserve_ms = out.handlers.retry_queue_reserve.count();
  int64_t max_batch_events = static_cast<int64_t>(out.handlers.max_batch_events);
  int64_t max_batch_bytes = static_cast<int64_t>(out.handlers.max_batch_bytes);
  std::string retention;
  int64_t retention_default_days = 0;
  int64_t retention_sweep_interval_s = std::chrono::duration_cast<std::chrono::seconds>(out.privacy.sweep.interval).count();
  int64_t erasure_settle_ms = -1;  // unset: the store timeout and a second
  std::string receipt_subject = "hashed";

  po::options_description options("eventlogger serve options");
  StoreOptions stores;
  AddStoreOptions(options, stores);
  options.add_options()
      ("help", "show this help")
      ("listen", po::value(&listen)->default_value(listen), "HOST:PORT to listen on; port 0 picks a free port")
      ("tls-cert", po::value(&out.http.tls.certificate_chain_file), "serve HTTPS with this PEM certificate chain (the server's certificate first); needs --tls-key. For deployments without a TLS-terminating proxy")
      ("tls-key", po::value(&out.http.tls.private_key_file), "the PEM private key of --tls-cert (unencrypted; keep it readable by this user only)")
      ("max-body-bytes", po::value(&max_body_bytes)->default_value(max_body_bytes), "largest accepted request body, in bytes (POST /events/batch has its own limit)")
      ("max-batch-events", po::value(&max_batch_events)->default_value(max_batch_events), "most events in one POST /events/batch; more is refused with 413")
      ("max-batch-bytes", po::value(&max_batch_bytes)->default_value(max_batch_bytes), "largest POST /events/batch body, in bytes; larger is refused with 413")
      ("max-future-skew-ms", po::value(&out.handlers.client_time.max_future_skew_ms)->default_value(out.handlers.client_time.max_future_skew_ms), "refuse (400) an event whose occurredAt, corrected by the request's sentAt, lies more than this far ahead of the server's clock, in ms (0 to 604800000)")
      ("max-event-age-days", po::value(&out.handlers.client_time.max_event_age_days)->default_value(out.handlers.client_time.max_event_age_days), "refuse (400) an event whose occurredAt, corrected by the request's sentAt, lies more than this many days back (0 to 36600)")
      ("io-threads", po::value(&io_threads)->default_value(io_threads), "threads serving HTTP")
      ("blocking-threads", po::value(&blocking_threads)->default_value(blocking_threads), "threads running store reads")
      ("store-timeout-ms", po::value(&store_timeout_ms)->default_value(store_timeout_ms), "answer 503 when a store write takes longer, in ms")
      ("max-in-flight", po::value(&max_in_flight)->default_value(max_in_flight), "events being written at once; beyond it requests get 503")
      ("max-batch-size", po::value(&max_batch_size)->default_value(max_batch_size), "most events per store transaction")
      ("store-writers", po::value(&store_writers)->default_value(store_writers), "who writes the stores: per-store (a thread each, the two writes in parallel), intent-writer (the intent log's writer, right after each append), or auto (intent-writer for the embedded stores, per-store otherwise)")
      ("read-cache-bytes", po::value(&read_cache_bytes)->default_value(read_cache_bytes), "memory for cached first pages of GET /events/{userId} (the default query), in bytes; 0 turns the cache off")
      ("read-cache-max-age-ms", po::value(&read_cache_max_age_ms)->default_value(read_cache_max_age_ms), "oldest cached answer served, in ms; 0: until a write invalidates it. A document store other instances also write (DynamoDB) is cached only when this is set")
      ("cursor-secret", po::value(&cursor_secret), "secret (at least 16 bytes) sealing the cursors of GET /events/{userId} pages (HMAC-SHA-256); every instance behind one load balancer needs the same. Unset: a random one per process, so cursors die with it (a warning says so). Prefer the environment variable to the command line, where other users can see it")
      ("rate-limit", po::value(&rate_limit)->default_value(rate_limit), "requests per second per API key, per end user (JWT sub) or, without credentials, per client address (token bucket); 0 turns the limit off. Over it: 429 with Retry-After. /healthz, /readyz and /metrics are never limited")
      ("rate-burst", po::value(&rate_burst)->default_value(rate_burst), "requests a client may send at once before the rate applies; 0: the rate (at least 1)")
      ("insecure", po::bool_switch(&out.insecure), "allow listening on a non-loopback address with no API key and no JWT configured (anyone who reaches it can read and write every user's events; a warning says so)")
      ("api-key-refresh-ms", po::value(&api_key_refresh_ms)->default_value(api_key_refresh_ms), "re-read the API keys from the metadata store this often, in ms: a key created or revoked anywhere takes effect here within it")
      ("jwt-hs256-secret", po::value(&out.jwt.hs256_secret), "accept end-user JWTs signed with HS256 and this secret (at least 32 bytes); prefer the environment variable")
      ("jwt-public-key", po::value(&out.jwt.public_key_file), "accept end-user JWTs signed by this PEM public key: RSA (RS256) or P-256 (ES256)")
      ("jwt-jwks", po::value(&out.jwt.jwks_file), "accept end-user JWTs signed by a key of this JWK Set file (RSA and P-256 keys; chosen by kid)")
      ("jwt-issuer", po::value(&out.jwt.issuer), "JWTs must have this iss")
      ("jwt-audience", po::value(&out.jwt.audience), "JWTs must have this aud (or list it)")
      ("jwt-leeway-s", po::value(&jwt_leeway_s)->default_value(jwt_leeway_s), "clock skew allowed on a JWT's exp and nbf, in seconds")
      ("retry-queue-url", po::value(&out.retry_queue_url), "an SQS queue URL: a write that fails in a store is also sent there before it is answered 202, and `eventlogger worker` completes it. For a data dir that does not outlive the process (AWS Lambda, a container without a volume); the local outbox still retries meanwhile")
      ("retry-queue-region", po::value(&out.retry_queue_region), "the retry queue's AWS region; default: from the queue URL's host, else AWS_REGION")
      ("retry-queue-reserve-ms", po::value(&retry_queue_reserve_ms)->default_value(retry_queue_reserve_ms), "with --retry-queue-url under an invocation deadline (Lambda): time kept back from the store writes for queueing a failure, in ms")
      ("retention", po::value(&retention), "keep events of these types this many days, e.g. login=30,purchase=3653 (7 to 3653 days each); expired events disappear from reads at once and from the stores at the next sweep (DynamoDB: its TTL, after `eventlogger migrate` turned it on). Users under a legal hold keep everything")
      ("retention-default-days", po::value(&retention_default_days)->default_value(retention_default_days), "keep events of types --retention does not name this many days (7 to 3653); 0 keeps them forever")
      ("retention-sweep-interval-s", po::value(&retention_sweep_interval_s)->default_value(retention_sweep_interval_s), "delete expired events this often, in seconds, in batches of 1000")
      ("erasure-batch-size", po::value(&out.privacy.erasure.batch_size)->default_value(out.privacy.erasure.batch_size), "rows or documents an erasure deletes per statement or round trip (1 to 100000); its progress is saved after each")
      ("erasure-settle-ms", po::value(&erasure_settle_ms), "how long an erasure job waits after its cutoff before deleting, so that writes in flight at the cutoff have landed; default: --store-timeout-ms plus 1000")
      ("receipt-key", po::value(&out.privacy.receipt_key_file), "sign erasure receipts with this Ed25519 private key (PEM, as `openssl genpkey -algorithm ed25519` writes). Default: DATA_DIR/receipt-key.pem, made at the first start")
      ("receipt-hmac-secret", po::value(&out.privacy.receipt_hmac_secret), "sign erasure receipts with HMAC-SHA-256 and this secret (at least 32 bytes) instead of a key; prefer the environment variable")
      ("receipt-subject", po::value(&receipt_subject)->default_value(receipt_subject), "how receipts name the erased user: hashed (sha256 of the userId: the receipt keeps no id, whoever has the id can match it) or user-id")
      ("idle-timeout-ms", po::value(&idle_timeout_ms)->default_value(idle_timeout_ms), "close keep-alive connections idle this long, in ms")
      ("read-timeout-ms", po::value(&read_timeout_ms)->default_value(read_timeout_ms), "time allowed to receive one request, in ms")
      ("header-timeout-ms", po::value(&header_timeout_ms)->default_value(header_timeout_ms), "time allowed to receive a request's head once its first byte arrived, in ms (a client trickling a header is disconnected)")
      ("max-connections", po::value(&max_connections)->default_value(max_connections), "open connections at most; beyond it new ones wait in the kernel's backlog until one closes (0: no limit)")
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
    text << options << kServeApi;
    *help = text.str();
    return out;
  }

  out.data_dir = stores.data_dir;
  out.stores = stores.urls;
  if (!SplitListen(listen, &out.http.host, &out.http.port)) {
    return Status::InvalidArgument("--listen must be HOST:PORT, got '" + listen + "'");
  }
  const auto require = [](bool ok, const char* message) {
    return ok ? Status::Ok() : Status::InvalidArgument(message);
  };
  if (std::string invalid = out.handlers.client_time.Validate(); !invalid.empty()) {
    return Status::InvalidArgument(invalid);
  }
  for (const Status& s : {
           require(max_body_bytes >= 64 && max_body_bytes <= (64 << 20), "--max-body-bytes must be 64 to 67108864"),
           require(io_threads >= 1 && io_threads <= 256, "--io-threads must be 1 to 256"),
           require(blocking_threads >= 1 && blocking_threads <= 256, "--blocking-threads must be 1 to 256"),
           require(store_timeout_ms >= 1, "--store-timeout-ms must be positive"),
           require(max_in_flight >= 1, "--max-in-flight must be positive"),
           require(max_batch_events >= 1 && max_batch_events <= 10'000, "--max-batch-events must be 1 to 10000"),
           require(max_batch_events <= max_in_flight, "--max-batch-events must not exceed --max-in-flight"),
           require(max_batch_bytes >= 64 && max_batch_bytes <= (64 << 20), "--max-batch-bytes must be 64 to 67108864"),
           require(max_batch_size >= 1, "--max-batch-size must be positive"),
           require(read_cache_bytes >= 0, "--read-cache-bytes must not be negative"),
           require(read_cache_max_age_ms >= 0, "--read-cache-max-age-ms must not be negative"),
           require(idle_timeout_ms >= 1, "--idle-timeout-ms must be positive"),
           require(read_timeout_ms >= 1, "--read-timeout-ms must be positive"),
           require(header_timeout_ms >= 1, "--header-timeout-ms must be positive"),
           require(max_connections >= 0 && max_connections <= 1'000'000, "--max-connections must be 0 to 1000000"),
           require(shutdown_grace_ms >= 0, "--shutdown-grace-ms must not be negative"),
           require(log_level == "debug" || log_level == "info" || log_level == "warn" || log_level == "error",
                   "--log-level must be debug, info, warn or error"),
           require(rate_limit >= 0 && rate_limit <= 1e9, "--rate-limit must be 0 to 1000000000 requests per second"),
           require(rate_burst >= 0 && rate_burst <= 1e9, "--rate-burst must be 0 to 1000000000"),
           require(cursor_secret.empty() || cursor_secret.size() >= 16,
                   "--cursor-secret must be at least 16 bytes (e.g. openssl rand -hex 32)"),
           require(api_key_refresh_ms >= 10 && api_key_refresh_ms <= 60'000, "--api-key-refresh-ms must be 10 to 60000"),
           require(jwt_leeway_s >= 0 && jwt_leeway_s <= 600, "--jwt-leeway-s must be 0 to 600"),
           require(retry_queue_reserve_ms >= 0 && retry_queue_reserve_ms <= 60'000,
                   "--retry-queue-reserve-ms must be 0 to 60000"),
           require(!(values.count("jwt-issuer") || values.count("jwt-audience")) || out.jwt.configured(),
                   "--jwt-issuer and --jwt-audience need a JWT key (--jwt-hs256-secret, --jwt-public-key or --jwt-jwks)"),
           require(out.http.tls.certificate_chain_file.empty() == out.http.tls.private_key_file.empty(),
                   "--tls-cert and --tls-key go together"),
           require(store_writers == "auto" || store_writers == "per-store" || store_writers == "intent-writer",
                   "--store-writers must be auto, per-store or intent-writer"),
           require(retention_sweep_interval_s >= 1 && retention_sweep_interval_s <= int64_t{7} * 86'400,
                   "--retention-sweep-interval-s must be 1 to 604800"),
           require(erasure_settle_ms == -1 || (erasure_settle_ms >= 0 && erasure_settle_ms <= 3'600'000),
                   "--erasure-settle-ms must be 0 to 3600000"),
           require(receipt_subject == "hashed" || receipt_subject == "user-id",
                   "--receipt-subject must be hashed or user-id"),
       }) {
    if (!s.ok()) return s;
  }
  Result<RetentionPolicy> policy = RetentionPolicy::Parse(retention, retention_default_days);
  if (!policy.ok()) return policy.status();
  out.privacy.retention = std::make_shared<const RetentionPolicy>(std::move(*policy));
  out.privacy.sweep.interval = std::chrono::seconds(retention_sweep_interval_s);
  out.privacy.erasure.settle =
      std::chrono::milliseconds(erasure_settle_ms >= 0 ? erasure_settle_ms : store_timeout_ms + 1000);
  out.privacy.erasure.hash_subject_in_receipts = receipt_subject == "hashed";
  if (std::string invalid = out.privacy.Validate(); !invalid.empty()) return Status::InvalidArgument(invalid);
  out.http.max_body_bytes = static_cast<size_t>(max_body_bytes);
  out.http.io_threads = static_cast<int>(io_threads);
  out.http.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);
  out.http.read_timeout = std::chrono::milliseconds(read_timeout_ms);
  out.http.header_timeout = std::chrono::milliseconds(header_timeout_ms);
  out.http.max_connections = static_cast<int>(max_connections);
  out.http.shutdown_grace = std::chrono::milliseconds(shutdown_grace_ms);
  out.http.access_log = access_log;
  out.handlers.store_timeout = std::chrono::milliseconds(store_timeout_ms);
  out.writer.max_in_flight = static_cast<size_t>(max_in_flight);
  out.writer.max_batch_size = static_cast<size_t>(max_batch_size);
  out.blocking_threads = static_cast<int>(blocking_threads);
  if (store_writers == "per-store") out.store_writers = StoreWriters::kPerStore;
  if (store_writers == "intent-writer") out.store_writers = StoreWriters::kIntentWriter;
  out.read_cache.max_bytes = static_cast<size_t>(read_cache_bytes);
  out.read_cache.max_age = std::chrono::milliseconds(read_cache_max_age_ms);
  out.cursor_secret = cursor_secret;
  out.rate_limit.rate = rate_limit;
  out.rate_limit.burst = rate_burst;
  out.api_keys.refresh_interval = std::chrono::milliseconds(api_key_refresh_ms);
  out.jwt.leeway = std::chrono::seconds(jwt_leeway_s);
  out.handlers.retry_queue_reserve = std::chrono::milliseconds(retry_queue_reserve_ms);
  out.handlers.max_batch_events = static_cast<size_t>(max_batch_events);
  out.handlers.max_batch_bytes = static_cast<size_t>(max_batch_bytes);
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

namespace {

// Parses args + environment into `values`; false (with a message) on error.
bool ParseCommand(const std::string& command, const po::options_description& options,
                  const po::positional_options_description* positional,
                  const std::vector<std::string>& args, po::variables_map& values) {
  try {
    po::command_line_parser parser(args);
    parser.options(options);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), values);
    po::store(po::parse_environment(options,
                                    [&options](const std::string& name) {
                                      return EnvironmentToOption(options, name);
                                    }),
              values);
    po::notify(values);
  } catch (const po::error& e) {
    std::cerr << "eventlogger " << command << ": " << e.what() << "\n";
    return false;
  }
  return true;
}

// "7d", "12h", "30m", "45s", "500ms" → milliseconds.
std::optional<int64_t> ParseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const int64_t value = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ms") return value;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60'000;
  if (unit == "h") return value * 3'600'000;
  if (unit == "d") return value * 86'400'000;
  return std::nullopt;
}

void PrintEntry(const OutboxEntry& entry) {
  std::string line = "{\"eventId\":";
  AppendJsonString(line, entry.event.event_id);
  line += ",\"userId\":";
  AppendJsonString(line, entry.event.user_id);
  line += ",\"eventType\":";
  AppendJsonString(line, entry.event.event_type);
  line += ",\"timestamp\":";
  AppendJsonString(line, entry.event.timestamp);
  line += ",\"state\":";
  line += entry.state == OutboxState::kDead ? "\"dead\"" : "\"pending\"";
  line += ",\"attempts\":" + std::to_string(entry.attempts);
  line += std::string(",\"metadataDone\":") + (entry.metadata_done ? "true" : "false");
  line += std::string(",\"documentDone\":") + (entry.document_done ? "true" : "false");
  line += ",\"nextAttempt\":";
  AppendJsonString(line, FormatTimestamp(entry.next_attempt_ms));
  line += ",\"lastError\":";
  AppendJsonString(line, entry.last_error);
  line += "}";
  std::cout << line << "\n";
}

int Retry(const std::vector<std::string>& args) {
  StoreOptions stores;
  std::string action;
  std::string target;
  bool all_dead = false;
  std::string older_than;
  int64_t limit = 1000;
  po::options_description options("eventlogger retry options");
  options.add_options()
      ("help", "show this help")
      ("action", po::value(&action), "stats | list | dead | replay | purge-dead")
      ("event-id", po::value(&target), "the dead letter to replay")
      ("all-dead", po::bool_switch(&all_dead), "replay every dead letter")
      ("older-than", po::value(&older_than), "purge-dead: dead letters older than this (e.g. 7d, 12h)")
      ("limit", po::value(&limit)->default_value(limit), "list/dead: at most this many entries");
  AddStoreOptions(options, stores);
  po::positional_options_description positional;
  positional.add("action", 1).add("event-id", 1);
  po::variables_map values;
  if (!ParseCommand("retry", options, &positional, args, values)) return 2;
  if (values.count("help") != 0 || action.empty()) {
    std::cout << "Usage: eventlogger retry stats|list|dead|replay (EVENT_ID|--all-dead)|purge-dead --older-than DURATION\n"
              << options;
    return action.empty() && values.count("help") == 0 ? 2 : 0;
  }
  const std::filesystem::path path = std::filesystem::path(stores.data_dir) / "outbox.db";
  if (!std::filesystem::exists(path)) {
    std::cerr << "eventlogger retry: no outbox at " << path.string() << " (wrong --data-dir?)\n";
    return 1;
  }
  Result<std::unique_ptr<Outbox>> outbox = Outbox::Open({.path = path.string()});
  if (!outbox.ok()) {
    std::cerr << "eventlogger retry: " << outbox.status().ToString() << "\n";
    return 1;
  }
  const int64_t now = SystemClock::Instance().NowUnixMillis();
  const auto fail = [](const Status& status) {
    std::cerr << "eventlogger retry: " << status.ToString() << "\n";
    return 1;
  };
  if (action == "stats") {
    Result<OutboxStats> stats = (*outbox)->Stats();
    if (!stats.ok()) return fail(stats.status());
    const int64_t oldest_age = stats->pending > 0 ? now - stats->oldest_pending_created_ms : 0;
    // After a crash, events can wait in the intent log rather than the
    // outbox until the next start replays them: count those too.
    Result<IntentLogInspection> intents =
        IntentLog::Inspect((std::filesystem::path(stores.data_dir) / kIntentLogDirectory).string());
    if (!intents.ok()) return fail(intents.status());
    const int64_t oldest_intent_age = intents->events > 0 ? now - intents->oldest_unix_millis : 0;
    std::cout << "{\"pending\":" << stats->pending << ",\"dead\":" << stats->dead
              << ",\"oldestPendingAgeMs\":" << oldest_age << ",\"intentLog\":{\"inUse\":"
              << (intents->in_use ? "true" : "false") << ",\"replayOnStart\":" << intents->events
              << ",\"oldestReplayAgeMs\":" << oldest_intent_age << "}}\n";
    return 0;
  }
  if (action == "list" || action == "dead") {
    Result<std::vector<OutboxEntry>> entries = (*outbox)->List(
        action == "dead" ? OutboxState::kDead : OutboxState::kPending, static_cast<int>(limit));
    if (!entries.ok()) return fail(entries.status());
    for (const OutboxEntry& entry : *entries) PrintEntry(entry);
    return 0;
  }
  if (action == "replay") {
    if (all_dead == !target.empty()) {
      std::cerr << "eventlogger retry replay: give one EVENT_ID or --all-dead\n";
      return 2;
    }
    Result<int64_t> replayed = all_dead ? (*outbox)->ReplayAllDead(now) : (*outbox)->Replay(target, now);
    if (!replayed.ok()) return fail(replayed.status());
    if (!all_dead && *replayed == 0) {
      std::cerr << "eventlogger retry replay: no dead letter " << target << "\n";
      return 1;
    }
    std::cout << "{\"replayed\":" << *replayed << "}\n";
    return 0;
  }
  if (action == "purge-dead") {
    const std::optional<int64_t> age = ParseDuration(older_than);
    if (!age) {
      std::cerr << "eventlogger retry purge-dead: --older-than needs a duration such as 7d, 12h, 30m\n";
      return 2;
    }
    Result<int64_t> purged = (*outbox)->PurgeDead(now - *age);
    if (!purged.ok()) return fail(purged.status());
    std::cout << "{\"purged\":" << *purged << "}\n";
    return 0;
  }
  std::cerr << "eventlogger retry: unknown action '" << action << "'\n";
  return 2;
}

int Migrate(const std::vector<std::string>& args) {
  StoreOptions stores;
  std::string retention;
  int64_t retention_default_days = 0;
  po::options_description options("eventlogger migrate options");
  options.add_options()
      ("help", "show this help")
      ("retention", po::value(&retention), "the retention rules serve will run with (--retention): with any, a DynamoDB table gets its TTL turned on for the ExpiresAt attribute")
      ("retention-default-days", po::value(&retention_default_days)->default_value(retention_default_days), "as serve's --retention-default-days");
  AddStoreOptions(options, stores);
  po::variables_map values;
  if (!ParseCommand("migrate", options, nullptr, args, values)) return 2;
  if (values.count("help") != 0) {
    std::cout << options;
    return 0;
  }
  Result<RetentionPolicy> policy = RetentionPolicy::Parse(retention, retention_default_days);
  if (!policy.ok()) {
    std::cerr << "eventlogger migrate: " << policy.status().message() << "\n";
    return 2;
  }
  const StoreUrls urls = ResolveStoreUrls(stores.urls, stores.data_dir);
  const auto report = [](const char* store, const std::string& url, const Status& status) {
    std::cerr << "eventlogger migrate: " << store << " store " << RedactUrl(url) << ": "
              << status.ToString() << "\n";
    return 1;
  };
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) return report("metadata", urls.metadata, metadata.status());
  if (Status s = (*metadata)->Migrate(); !s.ok()) return report("metadata", urls.metadata, s);
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(
      urls.documents, nullptr, {std::make_shared<const RetentionPolicy>(std::move(*policy)), nullptr});
  if (!documents.ok()) return report("document", urls.documents, documents.status());
  if (Status s = (*documents)->Migrate(); !s.ok()) return report("document", urls.documents, s);
  // The data dir's own outbox, so that `retry` works on it from the start.
  std::error_code ignored;
  std::filesystem::create_directories(stores.data_dir, ignored);
  const std::string outbox_path = (std::filesystem::path(stores.data_dir) / "outbox.db").string();
  if (Result<std::unique_ptr<Outbox>> outbox = Outbox::Open({.path = outbox_path}); !outbox.ok()) {
    return report("outbox", outbox_path, outbox.status());
  }
  std::cout << "{\"metadata\":\"migrated\",\"documents\":\"migrated\",\"outbox\":\"ready\"}\n";
  return 0;
}

int ReconcileCommand(const std::vector<std::string>& args) {
  StoreOptions stores;
  ReconcileOptions reconcile;
  po::options_description options("eventlogger reconcile options");
  options.add_options()
      ("help", "show this help")
      ("user", po::value(&reconcile.filter.user_id), "only this user's events")
      ("since", po::value(&reconcile.filter.since), "only events at or after this ISO 8601 timestamp")
      ("until", po::value(&reconcile.filter.until), "only events before this ISO 8601 timestamp")
      ("repair", po::bool_switch(&reconcile.repair), "rebuild missing metadata from documents; requeue dead letters");
  AddStoreOptions(options, stores);
  po::variables_map values;
  if (!ParseCommand("reconcile", options, nullptr, args, values)) return 2;
  if (values.count("help") != 0) {
    std::cout << options;
    return 0;
  }
  for (const std::string* bound : {&reconcile.filter.since, &reconcile.filter.until}) {
    if (!bound->empty() && !ParseTimestamp(*bound)) {
      std::cerr << "eventlogger reconcile: timestamps look like 2025-06-29T14:32:45.123Z, got '" << *bound << "'\n";
      return 2;
    }
  }
  const StoreUrls urls = ResolveStoreUrls(stores.urls, stores.data_dir);
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) {
    std::cerr << "eventlogger reconcile: " << metadata.status().ToString() << "\n";
    return 1;
  }
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents);
  if (!documents.ok()) {
    std::cerr << "eventlogger reconcile: " << documents.status().ToString() << "\n";
    return 1;
  }
  std::unique_ptr<Outbox> outbox;
  const std::filesystem::path outbox_path = std::filesystem::path(stores.data_dir) / "outbox.db";
  if (std::filesystem::exists(outbox_path)) {
    Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = outbox_path.string()});
    if (!opened.ok()) {
      std::cerr << "eventlogger reconcile: " << opened.status().ToString() << "\n";
      return 1;
    }
    outbox = std::move(*opened);
  }
  Result<ReconcileReport> report =
      Reconcile(**metadata, **documents, outbox.get(), SystemClock::Instance(), reconcile);
  if (!report.ok()) {
    std::cerr << "eventlogger reconcile: " << report.status().ToString() << "\n";
    return 1;
  }
  const auto list = [](const std::vector<std::string>& ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(out, ids[i]);
    }
    return out + "]";
  };
  std::cout << "{\"metadataEvents\":" << report->metadata_events
            << ",\"documentEvents\":" << report->document_events
            << ",\"documentOnly\":" << list(report->document_only)
            << ",\"metadataOnlyUnrecoverable\":" << list(report->metadata_only)
            << ",\"queued\":" << list(report->queued) << ",\"repaired\":" << report->repaired << "}\n";
  const bool consistent = report->document_only.empty() && report->metadata_only.empty();
  return consistent || (reconcile.repair && report->metadata_only.empty()) ? 0 : 3;
}

// `keys`: create, list and revoke API keys in the metadata store. Works
// beside a running service: it re-reads the keys within --api-key-refresh-ms.
int Keys(const std::vector<std::string>& args) {
  StoreOptions stores;
  std::string action;
  std::string key_id;
  std::string name;
  std::string scopes_text;
  po::options_description options("eventlogger keys options");
  options.add_options()
      ("help", "show this help")
      ("action", po::value(&action), "create | list | revoke")
      ("key-id", po::value(&key_id), "revoke: the key's id (from create or list)")
      ("name", po::value(&name), "create: what the key is for (1-100 bytes), e.g. checkout-service")
      ("scopes", po::value(&scopes_text), "create: events:write, events:read and/or admin, comma-separated");
  AddStoreOptions(options, stores);
  po::positional_options_description positional;
  positional.add("action", 1).add("key-id", 1);
  po::variables_map values;
  if (!ParseCommand("keys", options, &positional, args, values)) return 2;
  if (values.count("help") != 0 || action.empty()) {
    std::cout << "Usage: eventlogger keys create --name N --scopes S | list | revoke KEY_ID\n" << options;
    return action.empty() && values.count("help") == 0 ? 2 : 0;
  }
  const auto usage = [](const std::string& message) {
    std::cerr << "eventlogger keys: " << message << "\n";
    return 2;
  };
  if (action != "create" && action != "list" && action != "revoke") return usage("unknown action '" + action + "'");
  std::optional<auth::Scopes> scopes;
  if (action == "create") {
    if (std::string problem = auth::CheckApiKeyName(name); !problem.empty()) return usage("--name " + problem);
    std::string unknown;
    scopes = auth::ParseScopes(scopes_text, &unknown);
    if (!scopes) {
      return usage(unknown.empty() ? "--scopes needs at least one of events:write, events:read, admin"
                                   : "unknown scope '" + unknown + "' (events:write, events:read, admin)");
    }
  }
  if (action == "revoke" && key_id.empty()) return usage("revoke needs the KEY_ID");
  const StoreUrls urls = ResolveStoreUrls(stores.urls, stores.data_dir);
  if (urls.metadata.starts_with("sqlite://")) {
    std::error_code ignored;
    std::filesystem::create_directories(stores.data_dir, ignored);
  }
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  const auto fail = [&urls](const Status& status) {
    std::cerr << "eventlogger keys: metadata store " << RedactUrl(urls.metadata) << ": " << status.ToString() << "\n";
    return 1;
  };
  if (!metadata.ok()) return fail(metadata.status());
  if (Status s = (*metadata)->CheckSchema(); !s.ok()) return fail(s);
  const std::string now = FormatTimestamp(SystemClock::Instance().NowUnixMillis());
  if (action == "create") {
    Result<auth::NewApiKey> key = auth::MakeApiKey(name, *scopes, now);
    if (!key.ok()) return fail(key.status());
    if (Status s = (*metadata)->InsertApiKey(key->row); !s.ok()) return fail(s);
    std::string line = "{\"id\":";
    AppendJsonString(line, key->row.id);
    line += ",\"name\":";
    AppendJsonString(line, key->row.name);
    line += ",\"scopes\":";
    AppendJsonString(line, key->row.scopes);
    line += ",\"createdAt\":";
    AppendJsonString(line, key->row.created_at);
    line += ",\"key\":";
    AppendJsonString(line, key->key);
    std::cout << line << "}\n";
    std::cerr << "eventlogger keys: this is the only time the key is shown; store it now.\n";
    return 0;
  }
  if (action == "list") {
    Result<std::vector<ApiKeyRow>> rows = (*metadata)->ListApiKeys();
    if (!rows.ok()) return fail(rows.status());
    for (const ApiKeyRow& row : *rows) {
      std::string line = "{\"id\":";
      AppendJsonString(line, row.id);
      line += ",\"name\":";
      AppendJsonString(line, row.name);
      line += ",\"scopes\":";
      AppendJsonString(line, row.scopes);
      line += ",\"createdAt\":";
      AppendJsonString(line, row.created_at);
      line += ",\"lastUsedAt\":";
      if (row.last_used_at.empty()) line += "null"; else AppendJsonString(line, row.last_used_at);
      line += ",\"revokedAt\":";
      if (row.revoked_at.empty()) line += "null"; else AppendJsonString(line, row.revoked_at);
      std::cout << line << "}\n";
    }
    return 0;
  }
  if (Status s = (*metadata)->RevokeApiKey(key_id, now); !s.ok()) {
    if (s.code() == StatusCode::kNotFound) {
      std::cerr << "eventlogger keys revoke: no key has id '" << key_id << "'\n";
      return 1;
    }
    return fail(s);
  }
  std::cout << "{\"revoked\":";
  std::string id;
  AppendJsonString(id, key_id);
  std::cout << id << "}\n";
  return 0;
}


// `erase`: erases a user's events (or runs an erasure job already accepted)
// on the stores, here and now, and prints the finished job with its receipt.
// For deployments whose front-end runs no background jobs (Lambda), and for
// operators. Waits --settle-ms after the cutoff, as the service's jobs do,
// for writes another instance had in flight.
int EraseCommand(const std::vector<std::string>& args) {
  StoreOptions stores;
  std::string user_id;
  std::string job_id;
  int64_t settle_ms = 6000;
  PrivacyOptions privacy;
  std::string receipt_subject = "hashed";
  po::options_description options("eventlogger erase options");
  options.add_options()
      ("help", "show this help")
      ("user", po::value(&user_id), "erase this user's events (everything received until now)")
      ("job", po::value(&job_id), "or run this erasure job (an erasureId the API returned) to its end")
      ("settle-ms", po::value(&settle_ms)->default_value(settle_ms), "wait this long after the cutoff before deleting, for writes in flight elsewhere, in ms")
      ("receipt-key", po::value(&privacy.receipt_key_file), "sign the receipt with this Ed25519 private key (PEM); default DATA_DIR/receipt-key.pem")
      ("receipt-hmac-secret", po::value(&privacy.receipt_hmac_secret), "sign the receipt with HMAC-SHA-256 and this secret instead")
      ("receipt-subject", po::value(&receipt_subject)->default_value(receipt_subject), "hashed or user-id: how the receipt names the user");
  AddStoreOptions(options, stores);
  po::variables_map values;
  if (!ParseCommand("erase", options, nullptr, args, values)) return 2;
  if (values.count("help") != 0) {
    std::cout << "Usage: eventlogger erase --user USER_ID | --job ERASURE_ID\n" << options;
    return 0;
  }
  const auto usage = [](const std::string& message) {
    std::cerr << "eventlogger erase: " << message << "\n";
    return 2;
  };
  if (user_id.empty() == job_id.empty()) return usage("give --user or --job");
  if (!user_id.empty()) {
    if (std::string problem = CheckUserId(user_id); !problem.empty()) return usage("--user " + problem);
  }
  if (settle_ms < 0 || settle_ms > 3'600'000) return usage("--settle-ms must be 0 to 3600000");
  if (receipt_subject != "hashed" && receipt_subject != "user-id") return usage("--receipt-subject must be hashed or user-id");
  privacy.erasure.settle = std::chrono::milliseconds(settle_ms);
  privacy.erasure.hash_subject_in_receipts = receipt_subject == "hashed";
  if (std::string problem = privacy.Validate(); !problem.empty()) return usage(problem);
  const auto fail = [](const Status& status) {
    std::cerr << "eventlogger erase: " << status.ToString() << "\n";
    return 1;
  };
  const StoreUrls urls = ResolveStoreUrls(stores.urls, stores.data_dir);
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) return fail(metadata.status());
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents);
  if (!documents.ok()) return fail(documents.status());
  std::unique_ptr<Outbox> outbox;
  const std::filesystem::path outbox_path = std::filesystem::path(stores.data_dir) / "outbox.db";
  if (std::filesystem::exists(outbox_path)) {
    Result<std::unique_ptr<Outbox>> opened = Outbox::Open({.path = outbox_path.string()});
    if (!opened.ok()) return fail(opened.status());
    outbox = std::move(*opened);
  }
  Result<std::unique_ptr<ReceiptSigner>> signer = OpenReceiptSigner(privacy, stores.data_dir);
  if (!signer.ok()) return fail(signer.status());
  const Clock& clock = SystemClock::Instance();
  PrivacyRegistry registry(**metadata, nullptr);
  if (Status s = registry.Refresh(); !s.ok()) return fail(s);
  Uuid7Generator ids(clock);
  ErasureService erasures(privacy.erasure, **metadata, **documents, outbox.get(), registry, **signer, ids, clock);
  if (!user_id.empty()) {
    ErasureRefusal refusal;
    Result<ErasureJobRow> job = erasures.Request(user_id, &refusal);
    if (!job.ok()) {
      if (job.status().code() == StatusCode::kFailedPrecondition) {
        std::cerr << "eventlogger erase: the user is under a legal hold" << (refusal.reason.empty() ? "" : ": ")
                  << refusal.reason << "\n";
        return 3;
      }
      return fail(job.status());
    }
    job_id = job->id;
  }
  Result<ErasureJobRow> job = erasures.Find(job_id);
  if (!job.ok()) return fail(job.status());
  const int64_t due = ParseTimestamp(job->received_cutoff).value_or(0) + settle_ms;
  if (const int64_t wait = due - clock.NowUnixMillis(); wait > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  Result<ErasureJobRow> done = erasures.RunJob(job_id);
  if (!done.ok()) {
    // A refused job (a hold) is recorded as failed; show it like any other.
    Result<ErasureJobRow> latest = erasures.Find(job_id);
    if (!latest.ok()) return fail(done.status());
    std::cout << http::ErasureJobJson(*latest) << "\n";
    return 1;
  }
  std::cout << http::ErasureJobJson(*done) << "\n";
  return done->state == "done" ? 0 : 1;
}

// The receipt envelope in `text`: the text itself, or the "receipt" member
// of a GET /erasures/{id} answer (its payload string is kept byte for byte,
// so the signature still covers it).
std::string ReceiptEnvelopeOf(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  if (document.HasParseError() || !document.IsObject()) return text;
  const auto receipt = document.FindMember("receipt");
  if (receipt == document.MemberEnd() || !receipt->value.IsObject()) return text;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  receipt->value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// `verify-receipt`: checks an erasure receipt (the envelope, or the whole
// GET /erasures/{id} answer holding it) and prints what it attests.
int VerifyReceiptCommand(const std::vector<std::string>& args) {
  std::string key_file;
  std::string hmac_secret;
  std::string user_id;
  std::string path = "-";
  po::options_description options("eventlogger verify-receipt options");
  options.add_options()
      ("help", "show this help")
      ("key", po::value(&key_file), "the Ed25519 key the receipt should be signed with: a public key (PEM, from `eventlogger receipt-key`) or the private key file")
      ("hmac-secret", po::value(&hmac_secret), "or the HMAC secret it should be signed with")
      ("user", po::value(&user_id), "also check that the receipt names this userId")
      ("receipt", po::value(&path), "the receipt's file; - (the default) reads standard input");
  po::positional_options_description positional;
  positional.add("receipt", 1);
  po::variables_map values;
  if (!ParseCommand("verify-receipt", options, &positional, args, values)) return 2;
  if (values.count("help") != 0) {
    std::cout << "Usage: eventlogger verify-receipt --key KEY.pem | --hmac-secret S [RECEIPT_FILE]\n" << options;
    return 0;
  }
  if (key_file.empty() == hmac_secret.empty()) {
    std::cerr << "eventlogger verify-receipt: give --key or --hmac-secret\n";
    return 2;
  }
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      std::cerr << "eventlogger verify-receipt: cannot read " << path << "\n";
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  Result<ReceiptVerifier> verifier = Status::Internal("unset");
  if (!hmac_secret.empty()) {
    verifier = ReceiptVerifier::FromHmacSecret(hmac_secret);
  } else {
    std::ifstream file(key_file);
    const std::string pem((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    verifier = pem.find("PRIVATE KEY") != std::string::npos ? ReceiptVerifier::FromEd25519PrivateKeyFile(key_file)
                                                           : ReceiptVerifier::FromEd25519PublicKeyFile(key_file);
  }
  if (!verifier.ok()) {
    std::cerr << "eventlogger verify-receipt: " << verifier.status().message() << "\n";
    return 2;
  }
  Result<ErasureReceipt> receipt = VerifyReceipt(ReceiptEnvelopeOf(text), *verifier);
  if (!receipt.ok()) {
    std::cerr << "eventlogger verify-receipt: NOT VALID: " << receipt.status().message() << "\n";
    return 1;
  }
  if (!user_id.empty() && !receipt->subject.Names(user_id)) {
    std::cerr << "eventlogger verify-receipt: NOT VALID for this user: the receipt names another subject\n";
    return 1;
  }
  std::string out = "{\"valid\":true,\"erasureId\":";
  AppendJsonString(out, receipt->job_id);
  out += ",\"subject\":";
  AppendJsonString(out, receipt->subject.text);
  out += ",\"receivedCutoff\":";
  AppendJsonString(out, FormatTimestamp(receipt->received_cutoff_ms));
  out += ",\"startedAt\":";
  AppendJsonString(out, FormatTimestamp(receipt->started_at_ms));
  out += ",\"finishedAt\":";
  AppendJsonString(out, FormatTimestamp(receipt->finished_at_ms));
  out += ",\"erased\":{\"metadata\":" + std::to_string(receipt->counts.metadata) +
         ",\"documents\":" + std::to_string(receipt->counts.documents) +
         ",\"outbox\":" + std::to_string(receipt->counts.outbox) +
         ",\"deadLetters\":" + std::to_string(receipt->counts.dead_letters) + "}";
  out += ",\"algorithm\":";
  AppendJsonString(out, receipt->algorithm);
  out += ",\"keyId\":";
  AppendJsonString(out, receipt->key_id);
  out += "}";
  std::cout << out << "\n";
  return 0;
}

// `receipt-key`: prints the public half of the key receipts are signed
// with, for auditors.
int ReceiptKeyCommand(const std::vector<std::string>& args) {
  StoreOptions stores;
  PrivacyOptions privacy;
  po::options_description options("eventlogger receipt-key options");
  options.add_options()
      ("help", "show this help")
      ("receipt-key", po::value(&privacy.receipt_key_file), "the Ed25519 private key file; default DATA_DIR/receipt-key.pem (made if missing)");
  AddStoreOptions(options, stores);
  po::variables_map values;
  if (!ParseCommand("receipt-key", options, nullptr, args, values)) return 2;
  if (values.count("help") != 0) {
    std::cout << options;
    return 0;
  }
  Result<std::unique_ptr<ReceiptSigner>> signer = OpenReceiptSigner(privacy, stores.data_dir);
  if (!signer.ok()) {
    std::cerr << "eventlogger receipt-key: " << signer.status().ToString() << "\n";
    return 1;
  }
  std::cout << (*signer)->PublicKeyPem();
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Lambda's provided.al2023 runtime starts an executable named bootstrap.
  const std::string_view program = argv[0];
  if (program == "bootstrap" || program.ends_with("/bootstrap")) return LambdaCommand(args);
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
  if (command == "lambda") return LambdaCommand(args);
  if (command == "worker") return WorkerCommand(args);
  if (command == "migrate") return Migrate(args);
  if (command == "retry") return Retry(args);
  if (command == "reconcile") return ReconcileCommand(args);
  if (command == "keys") return Keys(args);
  if (command == "erase") return EraseCommand(args);
  if (command == "verify-receipt") return VerifyReceiptCommand(args);
  if (command == "receipt-key") return ReceiptKeyCommand(args);
  std::cerr << "eventlogger: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}

}  // namespace eventlogger
