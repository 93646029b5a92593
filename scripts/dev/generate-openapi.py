# Writes Sources/ChatGateway/Resources/openapi.json. Edit the spec here, run `python3 scripts/dev/generate-openapi.py`;
# Tests/ChatGatewayTests/Docs/OpenAPIConformanceTests.swift checks the result against the routes and real answers.
import json
err = {"$ref": "#/components/responses/Error"}
def errs(*codes):
    return {str(c): err for c in codes}
sec_any = [{"ApiKey": []}, {"BearerToken": []}, {"QueryToken": []}]
sid = {"name": "system_id", "in": "query", "required": False, "description": "Required with X-API-Key; with a JWT it may be omitted, and must equal the token's when given.", "schema": {"$ref": "#/components/schemas/SystemID"}}
uid = {"name": "user_id", "in": "query", "required": False, "description": "Required with X-API-Key; with a JWT it may be omitted, and must equal the token's when given.", "schema": {"$ref": "#/components/schemas/UserID"}}
tok = {"name": "token", "in": "query", "required": False, "description": "Chat JWT (alternative to Authorization: Bearer; Bearer wins).", "schema": {"type": "string"}}
cache_filters = [
  {"name": "system_id", "in": "query", "required": False, "schema": {"type": "string"}},
  {"name": "user_id", "in": "query", "required": False, "schema": {"type": "string"}},
  {"name": "from_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC), conversations created on or after", "schema": {"type": "string", "format": "date"}},
  {"name": "to_date", "in": "query", "required": False, "description": "YYYY-MM-DD (UTC), inclusive", "schema": {"type": "string", "format": "date"}},
  {"name": "q", "in": "query", "required": False, "description": "Case-insensitive text in conversation names or message contents", "schema": {"type": "string"}}]
spec = {
 "openapi": "3.0.3",
 "info": {"title": "Chat Gateway", "version": "1.0.0",
   "description": "Gateway in front of Dify's Service API. Client systems call only this API; the gateway owns users and conversations and records every message. Errors are JSON `{\"detail\": \"...\"}`."},
 "servers": [{"url": "/"}],
 "paths": {
  "/v1/chat": {"post": {
    "operationId": "chat", "summary": "Send a message (blocking) and get the answer",
    "description": "The user's message is stored before Dify is called and stays stored (marked failed) whatever Dify does. The Dify user is `{system_id}_{user_id}`. Limited per user (`RATE_LIMIT_PER_USER`), per API key (`RATE_LIMIT_PER_KEY`) and in concurrent streams per user (`MAX_STREAMS_PER_USER`): 429, before anything is stored.",
    "security": sec_any, "parameters": [tok],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
    "responses": {"200": {"description": "Dify's answer: JSON, or with `stream: true` / `Accept: text/event-stream` a stream of server-sent events. Each event is `event: <name>` and one `data:` line of JSON (which repeats the name in `event`): `start` {conversation_id, message_id, task_id} first; `delta` {text} to append; `replace` {answer} (moderation replaced the answer so far); `file` {id, type, url, belongs_to}; `thought` {thought} (agent apps); `progress` {step, title, node_type, status} (chatflow apps); then exactly one of `done` {conversation_id, message_id, answer, metadata, stopped} or `error` {status, detail, code}. Comments (`: keep-alive`) keep quiet connections open.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatResponse"}},
                                      "text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEvent"}}}},
                  **errs(400, 401, 403, 404, 413, 415, 422, 502, 503, 504),
                  "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
  "/v1/chat/{task_id}/stop": {"post": {
    "operationId": "stopChat", "summary": "Stop a streaming answer",
    "description": "The stored answer is whatever arrived, marked stopped; the stream ends with `done` and `stopped: true`. Only the user who started it may stop it (404 otherwise).",
    "security": sec_any, "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}, sid, uid, tok],
    "requestBody": {"required": False, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IdentityBody"}}}},
    "responses": {"200": {"description": "Stopped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
                  **errs(400, 401, 403, 404, 415, 422, 502, 503, 504)}}},
  "/v1/conversations": {"get": {
    "operationId": "listConversations", "summary": "The user's conversations, all pages, newest first",
    "security": sec_any, "parameters": [sid, uid, tok],
    "responses": {"200": {"description": "Conversations", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Conversation"}}}}},
                  **errs(400, 401, 403, 422, 502, 503, 504)}}},
  "/v1/conversations/{conversation_id}/messages": {"get": {
    "operationId": "listConversationMessages", "summary": "A conversation's messages, all pages, oldest first",
    "description": "Each Dify turn becomes a `user` row (`<message_id>_user`) and an `assistant` row (`<message_id>_assistant`). Another user's conversation is 404.",
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
  "/v1/chat-token": {"get": {
    "operationId": "issueChatToken", "summary": "Issue a chat JWT (24 h) for a user, optionally with the widget's strings",
    "description": "Requires X-API-Key (a CHAT_GATEWAY_API_KEY within its systems, or a CHAT_GATEWAY_BROWSER_KEY for anonymous visitors only). `user_id=anonymous` issues a token for a fresh visitor id `anonymous-<26 characters a-z2-7>`, returned in `user_id`; sending that id renews its token; other `anonymous-…` ids are 422. When ALLOWED_CHAT_TOKEN_ORIGINS is set, a browser request's Origin (or Referer) must be one of them.",
    "security": [{"ApiKey": []}],
    "parameters": [
      {"name": "system_id", "in": "query", "required": True, "schema": {"$ref": "#/components/schemas/SystemID"}},
      {"name": "user_id", "in": "query", "required": True, "description": "The user; `anonymous` for a new logged-out visitor, or a visitor id this endpoint returned.", "schema": {"$ref": "#/components/schemas/UserID"}},
      {"name": "lang", "in": "query", "required": False, "description": "en, es, ko, zh or ja (others fall back to en); when given the answer includes `ui`.", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "Token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatToken"}}}},
                  **errs(400, 401, 403, 422)}}},
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
    "description": "Operators only; a key limited to some systems exports only theirs. Columns: conversation_id, system_id, user_id, conversation_name, message_id, role, content, status, created_at. Conversations newest first, each one's messages oldest first. CSV cells starting with = + - @ are prefixed with ' so spreadsheets do not run them.",
    "security": [{"ApiKey": []}],
    "parameters": cache_filters + [{"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}}],
    "responses": {"200": {"description": "The export (Content-Disposition: attachment)", "content": {
        "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}},
                  **errs(401, 403, 422)}}},
  "/health": {"get": {"operationId": "health", "summary": "Liveness", "security": [],
    "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
  "/health/ready": {"get": {"operationId": "ready", "summary": "Readiness: the database answers", "security": [],
    "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                  "503": {"description": "Database unreachable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
 },
 "components": {
  "securitySchemes": {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of CHAT_GATEWAY_API_KEY (comma list). Acts for any user of its systems (`drillquiz:KEY`; a plain key: every allowed system), so system_id and user_id must be given; another system is 403. A CHAT_GATEWAY_BROWSER_KEY may only call /v1/chat-token for anonymous visitors (elsewhere 403)."},
    "BearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "HS256 JWT with system_id, user_id, exp, signed with CHAT_GATEWAY_JWT_SECRET (or, during a rotation, CHAT_GATEWAY_JWT_PREVIOUS_SECRET); with aud/iss when CHAT_GATEWAY_JWT_AUDIENCE/ISSUER are set."},
    "QueryToken": {"type": "apiKey", "in": "query", "name": "token", "description": "The same JWT in ?token= (Bearer wins when both are sent)."}},
  "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "HeadersTooLarge": {"description": "The request's headers are larger than MAX_HEADER_BYTES (default 16384). Above 80 KB the connection is closed without an answer.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "Unavailable": {"description": "No Dify is configured for the system, the database is down, or Dify is down: after DIFY_CIRCUIT_FAILURES failures in a row its circuit breaker answers at once for DIFY_CIRCUIT_COOLDOWN (`Dify is unavailable (N failures in a row); retrying in S s`).",
      "headers": {"Retry-After": {"description": "Seconds until the breaker lets a trial call through (only when Dify is down).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "TooManyRequests": {"description": "A rate limit is used up, or the user has too many streams running (per replica).",
      "headers": {"Retry-After": {"description": "Seconds until the rate limit allows the next request (absent for the stream cap).", "schema": {"type": "integer", "minimum": 1}}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
  "schemas": {
    "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    # OpenAPI 3.0 cannot describe a whole event stream; tools (schemathesis, OpenAPI 3.2's itemSchema) read the
    # text/event-stream schema as one event as an SSE client parses it.
    "StreamEvent": {"type": "object", "required": ["event", "data"], "description": "One server-sent event of a streaming chat answer.", "properties": {
      "event": {"type": "string", "enum": ["start", "delta", "replace", "file", "thought", "progress", "done", "error"]},
      "data": {"type": "string", "description": "One line of JSON that repeats the name in `event`; its fields are listed in the 200 response's description."}}},
    "SystemID": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$", "example": "drillquiz"},
    "UserID": {"type": "string", "minLength": 1, "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$", "description": "No control characters; `{system_id}_{user_id}` must fit 255 characters.", "example": "12345"},
    "ChatRequest": {"type": "object", "required": ["message"], "properties": {
      "system_id": {"$ref": "#/components/schemas/SystemID"},
      "user_id": {"$ref": "#/components/schemas/UserID"},
      "message": {"type": "string", "minLength": 1, "description": "At most MAX_MESSAGE_CHARS characters (default 8000)."},
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
      "id": {"type": "string"}, "name": {"type": "string", "nullable": True}, "created_at": {"type": "integer", "nullable": True, "description": "Unix seconds"}}},
    "Message": {"type": "object", "required": ["id", "role", "content"], "properties": {
      "id": {"type": "string"}, "role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"},
      "created_at": {"type": "integer", "nullable": True, "description": "Unix seconds"}}},
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
      "status": {"type": "string", "enum": ["pending", "streaming", "complete", "failed", "stopped"]}, "created_at": {"type": "string", "format": "date-time"}}},
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "database": {"type": "string"}}}}}
}
# Every operation may answer 431 (MAX_HEADER_BYTES); a Dify-facing one's 503 may be the open circuit breaker.
for operations in spec["paths"].values():
    for operation in operations.values():
        responses = operation["responses"]
        responses["431"] = {"$ref": "#/components/responses/HeadersTooLarge"}
        if responses.get("503") == err and "502" in responses:
            responses["503"] = {"$ref": "#/components/responses/Unavailable"}
import os
json.dump(spec, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Sources/ChatGateway/Resources/openapi.json"), "w"), indent=2, ensure_ascii=False)
