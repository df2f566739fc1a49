-- Shared helpers for the wrk scenario scripts (wrk 4.1, LuaJIT).
--
-- Configuration comes from the environment so that the setup/done state
-- (which never sees init()'s arguments) reads the same values as the
-- threads:
--   BENCH_OUT           file done() writes its "key value" lines to (required for a report)
--   BENCH_THREADS       wrk -t value (used to spread sequential user ids)
--   BENCH_USERS         size of the userId pool (default 10000)
--   BENCH_USER_PREFIX   userId prefix; ids are PREFIX + 5 digits, so every body has one length
--   BENCH_DETAILS_BYTES size of the jsonDetails object text (default 150)
--   BENCH_HOT_USER      the one user the get-hot scenario reads
--   BENCH_WRITE_PERCENT share of POSTs in the mixed scenario (default 10)
--   BENCH_SEQUENTIAL    "1": POST userIds walk the pool in order (even coverage, for pre-loading)
--   BENCH_COUNT_STATUS  "0": do not define response() (cheaper; non-2xx then means status > 399)
--   BENCH_SEED          base random seed (default 1); each thread adds its own index
local M = {}

M.users = tonumber(os.getenv("BENCH_USERS") or "10000")
M.prefix = os.getenv("BENCH_USER_PREFIX") or "user-"
M.details_bytes = tonumber(os.getenv("BENCH_DETAILS_BYTES") or "150")
M.threads = tonumber(os.getenv("BENCH_THREADS") or "2")
M.sequential = os.getenv("BENCH_SEQUENTIAL") == "1"
M.count_status = os.getenv("BENCH_COUNT_STATUS") ~= "0"
M.seed = tonumber(os.getenv("BENCH_SEED") or "1")

-- wrk's threads (setup/done state only).
local threads = {}
local thread_count = 0

-- Per-thread counters (thread states only); done() collects them with thread:get.
status_2xx, status_201, status_202, status_503, status_other = 0, 0, 0, 0, 0
get_bodies, get_body_bytes, post_bodies, post_body_bytes = 0, 0, 0, 0
thread_index = 0  -- set by setup() before init() runs

function M.setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  threads[thread_count] = thread
end

-- Seeds the thread's generator: same run, same sequence; threads differ.
function M.seed_thread()
  math.randomseed(M.seed * 7919 + thread_index * 104729 + 17)
  -- LuaJIT's first values after seeding are poorly spread; discard a few.
  for _ = 1, 8 do math.random() end
end

function M.user_id(n)
  return string.format("%s%05d", M.prefix, n)
end

function M.random_user()
  return M.user_id(math.random(0, M.users - 1))
end

local devices = { "Chrome", "Firefox", "Safari", "Edge", "iOS", "Android" }
local types = { "bet", "login", "deposit", "withdraw", "view" }

-- One jsonDetails object of exactly `bytes` bytes: a few realistic members,
-- padded with a string member. Valid JSON, no characters needing escapes.
function M.details(bytes)
  local head = string.format(
    '{"ip":"10.%d.%d.%d","device":"%s","amount":%d.%02d,"currency":"EUR","session":"%08x%08x","pad":"',
    math.random(0, 255), math.random(0, 255), math.random(1, 254), devices[math.random(#devices)],
    math.random(1, 500), math.random(0, 99), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  local tail = '"}'
  local pad = bytes - #head - #tail
  if pad < 0 then pad = 0 end
  local filler = {}
  local alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
  for i = 1, pad do
    local k = math.random(#alphabet)
    filler[i] = alphabet:sub(k, k)
  end
  return head .. table.concat(filler) .. tail
end

-- A POST /events generator: pre-builds the request head (every body has the
-- same length, so Content-Length is fixed) and a pool of jsonDetails
-- variants; each call only concatenates a userId into place.
function M.post_generator(details_bytes)
  local variants = {}
  local count = details_bytes > 4096 and 32 or 256
  for i = 1, count do variants[i] = M.details(details_bytes) end
  local event_type = types[1]
  local open = '{"userId":"'
  local middle = '","eventType":"' .. event_type .. '","jsonDetails":'
  local close = '}'
  local body_length = #open + #M.user_id(0) + #middle + details_bytes + #close
  -- wrk.format sets Content-Length from the body it is given, so format a
  -- placeholder body of the right length and keep only the head.
  local head = wrk.format("POST", "/events", M.headers({ ["Content-Type"] = "application/json" }),
                          string.rep("x", body_length))
  head = head:sub(1, #head - body_length)
  local next_sequential = thread_index
  return function()
    local user
    if M.sequential then
      user = M.user_id(next_sequential % M.users)
      next_sequential = next_sequential + M.threads
    else
      user = M.random_user()
    end
    return head .. open .. user .. middle .. variants[math.random(count)] .. close
  end, body_length
end

-- `extra` plus, with BENCH_AUTHORIZATION set (run.sh --api-key), an
-- Authorization header carrying it: the authenticated variant of a scenario.
function M.headers(extra)
  local headers = extra or {}
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization and authorization ~= "" then headers["Authorization"] = authorization end
  return headers
end

function M.get_request(user)
  return wrk.format("GET", "/events/" .. user, M.headers())
end

function M.response(status, headers, body)
  if status >= 200 and status < 300 then
    status_2xx = status_2xx + 1
    if status == 201 then
      status_201 = status_201 + 1
      post_bodies = post_bodies + 1
      post_body_bytes = post_body_bytes + #body
    elseif status == 202 then
      status_202 = status_202 + 1
    else
      get_bodies = get_bodies + 1
      get_body_bytes = get_body_bytes + #body
    end
  elseif status == 503 then
    status_503 = status_503 + 1
  else
    status_other = status_other + 1
  end
end

-- Installs the common globals; scenario scripts then define request().
function M.install()
  wrk.headers = M.headers(wrk.headers)  -- scripts that send wrk's own request
  setup = M.setup
  if M.count_status then response = M.response end
  done = M.done
end

function M.done(summary, latency, requests)
  local path = os.getenv("BENCH_OUT")
  if not path then return end
  local sums = { status_2xx = 0, status_201 = 0, status_202 = 0, status_503 = 0, status_other = 0,
                 get_bodies = 0, get_body_bytes = 0, post_bodies = 0, post_body_bytes = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(sums) do
      sums[name] = sums[name] + (tonumber(thread:get(name)) or 0)
    end
  end
  local e = summary.errors
  local out = assert(io.open(path, "w"))
  local function put(key, value) out:write(key, " ", string.format("%.0f", value), "\n") end
  put("duration_us", summary.duration)
  put("requests", summary.requests)
  put("bytes", summary.bytes)
  put("err_connect", e.connect)
  put("err_read", e.read)
  put("err_write", e.write)
  put("err_timeout", e.timeout)
  put("err_status", e.status)  -- wrk's own count of status > 399
  put("counted", M.count_status and 1 or 0)
  for name, value in pairs(sums) do put(name, value) end
  put("lat_mean_us", latency.mean)
  put("lat_max_us", latency.max)
  put("lat_p50_us", latency:percentile(50))
  put("lat_p90_us", latency:percentile(90))
  put("lat_p99_us", latency:percentile(99))
  put("lat_p999_us", latency:percentile(99.9))
  out:close()
end

return M
