-- wrk script: heartbeats from a set of enrolled devices, round-robin, each
-- with its own increasing sequence number (tokens come from RF_BENCH_DEVICES,
-- a file of "token device_id" lines). RF_BENCH_MODE=poll sends assignment polls.
-- Without RF_BENCH_BUNDLE a heartbeat reports no channel ("channels":{});
-- with it, one channel exactly as the agent reports it (agent/wire.c) when it
-- runs that bundle id committed.
local devices = {}
for line in io.lines(os.getenv("RF_BENCH_DEVICES")) do
  local tok = line:match("^(%S+)")
  devices[#devices + 1] = tok
end
local mode = os.getenv("RF_BENCH_MODE") or "heartbeat"
local bundle = os.getenv("RF_BENCH_BUNDLE")
local tid = 0
local nthreads = 0
function setup(thread)
  thread:set("tid", tid)
  tid = tid + 1
end
function init(args)
  counter = 0
  seqs = {}
  nthreads = tonumber(os.getenv("RF_BENCH_THREADS") or "2")
end
function request()
  -- thread tid uses devices tid+1, tid+1+nthreads, ... so no two threads share one
  local per = math.floor(#devices / nthreads)
  local i = tid + 1 + (counter % per) * nthreads
  counter = counter + 1
  local tok = devices[i]
  local hdr = { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" }
  if mode == "poll" then
    return wrk.format("GET", "/v1/agent/assignment?wait=0&known=0", hdr, nil)
  end
  -- seq starts from the clock so that repeated runs never send a duplicate
  seqs[i] = (seqs[i] or (os.time() * 1000)) + 1
  local body
  if bundle then
    body = string.format('{"seq":%d,"boot_id":"bench","uptime_s":%d,"heartbeat_interval_s":30,'
      .. '"agent_version":"bench","agent_restarts":0,"channels":{"content":{"bundle_id":%s,'
      .. '"state":"committed","target_bundle_id":null,"boots":1,"unclean_shutdowns":0,'
      .. '"crashes":0,"local_rollbacks":0,"error":null}}}', seqs[i], seqs[i], bundle)
  else
    body = string.format('{"seq":%d,"boot_id":"bench","uptime_s":%d,"agent_version":"bench",'
      .. '"heartbeat_interval_s":30,"channels":{}}', seqs[i], seqs[i])
  end
  return wrk.format("POST", "/v1/agent/heartbeat", hdr, body)
end
