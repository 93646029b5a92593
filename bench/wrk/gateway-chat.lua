-- POST /v1/chat through the gateway; every request is a new user, so each one maps a new conversation.
local thread_id = 0
local counter = 0
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local body = string.format('{"system_id":"bench","user_id":"t%s-%d","message":"hello bench"}', tid, counter)
  return wrk.format("POST", "/v1/chat", {["Content-Type"] = "application/json", ["X-API-Key"] = os.getenv("BENCH_API_KEY")}, body)
end
