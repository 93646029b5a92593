"""Schemathesis checks for Dify's chat API, loaded through SCHEMATHESIS_HOOKS by scripts/lib/dify-schemathesis.sh,
for the fake Dify (check-fake-dify.sh) and for the gateway's /dify/v1 (fuzz-dify-api.sh) alike."""
import json, os
import jsonschema_rs
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

SPEC = json.load(open(os.environ["DIFY_SPEC_PATH"]))


# Only real Dify (and so the fake) has this excuse; the gateway checks `user` first and must never answer 5xx.
LONG_USER_500_ALLOWED = os.environ.get("DIFY_LONG_USER_500") == "allowed"


@schemathesis.check
def no_server_error_but_long_user(ctx, response, case):
    """not_a_server_error, minus the one 500 Dify documents: a `user` over varchar(255)."""
    if response.status_code < 500:
        return None
    if not LONG_USER_500_ALLOWED:
        raise AssertionError(f"Server error {response.status_code}: {response.text[:300]}")
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
        # The gateway's SSE `retry:` and `id:` lines (for reattaching) are framing, which Dify's own clients skip.
        frame = "\n".join(line for line in frame.split("\n") if not line.startswith(("retry: ", "id: ")))
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


WERKZEUG_404 = {
    "code": "not_found",
    "message": "The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again.",
    "status": 404,
}


@schemathesis.check
def is_difys_404(ctx, response, case):
    """For the operations the gateway does not pass through: Dify's own 404 body, whatever the request."""
    assert response.status_code == 404, f"status {response.status_code}: {response.text[:300]}"
    assert response.json() == WERKZEUG_404, f"not Dify's 404 body: {response.text[:300]}"
