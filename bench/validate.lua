-- wrk script for bench/validate (and bench/radius, bench/webauthn). Environment:
--   BENCH_MODE   healthz | validate | bodies
--   BENCH_TOKEN  a validate-scope API token (validate and bodies modes)
--   BENCH_PAIRS  file prefix: thread N reads "USERNAME CODE" lines from BENCH_PAIRS.N
--                (validate mode), or whole JSON bodies of POST /api/v1/validate, one a line
--                (bodies mode: bench/webauthn's pre-signed assertions); it walks its own list
--                once, then wraps around (a wrapped right code or assertion is a replay,
--                which the counts below show: "resent" counts the requests sent again)
-- done() prints one line that bench/validate parses:
--   RESULT requests=… duration_s=… rps=… p50_ms=… p99_ms=… ok=… invalid=… locked=… other=…
--          non200=… errors=… wrapped=… resent=… listed=…

local mode = os.getenv("BENCH_MODE") or "validate"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local names, codes, bodies, n, i = {}, {}, {}, 0, 0
local headers = {}

function init(args)
  ok, invalid, locked, other, non200, wrapped, resent, listed = 0, 0, 0, 0, 0, 0, 0, 0
  if mode == "healthz" then
    return
  end
  headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  headers["Content-Type"] = "application/json"
  local path = os.getenv("BENCH_PAIRS") .. "." .. tostring(tid)
  for line in io.lines(path) do
    n = n + 1
    if mode == "bodies" then
      bodies[n] = line
    else
      names[n], codes[n] = line:match("^(%S+) (%S+)$")
    end
  end
  if n == 0 then
    error("no pairs in " .. path)
  end
  listed = n
end

function request()
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  i = i + 1
  if i > n then
    i = 1
    wrapped = wrapped + 1
  end
  if wrapped > 0 then
    resent = resent + 1
  end
  local body
  if mode == "bodies" then
    body = bodies[i]
  else
    body = '{"username":"' .. names[i] .. '","code":"' .. codes[i] .. '"}'
  end
  return wrk.format("POST", "/api/v1/validate", headers, body)
end

function response(status, hdrs, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif mode == "healthz" then
    ok = ok + 1
  elseif body:find('"ok":true', 1, true) then
    ok = ok + 1
  elseif body:find('"invalid_code"', 1, true) then
    invalid = invalid + 1
  elseif body:find('"locked"', 1, true) then
    locked = locked + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = {
    ok = 0, invalid = 0, locked = 0, other = 0, non200 = 0, wrapped = 0, resent = 0, listed = 0,
  }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f ok=%d invalid=%d "
      .. "locked=%d other=%d non200=%d errors=%d wrapped=%d resent=%d listed=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    t.ok, t.invalid, t.locked, t.other, t.non200, errors, t.wrapped, t.resent, t.listed))
end
