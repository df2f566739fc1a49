-- GET /events/{userId} for random users among BENCH_USERS with prefix
-- BENCH_USER_PREFIX (the run script pre-loads some events across them first).
-- Requests are pre-built per user; request() only picks one.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

bench.install()
local requests = {}

function init(args)
  bench.seed_thread()
  for n = 0, bench.users - 1 do
    requests[n + 1] = bench.get_request(bench.user_id(n))
  end
end

function request()
  return requests[math.random(bench.users)]
end
