-- wrk script for bench/heartbeats.sh: POST /agent/v1/heartbeat with a different collector
-- credential per request. Thread k of n sends the credentials k, k+n, k+2n… of TOKENS_FILE
-- in turn, so a run of at least as many requests as credentials reaches every collector.
-- Every heartbeat reports the uptime in UPTIME (default 1), so that the database shows which
-- run stored a collector's last heartbeat.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  step = tonumber(os.getenv("WRK_THREADS"))
  index = id
  failures = 0
  local uptime = tonumber(os.getenv("UPTIME") or "1")
  body = string.format('{"version":"0.1.0","local_ip":"192.0.2.1","mac":"02:00:00:00:00:01","uptime_seconds":%d}', uptime)
end

function request()
  local token = tokens[index]
  index = index + step
  if index > #tokens then
    index = id
  end
  return wrk.format("POST", "/agent/v1/heartbeat", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
  end
  io.write(string.format("non-200 responses: %d\n", total))
end
