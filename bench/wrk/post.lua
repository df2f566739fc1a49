-- POST /events with a jsonDetails object of BENCH_DETAILS_BYTES bytes (150 by
-- default; run.sh also uses 1024 and 16384) for random users among BENCH_USERS
-- (or, with BENCH_SEQUENTIAL=1, every user in turn: the cold-read pre-load).
-- Every request has the same length, so a ceiling server sees the same bytes.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

bench.install()
local generate

-- BENCH_QUOTA > 0 (per thread, for pre-loading): stop the thread once that many
-- POSTs are answered. With BENCH_SEQUENTIAL=1 every user of the pool gets an
-- event; the few requests still in flight at the stop wrap around to the first
-- users again (wrk also calls request() once on its own in the first thread,
-- to check the script, so counting requests sent would come up one short).
-- BENCH_DONE_MARKER: each thread creates MARKER.<thread index> when it stops.
local quota = tonumber(os.getenv("BENCH_QUOTA") or "0")
local answered = 0

function init(args)
  bench.seed_thread()
  generate = bench.post_generator(bench.details_bytes)
  if quota > 0 then
    response = function(status, headers, body)
      bench.response(status, headers, body)
      answered = answered + 1
      if answered == quota then
        -- wrk sleeps for its whole -d even when every thread has stopped: a
        -- marker per thread lets the caller interrupt it (SIGINT) instead.
        local marker = os.getenv("BENCH_DONE_MARKER")
        if marker then
          local f = io.open(marker .. "." .. thread_index, "w")
          if f then f:close() end
        end
        wrk.thread:stop()
      end
    end
  end
end

function request()
  return generate()
end
