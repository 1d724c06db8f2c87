-- wrk script for bench/run.sh: every request is the same correct sign-in, a form POST with
-- the CSRF cookie and token of one browser session. The credentials come from the
-- environment variables that run.sh sets after signing the account up.
--
-- A correct sign-in returns 303. Each wrk thread counts the statuses it receives, and
-- done() prints the totals as "status STATUS COUNT" lines, which run.sh checks.

local function required_env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("environment variable " .. name .. " is missing; run this script through bench/run.sh")
  end
  return value
end

local function form_encode(text)
  return (text:gsub("[^%w%-%._~]", function(character)
    return string.format("%%%02X", string.byte(character))
  end))
end

local csrf_cookie = required_env("BENCH_CSRF_COOKIE")
local csrf_token = required_env("BENCH_CSRF_TOKEN")
local username = required_env("BENCH_USERNAME")
local password = required_env("BENCH_PASSWORD")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "outpost_csrf=" .. csrf_cookie
wrk.body = "csrf_token=" .. form_encode(csrf_token)
  .. "&username=" .. form_encode(username)
  .. "&password=" .. form_encode(password)

-- Status counts of this thread's Lua state, read by done() through thread:get.
statuses = {}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
