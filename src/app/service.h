// Service: the whole running application, wired from its options: stores,
// write fan-out, reader, handlers and the HTTP server. main() and the
// integration tests both start the service through this class.
//
// Thread safety: Start/Stop from one controlling thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>

#include "auth/api_key_registry.h"
#include "aws/http_client.h"
#include "auth/jwt_verifier.h"
#include "cache/user_events_cache.h"
#include "core/status.h"
#include "durability/circuit_breaker.h"
#include "durability/intent_log.h"
#include "durability/retry_queue.h"
#include "durability/retry_worker.h"
#include "http/handlers.h"
#include "http/http_server.h"
#include "pipeline/event_writer.h"
#include "privacy/privacy_options.h"
#include "storage/store_factory.h"

namespace eventlogger {

// The intent log's directory inside the data dir (unless
// ServiceOptions::intent_log names another); `retry stats` reads it too.
inline constexpr const char* kIntentLogDirectory = "intent-log";

struct ServiceOptions {
  std::string data_dir = "./data";  // embedded stores live here unless URLs say otherwise
  StoreUrls stores;                 // empty members: embedded defaults under data_dir
  http::HttpServerOptions http;
  http::HandlerOptions handlers;
  EventWriterOptions writer;
  RetryWorkerOptions retry;
  CircuitBreakerOptions breaker;
  int blocking_threads = 4;         // threads for store reads
  // GET answers cached per user. Exact for the embedded document store; for
  // any other (shared by instances) it is used only with a max_age.
  UserEventsCacheOptions read_cache;
  // Seals GET pages' cursors (HMAC-SHA-256). Instances behind one load
  // balancer must share it; empty: a random secret for this process, whose
  // cursors stop working when it restarts (a warning says so at start).
  std::string cursor_secret;
  // Requests per second per API key, token subject or (anonymous) client
  // address (0: no limit), and the burst.
  http::RateLimitOptions rate_limit;
  // API keys live in the metadata store (`eventlogger keys`); this says how
  // quickly a new or revoked one takes effect here.
  auth::ApiKeyRegistryOptions api_keys;
  // End-user bearer tokens; none accepted unless a key is configured.
  auth::JwtOptions jwt;
  // With no API key and no JWT configured, only a loopback address may be
  // served, unless this is set.
  bool insecure = false;
  int outbox_busy_timeout_ms = 10000;  // wait this long for another process's lock on the outbox
  // The request path's intent log; an empty directory means DATA_DIR/intent-log.
  IntentLogOptions intent_log;
  // Who writes the stores; unset: the intent writer when both stores are
  // the embedded ones (SQLite and RocksDB), a thread per store otherwise.
  // Overrides writer.store_writers.
  std::optional<StoreWriters> store_writers;
  // Start the HTTP server (`serve`); off for front-ends that call the
  // handlers themselves (`lambda`).
  bool serve_http = true;
  // The handlers answer the internet through API Gateway (`lambda`): no
  // loopback address makes an open service safe there.
  bool behind_public_gateway = false;
  // An SQS queue URL: a write that fails in a store is also queued there
  // before it is answered 202, for `eventlogger worker` to complete; for
  // deployments whose data dir does not outlive the process (Lambda).
  std::string retry_queue_url;
  std::string retry_queue_region;  // empty: from the URL's host, else AWS_REGION
  // Erasure, retention and legal holds.
  PrivacyOptions privacy;
};

class Service {
 public:
  // Opens the stores and starts serving.
  static Result<std::unique_ptr<Service>> Start(const ServiceOptions& options);
  // Starts on stores the caller opened (tests wrap real stores to inject
  // faults). options.stores is ignored.
  static Result<std::unique_ptr<Service>> StartWithStores(const ServiceOptions& options,
                                                          std::unique_ptr<MetadataStore> metadata,
                                                          std::unique_ptr<DocumentStore> documents);
  ~Service();  // Stop()s

  // The HTTP server's address; a default endpoint when serve_http is off.
  boost::asio::ip::tcp::endpoint endpoint() const;
  // What another front-end needs to call the handlers: their context, and
  // the per-route metrics to report each response to.
  const http::HandlerContext& handler_context() const;
  http::RequestObserver& request_observer() const;

  // Stops accepting, finishes in-flight requests, writes everything admitted,
  // closes the stores. Idempotent.
  void Stop();

 private:
  struct Parts;
  explicit Service(std::unique_ptr<Parts> parts);
  static Result<std::unique_ptr<Service>> StartWith(const ServiceOptions& options,
                                                    std::unique_ptr<MetadataStore> metadata,
                                                    std::unique_ptr<DocumentStore> documents,
                                                    std::shared_ptr<aws::HttpClient> aws_http,
                                                    std::unique_ptr<PrivacyRegistry> privacy);
  static Status StartPrivacy(const ServiceOptions& options, Parts& parts);
  static Status StartAuthentication(const ServiceOptions& options, Parts& parts);
  static Status StartRetryQueue(const ServiceOptions& options, std::shared_ptr<aws::HttpClient> aws_http,
                                Parts& parts);
  static Result<std::string> RenderMetrics(const Parts& parts);
  static std::vector<FieldError> CheckReadiness(const Parts& parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace eventlogger
