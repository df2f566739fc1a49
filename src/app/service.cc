#include "app/service.h"

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>

#include "cache/cache_invalidating_document_store.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"
#include "aws/credentials.h"
#include "aws/sqs_client.h"
#include "durability/sqs_retry_queue.h"
#include "ops/http_metrics.h"
#include "ops/metrics.h"
#include "pipeline/event_reader.h"
#include "privacy/receipt_keys.h"

namespace eventlogger {

// Declaration order is construction order; destruction runs in reverse, so
// the server goes before the writer, and the writer before the stores.
struct Service::Parts {
  std::unique_ptr<UserEventsCache> read_cache;  // before the store that invalidates it
  std::unique_ptr<MetadataStore> metadata;
  std::unique_ptr<DocumentStore> documents;
  // Holds and erasures every part obeys, and the jobs behind the privacy
  // routes (erasures and sweeps stop before the stores close).
  std::unique_ptr<PrivacyRegistry> privacy;
  std::unique_ptr<ReceiptSigner> receipt_signer;
  std::unique_ptr<LegalHolds> holds;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<IntentLog> intent_log;  // outlives the writer and the retry worker
  std::unique_ptr<CircuitBreaker> metadata_breaker;
  std::unique_ptr<CircuitBreaker> document_breaker;
  std::unique_ptr<RetryWorker> retry_worker;
  std::unique_ptr<IdempotencyIndex> idempotency;
  std::unique_ptr<EventWriter> writer;
  std::unique_ptr<EventReader> reader;
  std::unique_ptr<Uuid7Generator> ids;
  std::unique_ptr<boost::asio::thread_pool> blocking_pool;
  std::unique_ptr<http::PageCursors> cursors;
  std::unique_ptr<http::RateLimiter> rate_limiter;
  std::unique_ptr<auth::ApiKeyRegistry> api_keys;
  std::unique_ptr<auth::JwtVerifier> jwt;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<HttpMetrics> http_metrics;
  std::unique_ptr<RetryQueue> retry_queue;  // only with ServiceOptions::retry_queue_url
  std::unique_ptr<ErasureService> erasures;      // after the ids and the outbox it uses
  std::unique_ptr<RetentionSweeper> sweeper;
  std::unique_ptr<http::HandlerContext> handler_context;
  std::unique_ptr<http::HttpServer> server;
  bool stopped = false;
  std::atomic<bool> stopping{false};  // Stop() has begun: /readyz says so
};

namespace {

int BreakerGauge(const CircuitBreaker& breaker) {
  switch (breaker.state()) {
    case CircuitBreaker::State::kClosed: return 0;
    case CircuitBreaker::State::kOpen: return 1;
    case CircuitBreaker::State::kHalfOpen: return 2;
  }
  return 0;
}

}  // namespace

namespace {

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code error;
  const boost::asio::ip::address address = boost::asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

}  // namespace

Status Service::StartAuthentication(const ServiceOptions& options, Parts& parts) {
  parts.api_keys =
      std::make_unique<auth::ApiKeyRegistry>(*parts.metadata, SystemClock::Instance(), options.api_keys);
  if (Status s = parts.api_keys->Refresh(); !s.ok()) {
    // Fail closed: until the list is read, nobody knows whether keys exist.
    log::Warn("cannot read the API keys yet; every request needs a credential until they are read",
              {{"error", s.ToString()}});
  }
  parts.api_keys->Start();
  if (options.jwt.configured()) {
    Result<std::unique_ptr<auth::JwtVerifier>> jwt = auth::JwtVerifier::Create(options.jwt);
    if (!jwt.ok()) return jwt.status();
    parts.jwt = std::move(*jwt);
  }
  parts.authenticator = std::make_unique<auth::Authenticator>(parts.api_keys.get(), parts.jwt.get());
  if (!parts.authenticator->enforced() && options.behind_public_gateway && !options.insecure) {
    return Status::FailedPrecondition(
        "refusing to answer API Gateway with no API key and no JWT configured: anyone on the internet could "
        "read and write every user's events. Create a key (eventlogger keys create), configure --jwt-*, or "
        "pass --insecure (an authorizer in API Gateway guards it)");
  }
  if (!parts.authenticator->enforced() && (options.behind_public_gateway || !IsLoopbackHost(options.http.host))) {
    if (!options.insecure) {
      return Status::FailedPrecondition(
          "refusing to listen on " + options.http.host +
          " with no API key and no JWT configured: anyone who reaches it could read and write every "
          "user's events. Create a key (eventlogger keys create), configure --jwt-*, listen on 127.0.0.1, "
          "or pass --insecure to serve it open anyway");
    }
    log::Warn("INSECURE: serving a non-loopback address with no API key and no JWT configured; anyone who "
              "reaches it can read and write every user's events",
              {{"address", options.behind_public_gateway ? std::string("API Gateway") : options.http.host}});
  }
  return Status::Ok();
}

Status Service::StartPrivacy(const ServiceOptions& options, Parts& parts) {
  const PrivacyOptions& privacy = options.privacy;
  const Clock& clock = SystemClock::Instance();
  parts.holds = std::make_unique<LegalHolds>(*parts.metadata, *parts.documents, *parts.privacy, clock);
  if (!privacy.background_jobs) return Status::Ok();
  Result<std::unique_ptr<ReceiptSigner>> signer = OpenReceiptSigner(privacy, options.data_dir);
  if (!signer.ok()) return signer.status();
  parts.receipt_signer = std::move(*signer);
  parts.erasures = std::make_unique<ErasureService>(privacy.erasure, *parts.metadata, *parts.documents,
                                                    parts.outbox.get(), *parts.privacy, *parts.receipt_signer,
                                                    *parts.ids, clock);
  parts.erasures->Start();
  parts.sweeper = std::make_unique<RetentionSweeper>(privacy.sweep, *parts.metadata, *parts.documents,
                                                     *parts.privacy, clock);
  parts.sweeper->Start();
  if (parts.privacy->retention().enabled()) {
    log::Info("retention", {{"rules", parts.privacy->retention().Describe()}});
  }
  return Status::Ok();
}

Result<std::string> Service::RenderMetrics(const Parts& parts) {
  Result<OutboxStats> stats = parts.outbox->Stats();
  if (!stats.ok()) return stats.status();
  const RetryCounters counters = parts.retry_worker->counters();
  MetricsSnapshot snapshot;
  snapshot.writes_in_flight = static_cast<int64_t>(parts.writer->in_flight());
  const IntentLogStats intents = parts.intent_log->Stats();
  snapshot.intent_log_unreleased_events = intents.unreleased_events;
  snapshot.intent_log_live_segments = intents.live_segments;
  snapshot.intent_log_appends_total = intents.appends;
  snapshot.intent_log_appended_events_total = intents.appended_events;
  snapshot.intent_log_append_seconds_total = intents.append_seconds;
  snapshot.outbox_pending = stats->pending;
  snapshot.outbox_dead = stats->dead;
  if (stats->pending > 0) {
    snapshot.outbox_oldest_pending_age_seconds =
        static_cast<double>(SystemClock::Instance().NowUnixMillis() - stats->oldest_pending_created_ms) / 1000.0;
  }
  snapshot.retry_attempts_total = counters.attempts;
  snapshot.retry_recovered_total = counters.recovered;
  snapshot.retry_dead_lettered_total = counters.dead_lettered;
  snapshot.metadata_breaker_state = BreakerGauge(*parts.metadata_breaker);
  snapshot.document_breaker_state = BreakerGauge(*parts.document_breaker);
  const UserEventsCacheStats cache = parts.read_cache->Stats();
  snapshot.read_cache_hits_total = cache.hits;
  snapshot.read_cache_misses_total = cache.misses;
  snapshot.read_cache_invalidations_total = cache.invalidations;
  snapshot.read_cache_evictions_total = cache.evictions;
  snapshot.read_cache_entries = cache.entries;
  snapshot.read_cache_bytes = cache.bytes;
  const PageReadStats pages = parts.reader->page_read_stats();
  snapshot.page_reads_in_memory_total = pages.in_memory;
  snapshot.page_reads_blocking_total = pages.blocking;
  if (parts.erasures) {
    const ErasureStats erasures = parts.erasures->Stats();
    snapshot.erasures_done_total = erasures.done;
    snapshot.erasures_failed_total = erasures.failed;
  }
  if (parts.sweeper) {
    const RetentionSweepStats sweeps = parts.sweeper->Stats();
    snapshot.retention_metadata_deleted_total = sweeps.metadata_deleted;
    snapshot.retention_documents_deleted_total = sweeps.documents_deleted;
    snapshot.retention_sweep_failures_total = sweeps.failures;
  }
  snapshot.rate_limited_total = parts.rate_limiter->refused();
  snapshot.auth_failures_total = parts.authenticator->failures();
  snapshot.metadata_store = parts.metadata->Kind();
  snapshot.document_store = parts.documents->Kind();
  std::string text = RenderPrometheus(snapshot);
  parts.http_metrics->Render(text);
  // The request path's store writes, per store.
  const std::pair<const char*, const StoreWriteStats*> stores[] = {{"metadata", &parts.writer->metadata_stats()},
                                                                   {"documents", &parts.writer->document_stats()}};
  text += "# HELP eventlogger_store_write_duration_seconds Time of one batch write to a store on the request path.\n"
          "# TYPE eventlogger_store_write_duration_seconds histogram\n";
  for (const auto& [name, store] : stores) {
    store->latency.Render(text, "eventlogger_store_write_duration_seconds", std::string("store=\"") + name + "\"");
  }
  text += "# HELP eventlogger_store_write_batch_events Events per batch written to a store (group commit).\n"
          "# TYPE eventlogger_store_write_batch_events histogram\n";
  for (const auto& [name, store] : stores) {
    store->batch_size.Render(text, "eventlogger_store_write_batch_events", std::string("store=\"") + name + "\"");
  }
  text += "# HELP eventlogger_store_write_failures_total Batch writes to a store that failed (their events went to the "
          "outbox).\n"
          "# TYPE eventlogger_store_write_failures_total counter\n";
  for (const auto& [name, store] : stores) {
    text += std::string("eventlogger_store_write_failures_total{store=\"") + name + "\"} " +
            std::to_string(store->failures.load(std::memory_order_relaxed)) + "\n";
  }
  return text;
}

std::vector<FieldError> Service::CheckReadiness(const Parts& parts) {
  std::vector<FieldError> failing;
  if (parts.stopping.load()) failing.push_back({"service", "shutting down"});
  // Reachable, and on the schema this build expects (a store migrated by
  // an older or newer build fails CheckSchema).
  const auto check = [&failing](std::string_view name, auto& store) {
    Status status = store.Ping();
    if (status.ok()) status = store.CheckSchema();
    if (!status.ok()) failing.push_back({std::string(name), status.ToString()});
  };
  check("metadataStore", *parts.metadata);
  check("documentStore", *parts.documents);
  if (parts.retry_queue) {
    if (Status status = parts.retry_queue->Ping(); !status.ok()) failing.push_back({"retryQueue", status.ToString()});
  }
  return failing;
}

Result<std::unique_ptr<Service>> Service::Start(const ServiceOptions& options) {
  const StoreUrls urls = ResolveStoreUrls(options.stores, options.data_dir);
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) return metadata.status();
  // Before the document store: DynamoDB stamps each document's expiry at
  // write, and a held user's get none.
  auto privacy = std::make_unique<PrivacyRegistry>(**metadata, options.privacy.retention);
  DocumentExpiryHooks expiry{privacy->shared_retention(),
                             [registry = privacy.get()](std::string_view user) { return registry->IsHeld(user); }};
  // The retry queue and DynamoDB share one AWS HTTP client: one TLS context
  // (the CA bundle is read once, which shows in a Lambda cold start).
  std::shared_ptr<aws::HttpClient> aws_http;
  if (!options.retry_queue_url.empty()) {
    Result<std::unique_ptr<aws::HttpClient>> http = aws::HttpClient::Create({});
    if (!http.ok()) return http.status();
    aws_http = std::move(http).value();
  }
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents, aws_http, std::move(expiry));
  if (!documents.ok()) return documents.status();
  // Serving on a schema that is behind would fail request by request; say
  // what to run instead, once, at start.
  if (Status s = (*metadata)->CheckSchema(); !s.ok()) return s;
  if (Status s = (*documents)->CheckSchema(); !s.ok()) return s;
  log::Info("stores opened", {{"metadataStore", RedactUrl(urls.metadata)},
                              {"documentStore", RedactUrl(urls.documents)}});
  return StartWith(options, std::move(*metadata), std::move(*documents), std::move(aws_http), std::move(privacy));
}

Result<std::unique_ptr<Service>> Service::StartWithStores(const ServiceOptions& options,
                                                          std::unique_ptr<MetadataStore> metadata,
                                                          std::unique_ptr<DocumentStore> documents) {
  auto privacy = std::make_unique<PrivacyRegistry>(*metadata, options.privacy.retention);
  return StartWith(options, std::move(metadata), std::move(documents), nullptr, std::move(privacy));
}

Status Service::StartRetryQueue(const ServiceOptions& options, std::shared_ptr<aws::HttpClient> aws_http,
                                Parts& parts) {
  if (options.retry_queue_url.empty()) return Status::Ok();
  const aws::AwsEnvironment env = aws::AwsEnvironment::Process();
  aws::SqsClientOptions sqs;
  sqs.queue_url = options.retry_queue_url;
  sqs.region = options.retry_queue_region;
  if (sqs.region.empty() && !aws::RegionFromQueueUrl(sqs.queue_url)) {
    Result<std::string> region = aws::ResolveRegion("", env);
    if (!region.ok()) return Status::FailedPrecondition("--retry-queue-url: " + region.status().message());
    sqs.region = *region;
  }
  Result<aws::Credentials> credentials = aws::ResolveCredentials(env);
  if (!credentials.ok()) return Status::FailedPrecondition("--retry-queue-url: " + credentials.status().message());
  sqs.credentials = std::move(credentials).value();
  sqs.shared_http = std::move(aws_http);
  Result<std::unique_ptr<aws::SqsClient>> client = aws::SqsClient::Create(std::move(sqs));
  if (!client.ok()) return Status::InvalidArgument("--retry-queue-url: " + client.status().message());
  parts.retry_queue = std::make_unique<SqsRetryQueue>(std::move(client).value());
  // Not contacted here: a cold start should not wait for it (GET /readyz does).
  log::Info("retry queue configured", {{"retryQueue", "sqs"}, {"queueUrl", options.retry_queue_url}});
  return Status::Ok();
}

Result<std::unique_ptr<Service>> Service::StartWith(const ServiceOptions& options,
                                                    std::unique_ptr<MetadataStore> metadata,
                                                    std::unique_ptr<DocumentStore> documents,
                                                    std::shared_ptr<aws::HttpClient> aws_http,
                                                    std::unique_ptr<PrivacyRegistry> privacy) {
  if (std::string problem = options.privacy.Validate(); !problem.empty()) return Status::InvalidArgument(problem);
  auto parts = std::make_unique<Parts>();
  if (Status s = StartRetryQueue(options, std::move(aws_http), *parts); !s.ok()) return s;
  UserEventsCacheOptions cache_options = options.read_cache;
  // Only this process writes the embedded store (RocksDB locks it), so
  // invalidation sees every write; another store may be written by other
  // instances, and only an age limit bounds what this one misses.
  if (documents->Kind() != "rocksdb" && cache_options.max_age.count() == 0 && cache_options.max_bytes > 0) {
    log::Info("read cache off: the document store may be shared; set --read-cache-max-age-ms to cache",
              {{"documentStore", documents->Kind()}});
    cache_options.max_bytes = 0;
  }
  parts->read_cache = std::make_unique<UserEventsCache>(cache_options);
  parts->metadata = std::move(metadata);
  parts->documents =
      std::make_unique<CacheInvalidatingDocumentStore>(std::move(documents), *parts->read_cache);
  parts->privacy = std::move(privacy);
  // Before the intent-log replay and the retry worker, which must not write
  // back an event an erasure covers.
  if (Status s = parts->privacy->Refresh(); !s.ok()) return s;

  // The outbox is local to this instance, whatever the stores are.
  std::error_code ignored;
  std::filesystem::create_directories(options.data_dir, ignored);
  Result<std::unique_ptr<Outbox>> outbox =
      Outbox::Open({.path = (std::filesystem::path(options.data_dir) / "outbox.db").string(),
                    .busy_timeout_ms = options.outbox_busy_timeout_ms});
  if (!outbox.ok()) return outbox.status();
  parts->outbox = std::move(*outbox);
  const Clock& clock = SystemClock::Instance();

  // Intents of the request path. What a crash left in the log is written to
  // both stores (durably, idempotently: most of it had reached them already,
  // perhaps without a sync that survived) before the first request; if a
  // store fails, the events go to the outbox for the retry worker instead.
  std::vector<Event> replayed;
  IntentLogOptions intent_log_options = options.intent_log;
  if (intent_log_options.directory.empty()) {
    intent_log_options.directory = (std::filesystem::path(options.data_dir) / kIntentLogDirectory).string();
  }
  Result<std::unique_ptr<IntentLog>> intent_log = IntentLog::Open(intent_log_options, &replayed);
  if (!intent_log.ok()) return intent_log.status();
  parts->intent_log = std::move(*intent_log);
  if (!replayed.empty()) {
    std::vector<const Event*> all;
    all.reserve(replayed.size());
    for (const Event& event : replayed) {
      if (!parts->privacy->IsErased(event)) all.push_back(&event);
    }
    const EventBatch events(all);
    Status written;
    const size_t chunk = std::max<size_t>(1, options.writer.max_batch_size);
    for (size_t begin = 0; written.ok() && begin < events.size(); begin += chunk) {
      const EventBatch part = events.subspan(begin, std::min(chunk, events.size() - begin));
      written = parts->metadata->WriteBatch(part);
      if (written.ok()) written = parts->documents->WriteBatch(part);
    }
    if (!written.ok()) {
      log::Warn("intent log replay: a store failed; the events go to the outbox",
                {{"error", written.ToString()}});
      if (Status s = parts->outbox->RecordIntents(events, clock.NowUnixMillis()); !s.ok()) return s;
    }
    log::Info("intent log replayed", {{"events", static_cast<int64_t>(all.size())},
                                      {"erasedSkipped", static_cast<int64_t>(replayed.size() - all.size())},
                                      {"intoOutbox", !written.ok()}});
  }
  if (Status s = parts->intent_log->DiscardReplayed(); !s.ok()) return s;
  parts->metadata_breaker = std::make_unique<CircuitBreaker>(clock, options.breaker);
  parts->document_breaker = std::make_unique<CircuitBreaker>(clock, options.breaker);
  RetryWorkerOptions retry_options = options.retry;
  retry_options.is_erased = [registry = parts->privacy.get()](const Event& event) {
    return registry->IsErased(event);
  };
  parts->retry_worker = std::make_unique<RetryWorker>(*parts->outbox, *parts->metadata, *parts->documents,
                                                      *parts->metadata_breaker, *parts->document_breaker,
                                                      clock, retry_options);
  if (Status s = parts->retry_worker->Start(); !s.ok()) return s;
  parts->idempotency =
      std::make_unique<IdempotencyIndex>(*parts->outbox, *parts->metadata, *parts->documents);
  EventWriterOptions writer_options = options.writer;
  const bool embedded = parts->metadata->Kind() == "sqlite" && parts->documents->Kind() == "rocksdb";
  writer_options.store_writers = options.store_writers.value_or(
      embedded ? StoreWriters::kIntentWriter : StoreWriters::kPerStore);
  parts->writer = std::make_unique<EventWriter>(
      EventWriterParts{*parts->intent_log, *parts->metadata, *parts->documents, *parts->metadata_breaker,
                       *parts->document_breaker, *parts->retry_worker, clock},
      writer_options);
  parts->reader = std::make_unique<EventReader>(*parts->documents, parts->metadata.get());
  parts->ids = std::make_unique<Uuid7Generator>(SystemClock::Instance());
  parts->blocking_pool = std::make_unique<boost::asio::thread_pool>(
      static_cast<size_t>(std::max(1, options.blocking_threads)));
  if (options.cursor_secret.empty()) {
    log::Warn("no --cursor-secret: page cursors use a random secret and stop working when this process "
              "restarts, and other instances cannot open them; set one shared secret for every instance",
              {});
  }
  parts->cursors = std::make_unique<http::PageCursors>(
      options.cursor_secret.empty() ? http::RandomCursorSecret() : options.cursor_secret);
  parts->rate_limiter = std::make_unique<http::RateLimiter>(options.rate_limit);
  if (Status s = StartAuthentication(options, *parts); !s.ok()) return s;
  if (Status s = StartPrivacy(options, *parts); !s.ok()) return s;
  parts->handler_context.reset(new http::HandlerContext{
      *parts->writer, *parts->reader, *parts->read_cache, *parts->cursors, *parts->rate_limiter,
      *parts->authenticator, *parts->ids,
      *parts->idempotency,
      *parts->blocking_pool,
      parts->documents->MaxDocumentBytes(), [raw = parts.get()] { return RenderMetrics(*raw); },
      [raw = parts.get()] { return CheckReadiness(*raw); }, options.handlers, parts->retry_queue.get(),
      parts->privacy.get(), parts->erasures.get(), parts->holds.get()});
  const http::HandlerContext* context = parts->handler_context.get();
  parts->http_metrics = std::make_unique<HttpMetrics>();
  if (!options.serve_http) {
    // Another front-end (the Lambda runtime loop) calls the handlers.
    log::Info("ready", {{"metadataStore", parts->metadata->Kind()},
                        {"documentStore", parts->documents->Kind()}});
    return std::unique_ptr<Service>(new Service(std::move(parts)));
  }
  http::HttpServerOptions http_options = options.http;
  // The batch endpoint takes larger bodies than the rest.
  http_options.body_limit_overrides.emplace_back("/events/batch", options.handlers.max_batch_bytes);
  http_options.observer = parts->http_metrics.get();
  parts->server = std::make_unique<http::HttpServer>(
      http_options, [context](const http::Request& request, http::RequestInfo& info) {
        return http::HandleRequest(request, *context, info);
      });
  if (Status s = parts->server->Start(); !s.ok()) return s;

  const auto endpoint = parts->server->local_endpoint();
  log::Info("listening", {{"address", endpoint.address().to_string() + ":" +
                                          std::to_string(endpoint.port())},
                          {"port", static_cast<int>(endpoint.port())},
                          {"scheme", options.http.tls.enabled() ? "https" : "http"},
                          {"metadataStore", parts->metadata->Kind()},
                          {"documentStore", parts->documents->Kind()},
                          {"storeWriters", writer_options.store_writers == StoreWriters::kIntentWriter
                                               ? "intent-writer" : "per-store"}});
  return std::unique_ptr<Service>(new Service(std::move(parts)));
}

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Service::~Service() { Stop(); }

boost::asio::ip::tcp::endpoint Service::endpoint() const {
  return parts_->server ? parts_->server->local_endpoint() : boost::asio::ip::tcp::endpoint();
}

const http::HandlerContext& Service::handler_context() const { return *parts_->handler_context; }

http::RequestObserver& Service::request_observer() const { return *parts_->http_metrics; }

void Service::Stop() {
  if (parts_ == nullptr || parts_->stopped) return;
  parts_->stopped = true;
  parts_->stopping.store(true);
  if (parts_->server) parts_->server->Shutdown();  // no new requests; in-flight ones answered
  if (parts_->erasures) parts_->erasures->Stop();  // between batches; a job resumes at the next start
  if (parts_->sweeper) parts_->sweeper->Stop();
  parts_->writer->Stop();          // every admitted event through the pipeline
  parts_->retry_worker->Stop();    // request failures recorded in the outbox
  parts_->writer->FlushReleases(); // stores synced; every settled intent released
  if (Status s = parts_->intent_log->CloseCleanly(); !s.ok()) {
    log::Warn("intent log not closed cleanly; the next start replays it", {{"error", s.ToString()}});
  }
  parts_->blocking_pool->join();   // no read still running
  parts_->server.reset();          // io contexts go only after the writers are quiet
  parts_->writer.reset();
  parts_->retry_worker.reset();
  if (parts_->api_keys) parts_->api_keys->Stop();  // records the last key uses
  parts_->intent_log.reset();
  parts_->outbox.reset();
  parts_->documents.reset();       // closes RocksDB cleanly
  parts_->metadata.reset();        // closes SQLite (checkpoints the WAL)
  log::Info("stopped");
  log::Flush();
}

}  // namespace eventlogger
