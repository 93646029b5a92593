-- POST /v1/chat-messages (blocking) straight to the fake Dify, or through nginx in front of it.
local thread_id = 0
local counter = 0
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local body = string.format('{"query":"hello bench","user":"bench_t%s-%d","inputs":{},"response_mode":"blocking"}', tid, counter)
  return wrk.format("POST", "/v1/chat-messages", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_DIFY_KEY")}, body)
end
