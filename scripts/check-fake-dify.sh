#!/usr/bin/env bash
# Checks fake-dify against Dify's official OpenAPI description of chat apps with schemathesis:
# response schemas, content types, and no 5xx except the documented one (a `user` longer than
# 255 characters, which real Dify answers with a 500). Exits non-zero on any failure.
#
# Env: DIFY_SPEC (default ../shared/dify/openapi_chat.json from the repo root),
#      MAX_EXAMPLES (default 30 per operation), SEED (default 20261125).
set -euo pipefail

cd "$(dirname "$0")/.."
SPEC="${DIFY_SPEC:-../shared/dify/openapi_chat.json}"
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
SEED="${SEED:-20261125}"
KEY="app-fake-key"
[ -f "$SPEC" ] || { echo "spec not found: $SPEC (set DIFY_SPEC)" >&2; exit 2; }

if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install --quiet 'schemathesis>=4,<5'
fi

swift build --product fake-dify
BIN="$(swift build --show-bin-path)/fake-dify"

WORK="$(mktemp -d)"
FAKE_PID=""
cleanup() {
    if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/lib/fake-dify.sh
start_fake_dify "$BIN" "$KEY" "$WORK" || exit 1
URL="$FAKE_URL"
echo "fake-dify at $URL"

# Seeded data, so the id-taking operations reach their success paths and not only 404s:
# a user with three conversations; one is listed/read, one renamed, one deleted.
TEST_USER="schemathesis-user"
curl -sf -X POST "$URL/_fake/seed" -H 'Content-Type: application/json' \
    -d "{\"user\": \"$TEST_USER\", \"conversations\": 3, \"turns_each\": 3}" >"$WORK/seed.json"
read -r C1 C2 C3 < <(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["conversation_ids"])' "$WORK/seed.json")
M1="$(curl -sf "$URL/v1/messages?conversation_id=$C1&user=$TEST_USER" -H "Authorization: Bearer $KEY" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][-1]["id"])')"
cat >"$WORK/schemathesis.toml" <<TOML
[[operations]]
include-operation-id = "getConversationsList"
parameters = { "query.user" = "$TEST_USER" }

[[operations]]
include-operation-id = "getConversationHistory"
parameters = { "query.user" = "$TEST_USER", "query.conversation_id" = "$C1" }

[[operations]]
include-operation-id = "renameConversation"
parameters = { "path.conversation_id" = "$C2", "body.user" = "$TEST_USER" }

[[operations]]
include-operation-id = "deleteConversation"
parameters = { "path.conversation_id" = "$C3", "body.user" = "$TEST_USER" }

[[operations]]
include-operation-id = "postChatMessageFeedback"
parameters = { "path.message_id" = "$M1", "body.user" = "$TEST_USER" }

[[operations]]
include-operation-id = "getSuggestedQuestions"
parameters = { "path.message_id" = "$M1", "query.user" = "$TEST_USER" }
TOML

# Custom checks, loaded through SCHEMATHESIS_HOOKS.
cat >"$WORK/hooks.py" <<'PY'
import json, os
import jsonschema_rs
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

SPEC = json.load(open(os.environ["DIFY_SPEC_PATH"]))


@schemathesis.check
def no_server_error_but_long_user(ctx, response, case):
    """not_a_server_error, minus the one 500 Dify documents: a `user` over varchar(255)."""
    if response.status_code < 500:
        return None
    user = case.body.get("user") if isinstance(case.body, dict) else None
    if user is None and isinstance(case.query, dict):
        user = case.query.get("user")
    try:
        code = response.json().get("code")
    except Exception:
        code = None
    if response.status_code == 500 and code == "internal_server_error" and isinstance(user, str) and len(user) > 255:
        return None
    raise AssertionError(f"Server error {response.status_code}: {response.text[:300]}")


# The spec (OpenAPI 3.0) gives `text/event-stream` the schema {"type": "string"}: the whole body.
# Schemathesis 4 applies a text/event-stream schema to each parsed event ({data, event, ...}),
# which no stream can satisfy. So stream bodies are checked here instead, more strictly: Dify's
# framing (dify-api.md section 3) and each event's JSON against the spec's own StreamEvent* schema.
# Non-stream responses go through schemathesis' response_schema_conformance unchanged.
EVENT_SCHEMAS = {
    "message": "StreamEventChatMessage", "agent_message": "StreamEventChatAgentMessage",
    "message_end": "StreamEventChatMessageEnd", "message_replace": "StreamEventChatMessageReplace",
    "message_file": "StreamEventChatMessageFile", "agent_thought": "StreamEventChatAgentThought",
    "tts_message": "StreamEventChatTtsMessage", "tts_message_end": "StreamEventChatTtsMessageEnd",
    "error": "StreamEventChatError",
}
VALIDATORS = {
    event: jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}, validate_formats=True)
    for event, name in EVENT_SCHEMAS.items()
}


def check_event_stream(body):
    assert body.endswith("\n\n"), "stream does not end with a blank line"
    events = []
    for frame in body[:-2].split("\n\n"):
        if frame == "event: ping":
            continue
        assert frame.startswith("data: ") and "\n" not in frame, f"bad SSE frame: {frame[:200]!r}"
        data = json.loads(frame[len("data: "):])
        name = data.get("event")
        assert name in VALIDATORS, f"unknown event {name!r}"
        errors = [e.message for e in VALIDATORS[name].iter_errors(data)]
        assert not errors, f"{name} event violates {EVENT_SCHEMAS[name]}: {errors[:3]}"
        events.append(name)
    assert events and events[-1] in ("message_end", "error"), f"stream ends with {events[-1:]}"
    assert all(e == "message" for e in events[:-1]), f"unexpected event order {events}"


@schemathesis.check
def response_schema_conformance_with_sse(ctx, response, case):
    if response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        check_event_stream(response.content.decode("utf-8"))
        return None
    return response_schema_conformance(ctx, response, case)
PY

# The operations fake-dify implements (files, audio, annotations, variables... are not faked).
OPERATIONS='^(sendChatMessage|stopChatMessageGeneration|getSuggestedQuestions|postChatMessageFeedback|getConversationsList|getConversationHistory|renameConversation|deleteConversation|getChatAppInfo|getChatAppParameters|getChatAppMeta)$'

DIFY_SPEC_PATH="$SPEC" SCHEMATHESIS_HOOKS="$WORK/hooks.py" schemathesis --config-file "$WORK/schemathesis.toml" run "$SPEC" \
    --url "$URL/v1" \
    --header "Authorization: Bearer $KEY" \
    --include-operation-id-regex "$OPERATIONS" \
    --checks no_server_error_but_long_user,response_schema_conformance_with_sse,content_type_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 10 \
    --report-dir "$WORK/report"
