-- GET /events/{userId} for one user, over and over (the "hot" read: the same
-- RocksDB blocks every time). The run script pre-loads that user with 100
-- events. The request never changes, so wrk sends a pre-built one.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

bench.install()
wrk.method = "GET"
wrk.path = "/events/" .. (os.getenv("BENCH_HOT_USER") or "hot-00000")

function init(args)
  bench.seed_thread()
end
