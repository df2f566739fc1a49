-- GETs of random targets from a file, one path per line (BENCH_TARGETS):
-- the pages scenarios of bench/pages.py. Each thread seeds its own
-- generator, so threads spread over the file independently.
local targets = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    if #line > 0 then targets[#targets + 1] = line end
  end
  math.randomseed(1000 + (seed or 0) * 7919)
  for _ = 1, 8 do math.random() end
end

function request()
  return wrk.format("GET", targets[math.random(#targets)])
end
