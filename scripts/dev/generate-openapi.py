# Writes Sources/ChatGateway/Resources/openapi.json. Edit the spec here, run `python3 scripts/dev/generate-openapi.py`;
# Tests/ChatGatewayTests/Docs/OpenAPIConformanceTests.swift checks the result against the routes and real answers.
# The /dify/v1 operations are not here: Docs/OpenAPIDocument.swift merges Dify's own Resources/dify/openapi_chat.json
# in at start-up (components here, such as DifyErrorBody, may serve them).
import json
err = {"$ref": "#/components/responses/Error"}
def errs(*codes):
    return {str(c): err for c in codes}
def error(description):
    """An error answer with a description of its own."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
def json_of(ref, description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/" + ref}}}}
def array_of(ref, description):
    return {"description": description, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/" + ref}}}}}
def body(ref):
    return {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/" + ref}}}}
def path_param(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
def admin(operation_id, summary, description, responses, parameters=None, request=None):
    """An /admin/v1 operation: X-Admin-Key, tag Admin."""
    operation = {"operationId": operation_id, "summary": summary, "description": description, "tags": ["Admin"],
                 "security": [{"AdminKey": []}]}
    if parameters: operation["parameters"] = parameters
    if request: operation["requestBody"] = body(request)
    operation["responses"] = responses
    return operation
sec_any = [{"ApiKey": []}, {"BearerToken": []}, {"QueryToken": []}]
turn_id = {"name": "turn_id", "in": "path", "required": True, "description": "The turn's id, from `X-Turn-Id` or the stream's `start` event.", "schema": {"type": "string", "format": "uuid"}}
turn_header = {"X-Turn-Id": {"$ref": "#/components/headers/TurnId"}}
sid = {"name": "system_id", "in": "query", "required": False, "description": "Required with X-API-Key; with a JWT it may be omitted, and must equal the token's when given.", "schema": {"$ref": "#/components/schemas/SystemID"}}
uid = {"name": "user_id", "in": "query", "required": False, "description": "Required with X-API-Key; with a JWT it may be omitted, and must equal the token's when given.", "schema": {"$ref": "#/components/schemas/UserID"}}
tok = {"name": "token", "in": "query", "required": False, "description": "Chat JWT (alternative to Authorization: Bearer; Bearer wins).", "schema": {"type": "string"}}
cache_filters = [
  {"name": "system_id", "in": "query", "required": False, "schema": {"type": "string"}},
  {"name": "user_id", "in": "query", "required": False, "schema": {"type": "string"}},
  {"name": "from_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC), conversations created on or after", "schema": {"type": "string", "format": "date"}},
  {"name": "to_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC), inclusive", "schema": {"type": "string", "format": "date"}},
  {"name": "q", "in": "query", "required": False, "description": "Case-insensitive text in conversation names or message contents", "schema": {"type": "string"}}]
# What a /v1 stream sends, for POST /v1/chat and GET /v1/turns/{turn_id}/events.
stream_events = ("The first event's block starts with `retry: 1000` (milliseconds an `EventSource` waits before it reconnects). Each event is `id: <n>` (its sequence number in the turn: increasing, with gaps for entries this stream does not show, such as deltas merged for a slow reader), `event: <name>` and one `data:` line of JSON (which repeats the name in `event`): "
    "`start` {turn_id, conversation_id, message_id, task_id} first; `delta` {text} to append; `replace` {answer} (moderation replaced the answer so far); `file` {id, type, url, belongs_to}; `thought` {thought} (agent apps); `progress` {step, title, node_type, status} (chatflow apps); "
    "`sync` {text, last_event_id} (only to a reader that missed events the gateway no longer holds one by one: the answer so far, replacing what it has); "
    "then exactly one of `done` {conversation_id, message_id, answer, metadata, stopped} or `error` {status, detail, code}. Comments (`: keep-alive`) keep quiet connections open.")
# The figures of a usage report's rows and totals.
usage_figures = ["currency", "chats", "completed", "failed", "refused", "tasks", "prompt_tokens", "completion_tokens", "total_tokens", "total_price",
                 "unknown_usage", "latency_p50_ms", "latency_p95_ms"]
usage_fields = {
      "system_id": {"type": "string", "description": "With group_by system"}, "user_id": {"type": "string", "description": "With group_by user"},
      "day": {"type": "string", "format": "date", "description": "With group_by day"}, "currency": {"type": "string", "nullable": True},
      "chats": {"type": "integer"}, "completed": {"type": "integer"}, "failed": {"type": "integer"},
      "refused": {"type": "integer", "description": "Refused before Dify was called (a budget used up)"},
      "tasks": {"type": "integer", "description": "Of chats, OpenAI clients' auxiliary requests (titles, tags, follow-ups) through `/openai/v1`"},
      "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
      "total_price": {"type": "string", "nullable": True, "description": "A decimal, summed exactly; null when no answer had a price"},
      "unknown_usage": {"type": "integer"}, "latency_p50_ms": {"type": "integer", "nullable": True}, "latency_p95_ms": {"type": "integer", "nullable": True}}
# /openai/v1: OpenAI's Chat Completions API over the systems' Dify apps (docs/openai-api.md). Every answer that is not
# a 2xx is OpenAI's error object, so these operations get their own error answers, not the `{"detail"}` ones above.
openai_tag = "OpenAI API"
openai_security = [{"GatewayKeyBearer": []}]
def openai_error(description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}}
    if headers: response["headers"] = headers
    return response
def retry_after(text):
    return {"description": text, "schema": {"type": "integer", "minimum": 1}}
openai_401 = openai_error("`invalid_api_key`: no key, a wrong one, a browser key or a chat token; `invalid_user_token`: an `X-OpenWebUI-User-Jwt` that does not verify with `OPENWEBUI_USER_JWT_SECRET`.",
    {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}})
openai_401_key = openai_error("`invalid_api_key`: no key, a wrong one, a browser key or a chat token.", openai_401["headers"])
openai_404 = openai_error("`model_not_found`: ``The model `X` does not exist or you do not have access to it.`` The same answer for an unknown model and for one outside the key's scope; Dify is not called.")
openai_431 = openai_error("The request's headers are larger than MAX_HEADER_BYTES (default 16384).")
openai_conversation_headers = {
    "X-Turn-Id": {"$ref": "#/components/headers/TurnId"},
    "X-Conversation-Id": {"description": "Dify's id of the conversation the turn belongs to.", "schema": {"type": "string"}},
    "X-Gateway-Conversation": {"description": "How the request was mapped to a Dify conversation: `continued` (by its conversation key or its history), `new`, `transcript` (a new conversation whose first query carries the earlier turns), or `task` (an auxiliary request, answered outside any conversation).",
        "schema": {"type": "string", "enum": ["continued", "new", "transcript", "task"]}},
    "X-Gateway-Ignored-Parameters": {"description": "The request's parameters that were accepted and ignored, comma-separated (`system_message` when system messages were not passed on); absent when none.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}
def header_param(name, description, schema=None):
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema or {"type": "string"}}
openai_chat_description = (
    "OpenAI's chat completion, answered by the model's Dify app through the same turn path as `POST /v1/chat`: the user's message is stored before Dify is called, "
    "and keys, scopes, rate limits, budgets, the usage ledger, history, metrics, `Idempotency-Key` and reattachable streams apply.\n\n"
    "**Conversations.** Only the new user message (the last message, which must be role `user`) is sent to Dify as the query. The Dify conversation is the one of the request's conversation key "
    "(`X-Conversation-Id`, `X-OpenWebUI-Chat-Id`, then `metadata.conversation_id`; `new` counts as none); else the one whose remembered history equals the request's messages before the last user message; "
    "else a new one, whose first query carries the earlier turns as a bounded transcript (4000 characters). `X-Gateway-Conversation` says which.\n\n"
    "**The end user** is `user`, else the `sub` of `X-OpenWebUI-User-Jwt` (verified with `OPENWEBUI_USER_JWT_SECRET`), else `X-OpenWebUI-User-Id` (only when that secret is unset), else the key's own user `key-<key id>`; the identity rules of `/v1` apply (400, `param` `user`).\n\n"
    "**System messages** go to the app as its input `system_prompt` when the app declares one, and are otherwise ignored (listed as `system_message` in `X-Gateway-Ignored-Parameters`). "
    "**Images** (`image_url` parts of the last user message) go to Dify as files: a `data:` URL uploaded, an http(s) URL as a remote file, within the app's upload settings.\n\n"
    "**Ignored** (accepted, listed in `X-Gateway-Ignored-Parameters`): temperature, top_p, max_tokens, max_completion_tokens, stop, seed, presence_penalty, frequency_penalty, logit_bias, n of 1, "
    "response_format text or json_object, tools and functions with tool_choice or function_call `none`, parallel_tool_calls, reasoning_effort, service_tier, store, modalities, prediction, audio, "
    "web_search_options, verbosity, prompt_cache_key, safety_identifier and any unknown field. **Refused** (400 `unsupported_parameter`, `param` naming it): n > 1, logprobs true, top_logprobs, "
    "tools or functions with any other tool choice (none given counts as auto), response_format json_schema; a `tool` or `function` message or another content part type is 400 `unsupported_value`.\n\n"
    "**Auxiliary requests** (titles, tags, follow-ups), marked by `X-Gateway-Task`, `X-OpenWebUI-Task`, Open WebUI's `### Task:` prompt in a non-streaming request, or LibreChat's title prompt, "
    "are answered outside any conversation and kept out of the user's history.\n\n"
    "**Streaming** (`stream: true`): `chat.completion.chunk` objects with one `id` and `created`; the first delta has `role: assistant`, the last `finish_reason: stop`; "
    "with `stream_options.include_usage` a last chunk with `choices: []` and `usage` (the others `usage: null`); then `data: [DONE]`. Each event has an `id:` line; `: ping` comments keep a quiet stream open. "
    "A failure after the stream began is one `data:` line with an `error` object, and the stream ends without `[DONE]`. `X-Gateway-Reasoning: true` adds agent thoughts and workflow progress as `delta.reasoning_content`. "
    "Dify's files come as markdown in the content (`![](url)`, `[file](url)`). See docs/openai-api.md.")
openai_paths = {
  "/openai/v1/models": {"get": {
    "operationId": "listOpenAIModels", "summary": "The models the key may use", "tags": [openai_tag], "security": openai_security,
    "description": "One model per client system the key's scope permits that has a Dify app, sorted by id. A model's id is the system's `system_id` unless an operator names it (`DIFY_<SYSTEM>_OPENAI_MODEL`, or the admin API's `openai_model`); `created` is the admin system's creation time, 0 for a system the environment configures.",
    "responses": {"200": json_of("OpenAIModelList", "The models"), "401": openai_401_key}}},
  "/openai/v1/models/{model}": {"get": {
    "operationId": "retrieveOpenAIModel", "summary": "One model", "tags": [openai_tag], "security": openai_security,
    "description": "A model of `GET /openai/v1/models`, by its id (a system's own `system_id` is accepted too).",
    "parameters": [{"name": "model", "in": "path", "required": True, "schema": {"type": "string", "example": "drillquiz"}}],
    "responses": {"200": json_of("OpenAIModel", "The model"), "401": openai_401_key, "404": openai_404}}},
  "/openai/v1/chat/completions": {"post": {
    "operationId": "createOpenAIChatCompletion", "summary": "Chat with a model (blocking or streaming)", "tags": [openai_tag], "security": openai_security,
    "description": openai_chat_description,
    "parameters": [
      {"$ref": "#/components/parameters/IdempotencyKey"},
      header_param("X-Conversation-Id", "The client's conversation key: the same key continues the same Dify conversation (for this system and user)."),
      header_param("X-OpenWebUI-Chat-Id", "Open WebUI's chat id (with `ENABLE_FORWARD_USER_INFO_HEADERS`), a conversation key when `X-Conversation-Id` is absent."),
      header_param("X-OpenWebUI-User-Id", "Open WebUI's user id, the end user when the body has no `user` and `OPENWEBUI_USER_JWT_SECRET` is unset."),
      header_param("X-OpenWebUI-User-Jwt", "Open WebUI's signed user (HS256 with `OPENWEBUI_USER_JWT_SECRET`, `iss` `open-webui`, the user in `sub`); the end user when the body has no `user`. One that does not verify is 401."),
      header_param("X-OpenWebUI-Task", "Open WebUI's task name (`{{TASK}}` in a connection header): non-empty marks an auxiliary request."),
      header_param("X-Gateway-Task", "Any non-empty name (`title`, say) marks an auxiliary request: answered outside any conversation."),
      header_param("X-Gateway-Reasoning", "`true`: a stream also carries agent thoughts and workflow progress in `delta.reasoning_content`.", {"type": "string", "enum": ["true", "false"]})],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIChatCompletionRequest"}}}},
    "responses": {
      "200": {"description": "The answer: a `chat.completion`, or with `stream: true` server-sent events, each one `data:` line holding a `chat.completion.chunk` (or, after a failure, an `error` object), then `data: [DONE]`.",
              "headers": openai_conversation_headers,
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIChatCompletion"}},
                          "text/event-stream": {"schema": {"$ref": "#/components/schemas/OpenAIChatCompletionStreamEvent"}}}},
      "400": openai_error("`invalid_request_error`: a body that is not a JSON object, a missing or wrong-typed field or an empty last message (`param` names it), a user id against the identity rules (`param` `user`), "
                          "a malformed `Idempotency-Key` (`invalid_idempotency_key`); `unsupported_parameter`: a parameter that cannot be ignored; `unsupported_value`: a `tool` or `function` message, a content part other than text and image_url, "
                          "or images the app does not take (image upload off, more than its limit)."),
      "401": openai_401,
      "403": openai_error("`permission_denied`: the key or the system may not be used for this request. Rare: a model outside the key's scope, switched off or outside `ALLOWED_SYSTEM_IDS` is 404."),
      "404": openai_404,
      "409": openai_error("`idempotency_key_in_use`: a blocking request repeating an `Idempotency-Key` whose first request is still being answered after `IDEMPOTENCY_WAIT`. The SDKs retry it after `Retry-After`.",
                          {"Retry-After": retry_after("Seconds to wait before repeating it (5).")}),
      "410": openai_error("The user's data is being erased: their chats are refused until the erasure completes (docs/personal-data.md)."),
      "413": openai_error("The body is larger than `MAX_UPLOAD_BYTES`, at most 20 MiB and never less than `MAX_REQUEST_BYTES` (images as `data:` URLs are in the body)."),
      "422": openai_error("`idempotency_key_reused`: the `Idempotency-Key` was used for a different request."),
      "429": openai_error("Type `requests`, code `rate_limit_exceeded`: a rate limit (`Retry-After`) or the user's stream cap. Type and code `insufficient_quota`: a budget is spent (`x-should-retry: false`, so the SDKs do not retry, and `X-Budget-Resets`).",
                          {"Retry-After": retry_after("Seconds until the rate limit allows the next request (absent for the stream cap)."),
                           "x-should-retry": {"description": "`false` for a spent budget: OpenAI's SDKs then do not retry.", "schema": {"type": "string", "enum": ["false"]}},
                           "X-Budget-Resets": {"description": "When a spent budget resets (ISO 8601, UTC).", "schema": {"type": "string", "format": "date-time"}}}),
      "502": openai_error("`api_error` / `upstream_error`: Dify failed or refused the gateway's own Dify key."),
      "503": openai_error("`api_error` / `service_unavailable`: no Dify configured for the system, Dify's circuit breaker open, the gateway's connections to Dify all busy, the database down, or the gateway shutting down.",
                          {"Retry-After": retry_after("Seconds until the breaker lets a trial call through, or until a connection may be free.")}),
      "504": openai_error("`api_error` / `upstream_timeout`: Dify did not answer within `DIFY_TIMEOUT`.")}}},
}
openai_text_part = {"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}
openai_image_part = {"type": "object", "required": ["type", "image_url"], "properties": {"type": {"type": "string", "enum": ["image_url"]},
    "image_url": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "description": "A `data:` URL (uploaded to Dify) or an http(s) URL (passed as a remote file)."},
        "detail": {"type": "string", "enum": ["auto", "low", "high"], "description": "Ignored."}}}},
    "description": "Only in user messages."}
openai_usage = {"type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"], "description": "Dify's usage of the answer.", "properties": {
  "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}}
openai_schemas = {
    "OpenAIError": {"type": "object", "required": ["error"], "additionalProperties": False, "description": "Every error `/openai/v1` answers, in OpenAI's shape; also the `data:` of a stream's last event when the answer failed after the stream began.", "properties": {
      "error": {"type": "object", "required": ["message", "type", "param", "code"], "additionalProperties": False, "properties": {
        "message": {"type": "string"},
        "type": {"type": "string", "enum": ["invalid_request_error", "requests", "insufficient_quota", "api_error"]},
        "param": {"type": "string", "nullable": True, "description": "The request field at fault, when one is"},
        "code": {"type": "string", "nullable": True, "example": "model_not_found", "description": "`invalid_api_key`, `invalid_user_token`, `model_not_found`, `unsupported_parameter`, `unsupported_value`, `invalid_idempotency_key`, `idempotency_key_in_use`, `idempotency_key_reused`, `rate_limit_exceeded`, `insufficient_quota`, `upstream_error`, `service_unavailable`, `upstream_timeout`, or null"}}}}},
    "OpenAIModel": {"type": "object", "required": ["id", "object", "created", "owned_by"], "properties": {
      "id": {"type": "string", "example": "drillquiz"}, "object": {"type": "string", "enum": ["model"]},
      "created": {"type": "integer", "description": "Unix seconds: when the admin system was created; 0 for a system the environment configures"},
      "owned_by": {"type": "string", "enum": ["chat-gateway"]}}},
    "OpenAIModelList": {"type": "object", "required": ["object", "data"], "properties": {
      "object": {"type": "string", "enum": ["list"]}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/OpenAIModel"}}}},
    "OpenAIChatMessage": {"type": "object", "required": ["role"], "additionalProperties": True, "properties": {
      "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"], "description": "`tool` and `function` messages are 400 `unsupported_value`."},
      "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"oneOf": [openai_text_part, openai_image_part]}}], "nullable": True,
                  "description": "Text, or an array of `text` and `image_url` parts (their texts joined by line breaks); absent or null is empty."},
      "name": {"type": "string", "description": "Ignored."}}},
    "OpenAIChatCompletionRequest": {"type": "object", "required": ["model", "messages"], "additionalProperties": True,
      "description": "OpenAI's request. Parameters not listed here are accepted and ignored (named in `X-Gateway-Ignored-Parameters`), except those refused with 400 `unsupported_parameter` (see the operation).",
      "example": {"model": "drillquiz", "messages": [{"role": "user", "content": "hello"}]},
      "properties": {
        "model": {"type": "string", "example": "drillquiz", "description": "A model id of `GET /openai/v1/models`."},
        "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/OpenAIChatMessage"},
                     "description": "The conversation so far; the last message must be a non-empty `user` message, the only one sent to Dify as the query."},
        "stream": {"type": "boolean", "nullable": True},
        "stream_options": {"type": "object", "nullable": True, "additionalProperties": True, "properties": {
          "include_usage": {"type": "boolean", "description": "A last chunk with `choices: []` and the turn's `usage`."}}},
        "user": {"type": "string", "description": "The end user (the gateway's `user_id`); Dify receives `{system_id}_{user}`."},
        "metadata": {"type": "object", "nullable": True, "additionalProperties": {"type": "string"}, "properties": {
          "conversation_id": {"type": "string", "description": "A conversation key, when no `X-Conversation-Id` or `X-OpenWebUI-Chat-Id` header gives one."}}}}},
    "OpenAIUsage": openai_usage,
    "OpenAIChatCompletion": {"type": "object", "required": ["id", "object", "created", "model", "choices", "usage"], "properties": {
      "id": {"type": "string", "pattern": "^chatcmpl-", "description": "`chatcmpl-` and the turn id"},
      "object": {"type": "string", "enum": ["chat.completion"]}, "created": {"type": "integer", "description": "Unix seconds"},
      "model": {"type": "string", "description": "The model as requested"},
      "choices": {"type": "array", "items": {"type": "object", "required": ["index", "message", "finish_reason"], "properties": {
        "index": {"type": "integer"},
        "message": {"type": "object", "required": ["role", "content"], "properties": {
          "role": {"type": "string", "enum": ["assistant"]}, "content": {"type": "string", "description": "Dify's answer"},
          "refusal": {"type": "string", "nullable": True}}},
        "logprobs": {"type": "object", "nullable": True}, "finish_reason": {"type": "string", "enum": ["stop"]}}}},
      "usage": {"$ref": "#/components/schemas/OpenAIUsage"}, "system_fingerprint": {"type": "string", "nullable": True}}},
    "OpenAIChatCompletionChunk": {"type": "object", "required": ["id", "object", "created", "model", "choices"], "properties": {
      "id": {"type": "string", "pattern": "^chatcmpl-", "description": "`chatcmpl-` and the turn id, the same in every chunk"},
      "object": {"type": "string", "enum": ["chat.completion.chunk"]}, "created": {"type": "integer", "description": "Unix seconds, the same in every chunk"},
      "model": {"type": "string"}, "system_fingerprint": {"type": "string", "nullable": True},
      "choices": {"type": "array", "description": "One choice; empty in the usage chunk", "items": {"type": "object", "required": ["index", "delta", "finish_reason"], "properties": {
        "index": {"type": "integer"},
        "delta": {"type": "object", "properties": {
          "role": {"type": "string", "enum": ["assistant"], "description": "In the first chunk"},
          "content": {"type": "string", "description": "Text to append (Dify's files as markdown links)"},
          "reasoning_content": {"type": "string", "description": "Agent thoughts and workflow progress, with `X-Gateway-Reasoning: true`"}}},
        "logprobs": {"type": "object", "nullable": True},
        "finish_reason": {"type": "string", "enum": ["stop"], "nullable": True}}}},
      "usage": {**openai_usage, "nullable": True, "description": "With `stream_options.include_usage`: null in every chunk but the last, which has `choices: []` and Dify's usage"}}},
    # OpenAPI 3.0 cannot describe a whole event stream; as for StreamEvent, the schema is one event as an SSE client
    # parses it, and `contentSchema` (which schemathesis reads) describes the JSON in its data.
    "OpenAIChatCompletionStreamEvent": {"type": "object", "required": ["data"], "description": "One server-sent event of a streamed chat completion: `data:` holds a `chat.completion.chunk`, an `error` object (the stream then ends), or `[DONE]` (the answer is complete).",
      "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's entry in the turn's log"},
        "event": {"type": "string", "enum": ["message"], "description": "No `event:` lines are sent: every event is the default `message`."},
        "data": {"type": "string"}},
      "anyOf": [
        {"properties": {"data": {"type": "string", "enum": ["[DONE]"]}}},
        {"properties": {"data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/OpenAIChatCompletionChunk"}}}},
        {"properties": {"data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/OpenAIError"}}}}]},
}
# Webhooks (docs/webhooks.md): the admin routes over endpoints and their deliveries, and the events they receive.
# OpenAPI 3.0 has no `webhooks` section (3.1 has); the events are schemas (`WebhookEvent` and one per type) and
# `x-webhooks` (Redoc's extension, 3.1's shape: a key rename away) binds each type to its body and headers.
webhook_event_types = ["message.completed", "message.failed", "message.stopped", "message.interrupted", "feedback.created",
    "feedback.updated", "conversation.created", "conversation.renamed", "conversation.deleted", "budget.exceeded",
    "usage.threshold_reached", "webhook.test", "webhook.endpoint.disabled", "user.erased"]
webhook_id = {"name": "endpoint_id", "in": "path", "required": True, "description": "The endpoint's `id` (`ep_…`).", "schema": {"type": "string"}}
def webhook_ref(name):
    return {"$ref": "#/components/schemas/" + name}
def webhook_admin(operation_id, summary, description, responses, parameters=None, request=None):
    return admin(operation_id, summary, description + " See docs/webhooks.md.", responses, parameters=parameters, request=request)
webhook_url_refused = error("The `url` is missing or refused (`detail` says why): not an `https` URL of at most 2048 bytes, user-info or a fragment in it, or a host with an address that is not public (loopback, private, link-local, CGNAT, unspecified, reserved) and not inside `WEBHOOK_ALLOWED_NETWORKS`")
webhook_no_store = {"Cache-Control": {"description": "`no-store`: the answer holds a secret", "schema": {"type": "string", "enum": ["no-store"]}}}
webhook_paths = {
  "/admin/v1/webhooks": {
    "post": webhook_admin("createWebhookEndpoint", "Add a webhook endpoint",
      "The answer holds the endpoint's signing `secret`, shown here only, never again; it is sealed at rest like a system's Dify key. The change is audited.",
      {"201": {**json_of("CreatedWebhookEndpoint", "The endpoint, with its secret"), "headers": webhook_no_store}, "400": webhook_url_refused,
       **errs(401, 403), "409": error("No `CHAT_GATEWAY_ENCRYPTION_KEY`: the secret could not be sealed"),
       **errs(413, 415), "422": error("An invalid body: an unknown event type or an empty `events`, a `system_id` the gateway does not serve, a `description` over 500 characters"), **errs(429)},
      request="WebhookEndpointInput"),
    "get": webhook_admin("listWebhookEndpoints", "List webhook endpoints",
      "Every endpoint, with its delivery figures (`stats`); never a secret.",
      {"200": array_of("WebhookEndpoint", "The endpoints"), **errs(401, 403, 429)})},
  "/admin/v1/webhooks/{endpoint_id}": {
    "get": webhook_admin("getWebhookEndpoint", "One webhook endpoint", "With its delivery figures (`stats`); never its secret.",
      {"200": json_of("WebhookEndpoint", "The endpoint"), **errs(401, 403, 404, 429)}, parameters=[webhook_id]),
    "patch": webhook_admin("updateWebhookEndpoint", "Change a webhook endpoint",
      "Absent fields stay as they are. `enabled: true` clears `disabled_reason` and `failing_since`, and the deliveries the endpoint kept while disabled go out. A new `url` is checked as on creation. The change is audited.",
      {"200": json_of("WebhookEndpoint", "The endpoint"), "400": webhook_url_refused, **errs(401, 403, 404, 413, 415),
       "422": error("An invalid body: an unknown event type or an empty `events`, a `description` over 500 characters, a different `system_id` (it cannot change: create another endpoint)"), **errs(429)},
      parameters=[webhook_id], request="WebhookEndpointUpdate"),
    "delete": webhook_admin("deleteWebhookEndpoint", "Remove a webhook endpoint",
      "With its pending deliveries and its attempts. The change is audited.",
      {"204": {"description": "Removed"}, **errs(401, 403, 404, 429)}, parameters=[webhook_id])},
  "/admin/v1/webhooks/{endpoint_id}/rotate-secret": {
    "post": webhook_admin("rotateWebhookSecret", "Give a webhook endpoint a new secret",
      "The new secret is in this answer only. For 24 hours (until `previous_secret_expires_at`) every delivery carries two signatures, one with each secret, so the receiver can switch without losing a delivery. The change is audited, never the secret.",
      {"200": {**json_of("RotatedWebhookSecret", "The new secret"), "headers": webhook_no_store}, **errs(401, 403, 404),
       "409": error("No `CHAT_GATEWAY_ENCRYPTION_KEY`: the secret could not be sealed"), **errs(429)},
      parameters=[webhook_id])},
  "/admin/v1/webhooks/{endpoint_id}/test": {
    "post": webhook_admin("testWebhookEndpoint", "Send a `webhook.test` event to one endpoint",
      "The event goes to this endpoint only, whatever it subscribes to, through the outbox like any other: its attempts show in the deliveries. The request is audited.",
      {"202": json_of("WebhookTestAccepted", "The event is in the outbox"), **errs(401, 403, 404),
       "409": error("The endpoint is disabled: enable it before sending a test"), **errs(429)},
      parameters=[webhook_id])},
  "/admin/v1/webhooks/{endpoint_id}/deliveries": {
    "get": webhook_admin("listWebhookDeliveries", "A webhook endpoint's delivery attempts",
      "Every attempt to deliver an event to the endpoint, newest first: when, the status code, the latency, the first 1 KB of the answer, the error. Page with `before`, the `id` of the last attempt of the previous page.",
      {"200": json_of("WebhookDeliveryAttempts", "The attempts"), **errs(401, 403, 404),
       "422": error("`limit` is not an integer from 1 to 500"), **errs(429)},
      parameters=[webhook_id,
                  {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                  {"name": "before", "in": "query", "required": False, "description": "An attempt's `id`: only older attempts.", "schema": {"type": "string"}}])},
  "/admin/v1/webhooks/{endpoint_id}/deliveries/{event_id}/replay": {
    "post": webhook_admin("replayWebhookDelivery", "Send one event to the endpoint again",
      "With the same `webhook-id`, a new `webhook-timestamp` and new signatures, on the usual retry schedule. Any event the endpoint takes that is still kept (30 days after its last delivery ended), whether it was delivered, failed or never sent (while the endpoint was disabled). The request is audited.",
      {"202": json_of("WebhookReplayed", "The event is queued again (`replayed`: 1)"), **errs(401, 403),
       "404": error("No such endpoint, or no such event for it (one it does not take, or no longer kept)"), **errs(429)},
      parameters=[webhook_id, {"name": "event_id", "in": "path", "required": True, "description": "The event's id (`msg_…`, the `webhook-id`).", "schema": {"type": "string"}}])},
  "/admin/v1/webhooks/{endpoint_id}/replay": {
    "post": webhook_admin("replayWebhookEvents", "Send the endpoint every event since a time again",
      "Every event the endpoint subscribes to that occurred at or after `since` and is still kept, each with its original `webhook-id` (sent side by side, not necessarily in order). For catching up after an outage longer than the retry schedule. The request is audited.",
      {"202": json_of("WebhookReplayed", "How many events are queued again"), **errs(401, 403, 404, 413, 415),
       "422": error("`since` missing or not an ISO 8601 date-time"), **errs(429)},
      parameters=[webhook_id], request="WebhookReplayRequest")},
}
webhook_stamp = {"type": "string", "format": "date-time", "example": "2026-12-07T10:00:00.000Z"}
webhook_nullable_stamp = {**webhook_stamp, "nullable": True}
webhook_event_choice = {"type": "string", "enum": webhook_event_types + ["*"]}
webhook_events_field = {"type": "array", "items": webhook_event_choice,
    "description": "The event types it receives; `[\"*\"]`: every type, those added later included. `webhook.test` comes whatever this says."}
webhook_events_input = {"type": "array", "minItems": 1, "items": webhook_event_choice,
    "description": "The event types it receives; `[\"*\"]` (or, on creation, none given): every type, those added later included. `webhook.test` comes whatever this says."}
webhook_description = {"type": "string", "maxLength": 500, "description": "What the endpoint is for, for operators"}
webhook_endpoint_fields = {
  "id": {"type": "string", "example": "ep_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"},
  "url": {"type": "string", "example": "https://drillquiz.example.com/hooks/chat"},
  "system_id": {"type": "string", "nullable": True, "example": "drillquiz", "description": "The system whose events it receives; null: every system's"},
  "events": webhook_events_field, "include_content": {"type": "boolean", "description": "Its events carry the fields marked *content*: questions, answers, sources' quotes, feedback reasons, names"},
  "description": {"type": "string", "description": "\"\" when none was given"}, "enabled": {"type": "boolean"},
  "disabled_reason": {"type": "string", "nullable": True, "description": "Why it is disabled: an operator did it, it answered `410 Gone`, or its deliveries all failed for five days; null while enabled"},
  "failing_since": {**webhook_nullable_stamp, "description": "Since when every delivery has failed; null while deliveries succeed"},
  "previous_secret_expires_at": {**webhook_nullable_stamp, "description": "After a rotation, until when the old secret still signs beside the new one"},
  "created_at": webhook_stamp, "updated_at": webhook_stamp,
  "stats": webhook_ref("WebhookEndpointStats")}
webhook_endpoint_required = list(webhook_endpoint_fields)
webhook_secret = {"type": "string", "pattern": "^whsec_[A-Za-z0-9+/]+={0,2}$", "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwC8n2Dg3TTtM=",
    "description": "`whsec_` and the base64 of 32 random bytes, the key of the HMAC-SHA256 signatures; shown in this answer only"}
webhook_turn_ids = {
  "system_id": {"type": "string"}, "user_id": {"type": "string"}, "dify_user": {"type": "string", "description": "`{system_id}_{user_id}`, the user as Dify knows it"},
  "conversation_id": {"type": "string", "description": "The conversation's id (the gateway's and Dify's are one)"},
  "turn_id": {"type": "string", "format": "uuid", "description": "As in `GET /v1/turns/{turn_id}`"},
  "message_id": {"type": "string", "description": "The answer's id, `<dify id>_assistant`, as in the cache API"},
  "question_id": {"type": "string", "description": "The question's id, `<dify id>_user`"},
  "dify_message_id": {"type": "string"}, "task_id": {"type": "string"},
  "channel": {"type": "string", "nullable": True, "enum": ["/v1", "page", "/dify/v1", "/openai/v1", None], "description": "The API the turn came through: `/v1` with an API key, `page` with a chat token (the chat page, the widget)"},
  "sequence": {"type": "integer", "minimum": 1, "description": "The event's number among the conversation's events, from 1"}}
webhook_content = "Only with `include_content: true`."
webhook_source = {"type": "object", "required": ["position", "dataset_id", "dataset_name", "document_id", "document_name", "segment_id", "score"], "properties": {
  "position": {"type": "integer", "nullable": True}, "dataset_id": {"type": "string", "nullable": True}, "dataset_name": {"type": "string", "nullable": True},
  "document_id": {"type": "string", "nullable": True}, "document_name": {"type": "string", "nullable": True}, "segment_id": {"type": "string", "nullable": True},
  "score": {"type": "number", "nullable": True}, "content": {"type": "string", "nullable": True, "description": "The quoted segment. " + webhook_content}}}
def nullable(schema):
    return {**schema, "nullable": True}
webhook_amount = {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Tokens (an integer), or a price (a decimal string, `\"2.00\"`)"}
webhook_budget_fields = {
  "system_id": {"type": "string"}, "user_id": {"type": "string", "nullable": True, "description": "null for a system's budget"},
  "budget": {"type": "object", "required": ["scope", "measure", "limit", "currency", "period"], "properties": {
    "scope": {"type": "string", "enum": ["user", "system"]}, "measure": {"type": "string", "enum": ["tokens", "price"]},
    "limit": webhook_amount, "currency": {"type": "string", "nullable": True, "description": "With `measure: price`"},
    "period": {"type": "string", "enum": ["day", "month"]}}},
  "used": {**webhook_amount, "description": "Used in the period so far, in the budget's measure"},
  "period_start": {"type": "string", "format": "date-time"}, "resets_at": {"type": "string", "format": "date-time"}}
def webhook_envelope(types, data, description):
    return {"type": "object", "required": ["type", "timestamp", "data"], "description": description, "properties": {
      "type": {"type": "string", "enum": types},
      "timestamp": {**webhook_stamp, "description": "When the change happened (ISO 8601, UTC, milliseconds); the same on every attempt"},
      "data": webhook_ref(data)}}
# Each event type: its envelope schema, its data schema, and what `x-webhooks` says of it.
webhook_event_docs = [
  ("message.completed", "WebhookMessageCompleted", "A turn's answer is stored complete."),
  ("message.failed", "WebhookMessageEnded", "A turn ended without a complete answer: Dify refused, broke off, timed out or was down."),
  ("message.stopped", "WebhookMessageEnded", "The user stopped a turn's answer."),
  ("message.interrupted", "WebhookMessageEnded", "The gateway stopped during a turn and Dify had no complete answer for it."),
  ("feedback.created", "WebhookFeedback", "A rating is given to an answer that had none."),
  ("feedback.updated", "WebhookFeedback", "An answer's rating is changed, or withdrawn (`rating: null`)."),
  ("conversation.created", "WebhookConversationCreated", "A turn started a conversation."),
  ("conversation.renamed", "WebhookConversationRenamed", "A conversation was renamed."),
  ("conversation.deleted", "WebhookConversationDeleted", "A conversation was deleted."),
  ("budget.exceeded", "WebhookBudgetExceeded", "A budget refused a chat, the first time in its period."),
  ("usage.threshold_reached", "WebhookUsageThresholdReached", "Usage reached 50, 80 or 100 % of a budget, once each per period."),
  ("webhook.test", "WebhookTest", "`POST /admin/v1/webhooks/{endpoint_id}/test` asked for it."),
  ("webhook.endpoint.disabled", "WebhookEndpointDisabled", "An endpoint was disabled for failing."),
  ("user.erased", "WebhookUserErased", "A user's erasure completed; the event names them only by their pseudonym."),
]
def webhook_types(name):
    return [t for t, n, _ in webhook_event_docs if n == name]
# The erased person's name and the erasure's counts, in the receipt and in `user.erased` (docs/personal-data.md).
erasure_subject = {"type": "string", "pattern": "^erased_[0-9a-f]{32}$", "example": "erased_5f0c2a9be1d84c7a93f6e2b0d1c4a8f7",
    "description": "The erased person's pseudonym: `erased_` and 32 hex digits of an HMAC-SHA256 of the system and user ids under a key derived from CHAT_GATEWAY_JWT_SECRET; never the user id"}
erasure_counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
    "description": "Rows deleted in the gateway, per kind: `conversations`, `messages`, `turn_events`, `feedback`, `idempotency_records`, `webhook_events`, `files`, `conversation_mappings`, `users`, `rate_limit_buckets`, `budget_holds`",
    "example": {"conversations": 3, "messages": 12, "turn_events": 4, "feedback": 1, "idempotency_records": 2, "webhook_events": 5,
                "files": 1, "conversation_mappings": 1, "users": 1, "rate_limit_buckets": 0, "budget_holds": 0}}
webhook_schemas = {
    "WebhookEndpointInput": {"type": "object", "required": ["url"], "properties": {
      "url": {"type": "string", "description": "`https`, to a host whose every address is public (or, over `http` too, inside `WEBHOOK_ALLOWED_NETWORKS`); redirects are never followed"},
      "system_id": {"type": "string", "nullable": True, "example": "drillquiz", "description": "Absent or null: every system's events"},
      "events": webhook_events_input, "include_content": {"type": "boolean", "default": False}, "description": webhook_description}},
    "WebhookEndpointUpdate": {"type": "object", "description": "Absent fields stay as they are.", "properties": {
      "enabled": {"type": "boolean", "description": "true also clears `disabled_reason` and `failing_since`"}, "events": webhook_events_input,
      "include_content": {"type": "boolean"}, "description": webhook_description,
      "url": {"type": "string", "description": "Checked as on creation"}}},
    "WebhookEndpointStats": {"type": "object", "required": ["attempts_24h", "succeeded_24h", "success_rate_24h", "pending", "failed"], "properties": {
      "attempts_24h": {"type": "integer", "description": "Attempts in the last 24 hours"}, "succeeded_24h": {"type": "integer"},
      "success_rate_24h": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1, "description": "succeeded_24h / attempts_24h; null without attempts"},
      "pending": {"type": "integer", "description": "Deliveries waiting for their next attempt"},
      "failed": {"type": "integer", "description": "Deliveries that failed their last attempt (and can be replayed)"}}},
    "WebhookEndpoint": {"type": "object", "required": webhook_endpoint_required, "properties": webhook_endpoint_fields},
    "CreatedWebhookEndpoint": {"type": "object", "required": webhook_endpoint_required + ["secret"], "properties": {**webhook_endpoint_fields, "secret": webhook_secret}},
    "RotatedWebhookSecret": {"type": "object", "required": ["id", "secret", "previous_secret_expires_at"], "properties": {
      "id": {"type": "string"}, "secret": webhook_secret,
      "previous_secret_expires_at": {**webhook_stamp, "description": "Until when the old secret still signs beside the new one (24 hours)"}}},
    "WebhookTestAccepted": {"type": "object", "required": ["event_id"], "properties": {
      "event_id": {"type": "string", "example": "msg_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "description": "The `webhook.test` event's id, its `webhook-id`"}}},
    "WebhookReplayRequest": {"type": "object", "required": ["since"], "properties": {
      "since": {"type": "string", "format": "date-time", "example": "2026-12-01T00:00:00Z"}}},
    "WebhookReplayed": {"type": "object", "required": ["replayed"], "properties": {
      "replayed": {"type": "integer", "minimum": 0, "description": "Events queued again for the endpoint"}}},
    "WebhookDeliveryAttempt": {"type": "object", "required": ["id", "event_id", "event_type", "attempt", "attempted_at", "status_code", "latency_ms", "response", "error", "succeeded", "result", "delivery_status"], "properties": {
      "id": {"type": "string", "description": "The attempt's id, for `before`"},
      "event_id": {"type": "string", "description": "The event's id, its `webhook-id`"},
      "event_type": {"type": "string", "nullable": True, "enum": webhook_event_types + [None], "description": "null once the event is no longer kept"},
      "attempt": {"type": "integer", "minimum": 1, "description": "Which attempt of the delivery, from 1"},
      "attempted_at": webhook_stamp,
      "status_code": {"type": "integer", "nullable": True, "description": "The receiver's HTTP status; null when no answer came (timeout, unreachable, refused address)"},
      "latency_ms": {"type": "integer", "description": "From sending to the answer (or the failure)"},
      "response": {"type": "string", "description": "The first 1 KB of the answer's body"},
      "error": {"type": "string", "nullable": True, "description": "Why the attempt failed, when it did without an answer or with a non-2xx one"},
      "succeeded": {"type": "boolean", "description": "A 2xx answer within 15 seconds"},
      "result": {"type": "string", "example": "http_error", "description": "The attempt's outcome, as `chatgw_webhook_deliveries_total` counts it: `success`, `http_error`, `redirect`, `gone`, `timeout`, `unreachable` or `refused` (the address, after DNS)"},
      "delivery_status": {"type": "string", "nullable": True, "enum": ["pending", "succeeded", "failed", None], "description": "Where the delivery this attempt belongs to stands now; null once it is no longer kept"}}},
    "WebhookDeliveryAttempts": {"type": "object", "required": ["data"], "properties": {
      "data": {"type": "array", "items": webhook_ref("WebhookDeliveryAttempt")}}},
    "WebhookEvent": {"description": "The body of every webhook delivery, `{\"type\", \"timestamp\", \"data\"}`, signed per Standard Webhooks: the headers `webhook-id` (the event's id, the same on every retry and replay), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` (`v1,<base64 of HMAC-SHA256 over \"<webhook-id>.<webhook-timestamp>.<body>\">`, keyed with the secret's bytes after `whsec_`; two, space-separated, while a rotated secret still signs). Verify the raw body. See docs/webhooks.md.",
      "oneOf": [webhook_ref(n) for n in dict.fromkeys(n for _, n, _ in webhook_event_docs)],
      "discriminator": {"propertyName": "type", "mapping": {t: "#/components/schemas/" + n for t, n, _ in webhook_event_docs}}},
    "WebhookMessageCompleted": webhook_envelope(webhook_types("WebhookMessageCompleted"), "WebhookMessageCompletedData", "`message.completed`: a turn's answer is stored complete."),
    "WebhookMessageCompletedData": {"type": "object", "required": list(webhook_turn_ids) + ["status", "usage", "sources", "created_at"], "properties": {
      **webhook_turn_ids, "status": {"type": "string", "enum": ["completed"], "description": "The turn's state, as in `GET /v1/turns/{turn_id}`"},
      "usage": {"type": "object", "nullable": True, "description": "Dify's usage of the answer; null when it sent none", "required": ["prompt_tokens", "completion_tokens", "total_tokens", "total_price", "currency", "latency_ms"], "properties": {
        "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
        "total_price": {"type": "string", "nullable": True, "description": "A decimal, as Dify sent it"}, "currency": {"type": "string", "nullable": True},
        "latency_ms": {"type": "integer", "nullable": True, "description": "Dify's own latency"}}},
      "sources": {"type": "array", "items": webhook_source, "description": "The answer's sources, as Dify cited them ([] for none)"},
      "created_at": {**webhook_stamp, "description": "When the answer was stored"},
      "question": {"type": "string", "description": webhook_content}, "answer": {"type": "string", "description": webhook_content}}},
    "WebhookMessageEnded": webhook_envelope(webhook_types("WebhookMessageEnded"), "WebhookMessageEndedData", "`message.failed`, `message.stopped`, `message.interrupted`: a turn ended without a complete answer."),
    "WebhookMessageEndedData": {"type": "object", "required": ["system_id", "user_id", "dify_user", "conversation_id", "turn_id", "message_id", "question_id", "dify_message_id", "task_id", "channel", "status", "error", "partial_length", "created_at"], "properties": {
      **{k: nullable(v) for k, v in webhook_turn_ids.items() if k in ("conversation_id", "message_id", "question_id", "dify_message_id", "task_id")},
      **{k: v for k, v in webhook_turn_ids.items() if k in ("system_id", "user_id", "dify_user", "turn_id", "channel")},
      "sequence": {**webhook_turn_ids["sequence"], "description": "The event's number among the conversation's events; `null` when the turn has no conversation (Dify never named one)", "nullable": True},
      "status": {"type": "string", "enum": ["failed", "stopped", "interrupted"], "description": "The turn's state, as in `GET /v1/turns/{turn_id}`"},
      "error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "example": "dify_timeout", "description": "A stable code: Dify's own error code, or `dify_timeout`, `dify_unreachable`, `dify_circuit_open`, `stopped`, `interrupted`, …"},
        "message": {"type": "string"}}},
      "partial_length": {"type": "integer", "minimum": 0, "description": "Characters of the answer that had arrived"},
      "created_at": {**webhook_stamp, "description": "When the turn's end was stored"},
      "question": {"type": "string", "description": webhook_content}, "partial_answer": {"type": "string", "description": "What had arrived of the answer. " + webhook_content}}},
    "WebhookFeedback": webhook_envelope(webhook_types("WebhookFeedback"), "WebhookFeedbackData", "`feedback.created`, `feedback.updated`: a rating given, changed or withdrawn."),
    "WebhookFeedbackData": {"type": "object", "required": ["system_id", "user_id", "conversation_id", "message_id", "dify_message_id", "rating", "previous_rating"], "properties": {
      "system_id": {"type": "string"}, "user_id": {"type": "string"}, "conversation_id": {"type": "string", "nullable": True},
      "message_id": webhook_turn_ids["message_id"], "dify_message_id": {"type": "string"},
      "rating": {"type": "string", "nullable": True, "enum": ["like", "dislike", None], "description": "null: withdrawn"},
      "previous_rating": {"type": "string", "nullable": True, "enum": ["like", "dislike", None]},
      "sequence": webhook_turn_ids["sequence"],
      "content": {"type": "string", "nullable": True, "description": "The reason the user gave. " + webhook_content}}},
    "WebhookConversationCreated": webhook_envelope(["conversation.created"], "WebhookConversationCreatedData", "`conversation.created`: a turn started a conversation."),
    "WebhookConversationCreatedData": {"type": "object", "required": ["system_id", "user_id", "conversation_id", "channel", "sequence"], "properties": {
      k: webhook_turn_ids[k] for k in ("system_id", "user_id", "conversation_id", "channel", "sequence")}},
    "WebhookConversationRenamed": webhook_envelope(["conversation.renamed"], "WebhookConversationRenamedData", "`conversation.renamed`."),
    "WebhookConversationRenamedData": {"type": "object", "required": ["system_id", "user_id", "conversation_id", "sequence"], "properties": {
      **{k: webhook_turn_ids[k] for k in ("system_id", "user_id", "conversation_id", "sequence")},
      "name": {"type": "string", "nullable": True, "description": "The new name. " + webhook_content}}},
    "WebhookConversationDeleted": webhook_envelope(["conversation.deleted"], "WebhookConversationDeletedData", "`conversation.deleted`."),
    "WebhookConversationDeletedData": {"type": "object", "required": ["system_id", "user_id", "conversation_id", "sequence"], "properties": {
      k: webhook_turn_ids[k] for k in ("system_id", "user_id", "conversation_id", "sequence")}},
    "WebhookBudgetExceeded": webhook_envelope(["budget.exceeded"], "WebhookBudgetData", "`budget.exceeded`: a budget's first refusal in its period."),
    "WebhookBudgetData": {"type": "object", "required": list(webhook_budget_fields), "properties": webhook_budget_fields},
    "WebhookUsageThresholdReached": webhook_envelope(["usage.threshold_reached"], "WebhookUsageThresholdData", "`usage.threshold_reached`: usage reached 50, 80 or 100 % of a budget."),
    "WebhookUsageThresholdData": {"type": "object", "required": list(webhook_budget_fields) + ["threshold"], "properties": {
      **webhook_budget_fields, "threshold": {"type": "integer", "enum": [50, 80, 100], "description": "Percent of the budget's limit"}}},
    "WebhookTest": webhook_envelope(["webhook.test"], "WebhookTestData", "`webhook.test`: sent on request to one endpoint."),
    "WebhookTestData": {"type": "object", "required": ["endpoint_id", "message"], "properties": {
      "endpoint_id": {"type": "string"}, "message": {"type": "string"}}},
    "WebhookEndpointDisabled": webhook_envelope(["webhook.endpoint.disabled"], "WebhookEndpointDisabledData", "`webhook.endpoint.disabled`: an endpoint was disabled for failing."),
    "WebhookEndpointDisabledData": {"type": "object", "required": ["endpoint_id", "url", "system_id", "reason", "failing_since"], "properties": {
      "endpoint_id": {"type": "string"}, "url": {"type": "string"}, "system_id": {"type": "string", "nullable": True},
      "reason": {"type": "string", "description": "The endpoint's `disabled_reason`"}, "failing_since": webhook_nullable_stamp}},
    "WebhookUserErased": webhook_envelope(["user.erased"], "WebhookUserErasedData", "`user.erased`: a user's erasure completed (docs/personal-data.md)."),
    "WebhookUserErasedData": {"type": "object", "required": ["erasure_id", "system_id", "subject", "completed_at", "gateway", "dify_conversations_deleted"], "properties": {
      "erasure_id": {"type": "string", "example": "era_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "description": "The erasure's id, as `POST …/erasure` answered it: match on it"},
      "system_id": {"type": "string"}, "subject": erasure_subject,
      "completed_at": webhook_stamp, "gateway": erasure_counts,
      "dify_conversations_deleted": {"type": "integer", "minimum": 0}}},
}
# Personal data (docs/personal-data.md): legal holds, a user's erasure and its receipts, a user's export.
lifecycle_doc = " See docs/personal-data.md."
conversation_param = {"name": "conversation_id", "in": "path", "required": True, "description": "The conversation's id (Dify's)", "schema": {"type": "string"}}
subject_params = [path_param("system_id"),
    {"name": "user_id", "in": "path", "required": True, "description": "The user, exactly as the client system sends it (percent-encoded)", "schema": {"$ref": "#/components/schemas/UserID"}}]
erasure_param = {"name": "erasure_id", "in": "path", "required": True, "description": "The erasure's `id` (`era_…`)", "schema": {"type": "string"}}
export_format = {"name": "format", "in": "query", "required": False, "description": "`json` (one document, the default) or `jsonl` (JSON Lines: one object per line with its `type`); another value is 422",
    "schema": {"type": "string", "enum": ["json", "jsonl"], "default": "json"}}
export_answer = {"description": "The export, streamed (chunked) with bounded memory. A user the gateway holds nothing of: empty arrays, not 404. JSON Lines: an `export` line `{type, system_id, user_id, exported_at}`, then `conversation` lines (without their messages), `message` lines (with `conversation_id`), `file` and `usage` lines, each `{\"type\": ..., ...}` with the fields of the JSON document's items.",
    "headers": {"Content-Disposition": {"description": "`attachment; filename=\"<system>-<user>-export.json\"` (`.jsonl`), the user id made safe for a file name", "schema": {"type": "string"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserExport"}}, "application/x-ndjson": {"schema": {"type": "string"}}}}
# The erasure, its receipt and the export also take a server key (X-API-Key) whose scope includes the system.
def lifecycle_admin(operation_id, summary, description, responses, parameters=None, request=None, server_key=False):
    operation = admin(operation_id, summary, description + lifecycle_doc, responses, parameters=parameters, request=request)
    if server_key: operation["security"] = [{"AdminKey": []}, {"ApiKey": []}]
    return operation
legal_hold_put = lifecycle_admin("placeLegalHold", "Put a conversation on legal hold",
  "Retention skips a conversation on hold, and its user cannot be erased (409) until the hold is released. Placing a hold again replaces its reason. Audited (`conversation.legal_hold`).",
  {"200": json_of("LegalHold", "The hold"), **errs(401, 403, 404, 413, 415, 422, 429)}, parameters=[conversation_param])
legal_hold_put["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LegalHoldInput"}}}}
lifecycle_paths = {
  "/admin/v1/conversations/{conversation_id}/legal-hold": {
    "get": lifecycle_admin("getLegalHold", "A conversation's legal hold", "`legal_hold` false when it has none.",
      {"200": json_of("LegalHold", "The hold"), **errs(401, 403, 404, 429)}, parameters=[conversation_param]),
    "put": legal_hold_put,
    "delete": lifecycle_admin("releaseLegalHold", "Release a conversation's legal hold", "Retention applies to it again. Audited (`conversation.legal_hold_released`).",
      {"200": json_of("LegalHold", "No hold (`legal_hold` false)"), **errs(401, 403, 404, 429)}, parameters=[conversation_param])},
  "/admin/v1/systems/{system_id}/users/{user_id}/erasure": {
    "post": lifecycle_admin("eraseUser", "Erase a user, in the gateway and in Dify",
      "Starts the erasure and answers its receipt (`running`); the same request while that user's erasure runs answers the running one. Steps: refuse the user's chats (410) and stop their streams; list every conversation of the user in the system's Dify app (all pages), delete each and confirm it is gone; delete the user's data in the gateway; replace the user id in the usage sums with the pseudonym; emit `user.erased` and audit it; make the storage engine forget the deleted bytes. Follow it with `GET /admin/v1/erasures/{erasure_id}`. Also for a server key whose scope includes the system.",
      {"202": {**json_of("ErasureReceipt", "The erasure started, or the one already running"),
               "headers": {"Location": {"description": "`/admin/v1/erasures/{erasure_id}`", "schema": {"type": "string"}}}},
       **errs(401, 403), "404": error("Unknown system"),
       "409": error("A conversation of the user is on legal hold: nothing started"),
       "422": error("An invalid user id"), **errs(429)},
      parameters=subject_params, server_key=True)},
  "/admin/v1/erasures": {
    "get": lifecycle_admin("listErasures", "Erasures, newest first", "Their receipts. Admin only.",
      {"200": json_of("ErasureList", "The receipts"), **errs(401, 403, 422, 429)},
      parameters=[{"name": "system_id", "in": "query", "required": False, "description": "Only this system's", "schema": {"type": "string"}},
                  {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}])},
  "/admin/v1/erasures/{erasure_id}": {
    "get": lifecycle_admin("getErasure", "An erasure's receipt",
      "Its status, times, each step, what was deleted in the gateway and in each Dify app, retries, and what Dify keeps that its API cannot delete. A server key sees only its systems' erasures (404 for others).",
      {"200": json_of("ErasureReceipt", "The receipt"), **errs(401, 403, 404, 429)}, parameters=[erasure_param], server_key=True)},
  "/admin/v1/systems/{system_id}/users/{user_id}/export": {
    "get": lifecycle_admin("exportUser", "Everything the gateway holds about a user, as JSON or JSON Lines",
      "Conversations, messages with their status, sources, files and feedback, files' metadata, usage per day. Also for a server key whose scope includes the system.",
      {"200": export_answer, **errs(401, 403, 404, 422, 429)}, parameters=subject_params + [export_format], server_key=True)},
  "/v1/me/export": {"get": {
    "operationId": "exportMyData", "summary": "The signed-in user's own export (the chat page's \"Download my data\")",
    "description": "The export of `GET /admin/v1/systems/{system_id}/users/{user_id}/export` for the chat token's system and user, when the system's `self_export` is on." + lifecycle_doc,
    "security": [{"BearerToken": []}, {"QueryToken": []}], "parameters": [export_format, tok],
    "responses": {"200": export_answer, "401": error("No chat token, or an invalid one"),
                  "403": error("This system does not offer self-service export (`self_export` is off), or the caller is not a chat token"),
                  "422": error("Another `format`")}}},
}
export_usage = {"type": "object", "required": ["day", "currency", "chats", "completed", "failed", "prompt_tokens", "completion_tokens", "total_tokens", "total_price"], "properties": {
  "day": {"type": "string", "format": "date"}, "currency": {"type": "string", "nullable": True},
  "chats": {"type": "integer"}, "completed": {"type": "integer"}, "failed": {"type": "integer"},
  "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
  "total_price": {"type": "string", "nullable": True, "description": "A decimal, summed exactly"}}}
lifecycle_schemas = {
    "LegalHoldInput": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500, "description": "Why it is held, for the audit log and the console"}}},
    "LegalHold": {"type": "object", "required": ["conversation_id", "legal_hold"], "properties": {
      "conversation_id": {"type": "string"}, "legal_hold": {"type": "boolean"},
      "reason": {"type": "string", "nullable": True}, "held_at": {"type": "string", "format": "date-time", "nullable": True, "description": "Since when it is held"}}},
    "ErasureStep": {"type": "object", "required": ["name", "status", "finished_at", "detail"], "properties": {
      "name": {"type": "string", "enum": ["refuse_new_chats", "dify", "gateway", "ledger", "notify", "storage"]},
      "status": {"type": "string", "enum": ["pending", "running", "completed", "failed"]},
      "finished_at": {"type": "string", "format": "date-time", "nullable": True},
      "detail": {"type": "string", "nullable": True, "description": "What the step noted, or why it failed"}}},
    "ErasureDifyApp": {"type": "object", "required": ["app", "conversations_found", "conversations_deleted", "confirmed_gone", "retries"], "properties": {
      "app": {"type": "string", "example": "https://dify.example.com (key …9f2c)", "description": "The Dify server and the last characters of the app's key, never the key"},
      "conversations_found": {"type": "integer", "minimum": 0}, "conversations_deleted": {"type": "integer", "minimum": 0},
      "confirmed_gone": {"type": "boolean", "description": "Dify listed none of the user's conversations afterwards"},
      "retries": {"type": "integer", "minimum": 0}}},
    "ErasureReceipt": {"type": "object", "description": "What an erasure did, step by step. It names the person only by the pseudonym.",
      "required": ["id", "status", "system_id", "subject", "requested_by", "started_at", "finished_at", "error", "steps", "gateway", "dify", "dify_conversations_deleted", "retries", "ledger", "storage", "dify_keeps", "dify_version"], "properties": {
      "id": {"type": "string", "example": "era_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"},
      "status": {"type": "string", "enum": ["running", "completed", "failed"]},
      "system_id": {"type": "string"}, "subject": erasure_subject,
      "requested_by": {"type": "string", "example": "admin:1a2b3c4d", "description": "`admin:` and the admin key's fingerprint, or `key:` and the server key's id"},
      "started_at": {"type": "string", "format": "date-time"}, "finished_at": {"type": "string", "format": "date-time", "nullable": True},
      "error": {"type": "string", "nullable": True, "description": "Why a failed erasure failed"},
      "steps": {"type": "array", "items": {"$ref": "#/components/schemas/ErasureStep"}},
      "gateway": erasure_counts,
      "dify": {"type": "array", "items": {"$ref": "#/components/schemas/ErasureDifyApp"}, "description": "Each Dify app the system uses ([] without one)"},
      "dify_conversations_deleted": {"type": "integer", "minimum": 0}, "retries": {"type": "integer", "minimum": 0, "description": "Dify calls retried (429, 5xx)"},
      "ledger": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "`usage_rows_pseudonymized`: daily usage rows moved to the pseudonym; {} until that step ran"},
      "storage": {"type": "object", "nullable": True, "description": "The storage engine's clean-up, the last step; null until it ran", "required": ["engine", "secure_delete", "wal_checkpoint", "vacuumed"], "properties": {
        "engine": {"type": "string", "enum": ["sqlite", "postgresql"]}, "secure_delete": {"type": "boolean", "description": "SQLite: freed pages are overwritten with zeros"},
        "wal_checkpoint": {"type": "string", "nullable": True, "enum": ["truncated", "busy", None], "description": "SQLite: the WAL was checkpointed and truncated, or readers kept it busy"},
        "vacuumed": {"type": "array", "items": {"type": "string"}, "description": "PostgreSQL: the tables vacuumed"}}},
      "dify_keeps": {"type": "array", "items": {"type": "string"}, "description": "What Dify keeps that its Service API cannot delete (its end-user row, uploaded files, chatflow run and node records, external tracing, …): to remove in Dify itself"},
      "dify_version": {"type": "string", "description": "Which Dify versions `dify_keeps` holds for (the Service API does not report its version)"}}},
    "ErasureList": {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/ErasureReceipt"}}}},
    "ExportMessage": {"type": "object", "required": ["message_id", "role", "content", "status", "created_at"], "properties": {
      "conversation_id": {"type": "string", "description": "In JSON Lines only"},
      "message_id": {"type": "string"}, "role": {"type": "string", "enum": ["user", "assistant"]},
      "content": {"type": "string", "description": "Exactly as stored"}, "status": {"type": "string"},
      "error": {"type": "string", "nullable": True}, "created_at": {"type": "string", "format": "date-time"},
      "sources": {"type": "array", "items": {"$ref": "#/components/schemas/RetrieverResource"}},
      "files": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
      "feedback": {"type": "object", "nullable": True, "properties": {"rating": {"type": "string", "enum": ["like", "dislike"]}, "content": {"type": "string", "nullable": True}}},
      "usage": {"type": "object", "nullable": True, "properties": {
        "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
        "total_price": {"type": "string", "nullable": True}, "currency": {"type": "string", "nullable": True}, "latency_ms": {"type": "integer", "nullable": True}}}}},
    "ExportConversation": {"type": "object", "required": ["conversation_id", "created_at", "updated_at", "legal_hold"], "properties": {
      "conversation_id": {"type": "string"}, "name": {"type": "string", "nullable": True},
      "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
      "legal_hold": {"type": "boolean"},
      "messages": {"type": "array", "items": {"$ref": "#/components/schemas/ExportMessage"}, "description": "In conversation order; not in JSON Lines' conversation lines"}}},
    "ExportFile": {"type": "object", "additionalProperties": True, "description": "A file sent with a message: its metadata, as the message keeps it", "properties": {
      "message_id": {"type": "string"}, "conversation_id": {"type": "string", "nullable": True}, "type": {"type": "string"},
      "transfer_method": {"type": "string"}, "url": {"type": "string"}, "upload_file_id": {"type": "string"}}},
    "UserExport": {"type": "object", "required": ["system_id", "user_id", "exported_at", "conversations", "messages_without_conversation", "files", "usage"], "properties": {
      "system_id": {"type": "string"}, "user_id": {"type": "string"}, "exported_at": {"type": "string", "format": "date-time"},
      "conversations": {"type": "array", "items": {"$ref": "#/components/schemas/ExportConversation"}},
      "messages_without_conversation": {"type": "array", "items": {"$ref": "#/components/schemas/ExportMessage"}, "description": "Messages Dify never acknowledged (no conversation)"},
      "files": {"type": "array", "items": {"$ref": "#/components/schemas/ExportFile"}},
      "usage": {"type": "array", "items": export_usage, "description": "The user's usage per UTC day and currency"}}},
}
webhook_headers = [
  {"name": "webhook-id", "in": "header", "required": True, "description": "The event's id (`msg_…`): the same on every retry and replay. Deduplicate on it.", "schema": {"type": "string", "example": "msg_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"}},
  {"name": "webhook-timestamp", "in": "header", "required": True, "description": "Unix seconds of this attempt. Reject one more than five minutes from now.", "schema": {"type": "string", "pattern": "^[0-9]+$", "example": "1796637600"}},
  {"name": "webhook-signature", "in": "header", "required": True, "description": "`v1,<base64 of HMAC-SHA256 over \"<webhook-id>.<webhook-timestamp>.<body>\">`, keyed with the base64-decoded part of the secret after `whsec_`; two, separated by a space, while a rotated secret still signs.", "schema": {"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"}}]
webhook_callbacks = {event_type: {"post": {
    "operationId": "webhook_" + event_type.replace(".", "_"), "summary": event_type, "description": when + " See docs/webhooks.md.", "tags": ["Webhooks"],
    "parameters": webhook_headers,
    "requestBody": {"required": True, "content": {"application/json": {"schema": webhook_ref(name)}}},
    "responses": {"2XX": {"description": "Received: the delivery succeeded (within 15 seconds)."},
                  "410": {"description": "Gone: the endpoint is disabled at once."},
                  "default": {"description": "Anything else, a redirect included: the attempt failed and is retried on `WEBHOOK_RETRY_SCHEDULE` (or after a longer `Retry-After`)."}}}}
    for event_type, name, when in webhook_event_docs}
spec = {
 "openapi": "3.0.3",
 "info": {"title": "Chat Gateway", "version": "1.0.0",
   "description": "Gateway in front of Dify's Service API. Client systems call only this API; the gateway owns users and conversations and records every message. Errors are JSON `{\"detail\": \"...\"}` (under `/dify/v1` Dify's error body, under `/openai/v1` OpenAI's)."},
 "servers": [{"url": "/"}],
 "tags": [{"name": openai_tag, "description": "OpenAI's Chat Completions API over the client systems' Dify apps: an OpenAI client (the `openai` SDKs, LangChain, LiteLLM, Open WebUI, LibreChat) switches by base URL and key. A model is a system's Dify app. Errors are OpenAI's `{\"error\": {...}}`. See docs/openai-api.md."}],
 "paths": {
  "/v1/chat": {"post": {
    "operationId": "chat", "summary": "Send a message (blocking) and get the answer",
    "description": "The user's message is stored before Dify is called and stays stored (marked failed) whatever Dify does. The Dify user is `{system_id}_{user_id}`. Limited per user (`RATE_LIMIT_PER_USER`), per API key (`RATE_LIMIT_PER_KEY`) and in concurrent streams per user (`MAX_STREAMS_PER_USER`): 429, before anything is stored.\n\nThe message and its answer are a turn, named in `X-Turn-Id` (and in the stream's `start` event): `GET /v1/turns/{turn_id}` gives its state and `GET /v1/turns/{turn_id}/events` its events from any point, also after the client left.\n\nWith an `Idempotency-Key`, a repeat of the request (the same caller, body and mode) is answered from the first request's turn without calling Dify, and before any rate limit or budget counts it: a stream gets the turn's events from the start (live while it runs), a blocking request the first one's status and body, waiting up to `IDEMPOTENCY_WAIT` while it runs (then 409). Those answers carry `Idempotent-Replayed: true` (a stream only when the turn had already ended). The same key with another request is 422, a malformed key 400. A request that never reached Dify (a refused connection, an open breaker, Dify's 502/503/504) frees its key for a retry; keys are remembered for `IDEMPOTENCY_TTL`. See docs/api.md.",
    "security": sec_any, "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}, tok],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
    "responses": {"200": {"description": "Dify's answer: JSON, or with `stream: true` / `Accept: text/event-stream` a stream of server-sent events. " + stream_events,
                          "headers": {**turn_header, "Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}},
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatResponse"}},
                                      "text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEvent"}}}},
                  "400": error("`system_id` and `user_id` missing with an API key, or an `Idempotency-Key` that is not 1 to 255 printable ASCII characters"),
                  **errs(401, 403, 404),
                  "409": {"$ref": "#/components/responses/IdempotencyInProgress"},
                  "410": error("The user's data is being erased: their chats are refused until the erasure completes (docs/personal-data.md)"),
                  **errs(413, 415),
                  "422": error("An invalid body or ids, or an `Idempotency-Key` already used for a different request (`This Idempotency-Key was used for a different request: send a new key`)"),
                  **errs(502, 503, 504),
                  "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
  "/v1/chat/{task_id}/stop": {"post": {
    "operationId": "stopChat", "summary": "Stop a streaming answer",
    "description": "The stored answer is whatever arrived, marked stopped; the stream ends with `done` and `stopped: true`. Only the user who started it may stop it (404 otherwise).",
    "security": sec_any, "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "requestBody": {"required": False, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IdentityBody"}}}},
    "responses": {"200": {"description": "Stopped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
                  **errs(400, 401, 403, 404, 415, 422, 502, 503, 504)}}},
  "/v1/turns/{turn_id}": {"get": {
    "operationId": "getTurn", "summary": "A turn's state and its answer so far",
    "description": "A turn is one user message and its answer: `accepted` (stored, Dify asked) → `streaming` → `completed`, `failed`, `stopped` or `interrupted`. `text` is the answer so far (the stored answer once the turn ended) and `last_event_id` the id of the last event it includes. Only the turn's owner may read it, with the same key or chat token rules as the conversation endpoints: another user's turn, or an id that is no turn, is 404.",
    "security": sec_any, "parameters": [turn_id, sid, uid, tok],
    "responses": {"200": json_of("Turn", "The turn"), **errs(400, 401, 403, 404, 422, 503)}}},
  "/v1/turns/{turn_id}/events": {"get": {
    "operationId": "turnEvents", "summary": "A turn's events, from where the client left off",
    "description": "The events of the turn's stream as `POST /v1/chat` sends them (the same names, ids and ending), after `Last-Event-ID` (the header an `EventSource` sends when it reconnects) or `?after=N`; with neither, from the start. First what the client missed, then the live events, then `done` or `error`. Once a turn has ended its events are no longer held one by one: what the client missed comes as one `sync` event (the answer so far, replacing what the client has), then the last event. A turn running on another replica is followed through the database (polled every 250 ms). Leaving never stops the turn. Same owner rule as `GET /v1/turns/{turn_id}` (404).",
    "security": sec_any,
    "parameters": [turn_id,
      {"name": "Last-Event-ID", "in": "header", "required": False, "description": "The `id:` of the last event the client has; wins over `after`.", "schema": {"type": "string", "pattern": "^ *[0-9]+ *$"}},
      {"name": "after", "in": "query", "required": False, "description": "The same as a query parameter, for clients that cannot set headers.", "schema": {"type": "integer", "minimum": 0}},
      sid, uid, tok],
    "responses": {"200": {"description": "The events. " + stream_events, "headers": turn_header,
                          "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEvent"}}}},
                  "204": {"description": "The turn has ended and the client has its last event: nothing more will come (an `EventSource` stops reconnecting)."},
                  "400": error("`Last-Event-ID` or `after` is not a non-negative event id, or `system_id` and `user_id` are missing with an API key"),
                  **errs(401, 403, 404, 422, 503)}}},
  "/v1/conversations": {"get": {
    "operationId": "listConversations", "summary": "The user's conversations, all pages, newest first",
    "description": "A conversation with a turn still being answered carries `turn` (its `turn_id` and `status`), to attach to with `GET /v1/turns/{turn_id}/events`.",
    "security": sec_any, "parameters": [sid, uid, tok],
    "responses": {"200": {"description": "Conversations", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Conversation"}}}}},
                  **errs(400, 401, 403, 422, 502, 503, 504)}}},
  "/v1/conversations/{conversation_id}/messages": {"get": {
    "operationId": "listConversationMessages", "summary": "A conversation's messages, all pages, oldest first",
    "description": "Each Dify turn becomes a `user` row (`<message_id>_user`) and an `assistant` row (`<message_id>_assistant`). The rows of a turn still being answered carry its `turn_id` and `status`, the assistant row the answer so far; the gateway adds them where Dify does not list them yet (the user row as `local-<hex>` until Dify names the message, the answer as `<turn_id>_assistant`). Another user's conversation is 404.",
    "security": sec_any,
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "responses": {"200": {"description": "Messages", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}}}},
                  **errs(400, 401, 403, 404, 422, 502, 503, 504)}}},
  "/v1/conversations/{conversation_id}": {"delete": {
    "operationId": "deleteConversation", "summary": "Delete a conversation, in Dify and in the gateway's tables",
    "security": sec_any,
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "responses": {"204": {"description": "Deleted"}, **errs(400, 401, 403, 404, 422, 502, 503, 504)}}},
  "/v1/conversations/{conversation_id}/name": {"post": {
    "operationId": "renameConversation", "summary": "Rename a conversation, or let Dify generate a name",
    "security": sec_any,
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RenameRequest"}}}},
    "responses": {"200": {"description": "The renamed conversation", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}}},
                  **errs(400, 401, 403, 404, 415, 422, 502, 503, 504)}}},
  "/v1/messages/{message_id}/feedbacks": {"post": {
    "operationId": "sendFeedback", "summary": "Like, dislike or clear the rating of an answer",
    "description": "`message_id` is Dify's message id; the `<id>_assistant` ids of the messages listing work too.",
    "security": sec_any,
    "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeedbackRequest"}}}},
    "responses": {"200": {"description": "Recorded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
                  **errs(400, 401, 403, 404, 415, 422, 502, 503, 504)}}},
  "/v1/messages/{message_id}/suggested": {"get": {
    "operationId": "suggestedQuestions", "summary": "Dify's suggested follow-up questions for an answer",
    "security": sec_any,
    "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "responses": {"200": {"description": "Suggestions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}}}},
                  **errs(400, 401, 403, 404, 422, 502, 503, 504)}}},
  "/v1/parameters": {"get": {
    "operationId": "appParameters", "summary": "The app's settings for a chat page: opening statement, starter questions, files, voice",
    "description": "What the chat page offers depends on the caller's Dify app: this is its `GET /parameters` (read at most once a minute per system), without its moderation settings, with the gateway's reading of its uploads and the system's `inline_math`.",
    "security": sec_any, "parameters": [sid, uid, tok],
    "responses": {"200": json_of("AppParameters", "The app's settings"), **errs(400, 401, 403, 422, 502, 503, 504)}}},
  "/v1/files/upload": {"post": {
    "operationId": "uploadFile", "summary": "Upload a file for the user's next message",
    "description": "The file streams to Dify as the caller's (any `user` field is replaced), within the app's `file_upload`: a type it does not take is 415, a file over its type's size (`uploads.size_limits`) 413, an app without uploads 400. Limited per user by `RATE_LIMIT_MEDIA` (429) and to a few uploads at once. Send the answer's `id` and `type` in the chat's `files`.",
    "security": sec_any, "parameters": [sid, uid, tok],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"201": json_of("UploadedFile", "Dify's record of the file"),
                  **errs(400, 401, 403, 413, 415, 422), "429": {"$ref": "#/components/responses/TooManyRequests"}, **errs(502, 503, 504)}}},
  "/v1/audio-to-text": {"post": {
    "operationId": "audioToText", "summary": "Transcribe a recording (the chat page's microphone)",
    "description": "The recording streams to Dify's `audio-to-text` as the caller's, when the app has `speech_to_text` on (else 400). At most `audio_upload_limit` bytes (`MAX_VOICE_BYTES`, 10 MB; 413). Dify takes mp3, m4a, wav, amr and mpga. Limited per user by `RATE_LIMIT_MEDIA` (429).",
    "security": sec_any, "parameters": [sid, uid, tok],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"200": {"description": "The text", "content": {"application/json": {"schema": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}}}},
                  **errs(400, 401, 403, 413, 415, 422), "429": {"$ref": "#/components/responses/TooManyRequests"}, **errs(502, 503, 504)}}},
  "/v1/text-to-audio": {"post": {
    "operationId": "textToAudio", "summary": "Read an answer aloud",
    "description": "Dify's `text-to-audio` for one of the caller's answers (`message_id`, which wins) or, with an API key only (a chat token is 403), a text of at most 4000 characters, when the app has `text_to_speech` on (else 400); neither is 422. The audio comes back as Dify streams it, with its `Content-Type`. Another user's answer is 404. Limited per user by `RATE_LIMIT_MEDIA` (429).",
    "security": sec_any, "parameters": [sid, uid, tok],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"}, "user_id": {"$ref": "#/components/schemas/UserID"},
      "message_id": {"type": "string", "description": "An answer's id (`<id>_assistant` or Dify's)"},
      "text": {"type": "string", "maxLength": 4000}}}}}},
    "responses": {"200": {"description": "The audio", "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}, "audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
                  **errs(400, 401, 403, 404, 413, 415, 422), "429": {"$ref": "#/components/responses/TooManyRequests"}, **errs(502, 503, 504)}}},
  "/v1/chat-token": {"get": {
    "operationId": "issueChatToken", "summary": "Issue a chat JWT (24 h) for a user, optionally with the widget's strings",
    "description": "Requires X-API-Key (a CHAT_GATEWAY_API_KEY within its systems, or a CHAT_GATEWAY_BROWSER_KEY for anonymous visitors only). `user_id=anonymous` issues a token for a fresh visitor id `anonymous-<26 characters a-z2-7>`, returned in `user_id`; sending that id renews its token; other `anonymous-…` ids are 422. When ALLOWED_CHAT_TOKEN_ORIGINS is set, a browser request's Origin (or Referer) must be one of them.\n\nMinting is limited by `RATE_LIMIT_TOKEN_ISSUANCE` (default 60/min) per key and per client address (from `X-Forwarded-For` only when the peer is in `TRUSTED_PROXIES`): over it, 429 with `Retry-After`. Tokens minted here carry `key_id`, and their chats count against that key's `RATE_LIMIT_PER_KEY`.",
    "security": [{"ApiKey": []}],
    "parameters": [
      {"name": "system_id", "in": "query", "required": True, "schema": {"$ref": "#/components/schemas/SystemID"}},
      {"name": "user_id", "in": "query", "required": True, "description": "The user; `anonymous` for a new logged-out visitor, or a visitor id this endpoint returned.", "schema": {"$ref": "#/components/schemas/UserID"}},
      {"name": "lang", "in": "query", "required": False, "description": "en, es, ko, zh or ja (others fall back to en); when given the answer includes `ui`.", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "Token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatToken"}}}},
                  **errs(400, 401, 403, 422), "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
  "/v1/sync": {"post": {
    "operationId": "syncHistory", "summary": "Sync every known user's conversations and messages from Dify",
    "description": "Operators only (an X-API-Key for all systems, else 403; or the history page's session cookie with an X-Requested-With header). All pages both ways, upserted (a second run changes nothing), unchanged conversations skipped, conversations Dify no longer lists marked deleted. A call while a run is in progress in this process waits for that run and returns its report; while another replica on the same database runs one, the answer is 409. One user's failure is reported in `errors` and does not stop the others.",
    "security": [{"ApiKey": []}],
    "responses": {"200": {"description": "What the run did", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncReport"}}}},
                  **errs(401, 403, 409)}}},
  "/v1/cache/conversations": {"get": {
    "operationId": "cachedConversations", "summary": "Every system's stored conversations, newest first, filtered and paginated",
    "description": "Operators only. A key limited to some systems sees only theirs (a `system_id` outside them is 403). The body is an array (as the seed answered); `X-Total-Count` is the filter's total, and when more rows follow `X-Next-Cursor` and `Link: <...>; rel=\"next\"` give the next page. Without `limit` at most 1000 rows are returned.",
    "security": [{"ApiKey": []}],
    "parameters": cache_filters + [
      {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
      {"name": "cursor", "in": "query", "required": False, "description": "X-Next-Cursor of the previous page.", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "Conversations", "headers": {
        "X-Total-Count": {"schema": {"type": "integer"}, "description": "Conversations matching the filter"},
        "X-Next-Cursor": {"schema": {"type": "string"}, "description": "Present when more rows follow"}},
        "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/CachedConversation"}}}}},
                  **errs(401, 403, 422)}}},
  "/v1/cache/conversations/{conversation_id}/messages": {"get": {
    "operationId": "cachedMessages", "summary": "A stored conversation's messages, oldest first",
    "security": [{"ApiKey": []}],
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {"200": {"description": "Messages", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/CachedMessage"}}}}},
                  **errs(401, 403, 404)}}},
  "/v1/cache/export": {"get": {
    "operationId": "exportHistory", "summary": "Every message of the filtered conversations, streamed as CSV or JSON Lines",
    "description": "Operators only; a key limited to some systems exports only theirs. Columns: conversation_id, system_id, user_id, conversation_name, message_id, role, content, status, created_at, retriever_resources (an answer's sources, as JSON text), regenerates (on a question asked again, the Dify message id of its first attempt), files (a question's files, as JSON text). Every JSON Lines value is text, as in the CSV. Conversations newest first, each one's messages oldest first. CSV cells starting with = + - @ are prefixed with ' so spreadsheets do not run them.",
    "security": [{"ApiKey": []}],
    "parameters": cache_filters + [{"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}}],
    "responses": {"200": {"description": "The export (Content-Disposition: attachment)", "content": {
        "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}},
                  **errs(401, 403, 422)}}},
  "/v1/usage": {"get": {
    "operationId": "usageReport", "summary": "Chats, outcomes, tokens and cost per system, user and/or day (the usage ledger)",
    "description": "Operators only: an all-systems X-API-Key, an X-Admin-Key or the history page's session see every system; a key limited to some systems sees only those (another system_id is 403); a chat token is 403. Chats are the user messages received; tokens, price and latency are Dify's `usage` of each answer, prices summed exactly as decimal strings. Rows of different currencies are never added together. `unknown_usage` counts answers with no usage recorded (stored before the ledger existed, or brought in by the sync or the import). `latency_p50_ms` is estimated from buckets. See docs/operations.md.",
    "security": [{"ApiKey": []}, {"AdminKey": []}],
    "parameters": [
      {"name": "system_id", "in": "query", "required": False, "description": "Only this system", "schema": {"type": "string"}},
      {"name": "user_id", "in": "query", "required": False, "description": "Only this user", "schema": {"type": "string"}},
      {"name": "from_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC); default 29 days before to_date", "schema": {"type": "string", "format": "date"}},
      {"name": "to_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC), inclusive; default today", "schema": {"type": "string", "format": "date"}},
      {"name": "group_by", "in": "query", "required": False, "description": "`system` (default), `user`, `day`, or a comma list such as `system,day`", "schema": {"type": "string", "default": "system"}},
      {"name": "format", "in": "query", "required": False, "description": "`json` (default) or `csv` (RFC 4180, the same rows)", "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}}],
    "responses": {"200": {"description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageReport"}}, "text/csv": {"schema": {"type": "string"}}}},
                  "401": error("No or a wrong key"), "403": error("A chat token, a browser key, or a system outside the key's scope"),
                  "422": error("A bad date, group_by or format"), "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
  "/health": {"get": {"operationId": "health", "summary": "Liveness", "security": [],
    "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
  "/health/ready": {"get": {"operationId": "ready", "summary": "Readiness: the database answers", "security": [],
    "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                  "503": {"description": "Database unreachable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
  "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness (Kubernetes style): the process answers", "security": [],
    "responses": {"200": json_of("Health", "Alive")}}},
  "/readyz": {"get": {"operationId": "readyz", "summary": "Readiness: the database answers and every migration is applied", "security": [],
    "responses": {"200": json_of("Health", "Ready"),
                  "503": json_of("Health", "Database unreachable, migrations pending, or shutting down after SIGTERM (detail says which)")}}},
  "/metrics": {"get": {
    "operationId": "metrics", "summary": "Prometheus metrics (text exposition format)",
    "description": "Counters and histograms named `chatgw_*` (HTTP requests by route pattern, chats by system, mode and outcome, Dify calls, time to first token, gateway overhead, stored messages, tokens and cost, rate limits, the sync) and the process's `process_*` figures. Open unless `METRICS_KEY` is set; then `Authorization: Bearer <METRICS_KEY>` is required. Keep it off the public listener. See docs/operations.md.",
    "security": [{}, {"MetricsKey": []}],
    "responses": {"200": {"description": "The exposition", "content": {"text/plain": {"schema": {"type": "string"}}}},
                  "401": error("METRICS_KEY is set and was not sent")}}},
  "/admin/v1/systems": {
    "post": admin("createSystem", "Add a client system",
      "In force on every replica within 2 seconds. 409: the id exists, it is configured by the environment, or a Dify key was given without CHAT_GATEWAY_ENCRYPTION_KEY.",
      {"201": json_of("System", "The system"), **errs(401, 403, 409, 413, 415, 422, 429)}, request="SystemInput"),
    "get": admin("listSystems", "List client systems",
      "Admin systems and the read-only ones the environment configures (source: environment). Never a Dify key, only its hint.",
      {"200": array_of("System", "The systems"), **errs(401, 403, 429)})},
  "/admin/v1/systems/{system_id}": {
    "get": admin("getSystem", "One client system", "",
      {"200": json_of("System", "The system"), **errs(401, 403, 404, 429)}, parameters=[path_param("system_id")]),
    "patch": admin("updateSystem", "Change a client system's fields",
      "enabled: false makes its chats, tokens and pages 403 system_id not allowed. A system from the environment is 409.",
      {"200": json_of("System", "The system"), **errs(401, 403, 404, 409, 413, 415, 422, 429)},
      parameters=[path_param("system_id")], request="SystemInput"),
    "delete": admin("deleteSystem", "Remove a client system", "Its stored conversations stay. A system from the environment is 409.",
      {"204": {"description": "Removed"}, **errs(401, 403, 404, 409, 429)}, parameters=[path_param("system_id")])},
  "/admin/v1/systems/{system_id}/check": {
    "post": admin("checkSystem", "Call the system's Dify with its key",
      "GET /info, falling back to /parameters. A Dify that is down is ok: false with the reason, never a 5xx.",
      {"200": json_of("DifyCheck", "The outcome"), **errs(401, 403, 404, 429)}, parameters=[path_param("system_id")])},
  "/admin/v1/keys": {
    "post": admin("createKey", "Issue an API key",
      "The key is in this answer only. Stored as a SHA-256 hash. A data key acts as the same entry in CHAT_GATEWAY_API_KEY (server) or CHAT_GATEWAY_BROWSER_KEY (browser) would.",
      {"201": json_of("CreatedKey", "The new key"), **errs(401, 403, 413, 415, 422, 429)}, request="KeyInput"),
    "get": admin("listKeys", "List API keys",
      "Without secrets; environment keys are listed with source: environment and no prefix.",
      {"200": array_of("Key", "The keys"), **errs(401, 403, 429)})},
  "/admin/v1/keys/{key_id}": {
    "delete": admin("revokeKey", "Revoke an API key", "From then on the key gets 401 Invalid API key, on every replica within 2 seconds.",
      {"204": {"description": "Revoked"}, **errs(401, 403, 404, 429)}, parameters=[path_param("key_id")])},
  "/admin/v1/audit": {
    "get": admin("listAudit", "The admin audit log",
      "Every admin change and failed admin sign-in, newest first. Paged as the cache API: an array, and X-Next-Cursor plus a Link header while more entries follow.",
      {"200": array_of("AuditEntry", "Entries"), **errs(401, 403, 422, 429)},
      parameters=[{"name": "from_date", "in": "query", "schema": {"type": "string", "format": "date"}},
                  {"name": "to_date", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Inclusive (UTC)"},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
                  {"name": "cursor", "in": "query", "schema": {"type": "string"}}])},
  **webhook_paths,
  **lifecycle_paths,
  **openai_paths,
 },
 "components": {
  "securitySchemes": {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of CHAT_GATEWAY_API_KEY (comma list). Acts for any user of its systems (`drillquiz:KEY`; a plain key: every allowed system), so system_id and user_id must be given; another system is 403. A CHAT_GATEWAY_BROWSER_KEY may only call /v1/chat-token for anonymous visitors (elsewhere 403)."},
    "BearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "HS256 JWT with system_id, user_id, exp, signed with CHAT_GATEWAY_JWT_SECRET (or, during a rotation, CHAT_GATEWAY_JWT_PREVIOUS_SECRET); with aud/iss when CHAT_GATEWAY_JWT_AUDIENCE/ISSUER are set."},
    "QueryToken": {"type": "apiKey", "in": "query", "name": "token", "description": "The same JWT in ?token= (Bearer wins when both are sent)."},
    "AdminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key", "description": "One of CHAT_GATEWAY_ADMIN_KEY (comma list). With the variable empty every admin route is 403. Client keys, browser keys and chat tokens are 403 here. Ten wrong admin keys from one client address in a minute: 429 with Retry-After for that address."},
    "MetricsKey": {"type": "http", "scheme": "bearer", "description": "`METRICS_KEY`, only when it is set"},
    "GatewayKeyBearer": {"type": "http", "scheme": "bearer", "description": "For `/dify/v1` and `/openai/v1`: a server key of the gateway (CHAT_GATEWAY_API_KEY, or a key made in the admin API) where a Dify client puts its app key, or an OpenAI client its API key. Under `/dify/v1` a key of one system acts for it, and a key of several names the system in `X-Gateway-System`; under `/openai/v1` the model names the system, within the key's scope. Browser keys and chat tokens are 401."}},
  "parameters": {
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
      "description": "Makes the request safe to repeat (draft-ietf-httpapi-idempotency-key-header): 1 to 255 printable ASCII characters (a structured-field string's quotes are taken off), scoped to the caller (the API key, or the chat token's system and user) and stored hashed. A repeat with the same request is answered from the first one's turn, without calling Dify; with another request it is 422; a malformed key is 400. Remembered for `IDEMPOTENCY_TTL` (24 h).",
      "schema": {"type": "string", "pattern": "^[ -~]{1,255}$"}}},
  "headers": {
    "TurnId": {"description": "The turn's id (the id of the user's stored message), for `GET /v1/turns/{turn_id}` and its `/events`.", "schema": {"type": "string", "format": "uuid"}},
    "IdempotentReplayed": {"description": "`true` when the answer repeats the turn of an earlier request with the same `Idempotency-Key` (Dify was not called again); absent otherwise.", "schema": {"type": "string", "enum": ["true"]}}},
  "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "HeadersTooLarge": {"description": "The request's headers are larger than MAX_HEADER_BYTES (default 16384). Above 80 KB the connection is closed without an answer.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Unavailable": {"description": "No Dify is configured for the system, the database is down, or Dify is down: after DIFY_CIRCUIT_FAILURES failures in a row its circuit breaker answers at once for DIFY_CIRCUIT_COOLDOWN (`Dify is unavailable (N failures in a row); retrying in S s`).",
      "headers": {"Retry-After": {"description": "Seconds until the breaker lets a trial call through (only when Dify is down).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "IdempotencyInProgress": {"description": "A blocking request repeating an earlier one's `Idempotency-Key` waited `IDEMPOTENCY_WAIT` (30 s) and the first one is still being answered: `The first request with this Idempotency-Key is still being answered. Retry in 5 s.`",
      "headers": {"Retry-After": {"description": "Seconds to wait before repeating it (5).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "DifyUserErasureInProgress": {"description": "For `/dify/v1/chat-messages`: the user's data is being erased, and their chats are refused until the erasure completes, in Dify's shape (`status` 410).",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DifyErrorBody"}}}},
    "DifyIdempotencyInProgress": {"description": "For `/dify/v1/chat-messages`: the same refusal as IdempotencyInProgress, in Dify's shape (`status` 409, `code` `bad_request`).",
      "headers": {"Retry-After": {"description": "Seconds to wait before repeating it (5).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DifyErrorBody"}}}},
    "TooManyRequests": {"description": "A rate limit is used up, or the user has too many streams running (per replica).",
      "headers": {"Retry-After": {"description": "Seconds until the rate limit allows the next request (absent for the stream cap).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
  "schemas": {
    "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    # OpenAPI 3.0 cannot describe a whole event stream; tools (schemathesis, OpenAPI 3.2's itemSchema) read the
    # text/event-stream schema as one event as an SSE client parses it.
    "StreamEvent": {"type": "object", "required": ["id", "event", "data"], "description": "One server-sent event of a streaming chat answer.", "properties": {
      "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's sequence number in its turn (what `Last-Event-ID` and `after` take)."},
      "event": {"type": "string", "enum": ["start", "sync", "delta", "replace", "file", "thought", "progress", "done", "error"]},
      "data": {"type": "string", "description": "One line of JSON that repeats the name in `event`; its fields are listed in the 200 response's description."}}},
    "SystemID": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$", "example": "drillquiz"},
    "UserID": {"type": "string", "minLength": 1, "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$", "description": "No control characters; `{system_id}_{user_id}` must fit 255 characters.", "example": "12345"},
    "ChatRequest": {"type": "object", "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"},
      "user_id": {"$ref": "#/components/schemas/UserID"},
      "message": {"type": "string", "minLength": 1, "description": "At most MAX_MESSAGE_CHARS characters (default 8000). Required unless `regenerate` is given."},
      "files": {"type": "array", "items": {"$ref": "#/components/schemas/ChatFile"}, "description": "Files sent with the message, within the app's `file_upload` (`GET /v1/parameters` `uploads`): more than its `number_limits` is 413, a type or transfer method it does not take, or a `remote_url` whose host is not public, 422; an app that takes no files 400."},
      "regenerate": {"type": "string", "description": "An earlier answer of the caller's (`<id>_assistant`, `<id>_user` or Dify's message id): its question (and files) is asked again in its conversation, and the new answer kept as a sibling of that one (`siblings` in the messages listing). It takes no `message` (422); `conversation_id` may be left out (another conversation is 404). Dify cannot branch a conversation, so the earlier attempts stay in what the app remembers."},
      "conversation_id": {"type": "string", "nullable": True, "description": "Continue this conversation (a UUID from an earlier answer); omit or empty to start one."},
      "inputs": {"type": "object", "additionalProperties": True, "description": "Dify app variables, passed through (e.g. {\"language\": \"ko\"})."},
      "stream": {"type": "boolean", "description": "Answer as server-sent events (also chosen by Accept: text/event-stream)."}}},
    "IdentityBody": {"type": "object", "properties": {"system_id": {"$ref": "#/components/schemas/SystemID"}, "user_id": {"$ref": "#/components/schemas/UserID"}}},
    "RenameRequest": {"type": "object", "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"}, "user_id": {"$ref": "#/components/schemas/UserID"},
      "name": {"type": "string", "maxLength": 512, "description": "Required unless auto_generate is true."},
      "auto_generate": {"type": "boolean", "default": False}}},
    "FeedbackRequest": {"type": "object", "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"}, "user_id": {"$ref": "#/components/schemas/UserID"},
      "rating": {"type": "string", "enum": ["like", "dislike"], "nullable": True, "description": "null clears the rating."},
      "content": {"type": "string", "maxLength": 8000}}},
    "Result": {"type": "object", "required": ["result"], "properties": {"result": {"type": "string"}}},
    "Suggestions": {"type": "object", "required": ["result", "data"], "properties": {"result": {"type": "string"}, "data": {"type": "array", "items": {"type": "string"}}}},
    "ChatResponse": {"type": "object", "required": ["conversation_id", "message_id", "answer", "metadata"], "properties": {
      "conversation_id": {"type": "string"}, "message_id": {"type": "string"}, "answer": {"type": "string"},
      "metadata": {"type": "object", "additionalProperties": True, "description": "Dify's metadata (usage, retriever_resources), passed through."}}},
    "Conversation": {"type": "object", "required": ["id"], "properties": {
      "id": {"type": "string"}, "name": {"type": "string", "nullable": True}, "created_at": {"type": "integer", "nullable": True, "description": "Unix seconds"},
      "turn": {"$ref": "#/components/schemas/TurnInProgress"}}},
    "TurnInProgress": {"type": "object", "required": ["turn_id", "status"], "description": "In `GET /v1/conversations`, only on a conversation with a turn still being answered.", "properties": {
      "turn_id": {"type": "string", "format": "uuid"}, "status": {"type": "string", "enum": ["accepted", "streaming"]}}},
    "ChatFile": {"type": "object", "required": ["type", "transfer_method"], "properties": {
      "type": {"type": "string", "enum": ["image", "document", "audio", "video", "custom"]},
      "transfer_method": {"type": "string", "enum": ["local_file", "remote_url"]},
      "upload_file_id": {"type": "string", "description": "With local_file: the `id` `POST /v1/files/upload` answered"},
      "url": {"type": "string", "description": "With remote_url: an http(s) URL"}}},
    "RetrieverResource": {"type": "object", "additionalProperties": True, "description": "A source the answer was built from, as Dify cited it (newer Dify versions add fields).", "properties": {
      "position": {"type": "integer"}, "dataset_id": {"type": "string"}, "dataset_name": {"type": "string"},
      "document_id": {"type": "string"}, "document_name": {"type": "string"}, "segment_id": {"type": "string"},
      "score": {"type": "number", "nullable": True}, "content": {"type": "string", "description": "The quoted segment"},
      "url": {"type": "string", "description": "The document's link, when the system maps its dataset or document (admin API `source_links`)"}}},
    "MessageFile": {"type": "object", "additionalProperties": True, "properties": {
      "id": {"type": "string"}, "type": {"type": "string"}, "url": {"type": "string", "nullable": True},
      "belongs_to": {"type": "string", "enum": ["user", "assistant"]}}},
    "UploadedFile": {"type": "object", "required": ["id", "name", "size"], "additionalProperties": True, "properties": {
      "id": {"type": "string", "description": "`upload_file_id` in the chat's `files`"}, "name": {"type": "string"}, "size": {"type": "integer"},
      "extension": {"type": "string", "nullable": True}, "mime_type": {"type": "string", "nullable": True},
      "created_by": {"type": "string"}, "created_at": {"type": "integer"},
      "type": {"type": "string", "nullable": True, "enum": ["image", "document", "audio", "video", "custom", None], "description": "The file's Dify type, for the chat's `files`"}}},
    "AppParameters": {"type": "object", "required": ["opening_statement", "suggested_questions", "inline_math", "uploads", "audio_upload_limit"], "additionalProperties": True, "description": "Dify's `GET /parameters` of the caller's app (without its moderation settings), read at most once a minute per system, with what the gateway adds.", "properties": {
      "opening_statement": {"type": "string"}, "suggested_questions": {"type": "array", "items": {"type": "string"}, "description": "Starter questions"},
      "suggested_questions_after_answer": {"type": "object", "additionalProperties": True}, "speech_to_text": {"type": "object", "additionalProperties": True},
      "text_to_speech": {"type": "object", "additionalProperties": True}, "retriever_resource": {"type": "object", "additionalProperties": True},
      "file_upload": {"type": "object", "additionalProperties": True}, "system_parameters": {"type": "object", "additionalProperties": True},
      "inline_math": {"type": "boolean", "description": "The system's choice (admin API `inline_math`): `$…$` is math on its chat page"},
      "uploads": {"type": "object", "required": ["enabled", "number_limits", "types", "extensions", "transfer_methods", "size_limits", "accept"], "description": "The gateway's reading of both shapes of Dify's `file_upload`: what `POST /v1/files/upload` and the chat's `files` accept", "properties": {
        "enabled": {"type": "boolean"}, "number_limits": {"type": "integer", "description": "Files per message"},
        "types": {"type": "array", "items": {"type": "string"}}, "extensions": {"type": "array", "items": {"type": "string"}, "description": "Lower case with the dot; the extensions a `custom` file may have"},
        "transfer_methods": {"type": "array", "items": {"type": "string"}},
        "size_limits": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "Bytes per type (Dify's `system_parameters`, at most MAX_UPLOAD_BYTES)"},
        "accept": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}, "description": "Each allowed type's extensions, in the order a file's type is decided (image, document, audio, video, custom); `*` for a `custom` type that takes any file"}}},
      "audio_upload_limit": {"type": "integer", "description": "Bytes a recording sent to `POST /v1/audio-to-text` may have (MAX_VOICE_BYTES, or the app's audio limit if smaller)"}}},
    "Message": {"type": "object", "required": ["id", "role", "content"], "properties": {
      "id": {"type": "string"}, "role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string", "description": "For the answer of a turn in progress, the answer so far"},
      "created_at": {"type": "integer", "nullable": True, "description": "Unix seconds"},
      "turn_id": {"type": "string", "format": "uuid", "description": "Only on the rows of a turn still being answered: attach with `GET /v1/turns/{turn_id}/events`"},
      "status": {"type": "string", "enum": ["accepted", "streaming"], "description": "With `turn_id`: the turn's state"},
      "files": {"type": "array", "items": {"$ref": "#/components/schemas/MessageFile"}, "description": "The files of this side of the turn (always on an answer, on a question when it has any)"},
      "retriever_resources": {"type": "array", "items": {"$ref": "#/components/schemas/RetrieverResource"}, "description": "An answer's sources, as the gateway kept them (else as Dify lists them); [] for none"},
      "feedback": {"type": "object", "nullable": True, "properties": {"rating": {"type": "string", "enum": ["like", "dislike"]}}, "description": "An answer's rating by this user, or null"},
      "siblings": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}, "description": "On the answer of a question asked again (`regenerate`): every attempt, oldest first, the row itself (the newest) last. The repeated questions are not listed again."}}},
    "Turn": {"type": "object", "required": ["turn_id", "status", "text", "conversation_id", "message_id", "task_id", "last_event_id", "usage", "error", "created_at"], "properties": {
      "turn_id": {"type": "string", "format": "uuid"},
      "status": {"type": "string", "enum": ["accepted", "streaming", "completed", "failed", "stopped", "interrupted"],
        "description": "`accepted`: the message is stored and Dify asked (a blocking chat stays here until its answer); `streaming`: Dify named the turn and the answer is arriving; then `completed`, `failed` (Dify refused, broke off or was down), `stopped` (by the user) or `interrupted` (the gateway stopped during the answer and Dify had no complete answer for it)"},
      "text": {"type": "string", "description": "The answer so far; once the turn ended, the stored answer (for a failed or interrupted one, what had arrived)"},
      "conversation_id": {"type": "string", "nullable": True, "description": "null for a new conversation until Dify names it"},
      "message_id": {"type": "string", "nullable": True, "description": "Dify's message id, once Dify named the turn"},
      "task_id": {"type": "string", "nullable": True, "description": "Dify's task id, which `POST /v1/chat/{task_id}/stop` takes"},
      "last_event_id": {"type": "integer", "minimum": 0, "description": "The id of the last event `text` includes; once the turn ended, the id of its last event (`done` or `error`)"},
      "usage": {"type": "object", "nullable": True, "additionalProperties": True, "description": "Dify's `usage` of an answer that ended with it (completed or stopped); otherwise null, also for an answer recovered after a crash"},
      "error": {"type": "string", "nullable": True, "description": "Why a failed or interrupted turn ended"},
      "created_at": {"type": "integer", "description": "Unix seconds: when the user's message was stored"}}},
    "WidgetStrings": {"type": "object", "required": ["title", "close", "open", "tokenError", "loading"], "properties": {
      "title": {"type": "string"}, "close": {"type": "string"}, "open": {"type": "string"}, "tokenError": {"type": "string"}, "loading": {"type": "string"}}},
    "ChatToken": {"type": "object", "required": ["token", "user_id"], "properties": {"token": {"type": "string"},
      "user_id": {"type": "string", "description": "Whom the token is for: the requested user, or the visitor id issued for `anonymous`."},
      "ui": {"$ref": "#/components/schemas/WidgetStrings"}}},
    "SyncReport": {"type": "object", "required": ["users", "conversations_synced", "conversations_skipped", "conversations_deleted", "messages_added", "messages_updated", "messages_synced", "errors", "started_at", "duration_ms"], "properties": {
      "users": {"type": "integer"}, "conversations_synced": {"type": "integer"}, "conversations_skipped": {"type": "integer", "description": "Unchanged in Dify since the last run"},
      "conversations_deleted": {"type": "integer", "description": "No longer listed by Dify: marked deleted"},
      "messages_added": {"type": "integer"}, "messages_updated": {"type": "integer"}, "messages_synced": {"type": "integer", "description": "added + updated (the seed's field)"},
      "errors": {"type": "array", "items": {"type": "object", "required": ["system_id", "user_id", "detail"], "properties": {"system_id": {"type": "string"}, "user_id": {"type": "string"}, "detail": {"type": "string"}}}},
      "started_at": {"type": "string", "format": "date-time"}, "duration_ms": {"type": "integer"}}},
    "CachedConversation": {"type": "object", "required": ["conversation_id", "system_id", "user_id", "created_at", "updated_at"], "properties": {
      "conversation_id": {"type": "string"}, "system_id": {"type": "string"}, "user_id": {"type": "string"}, "name": {"type": "string", "nullable": True},
      "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
      "synced_at": {"type": "string", "format": "date-time", "nullable": True},
      "deleted_at": {"type": "string", "format": "date-time", "nullable": True, "description": "Set when Dify no longer lists it"}}},
    "CachedMessage": {"type": "object", "required": ["message_id", "role", "content", "status", "created_at"], "properties": {
      "message_id": {"type": "string"}, "role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"},
      "status": {"type": "string", "enum": ["pending", "streaming", "complete", "failed", "stopped", "refused", "interrupted"]}, "created_at": {"type": "string", "format": "date-time"},
      "retriever_resources": {"type": "array", "items": {"$ref": "#/components/schemas/RetrieverResource"}, "description": "An answer's sources, kept with it ([] for none)"},
      "files": {"type": "array", "items": {"type": "object", "additionalProperties": True}, "description": "A question's Dify `files`"},
      "regenerates": {"type": "string", "nullable": True, "description": "On a question asked again: the Dify message id of its first attempt"}}},
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "database": {"type": "string"},
      "migrations": {"type": "string", "enum": ["ok", "pending"]}, "detail": {"type": "string"}}},
    "SystemInput": {"type": "object", "description": "Absent fields stay as they are (PATCH); POST needs system_id. An empty dify_api_key or dify_base_url clears it (the shared DIFY_* pair then applies).", "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"}, "name": {"type": "string", "maxLength": 200},
      "dify_base_url": {"type": "string", "description": "http or https; the server root, without /v1"},
      "dify_api_key": {"type": "string", "description": "Stored encrypted (AES-GCM under CHAT_GATEWAY_ENCRYPTION_KEY); never returned"},
      "allowed_origins": {"type": "array", "items": {"type": "string"}}, "enabled": {"type": "boolean"},
      "rate_limit_per_user": {"type": "string", "description": "RATE_LIMIT_PER_USER's syntax, e.g. 20/min"},
      "max_streams_per_user": {"type": "integer", "minimum": 1, "maximum": 1000}, "budget": {"$ref": "#/components/schemas/SystemBudget"},
      "openai_model": {"type": "string", "maxLength": 128, "pattern": "^[^\\s/]*$", "description": "The model id `/openai/v1` gives the system's Dify app (its system_id is accepted too): no spaces or slashes, and not another system's (422); empty: the system_id. `DIFY_<SYSTEM>_OPENAI_MODEL` wins over it."},
      "source_links": {"type": "array", "maxItems": 200, "items": {"$ref": "#/components/schemas/SourceLink"}, "description": "Where its answers' sources link to; [] removes every mapping"},
      "inline_math": {"type": "boolean", "description": "Its chat page reads `$…$` as math (`$$…$$` always is)"},
      "retention_days": {"type": "integer", "nullable": True, "minimum": 0, "maximum": 36500, "description": "Days its message content is kept, counted from a conversation's last message; 0: kept until deleted; null: RETENTION_DAYS applies. See docs/personal-data.md."},
      "retention_delete_in_dify": {"type": "boolean", "description": "The retention job also deletes each expired conversation in Dify"},
      "self_export": {"type": "boolean", "description": "Its chat page offers \"Download my data\" (`GET /v1/me/export`) to the signed-in user"}},
      "additionalProperties": True},
    "System": {"type": "object", "required": ["system_id", "name", "source", "enabled", "dify_api_key_readable", "allowed_origins"], "properties": {
      "system_id": {"type": "string"}, "name": {"type": "string"},
      "source": {"type": "string", "enum": ["admin", "environment"], "description": "environment: read-only, configured by DIFY_* variables (or ALLOWED_SYSTEM_IDS, or * for the shared pair); its values win over an admin definition of the same id"},
      "also_defined_by_admin": {"type": "boolean"}, "enabled": {"type": "boolean"}, "dify_base_url": {"type": "string"},
      "dify_api_key_hint": {"type": "string", "example": "app-…9f2c", "description": "At most a quarter of the key, none of a key under 16 characters"},
      "dify_api_key_readable": {"type": "boolean", "description": "false: the stored key cannot be decrypted with this CHAT_GATEWAY_ENCRYPTION_KEY, and the system answers 503"},
      "allowed_origins": {"type": "array", "items": {"type": "string"}}, "rate_limit_per_user": {"type": "string"}, "max_streams_per_user": {"type": "integer"},
      "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
      "budget": {"$ref": "#/components/schemas/SystemBudget"},
      "openai_model": {"type": "string", "nullable": True, "description": "The model id `/openai/v1` gives the system's Dify app, when an operator named one"},
      "source_links": {"type": "array", "items": {"$ref": "#/components/schemas/SourceLink"}},
      "inline_math": {"type": "boolean"},
      "retention_days": {"type": "integer", "nullable": True, "minimum": 0, "description": "null: RETENTION_DAYS applies (always so for a system from the environment); 0: kept until deleted"},
      "retention_delete_in_dify": {"type": "boolean"}, "self_export": {"type": "boolean"}}},
    "SourceLink": {"type": "object", "required": ["url"], "description": "A map from a system's sources to their documents: for one document, one dataset, or (with neither id) every source. A document's mapping wins over its dataset's, which wins over a catch-all.", "properties": {
      "dataset_id": {"type": "string", "maxLength": 128}, "document_id": {"type": "string", "maxLength": 128},
      "url": {"type": "string", "maxLength": 2048, "example": "https://kb.example.com/docs/{document_id}#{segment_id}", "description": "An http(s) URL template; `{dataset_id}`, `{document_id}`, `{segment_id}` and `{document_name}` are filled in, percent-encoded"}}},
    "DifyCheck": {"type": "object", "required": ["ok", "status", "reason", "detail", "latency_ms"], "properties": {
      "ok": {"type": "boolean"},
      "status": {"type": "integer", "nullable": True, "description": "200 when a Dify app answered; otherwise null: the upstream's own status is never echoed"},
      "reason": {"type": "string", "enum": ["ok", "not_configured", "unreachable", "timeout", "http_4xx", "http_5xx", "not_dify"], "description": "Why the check failed, coarsely: the check tells whether a Dify app answers, nothing more about the host"},
      "detail": {"type": "string", "description": "A fixed sentence for `reason`, never the upstream's text"}, "latency_ms": {"type": "integer"}}},
    "KeyInput": {"type": "object", "required": ["name", "systems", "kind"], "properties": {
      "name": {"type": "string", "maxLength": 200},
      "systems": {"type": "array", "items": {"type": "string"}, "description": "[]: every system (server keys only)"},
      "kind": {"type": "string", "enum": ["server", "browser"]}, "expires_at": {"type": "string", "format": "date-time"}}},
    "CreatedKey": {"type": "object", "required": ["id", "key", "prefix", "name", "systems", "kind", "created_at"], "properties": {
      "id": {"type": "string", "format": "uuid"}, "key": {"type": "string", "description": "cgk_ and 32 base32 characters; shown here only, never again"},
      "prefix": {"type": "string", "description": "The key's first 12 characters"}, "name": {"type": "string"},
      "systems": {"type": "array", "items": {"type": "string"}}, "kind": {"type": "string", "enum": ["server", "browser"]},
      "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"}}},
    "Key": {"type": "object", "required": ["source", "name", "systems", "kind"], "properties": {
      "id": {"type": "string", "format": "uuid"}, "source": {"type": "string", "enum": ["admin", "environment"]}, "prefix": {"type": "string"},
      "name": {"type": "string"}, "systems": {"type": "array", "items": {"type": "string"}}, "kind": {"type": "string", "enum": ["server", "browser"]},
      "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"},
      "last_used_at": {"type": "string", "format": "date-time", "description": "Updated at most once a minute"},
      "revoked_at": {"type": "string", "format": "date-time"}}},
    "AuditEntry": {"type": "object", "required": ["id", "at", "actor", "action", "target", "detail"], "properties": {
      "id": {"type": "string", "format": "uuid"}, "at": {"type": "string", "format": "date-time"},
      "actor": {"type": "string", "description": "admin: and the first 8 hex digits of the admin key's SHA-256; never the key"},
      "action": {"type": "string", "example": "key.created"}, "target": {"type": "string"}, "detail": {"type": "string"}}},
    "UsageRow": {"type": "object", "required": usage_figures, "properties": usage_fields},
    "UsageTotals": {"type": "object", "required": usage_figures + ["prices"], "properties": {**usage_fields,
      "prices": {"type": "array", "description": "The price per currency", "items": {"type": "object", "required": ["currency", "total_price"], "properties": {
        "currency": {"type": "string"}, "total_price": {"type": "string"}}}}},
      "description": "The rows' sums; currency and total_price are null when the rows hold several currencies (see prices)"},
    "UsageReport": {"type": "object", "required": ["from_date", "to_date", "group_by", "rows", "totals"], "properties": {
      "from_date": {"type": "string", "format": "date"}, "to_date": {"type": "string", "format": "date"},
      "group_by": {"type": "array", "items": {"type": "string", "enum": ["system", "user", "day"]}},
      "rows": {"type": "array", "items": {"$ref": "#/components/schemas/UsageRow"}}, "totals": {"$ref": "#/components/schemas/UsageTotals"}}},
    "SystemBudget": {"type": "object", "description": "A system's budgets per UTC day or month; they replace BUDGET_PER_USER for this system. Prices as an amount and a currency (\"2.00 USD\"). In an input, {} removes the budget.", "properties": {
      "tokens_per_day": {"type": "integer", "minimum": 1, "description": "Tokens the whole system may use per day"},
      "price_per_month": {"type": "string", "example": "200.00 USD", "description": "What the whole system may cost per month"},
      "per_user_tokens_per_day": {"type": "integer", "minimum": 1}, "per_user_price_per_month": {"type": "string", "example": "2.00 USD"}}},
    "DifyErrorBody": {"type": "object", "required": ["code", "message", "status"], "additionalProperties": False, "description": "Every error `/dify/v1` answers, in Dify's shape.", "properties": {
      "code": {"type": "string", "example": "too_many_requests"}, "message": {"type": "string"}, "status": {"type": "integer", "example": 429}}},
    **webhook_schemas,
    **lifecycle_schemas,
    **openai_schemas}},
 "x-webhooks": webhook_callbacks,
}
# Every operation may answer 431 (MAX_HEADER_BYTES), in OpenAI's shape under /openai/v1; a Dify-facing one's 503 may be
# the open circuit breaker.
for path, operations in spec["paths"].items():
    for operation in operations.values():
        responses = operation["responses"]
        responses["431"] = openai_431 if path.startswith("/openai/v1/") else {"$ref": "#/components/responses/HeadersTooLarge"}
        if responses.get("503") == err and "502" in responses:
            responses["503"] = {"$ref": "#/components/responses/Unavailable"}
import os
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Sources/ChatGateway/Resources/openapi.json"), "w") as out:
    json.dump(spec, out, indent=2, ensure_ascii=False)
    out.write("\n")
