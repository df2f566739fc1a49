#include "app/service.h"

#include <boost/asio/thread_pool.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"
#include "pipeline/event_reader.h"

namespace eventlogger {

// Declaration order is construction order; destruction runs in reverse, so
// the server goes before the writer, and the writer before the stores.
struct Service::Parts {
  std::unique_ptr<MetadataStore> metadata;
  std::unique_ptr<DocumentStore> documents;
  std::unique_ptr<EventWriter> writer;
  std::unique_ptr<EventReader> reader;
  std::unique_ptr<Uuid7Generator> ids;
  std::unique_ptr<boost::asio::thread_pool> blocking_pool;
  std::unique_ptr<http::HandlerContext> handler_context;
  std::unique_ptr<http::HttpServer> server;
  bool stopped = false;
};

Result<std::unique_ptr<Service>> Service::Start(const ServiceOptions& options) {
  const StoreUrls urls = ResolveStoreUrls(options.stores, options.data_dir);
  Result<std::unique_ptr<MetadataStore>> metadata = OpenMetadataStore(urls.metadata);
  if (!metadata.ok()) return metadata.status();
  Result<std::unique_ptr<DocumentStore>> documents = OpenDocumentStore(urls.documents);
  if (!documents.ok()) return documents.status();
  log::Info("stores opened", {{"metadataStore", RedactUrl(urls.metadata)},
                              {"documentStore", RedactUrl(urls.documents)}});
  return StartWithStores(options, std::move(*metadata), std::move(*documents));
}

Result<std::unique_ptr<Service>> Service::StartWithStores(const ServiceOptions& options,
                                                          std::unique_ptr<MetadataStore> metadata,
                                                          std::unique_ptr<DocumentStore> documents) {
  auto parts = std::make_unique<Parts>();
  parts->metadata = std::move(metadata);
  parts->documents = std::move(documents);

  parts->writer = std::make_unique<EventWriter>(*parts->metadata, *parts->documents, options.writer);
  parts->reader = std::make_unique<EventReader>(*parts->documents);
  parts->ids = std::make_unique<Uuid7Generator>(SystemClock::Instance());
  parts->blocking_pool = std::make_unique<boost::asio::thread_pool>(
      static_cast<size_t>(std::max(1, options.blocking_threads)));
  parts->handler_context.reset(new http::HandlerContext{
      *parts->writer, *parts->reader, *parts->ids, *parts->blocking_pool, options.handlers});
  const http::HandlerContext* context = parts->handler_context.get();
  parts->server = std::make_unique<http::HttpServer>(
      options.http, [context](const http::Request& request, http::RequestInfo& info) {
        return http::HandleRequest(request, *context, info);
      });
  if (Status s = parts->server->Start(); !s.ok()) return s;

  const auto endpoint = parts->server->local_endpoint();
  log::Info("listening", {{"address", endpoint.address().to_string() + ":" +
                                          std::to_string(endpoint.port())},
                          {"port", static_cast<int>(endpoint.port())},
                          {"metadataStore", parts->metadata->Kind()},
                          {"documentStore", parts->documents->Kind()}});
  return std::unique_ptr<Service>(new Service(std::move(parts)));
}

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Service::~Service() { Stop(); }

boost::asio::ip::tcp::endpoint Service::endpoint() const { return parts_->server->local_endpoint(); }

void Service::Stop() {
  if (parts_ == nullptr || parts_->stopped) return;
  parts_->stopped = true;
  parts_->server->Shutdown();      // no new requests; in-flight ones answered
  parts_->writer->Stop();          // every admitted event written
  parts_->blocking_pool->join();   // no read still running
  parts_->server.reset();          // io contexts go only after the writers are quiet
  parts_->writer.reset();
  parts_->documents.reset();       // closes RocksDB cleanly
  parts_->metadata.reset();        // closes SQLite (checkpoints the WAL)
  log::Info("stopped");
  log::Flush();
}

}  // namespace eventlogger
