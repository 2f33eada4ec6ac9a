-- wrk script: POST pre-signed LINE webhooks, each line of the file once per pass.
-- Arguments (after --): <file> <path> <threads>. Lines are "signature<TAB>body";
-- thread n takes lines n, n+threads, ... so no two threads send the same webhook.
-- done() prints one JSON line with the counts and latency percentiles (µs).

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local requests = {}
local next_index = 0

function init(args)
  local file, path, nthreads = args[1], args[2], tonumber(args[3])
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == tid then
      local sig, body = line:match("^([^\t]+)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-Line-Signature"] = sig,
      }, body)
    end
    n = n + 1
  end
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
