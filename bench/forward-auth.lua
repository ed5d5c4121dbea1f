-- wrk script for bench/forward-auth. Environment:
--   BENCH_MODE    healthz | nginx
--   BENCH_COOKIE  the Cookie header of a signed-in browser (nginx mode)
--   BENCH_URL     the original URL nginx would ask about, X-Original-URL (nginx mode)
--   BENCH_USER    the username the answer must name in Remote-User (nginx mode)
-- done() prints one line that bench/forward-auth parses:
--   RESULT requests=… duration_s=… rps=… p50_ms=… p99_ms=… ok=… non200=… other=… errors=…
-- (ok: 200, and in nginx mode with Remote-User naming BENCH_USER; other: 200 without it)

local mode = os.getenv("BENCH_MODE") or "nginx"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local headers = {}
local user = ""

function init(args)
  ok, non200, other = 0, 0, 0
  if mode == "healthz" then
    return
  end
  headers["Cookie"] = os.getenv("BENCH_COOKIE")
  headers["X-Original-URL"] = os.getenv("BENCH_URL")
  headers["X-Original-Method"] = "GET"
  user = os.getenv("BENCH_USER")
end

function request()
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("GET", "/auth/nginx", headers)
end

function response(status, hdrs, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif mode == "healthz" then
    ok = ok + 1
  elseif (hdrs["remote-user"] or hdrs["Remote-User"]) == user then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, non200 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f ok=%d non200=%d "
      .. "other=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    t.ok, t.non200, t.other, errors))
end
