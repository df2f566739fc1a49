#include "lambda/retry_worker_function.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "durability/retry_message.h"

namespace eventlogger::lambda {
namespace {

// One event to complete, and the SQS records that asked for it (a message
// may be delivered twice, even within one batch).
struct Pending {
  RetryMessage message;
  std::vector<std::string> message_ids;
  bool failed = false;
};

bool StoreUnreachable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded;
}

// Writes `events` (those of `pending` that `needs` says lack this store) to
// one store; marks failures in `pending`. Falls back to one event at a time
// when the batch failed for a reason that may be one event's.
template <typename Store, typename Needs>
void CompleteStore(Store& store, std::vector<Pending>& pending, Needs needs, std::string_view kind,
                   const std::function<bool()>& out_of_time) {
  std::vector<const Event*> batch;
  std::vector<size_t> owners;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].failed && needs(pending[i].message)) {
      batch.push_back(&pending[i].message.event);
      owners.push_back(i);
    }
  }
  if (batch.empty()) return;
  if (out_of_time()) {
    for (const size_t owner : owners) pending[owner].failed = true;
    return;
  }
  const Status status = store.WriteBatch(EventBatch(batch));
  if (status.ok()) return;
  log::Warn("retry worker: store write failed", {{"store", kind}, {"events", static_cast<int64_t>(batch.size())},
                                                 {"eventIds", EventIdList(EventBatch(batch))},
                                                 {"error", status.ToString()}});
  if (batch.size() == 1 || StoreUnreachable(status)) {
    for (const size_t owner : owners) pending[owner].failed = true;
    return;
  }
  for (size_t k = 0; k < batch.size(); ++k) {
    if (out_of_time()) {
      pending[owners[k]].failed = true;
      continue;
    }
    const Event* one[] = {batch[k]};
    const Status single = store.WriteBatch(EventBatch(one));
    if (!single.ok()) {
      pending[owners[k]].failed = true;
      log::Warn("retry worker: store refused an event",
                {{"store", kind}, {"eventId", batch[k]->event_id}, {"error", single.ToString()}});
    }
  }
}

}  // namespace

RetryWorkerFunction::RetryWorkerFunction(MetadataStore& metadata, DocumentStore& documents,
                                         RetryWorkerFunctionOptions options)
    : metadata_(metadata), documents_(documents), options_(options) {}

Result<std::string> RetryWorkerFunction::Invoke(const Invocation& invocation) {
  rapidjson::Document event;
  event.Parse(invocation.event.data(), invocation.event.size());
  if (event.HasParseError() || !event.IsObject()) return Status::InvalidArgument("the event is not a JSON object");
  const auto records = event.FindMember("Records");
  if (records == event.MemberEnd() || !records->value.IsArray()) {
    return Status::InvalidArgument("the event is not an SQS event (it has no Records array)");
  }

  std::vector<std::string> failures;  // messageIds, in record order
  std::vector<Pending> pending;
  std::map<std::string, size_t> by_event_id;
  int64_t poisoned = 0;
  for (const auto& record : records->value.GetArray()) {
    if (!record.IsObject()) return Status::InvalidArgument("an SQS record is not an object");
    const auto id = record.FindMember("messageId");
    if (id == record.MemberEnd() || !id->value.IsString() || id->value.GetStringLength() == 0) {
      // Without its id a record cannot be named in batchItemFailures; only
      // failing the whole invocation keeps it from being deleted unprocessed.
      return Status::InvalidArgument("an SQS record has no messageId");
    }
    const std::string message_id(id->value.GetString(), id->value.GetStringLength());
    const auto source = record.FindMember("eventSource");
    const auto body = record.FindMember("body");
    Result<RetryMessage> message = Status::InvalidArgument("the record is not from SQS (eventSource aws:sqs)");
    if (source != record.MemberEnd() && source->value.IsString() &&
        std::string_view(source->value.GetString(), source->value.GetStringLength()) == "aws:sqs") {
      message = body != record.MemberEnd() && body->value.IsString()
                    ? DecodeRetryMessage(std::string_view(body->value.GetString(), body->value.GetStringLength()))
                    : Result<RetryMessage>(Status::InvalidArgument("the record has no body"));
    }
    if (!message.ok()) {
      ++poisoned;
      log::Warn("retry worker: poisoned record left for the dead-letter queue",
                {{"messageId", message_id}, {"error", message.status().ToString()}});
      failures.push_back(message_id);
      continue;
    }
    const auto [slot, inserted] = by_event_id.emplace(message->event.event_id, pending.size());
    if (inserted) {
      pending.push_back({std::move(message).value(), {message_id}});
    } else {
      // The same event twice: done in a store if either copy says so.
      Pending& known = pending[slot->second];
      known.message.metadata_done = known.message.metadata_done || message->metadata_done;
      known.message.document_done = known.message.document_done || message->document_done;
      known.message_ids.push_back(message_id);
    }
  }

  const int64_t deadline_ms = invocation.deadline_ms;
  const int64_t margin_ms = options_.deadline_margin.count();
  const std::function<bool()> out_of_time = [deadline_ms, margin_ms] {
    return deadline_ms > 0 && SystemClock::Instance().NowUnixMillis() + margin_ms >= deadline_ms;
  };
  // Documents first: GET reads them.
  CompleteStore(documents_, pending, [](const RetryMessage& m) { return !m.document_done; }, documents_.Kind(),
                out_of_time);
  CompleteStore(metadata_, pending, [](const RetryMessage& m) { return !m.metadata_done; }, metadata_.Kind(),
                out_of_time);

  int64_t completed = 0;
  for (const Pending& p : pending) {
    if (p.failed) {
      failures.insert(failures.end(), p.message_ids.begin(), p.message_ids.end());
    } else {
      ++completed;
      log::Info("retry worker: event completed", {{"eventId", p.message.event.event_id}});
    }
  }
  log::Info("retry worker: batch done", {{"records", static_cast<int64_t>(records->value.Size())},
                                         {"completed", completed},
                                         {"poisoned", poisoned},
                                         {"failed", static_cast<int64_t>(failures.size()) - poisoned}});

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("batchItemFailures");
  w.StartArray();
  for (const std::string& id : failures) {
    w.StartObject();
    w.Key("itemIdentifier");
    w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace eventlogger::lambda
