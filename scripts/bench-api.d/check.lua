-- Random fixture numbers, as in BenchmarkCallability: 0-9,999 objections,
-- 5,000-14,999 relations, every other of 10,000-19,999 a consent.
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local i = math.random(0, 19999)
  local path = string.format("/v1/callability/+31612%06d?org=org%d", i, i % 10)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("checks/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d non2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
