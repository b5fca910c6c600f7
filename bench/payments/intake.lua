-- POSTs one signed webhook per request from a file of "signature<TAB>body" lines (made by
-- bench/payments/run.py), cycling when it runs out, then prints the same WRK_JSON line as
-- bench/wrk/report.lua. Usage: wrk ... -s intake.lua URL -- /path/to/bodies.tsv
local lines = {}
local index = 0

init = function(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    lines[#lines + 1] = { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) }
  end
end

request = function()
  index = index % #lines + 1
  local entry = lines[index]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Signature"] = entry[1],
  }, entry[2])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.2f,"stdev":%.2f,"max":%d,' ..
    '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
