-- POST /events/batch: BENCH_BATCH_EVENTS events (100 by default) per request,
-- each as post.lua's (a jsonDetails object of BENCH_DETAILS_BYTES bytes, a
-- random user among BENCH_USERS). The events a second are the requests a
-- second times BENCH_BATCH_EVENTS.
--
-- Like post.lua, the bodies are built once per thread (a pool of 64, each
-- its own draw of users and details) and only picked per request: the load
-- generator shares the CPUs with the server, so what it spends building
-- 20 KB bodies would be taken from the server's share.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

bench.install()
local batch_events = tonumber(os.getenv("BENCH_BATCH_EVENTS") or "100")
local pool_size = 64
local requests = {}

function init(args)
  bench.seed_thread()
  local headers = bench.headers({ ["Content-Type"] = "application/json" })
  for r = 1, pool_size do
    local items = {}
    for i = 1, batch_events do
      items[i] = '{"userId":"' .. bench.random_user() .. '","eventType":"bet","jsonDetails":' ..
                 bench.details(bench.details_bytes) .. "}"
    end
    requests[r] = wrk.format("POST", "/events/batch", headers, '{"events":[' .. table.concat(items, ",") .. "]}")
  end
end

function request()
  return requests[math.random(pool_size)]
end
