-- Mixed load: BENCH_WRITE_PERCENT (10 by default) of requests are POST /events
-- (jsonDetails of BENCH_DETAILS_BYTES), the rest GET /events/{userId}, all on
-- random users among BENCH_USERS with prefix BENCH_USER_PREFIX.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

bench.install()
local write_percent = tonumber(os.getenv("BENCH_WRITE_PERCENT") or "10")
local gets = {}
local post

function init(args)
  bench.seed_thread()
  for n = 0, bench.users - 1 do
    gets[n + 1] = bench.get_request(bench.user_id(n))
  end
  post = bench.post_generator(bench.details_bytes)
end

function request()
  if math.random(100) <= write_percent then
    return post()
  end
  return gets[math.random(bench.users)]
end
