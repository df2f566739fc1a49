#include "storage/dynamodb_document_store.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "core/event_time.h"
#include "core/log.h"
#include "core/percent_encoding.h"
#include "core/timestamp.h"
#include "core/uuid.h"

namespace eventlogger {
namespace {

using aws::AttributeValue;
using aws::Item;

constexpr size_t kEventIdLength = 36;
// 9999-12-31T23:59:59.999Z: FormatTimestamp's upper bound. A UUIDv7 can
// carry later times (48 bits of milliseconds), which no event has.
constexpr int64_t kMaxTimestampMillis = 253402300799999;
// ExpiresAt at its widest: at most 12 digits (Unix seconds up to the year
// 9999 plus kMaxRetentionDays), which DynamoDB stores in 6 base-100 digits
// and a byte.
constexpr size_t kMaxExpiresAtValueBytes = 7;
// TimeToLiveStatus values saying TTL is on (or turning on).
constexpr std::string_view kTimeToLiveEnabled = "ENABLED";
constexpr std::string_view kTimeToLiveEnabling = "ENABLING";

bool IsValidTableName(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string DefaultEndpoint(const std::string& region) {
  // The China partition lives under its own domain.
  const char* domain = region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://dynamodb." + region + domain;
}


// Views into an item's strings; false when an attribute is missing or not
// a string (an item some other writer put in the table).
bool DecodeItem(const Item& item, DocumentView* view) {
  auto text = [&item](std::string_view name, std::string_view* out) {
    auto it = item.find(name);
    if (it == item.end() || it->second.type != AttributeValue::Type::kString) return false;
    *out = it->second.value;
    return true;
  };
  // OccurredAt is there only for events a client gave one.
  view->occurred_at = {};
  if (auto it = item.find(kDynamoDbOccurredAtAttribute); it != item.end()) {
    if (it->second.type != AttributeValue::Type::kString) return false;
    view->occurred_at = it->second.value;
  }
  return text(kDynamoDbUserIdAttribute, &view->user_id) && text(kDynamoDbEventIdAttribute, &view->event_id) &&
         text(kDynamoDbEventTypeAttribute, &view->event_type) &&
         text(kDynamoDbTimestampAttribute, &view->timestamp) &&
         text(kDynamoDbPayloadAttribute, &view->details_json);
}

// The string attribute `name` of an item, or null when it is missing or of
// another type.
const std::string* StringAttribute(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || it->second.type != AttributeValue::Type::kString) return nullptr;
  return &it->second.value;
}

// The primary key of an item read with (at least) its key attributes.
Item KeyOf(const Item& item) {
  Item key;
  for (std::string_view name : {kDynamoDbUserIdAttribute, kDynamoDbSortKeyAttribute}) {
    if (auto it = item.find(name); it != item.end()) key.emplace(name, it->second);
  }
  return key;
}

// The bytes DynamoDB stores a whole number in: one per base-100 digit from
// the first through the last non-zero one (digits are paired from the
// decimal point), plus one. REQUIRES: number > 0, as every ExpiresAt is.
size_t WholeNumberBytes(int64_t number) {
  if (number <= 0) return 1;
  while (number % 100 == 0) number /= 100;
  size_t pairs = 0;
  for (; number > 0; number /= 100) ++pairs;
  return pairs + 1;
}

// True when `rule` covers events of this type.
bool RuleCoversType(const ExpiryRule& rule, std::string_view event_type) {
  const auto named = [event_type](const std::vector<std::string>& types) {
    return std::find(types.begin(), types.end(), event_type) != types.end();
  };
  return rule.event_types.empty() ? !named(rule.except_types) : named(rule.event_types);
}

// Which sweep a DeleteExpired call continues: its types, not its `before`,
// which moves with the clock from one call to the next.
std::string SweepIdentity(const ExpiryRule& rule) {
  std::string identity;
  for (const std::string& type : rule.event_types) identity += type + '\0';
  identity += '\1';
  for (const std::string& type : rule.except_types) identity += type + '\0';
  return identity;
}

// `#t IN (:<prefix>0, …)` over `types`, their values added to `parameters`.
std::string TypeIn(const std::vector<std::string>& types, const std::string& prefix,
                   aws::ExpressionParameters* parameters) {
  std::string expression = "#t IN (";
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string name = ":" + prefix + std::to_string(i);
    if (i > 0) expression += ", ";
    expression += name;
    parameters->values[name] = AttributeValue::S(types[i]);
  }
  return expression + ')';
}

// DynamoDB Local and dynalite lack some operations (UpdateTimeToLive);
// they answer UnknownOperationException, which the client maps to Internal
// with the name in its message.
bool IsUnknownOperation(const Status& status) {
  return status.code() == StatusCode::kInternal &&
         status.message().find("UnknownOperationException") != std::string::npos;
}

// Keeps the code but names the table: several stores may share a process.
Status WithContext(const Status& status, const std::string& what) {
  if (status.ok()) return status;
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return Status::InvalidArgument(what + ": " + status.message());
    case StatusCode::kNotFound: return Status::NotFound(what + ": " + status.message());
    case StatusCode::kAlreadyExists: return Status::AlreadyExists(what + ": " + status.message());
    case StatusCode::kUnavailable: return Status::Unavailable(what + ": " + status.message());
    case StatusCode::kDeadlineExceeded: return Status::DeadlineExceeded(what + ": " + status.message());
    case StatusCode::kResourceExhausted: return Status::ResourceExhausted(what + ": " + status.message());
    case StatusCode::kFailedPrecondition: return Status::FailedPrecondition(what + ": " + status.message());
    case StatusCode::kInternal:
    case StatusCode::kWouldBlock:
    case StatusCode::kOk: break;
  }
  return Status::Internal(what + ": " + status.message());
}

class DynamoDbDocumentStore final : public DocumentStore {
 public:
  DynamoDbDocumentStore(std::unique_ptr<aws::DynamoDbClient> client, DynamoDbDocumentOptions options)
      : client_(std::move(client)), options_(std::move(options)) {
    if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }

  Status WriteBatch(EventBatch events) override {
    const std::vector<std::optional<int64_t>> expires_at = ExpiresAtOf(events);
    // Refuse the whole batch before writing anything: DynamoDB would refuse
    // the chunk holding the event anyway, after earlier chunks were written.
    for (size_t i = 0; i < events.size(); ++i) {
      const Event* event = events[i];
      const size_t bytes = DynamoDbItemBytes(*event, expires_at[i]);
      if (bytes > aws::kMaxItemBytes) {
        return Status::InvalidArgument("event " + event->event_id + " is " + std::to_string(bytes) +
                                       " bytes as a DynamoDB item; the limit is " +
                                       std::to_string(aws::kMaxItemBytes));
      }
    }
    // BatchWriteItem refuses a call that names one key twice; the same
    // event twice in a batch is the same item, so one copy is enough.
    std::unordered_set<std::string> seen;
    std::vector<Item> chunk;
    chunk.reserve(aws::kMaxBatchWriteItems);
    for (size_t i = 0; i < events.size(); ++i) {
      const Event* event = events[i];
      std::string key = event->user_id;
      key.push_back('\0');
      key += event->event_id;
      if (!seen.insert(std::move(key)).second) continue;
      chunk.push_back(DynamoDbItemForEvent(*event, expires_at[i]));
      if (chunk.size() == aws::kMaxBatchWriteItems) {
        Status status = client_->BatchWriteItem(options_.table, chunk);
        if (!status.ok()) return WithContext(status, Where("writing documents"));
        chunk.clear();
      }
    }
    if (!chunk.empty()) {
      Status status = client_->BatchWriteItem(options_.table, chunk);
      if (!status.ok()) return WithContext(status, Where("writing documents"));
    }
    return Status::Ok();
  }

  Status ReadUserRange(std::string_view user_id, const UserRangeQuery& range,
                       const std::function<bool(const DocumentView&)>& visit) override {
    if (user_id.empty()) return Status::Ok();  // no such user; DynamoDB refuses empty keys
    if (!range.from.empty() && !range.to.empty() && range.from >= range.to) {
      return Status::Ok();  // empty range; DynamoDB refuses BETWEEN with lo > hi
    }
    aws::QueryRequest query = UserQuery(user_id, range.from, range.to);
    if (!range.event_types.empty()) {
      // A filter, not a key condition: DynamoDB reads (and charges for) the
      // other types too, and Limit counts them, so a page may come back
      // short or empty with more to follow; the loop below keeps asking.
      query.parameters.names["#t"] = std::string(kDynamoDbEventTypeAttribute);
      query.filter_expression = TypeIn(range.event_types, "t", &query.parameters);
    }
    if (range.after) {
      Item start;
      start.emplace(kDynamoDbUserIdAttribute, AttributeValue::S(std::string(user_id)));
      start.emplace(kDynamoDbSortKeyAttribute,
                    AttributeValue::S(DynamoDbSortKey(range.after->timestamp, range.after->event_id)));
      query.exclusive_start_key = std::move(start);
    }
    query.scan_index_forward = range.order == ReadOrder::kOldestFirst;
    query.consistent_read = options_.consistent_reads;
    // A page's Limit is what the caller means to take; with a type filter
    // each further request asks for twice as many (up to the store's page
    // limit), so a rare type costs a few round trips, not one per page.
    // options_.page_limit caps every page (0: DynamoDB's own 1 MB pages).
    const int cap = options_.page_limit;
    const auto capped = [cap](size_t wanted) {
      if (cap > 0) return static_cast<int>(std::min<size_t>(wanted, static_cast<size_t>(cap)));
      return wanted >= 1024 ? 0 : static_cast<int>(wanted);  // past that, let DynamoDB fill 1 MB
    };
    int limit = range.expected > 0 ? capped(range.expected) : cap;
    // Only the filtered documents must pass the check below, which holds
    // whatever the expressions did: the store's answer keeps its meaning.
    auto in_range = [&range](const DocumentView& view) {
      return (range.from.empty() || view.timestamp >= range.from) &&
             (range.to.empty() || view.timestamp < range.to) &&
             (range.event_types.empty() ||
              std::binary_search(range.event_types.begin(), range.event_types.end(), view.event_type));
    };
    DocumentView view;
    while (true) {
      query.limit = limit;
      Result<aws::ItemPage> page = client_->Query(query);
      if (!page.ok()) return WithContext(page.status(), Where("querying documents"));
      for (const Item& item : page->items) {
        if (!DecodeItem(item, &view)) return Status::Internal(Where("malformed item"));
        if (!in_range(view)) continue;
        if (!visit(view)) return Status::Ok();
      }
      if (!page->last_evaluated_key) return Status::Ok();
      query.exclusive_start_key = std::move(page->last_evaluated_key);
      if (!range.event_types.empty() && limit > 0) limit = capped(static_cast<size_t>(limit) * 2);
    }
  }

  Status FindEvent(std::string_view user_id, std::string_view event_id,
                   const std::function<void(const DocumentView&)>& visit) override {
    // A UUIDv7 carries its millisecond timestamp, which is the event's
    // timestamp, so the full key is known without an index.
    const std::optional<UuidBytes> uuid = ParseUuid(event_id);
    if (user_id.empty() || !uuid || UuidVersion(*uuid) != 7) return Status::NotFound("no such event");
    const int64_t millis = Uuid7UnixMillis(*uuid);
    if (millis > kMaxTimestampMillis) return Status::NotFound("no such event");
    return Get(user_id, DynamoDbSortKey(FormatTimestamp(millis), FormatUuid(*uuid)), visit);
  }

  Status FindEventAt(std::string_view user_id, const DocumentKey& key,
                     const std::function<void(const DocumentView&)>& visit) override {
    if (user_id.empty() || key.timestamp.size() != kTimestampLength || key.event_id.size() != kEventIdLength) {
      return Status::NotFound("no such event");
    }
    return Get(user_id, DynamoDbSortKey(key.timestamp, key.event_id), visit);
  }

  Status Get(std::string_view user_id, std::string sort_key, const std::function<void(const DocumentView&)>& visit) {
    aws::GetItemRequest request;
    request.table_name = options_.table;
    request.key[std::string(kDynamoDbUserIdAttribute)] = AttributeValue::S(std::string(user_id));
    request.key[std::string(kDynamoDbSortKeyAttribute)] = AttributeValue::S(std::move(sort_key));
    request.consistent_read = options_.consistent_reads;
    Result<std::optional<Item>> item = client_->GetItem(request);
    if (!item.ok()) return WithContext(item.status(), Where("reading a document"));
    if (!*item) return Status::NotFound("no such event");
    DocumentView view;
    if (!DecodeItem(**item, &view)) return Status::Internal(Where("malformed item"));
    visit(view);
    return Status::Ok();
  }

  Status Scan(const ScanFilter& filter, const std::function<bool(const DocumentView&)>& visit) override {
    if (!filter.since.empty() && !filter.until.empty() && filter.since >= filter.until) {
      return Status::Ok();  // empty range; DynamoDB refuses BETWEEN with lo > hi
    }
    // The expressions narrow what DynamoDB returns; this exact check on the
    // decoded timestamp keeps the bounds' meaning independent of them.
    auto in_range = [&filter](const DocumentView& view) {
      return (filter.since.empty() || view.timestamp >= filter.since) &&
             (filter.until.empty() || view.timestamp < filter.until);
    };
    if (!filter.user_id.empty()) {
      aws::QueryRequest query = UserQuery(filter.user_id, filter.since, filter.until);
      query.limit = options_.page_limit;
      query.consistent_read = options_.consistent_reads;
      return RunQuery(std::move(query), in_range, visit);
    }

    aws::ScanRequest scan;
    scan.table_name = options_.table;
    if (!filter.since.empty() || !filter.until.empty()) {
      scan.parameters.names["#t"] = std::string(kDynamoDbTimestampAttribute);
    }
    if (!filter.since.empty()) {
      scan.filter_expression = "#t >= :since";
      scan.parameters.values[":since"] = AttributeValue::S(filter.since);
    }
    if (!filter.until.empty()) {
      if (!scan.filter_expression.empty()) scan.filter_expression += " AND ";
      scan.filter_expression += "#t < :until";
      scan.parameters.values[":until"] = AttributeValue::S(filter.until);
    }
    scan.limit = options_.page_limit;
    scan.consistent_read = options_.consistent_reads;
    DocumentView view;
    while (true) {
      Result<aws::ItemPage> page = client_->Scan(scan);
      if (!page.ok()) return WithContext(page.status(), Where("scanning documents"));
      for (const Item& item : page->items) {
        if (!DecodeItem(item, &view)) return Status::Internal(Where("malformed item"));
        if (!in_range(view)) continue;
        if (!visit(view)) return Status::Ok();
      }
      if (!page->last_evaluated_key) return Status::Ok();
      scan.exclusive_start_key = std::move(page->last_evaluated_key);
    }
  }

  // Deletes go by exact key, so a document written meanwhile, which the
  // Query did not return, can never be deleted by mistake.
  Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) override {
    if (limit <= 0) return Status::InvalidArgument("an erasure's limit must be positive");
    if (erasure.user_id.empty()) return int64_t{0};  // no such user; DynamoDB refuses empty keys
    aws::QueryRequest query = UserQuery(erasure.user_id, "", "");
    query.parameters.names["#k"] = std::string(kDynamoDbSortKeyAttribute);
    query.parameters.names["#e"] = std::string(kDynamoDbEventIdAttribute);
    query.projection_expression = "#u, #k, #e";
    query.limit = options_.page_limit;
    query.consistent_read = options_.consistent_reads;
    KeyDeleter deleter(*this, "erasing a user's documents");
    while (deleter.total() < limit) {
      Result<aws::ItemPage> page = client_->Query(query);
      if (!page.ok()) return WithContext(page.status(), Where("querying documents to erase"));
      for (const Item& item : page->items) {
        if (deleter.total() == limit) break;
        const std::string* event_id = StringAttribute(item, kDynamoDbEventIdAttribute);
        if (event_id == nullptr) return Status::Internal(Where("malformed item"));
        // An id that is not a UUIDv7 carries no receipt: erased, as reads
        // already hide it once the user has an erasure (privacy/read_visibility.cc).
        if (ReceivedMillisOf(*event_id, 0) > erasure.received_cutoff_ms) continue;
        if (Status deleted = deleter.Add(KeyOf(item)); !deleted.ok()) return deleted;
      }
      if (!page->last_evaluated_key) break;
      query.exclusive_start_key = std::move(page->last_evaluated_key);
    }
    if (Status deleted = deleter.Flush(); !deleted.ok()) return deleted;
    return deleter.deleted();
  }

  // A Scan, filtered by the server (it still reads, and charges for, every
  // item), resumed from where the previous call of the same sweep stopped.
  // Deletes go by exact key, as in EraseUserEvents.
  Result<int64_t> DeleteExpired(const ExpiryRule& rule, const std::function<bool(std::string_view)>& is_held,
                                int limit) override {
    if (limit <= 0) return Status::InvalidArgument("a sweep's limit must be positive");
    // One call of a sweep at a time: each continues from the last one's key.
    std::lock_guard sweeping(sweep_mutex_);
    const std::string identity = SweepIdentity(rule);
    aws::ScanRequest scan;
    scan.table_name = options_.table;
    scan.parameters.names = {{"#u", std::string(kDynamoDbUserIdAttribute)},
                             {"#k", std::string(kDynamoDbSortKeyAttribute)},
                             {"#s", std::string(kDynamoDbTimestampAttribute)},
                             {"#t", std::string(kDynamoDbEventTypeAttribute)}};
    scan.parameters.values[":before"] = AttributeValue::S(rule.before);
    scan.filter_expression = "#s < :before";
    if (!rule.event_types.empty()) {
      scan.filter_expression += " AND " + TypeIn(rule.event_types, "t", &scan.parameters);
    } else if (!rule.except_types.empty()) {
      scan.filter_expression += " AND NOT (" + TypeIn(rule.except_types, "x", &scan.parameters) + ")";
    }
    scan.projection_expression = "#u, #k, #s, #t";
    scan.limit = options_.page_limit;
    scan.consistent_read = options_.consistent_reads;
    if (auto resume = sweep_resume_keys_.find(identity); resume != sweep_resume_keys_.end()) {
      scan.exclusive_start_key = resume->second;
    }
    std::unordered_map<std::string, bool> held;  // asked once per user and call
    KeyDeleter deleter(*this, "deleting expired documents");
    std::optional<Item> stopped_after;  // set when the call ends before the table does
    while (!stopped_after) {
      Result<aws::ItemPage> page = client_->Scan(scan);
      if (!page.ok()) return WithContext(page.status(), Where("scanning for expired documents"));
      for (const Item& item : page->items) {
        const std::string* user = StringAttribute(item, kDynamoDbUserIdAttribute);
        const std::string* timestamp = StringAttribute(item, kDynamoDbTimestampAttribute);
        const std::string* type = StringAttribute(item, kDynamoDbEventTypeAttribute);
        if (user == nullptr || timestamp == nullptr || type == nullptr) {
          return Status::Internal(Where("malformed item"));
        }
        // The filter's job, checked again so that the rule holds whatever
        // the expression did.
        if (*timestamp >= rule.before || !RuleCoversType(rule, *type)) continue;
        auto [decision, first] = held.try_emplace(*user, false);
        if (first && is_held) decision->second = is_held(*user);
        if (decision->second) continue;
        if (Status deleted = deleter.Add(KeyOf(item)); !deleted.ok()) return deleted;
        if (deleter.total() == limit) {
          stopped_after = KeyOf(item);  // a Scan resumes after any item's key
          break;
        }
      }
      if (stopped_after) break;
      if (!page->last_evaluated_key) break;
      scan.exclusive_start_key = std::move(page->last_evaluated_key);
    }
    if (Status deleted = deleter.Flush(); !deleted.ok()) return deleted;
    // A short call reached the end: the next call starts a new sweep.
    if (stopped_after) {
      sweep_resume_keys_[identity] = std::move(*stopped_after);
    } else {
      sweep_resume_keys_.erase(identity);
    }
    return deleter.deleted();
  }

  // One conditional UpdateItem per document carrying ExpiresAt: legal holds
  // are rare, and the condition keeps an update from recreating, as a bare
  // key, a document deleted since the Query (by an erasure or by TTL).
  Result<int64_t> ClearExpiry(std::string_view user_id) override {
    if (user_id.empty()) return int64_t{0};
    aws::QueryRequest query = UserQuery(user_id, "", "");
    query.parameters.names["#k"] = std::string(kDynamoDbSortKeyAttribute);
    query.parameters.names["#x"] = std::string(kDynamoDbExpiresAtAttribute);
    query.filter_expression = "attribute_exists(#x)";
    query.projection_expression = "#u, #k";
    query.limit = options_.page_limit;
    query.consistent_read = options_.consistent_reads;
    aws::UpdateItemRequest update;
    update.table_name = options_.table;
    update.update_expression = "REMOVE #x";
    update.condition_expression = "attribute_exists(#k)";
    update.parameters.names = {{"#k", std::string(kDynamoDbSortKeyAttribute)},
                               {"#x", std::string(kDynamoDbExpiresAtAttribute)}};
    int64_t cleared = 0;
    while (true) {
      Result<aws::ItemPage> page = client_->Query(query);
      if (!page.ok()) return WithContext(page.status(), Where("querying documents to clear expiry"));
      for (const Item& item : page->items) {
        update.key = KeyOf(item);
        const Status updated = client_->UpdateItem(update);
        if (updated.code() == StatusCode::kAlreadyExists) continue;  // deleted since the Query
        if (!updated.ok()) return WithContext(updated, Where("clearing a document's expiry"));
        ++cleared;
      }
      if (!page->last_evaluated_key) return cleared;
      query.exclusive_start_key = std::move(page->last_evaluated_key);
    }
  }

  size_t MaxDocumentBytes() const override { return DynamoDbMaxDocumentBytes(); }

  Status Migrate() override {
    Result<aws::TableDescription> table = client_->DescribeTable(options_.table);
    if (!table.ok() && table.status().code() == StatusCode::kNotFound) {
      aws::CreateTableRequest create;
      create.table_name = options_.table;
      create.attribute_definitions = {{std::string(kDynamoDbUserIdAttribute), "S"},
                                      {std::string(kDynamoDbSortKeyAttribute), "S"}};
      create.key_schema = {{std::string(kDynamoDbUserIdAttribute), aws::KeyType::kHash},
                           {std::string(kDynamoDbSortKeyAttribute), aws::KeyType::kRange}};
      Status created = client_->CreateTable(create);
      // AlreadyExists is ResourceInUseException: another process won the
      // race to create it, which is just as good.
      if (!created.ok() && created.code() != StatusCode::kAlreadyExists) {
        return WithContext(created, Where("creating the table"));
      }
    } else if (!table.ok()) {
      return WithContext(table.status(), Where("describing the table"));
    }

    const auto deadline = std::chrono::steady_clock::now() + options_.migrate_wait;
    while (true) {
      table = client_->DescribeTable(options_.table);
      // Just after CreateTable a describe may not see the table yet.
      if (!table.ok() && table.status().code() != StatusCode::kNotFound) {
        return WithContext(table.status(), Where("describing the table"));
      }
      if (table.ok()) {
        if (Status schema = CheckKeySchema(*table); !schema.ok()) return schema;
        if (table->table_status == "ACTIVE" || table->table_status == "UPDATING") {
          if (options_.retention && options_.retention->enabled()) return EnableTimeToLive();
          return Status::Ok();
        }
        if (table->table_status != "CREATING") {
          return Status::FailedPrecondition(Where("table is " + table->table_status + ", not ACTIVE"));
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::DeadlineExceeded(Where("table did not become ACTIVE within " +
                                              std::to_string(options_.migrate_wait.count()) + " ms"));
      }
      options_.sleep(options_.migrate_poll);
    }
  }

  Status CheckSchema() override {
    Result<aws::TableDescription> table = client_->DescribeTable(options_.table);
    if (!table.ok()) {
      if (table.status().code() == StatusCode::kNotFound) {
        return Status::FailedPrecondition(Where("table does not exist; run `eventlogger migrate` to create it"));
      }
      return WithContext(table.status(), Where("describing the table"));
    }
    if (Status schema = CheckKeySchema(*table); !schema.ok()) return schema;
    if (table->table_status == "ACTIVE" || table->table_status == "UPDATING") return Status::Ok();
    if (table->table_status == "CREATING") {
      return Status::Unavailable(Where("table is still being created; `eventlogger migrate` waits for it"));
    }
    return Status::FailedPrecondition(Where("table is " + table->table_status + ", not ACTIVE"));
  }

  Status Ping() override {
    // One attempt: a health probe wants a quick answer, not a retry policy.
    Result<aws::TableDescription> table = client_->DescribeTable(options_.table, /*max_attempts=*/1);
    if (table.ok()) return Status::Ok();
    if (table.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition(Where("table does not exist; run `eventlogger migrate` to create it"));
    }
    return WithContext(table.status(), Where("pinging"));
  }

  std::string_view Kind() const override { return "dynamodb"; }

 private:
  // Collects keys and deletes them in BatchWriteItem calls of 25.
  class KeyDeleter {
   public:
    KeyDeleter(DynamoDbDocumentStore& store, std::string what) : store_(store), what_(std::move(what)) {}
    Status Add(Item key) {
      pending_.push_back(std::move(key));
      return pending_.size() == aws::kMaxBatchWriteItems ? Flush() : Status::Ok();
    }
    Status Flush() {
      if (pending_.empty()) return Status::Ok();
      Status status = store_.client_->BatchDeleteItem(store_.options_.table, pending_);
      if (!status.ok()) return WithContext(status, store_.Where(what_));
      deleted_ += static_cast<int64_t>(pending_.size());
      pending_.clear();
      return Status::Ok();
    }
    int64_t deleted() const { return deleted_; }
    // Deleted and still pending.
    int64_t total() const { return deleted_ + static_cast<int64_t>(pending_.size()); }

   private:
    DynamoDbDocumentStore& store_;
    const std::string what_;
    std::vector<Item> pending_;
    int64_t deleted_ = 0;
  };

  std::string Where(const std::string& what) const { return "DynamoDB table " + options_.table + ": " + what; }

  // Each event's ExpiresAt: none without an expiring rule for its type, or
  // for a held user.
  std::vector<std::optional<int64_t>> ExpiresAtOf(EventBatch events) const {
    std::vector<std::optional<int64_t>> expires_at(events.size());
    if (!options_.retention || !options_.retention->enabled()) return expires_at;
    std::unordered_map<std::string_view, bool> held;  // a batch holds few users
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& event = *events[i];
      const std::optional<int64_t> expiry = options_.retention->ExpiryMillisOf(event.event_type, event.unix_millis);
      if (!expiry) continue;
      auto [decision, first] = held.try_emplace(event.user_id, false);
      if (first && options_.is_held) decision->second = options_.is_held(event.user_id);
      if (!decision->second) expires_at[i] = DynamoDbExpiresAtSeconds(*expiry);
    }
    return expires_at;
  }

  // Turns on the table's TTL on ExpiresAt unless it is on already (enabling
  // it twice is a ValidationException, and another process may be
  // migrating too). A server without TTL (dynalite, DynamoDB Local) is
  // logged and accepted: the service's own sweep (DeleteExpired) deletes
  // expired events there.
  Status EnableTimeToLive() {
    Result<TimeToLive> current = DescribeTimeToLive();
    if (!current.ok()) {
      return IsUnknownOperation(current.status()) ? NoTimeToLive() : current.status();
    }
    if (current->IsOn()) return SameTimeToLive(*current);
    // Table names are validated at open and need no JSON escaping.
    const std::string body = "{\"TableName\":\"" + options_.table +
                             "\",\"TimeToLiveSpecification\":{\"Enabled\":true,\"AttributeName\":\"" +
                             std::string(kDynamoDbExpiresAtAttribute) + "\"}}";
    Result<std::string> updated = client_->Call("UpdateTimeToLive", body);
    if (updated.ok()) return Status::Ok();
    if (IsUnknownOperation(updated.status())) return NoTimeToLive();
    if (updated.status().code() == StatusCode::kInvalidArgument) {
      // Perhaps another process enabled it first, or it is being disabled
      // (DynamoDB refuses changes for up to an hour after that).
      current = DescribeTimeToLive();
      if (current.ok() && current->IsOn()) return SameTimeToLive(*current);
    }
    return WithContext(updated.status(), Where("enabling TTL on " + std::string(kDynamoDbExpiresAtAttribute)));
  }

  struct TimeToLive {
    std::string status;     // TimeToLiveStatus: ENABLED, DISABLED, ...
    std::string attribute;  // empty while disabled
    bool IsOn() const { return status == kTimeToLiveEnabled || status == kTimeToLiveEnabling; }
  };

  Result<TimeToLive> DescribeTimeToLive() {
    const std::string body = "{\"TableName\":\"" + options_.table + "\"}";
    Result<std::string> described = client_->Call("DescribeTimeToLive", body);
    if (!described.ok()) return WithContext(described.status(), Where("describing TTL"));
    rapidjson::Document document;
    document.Parse(described->data(), described->size());
    if (document.HasParseError() || !document.IsObject()) {
      return Status::Internal(Where("malformed DescribeTimeToLive answer"));
    }
    auto description = document.FindMember("TimeToLiveDescription");
    if (description == document.MemberEnd() || !description->value.IsObject()) return TimeToLive{};
    const auto text = [&description](const char* name) {
      auto member = description->value.FindMember(name);
      if (member == description->value.MemberEnd() || !member->value.IsString()) return std::string();
      return std::string(member->value.GetString(), member->value.GetStringLength());
    };
    return TimeToLive{text("TimeToLiveStatus"), text("AttributeName")};
  }

  // OK when TTL is on ExpiresAt; an operator's TTL on another attribute
  // would leave ours unused, and a table has only one.
  Status SameTimeToLive(const TimeToLive& current) const {
    if (current.attribute == kDynamoDbExpiresAtAttribute) return Status::Ok();
    return Status::FailedPrecondition(Where("TTL is enabled on attribute " + current.attribute + ", not " +
                                            std::string(kDynamoDbExpiresAtAttribute) +
                                            "; a table has one TTL attribute: disable it to let retention use it"));
  }

  Status NoTimeToLive() {
    std::call_once(no_time_to_live_logged_, [this] {
      log::Warn("DynamoDB endpoint has no TTL; expired events are deleted by the retention sweep only",
                {{"table", options_.table}});
    });
    return Status::Ok();
  }

  Status CheckKeySchema(const aws::TableDescription& table) const {
    const std::vector<aws::KeySchemaElement> expected = {
        {std::string(kDynamoDbUserIdAttribute), aws::KeyType::kHash},
        {std::string(kDynamoDbSortKeyAttribute), aws::KeyType::kRange}};
    bool ok = table.key_schema == expected;
    for (const auto& key : expected) {
      bool typed = false;
      for (const auto& definition : table.attribute_definitions) {
        typed = typed || (definition.attribute_name == key.attribute_name && definition.attribute_type == "S");
      }
      ok = ok && typed;
    }
    if (ok) return Status::Ok();
    std::string actual;
    for (const auto& key : table.key_schema) {
      if (!actual.empty()) actual += ", ";
      actual += key.attribute_name + (key.key_type == aws::KeyType::kHash ? " (HASH)" : " (RANGE)");
    }
    return Status::FailedPrecondition(
        Where("key schema is [" + actual +
              "], expected [UserId (HASH, S), SortKey (RANGE, S)]; a table's keys cannot be changed: "
              "point the store at a new table name and run `eventlogger migrate`"));
  }

  // A Query of one user's partition, its sort key bounded by timestamps:
  // SortKey = "<timestamp>#<eventId>" with a fixed-width timestamp, so
  // timestamp >= from <=> SortKey >= from and timestamp < to <=> SortKey <
  // to; BETWEEN is inclusive, but no sort key equals `to` itself (each is
  // longer), so BETWEEN :from AND :to keeps `to` exclusive. Empty: unbounded.
  aws::QueryRequest UserQuery(std::string_view user_id, const std::string& from, const std::string& to) const {
    aws::QueryRequest query;
    query.table_name = options_.table;
    query.key_condition_expression = "#u = :u";
    query.parameters.names["#u"] = std::string(kDynamoDbUserIdAttribute);
    query.parameters.values[":u"] = AttributeValue::S(std::string(user_id));
    if (!from.empty() || !to.empty()) query.parameters.names["#k"] = std::string(kDynamoDbSortKeyAttribute);
    if (!from.empty() && !to.empty()) {
      query.key_condition_expression += " AND #k BETWEEN :from AND :to";
    } else if (!from.empty()) {
      query.key_condition_expression += " AND #k >= :from";
    } else if (!to.empty()) {
      query.key_condition_expression += " AND #k < :to";
    }
    if (!from.empty()) query.parameters.values[":from"] = AttributeValue::S(from);
    if (!to.empty()) query.parameters.values[":to"] = AttributeValue::S(to);
    return query;
  }

  // Runs a Query page by page; `keep` (optional) filters decoded documents.
  Status RunQuery(aws::QueryRequest query, const std::function<bool(const DocumentView&)>& keep,
                  const std::function<bool(const DocumentView&)>& visit) {
    DocumentView view;
    while (true) {
      Result<aws::ItemPage> page = client_->Query(query);
      if (!page.ok()) return WithContext(page.status(), Where("querying documents"));
      for (const Item& item : page->items) {
        if (!DecodeItem(item, &view)) return Status::Internal(Where("malformed item"));
        if (keep && !keep(view)) continue;
        if (!visit(view)) return Status::Ok();
      }
      if (!page->last_evaluated_key) return Status::Ok();
      query.exclusive_start_key = std::move(page->last_evaluated_key);
    }
  }

  std::unique_ptr<aws::DynamoDbClient> client_;
  DynamoDbDocumentOptions options_;
  std::once_flag no_time_to_live_logged_;
  // Where each unfinished sweep (by SweepIdentity) continues.
  std::mutex sweep_mutex_;
  std::map<std::string, Item> sweep_resume_keys_;
};

}  // namespace

std::string DynamoDbSortKey(std::string_view timestamp, std::string_view event_id) {
  std::string key;
  key.reserve(timestamp.size() + 1 + event_id.size());
  key += timestamp;
  key.push_back('#');
  key += event_id;
  return key;
}

int64_t DynamoDbExpiresAtSeconds(int64_t expiry_millis) {
  const int64_t seconds = expiry_millis / 1000 + (expiry_millis % 1000 > 0 ? 1 : 0);
  return std::max<int64_t>(seconds, 1);  // TTL ignores what is not a positive epoch time
}

aws::Item DynamoDbItemForEvent(const Event& event, std::optional<int64_t> expires_at_seconds) {
  Item item;
  item.emplace(kDynamoDbUserIdAttribute, AttributeValue::S(event.user_id));
  item.emplace(kDynamoDbSortKeyAttribute, AttributeValue::S(DynamoDbSortKey(event.timestamp, event.event_id)));
  item.emplace(kDynamoDbEventIdAttribute, AttributeValue::S(event.event_id));
  item.emplace(kDynamoDbEventTypeAttribute, AttributeValue::S(event.event_type));
  item.emplace(kDynamoDbTimestampAttribute, AttributeValue::S(event.timestamp));
  item.emplace(kDynamoDbPayloadAttribute, AttributeValue::S(event.details_json));
  if (!event.occurred_at.empty()) item.emplace(kDynamoDbOccurredAtAttribute, AttributeValue::S(event.occurred_at));
  if (expires_at_seconds) {
    item.emplace(kDynamoDbExpiresAtAttribute, AttributeValue::N(std::to_string(*expires_at_seconds)));
  }
  return item;
}

size_t DynamoDbItemBytes(const Event& event, std::optional<int64_t> expires_at_seconds) {
  // The attribute names and values, each in UTF-8 bytes (std::string sizes);
  // equal to aws::ItemSizeBytes(DynamoDbItemForEvent(event)) without
  // building the item.
  return kDynamoDbUserIdAttribute.size() + event.user_id.size() + kDynamoDbSortKeyAttribute.size() +
         event.timestamp.size() + 1 + event.event_id.size() + kDynamoDbEventIdAttribute.size() +
         event.event_id.size() + kDynamoDbEventTypeAttribute.size() + event.event_type.size() +
         kDynamoDbTimestampAttribute.size() + event.timestamp.size() + kDynamoDbPayloadAttribute.size() +
         event.details_json.size() +
         (event.occurred_at.empty() ? 0 : kDynamoDbOccurredAtAttribute.size() + event.occurred_at.size()) +
         (expires_at_seconds ? kDynamoDbExpiresAtAttribute.size() + WholeNumberBytes(*expires_at_seconds) : 0);
}

size_t DynamoDbFixedItemBytes() {
  const size_t names = kDynamoDbUserIdAttribute.size() + kDynamoDbSortKeyAttribute.size() +
                       kDynamoDbEventIdAttribute.size() + kDynamoDbEventTypeAttribute.size() +
                       kDynamoDbTimestampAttribute.size() + kDynamoDbPayloadAttribute.size() +
                       kDynamoDbOccurredAtAttribute.size() +  // counted whether or not an event has them
                       kDynamoDbExpiresAtAttribute.size();
  const size_t sort_key = kTimestampLength + 1 + kEventIdLength;
  return names + sort_key + kEventIdLength + kTimestampLength + kTimestampLength + kMaxExpiresAtValueBytes;
}

size_t DynamoDbMaxDocumentBytes() { return aws::kMaxItemBytes - DynamoDbFixedItemBytes(); }

Result<DynamoDbDocumentOptions> ParseDynamoDbDocumentUrl(std::string_view url) {
  constexpr std::string_view kScheme = "dynamodb://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("DynamoDB store URL must start with dynamodb://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t question = rest.find('?');
  const std::string_view table = rest.substr(0, question);
  DynamoDbDocumentOptions options;
  if (!IsValidTableName(table)) {
    return Status::InvalidArgument("DynamoDB table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
  }
  options.table = std::string(table);
  std::string_view query = question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  bool seen_region = false, seen_endpoint = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    const std::string_view name = pair.substr(0, equals);
    const std::optional<std::string> value =
        PercentDecode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!value) return Status::InvalidArgument("DynamoDB store URL has a malformed %-escape");
    if (name == "region") {
      if (seen_region) return Status::InvalidArgument("DynamoDB store URL names region twice");
      if (!IsValidRegion(*value)) return Status::InvalidArgument("DynamoDB region must be like eu-west-1");
      seen_region = true;
      options.region = *value;
    } else if (name == "endpoint") {
      if (seen_endpoint) return Status::InvalidArgument("DynamoDB store URL names endpoint twice");
      Result<aws::Url> endpoint = aws::ParseUrl(*value);
      if (!endpoint.ok()) return Status::InvalidArgument("DynamoDB endpoint: " + endpoint.status().message());
      if (endpoint->target != "/") return Status::InvalidArgument("DynamoDB endpoint must not have a path or query");
      seen_endpoint = true;
      options.endpoint = *value;
      while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
    } else {
      return Status::InvalidArgument("DynamoDB store URL has unknown parameter `" + std::string(name) +
                                     "` (known: region, endpoint)");
    }
  }
  return options;
}

Result<std::unique_ptr<DocumentStore>> OpenDynamoDbDocumentStore(const DynamoDbDocumentOptions& options) {
  if (!IsValidTableName(options.table)) {
    return Status::InvalidArgument("DynamoDB table name must be 3-255 characters of A-Z a-z 0-9 _ . -");
  }
  const aws::AwsEnvironment env = aws::AwsEnvironment::Process();
  aws::DynamoDbClientOptions client;
  Result<std::string> region = aws::ResolveRegion(options.region, env);
  if (!region.ok()) return Status::FailedPrecondition(region.status().message());
  client.region = *region;
  if (options.credentials.access_key_id.empty()) {
    Result<aws::Credentials> credentials = aws::ResolveCredentials(env);
    if (!credentials.ok()) return Status::FailedPrecondition(credentials.status().message());
    client.credentials = std::move(credentials).value();
  } else {
    client.credentials = options.credentials;
  }
  client.endpoint = options.endpoint.empty() ? DefaultEndpoint(client.region) : options.endpoint;
  client.retry = options.retry;
  client.http = options.http;
  client.shared_http = options.shared_http;
  client.sleep = options.sleep;
  Result<std::unique_ptr<aws::DynamoDbClient>> created = aws::DynamoDbClient::Create(std::move(client));
  if (!created.ok()) return created.status();
  return std::unique_ptr<DocumentStore>(new DynamoDbDocumentStore(std::move(created).value(), options));
}

}  // namespace eventlogger
