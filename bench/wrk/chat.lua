-- One chat per request, each from a new user (so each maps a new conversation).
-- BENCH_TARGET=gateway: POST /v1/chat with X-API-Key; BENCH_TARGET=dify: POST /v1/chat-messages (blocking) with Bearer.
local thread_id = 0
local counter = 0
local target = os.getenv("BENCH_TARGET") or "gateway"
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local user = string.format("t%s-%d", tid, counter)
  if target == "dify" then
    local body = string.format('{"query":"hello bench","user":"bench_%s","inputs":{},"response_mode":"blocking"}', user)
    return wrk.format("POST", "/v1/chat-messages", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_DIFY_KEY")}, body)
  end
  local body = string.format('{"system_id":"bench","user_id":"%s","message":"hello bench"}', user)
  return wrk.format("POST", "/v1/chat", {["Content-Type"] = "application/json", ["X-API-Key"] = os.getenv("BENCH_API_KEY")}, body)
end
