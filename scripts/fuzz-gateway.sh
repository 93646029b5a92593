#!/usr/bin/env bash
# Fuzzes the running gateway with schemathesis against its own GET /openapi.json: every operation, a fixed example
# budget and seed, the built gateway in front of fake-dify on free loopback ports, authenticated with an API key,
# then with a chat JWT, then /openai/v1 with a key as an OpenAI client sends it (Bearer), then with made-up
# credentials only, then call sequences along inferred links. Fails on any 5xx, any response whose status, headers,
# content type or body the document does not describe, any malformed chat stream (the gateway's own events, or
# OpenAI's chunks), a deleted conversation still readable. Not /dify/v1: fuzz-dify-api.sh fuzzes it with Dify's
# own document. Prints the gateway's log tail on failure. About 2 to 2.5 minutes on 2 cores with the defaults (about
# 4,000 calls), after the build.
#
# Env: MAX_EXAMPLES (default 50 per operation, pass and phase), SEED (default 20261125), WORKERS (default 1),
#      BIN_DIR (a directory holding prebuilt chat-gateway and fake-dify: skips the build),
#      GATEWAY_LOG (a file to keep the gateway's log in), CHECKS (schemathesis --checks; the default list below).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
SEED="${SEED:-20261125}"
# One worker: with two, hypothesis' concurrent ast.parse trips a CPython 3.11 bug ("AST constructor recursion depth
# mismatch"), a schemathesis runtime error rather than a finding.
WORKERS="${WORKERS:-1}"
CHECKS="${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,chat_stream_is_well_formed,openai_stream_is_well_formed}"
DIFY_KEY="app-fake-key"
API_KEY="fuzz-gateway-key"
# A key limited to drillquiz, for /openai/v1: its scope makes drillquiz a configured system, so drillquiz is a model.
OPENAI_KEY="fuzz-gateway-openai-key"
ADMIN_KEY="fuzz-gateway-admin-key"

if ! python3 -c 'import schemathesis, sys; sys.exit(0 if int(schemathesis.__version__.split(".")[0]) == 4 else 1)' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

if [ -n "${BIN_DIR:-}" ]; then
    BIN="$BIN_DIR"
else
    swift build --product chat-gateway
    swift build --product fake-dify
    BIN="$(swift build --show-bin-path)"
fi

WORK="$(mktemp -d)"
FAKE_PID=""
GATEWAY_PID=""
cleanup() {
    for pid in $GATEWAY_PID $FAKE_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    if [ -n "${GATEWAY_LOG:-}" ]; then cp "$WORK/gateway.log" "$GATEWAY_LOG" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { fail_showing_log "$WORK/gateway.log" "$@"; }

. scripts/lib/fake-dify.sh
start_fake_dify "$BIN/fake-dify" "$DIFY_KEY" "$WORK" || exit 1
DIFY_URL="$FAKE_URL"

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
# env -i keeps the operator's .env and shell settings (limits, allow-lists) out of the run.
(cd "$WORK" && exec env -i PATH="$PATH" HOME="${HOME:-/root}" \
    DIFY_BASE_URL="$DIFY_URL" DIFY_API_KEY="$DIFY_KEY" \
    CHAT_GATEWAY_API_KEY="$API_KEY,drillquiz:$OPENAI_KEY" CHAT_GATEWAY_JWT_SECRET="fuzz-gateway-secret" \
    CHAT_GATEWAY_ADMIN_KEY="$ADMIN_KEY" CHAT_GATEWAY_ENCRYPTION_KEY="fuzz-gateway-encryption-key-0123456789abcdef" \
    DATABASE_URL="sqlite:///$WORK/gateway.db" \
    "$BIN/chat-gateway" serve --hostname 127.0.0.1 --port "$PORT" >"$WORK/gateway.out" 2>"$WORK/gateway.log") &
GATEWAY_PID=$!
wait_for "$URL/readyz" "the gateway" "$GATEWAY_PID" || fail "starting the gateway"
echo "gateway at $URL (fake Dify at $DIFY_URL)"

# Seeded data, so the id-taking operations reach their success paths and not only 404s: a conversation of the
# documented example user (SystemID/UserID examples: drillquiz, 12345) with an answered message.
read -r CONVERSATION MESSAGE < <(
    curl -fsS -X POST "$URL/v1/chat" -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' \
        -d '{"system_id": "drillquiz", "user_id": "12345", "message": "hello"}' |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["conversation_id"], d["message_id"])'
) || fail "seeding a conversation"

# Hooks, loaded through SCHEMATHESIS_HOOKS: half the generated cases of an id-taking operation aim at the seeded
# conversation or message as its owner; the other half keep hypothesis' values (mostly 404/422 paths).
cat >"$WORK/hooks.py" <<'PY'
import json, os
import schemathesis
from hypothesis import strategies as st

OWNER = {"system_id": "drillquiz", "user_id": "12345"}
IDS = {"conversation_id": os.environ["FUZZ_CONVERSATION"], "message_id": os.environ["FUZZ_MESSAGE"]}


def aim_at_seed(case):
    targets = [name for name in IDS if name in (case.path_parameters or {})]
    for name in targets:
        case.path_parameters[name] = IDS[name]
    if targets and "/cache/" not in case.operation.path:
        case.query = {**(case.query if isinstance(case.query, dict) else {}), **OWNER}
        if isinstance(case.body, dict):
            case.body.update(OWNER)
    return case


def aim_at_model(case, aim):
    """/openai/v1: the key's model instead of a made-up one ("model"), and also a message Dify can answer
    ("message"), so that generated requests reach answers and streams, not only 404 and 400."""
    if aim == "as generated":
        return case
    if "model" in (case.path_parameters or {}):
        case.path_parameters["model"] = "drillquiz"
    if isinstance(case.body, dict):
        case.body["model"] = "drillquiz"
        if aim == "message":
            case.body["messages"] = [{"role": "user", "content": "hello"}]
    return case


@schemathesis.hook
def flatmap_case(ctx, case):
    if os.environ.get("FUZZ_AIM") == "off":
        return st.just(case)
    if case.operation.path.startswith("/openai/"):
        return st.sampled_from(["as generated", "model", "message"]).map(lambda aim: aim_at_model(case, aim))
    if not any(name in (case.path_parameters or {}) for name in IDS):
        return st.just(case)
    return st.booleans().map(lambda seeded: aim_at_seed(case) if seeded else case)


# response_schema_conformance checks each event against the StreamEvent schema; this checks the stream as a whole:
# every data line is JSON repeating its event's name, `start` (or an early `error`) first, `done` or `error` last.
@schemathesis.check
def chat_stream_is_well_formed(ctx, response, case):
    if case.operation.path.startswith("/openai/"):
        return None
    if not response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        return None
    body = response.content.decode("utf-8")
    assert body.endswith("\n\n"), f"stream does not end with a blank line: {body[-200:]!r}"
    names = []
    for frame in body[:-2].split("\n\n"):
        # Comments (keep-alives), the first frame's `retry:` and each event's `id:` are framing, not the event.
        lines = [line for line in frame.split("\n") if not line.startswith((":", "retry: ", "id: "))]
        if not lines:
            continue
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), f"bad frame {frame[:200]!r}"
        name = lines[0][len("event: "):]
        data = json.loads(lines[1][len("data: "):])
        assert isinstance(data, dict) and data.get("event") == name, f"{name} event's data names {data.get('event')!r}"
        names.append(name)
    assert names and names[0] in ("start", "error"), f"stream starts with {names[:1]}"
    assert names[-1] in ("done", "error") and names.count("done") + names.count("error") == 1, f"stream events {names}"


# /openai/v1's streams, as OpenAI's SDKs read them: `data:` lines only (and `id:`, comments), each a chunk of one id
# and one created, the first with role assistant; then `data: [DONE]`, or after a failure one error object and the end.
@schemathesis.check
def openai_stream_is_well_formed(ctx, response, case):
    if not case.operation.path.startswith("/openai/"):
        return None
    if not response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        return None
    body = response.content.decode("utf-8")
    assert body.endswith("\n\n"), f"stream does not end with a blank line: {body[-200:]!r}"
    datas = []
    for frame in body[:-2].split("\n\n"):
        lines = [line for line in frame.split("\n") if line and not line.startswith((":", "id: "))]
        if not lines:
            continue
        assert len(lines) == 1 and lines[0].startswith("data: "), f"bad frame {frame[:200]!r}"
        datas.append(lines[0][len("data: "):])
    assert datas, "an empty stream"
    ended = datas[-1] == "[DONE]"
    chunks = [json.loads(data) for data in (datas[:-1] if ended else datas)]
    if not ended:
        assert "error" in chunks[-1] and set(chunks[-1]["error"]) == {"message", "type", "param", "code"}, \
            f"a stream ending without [DONE] must end with an error: {datas[-1][:200]}"
        chunks = chunks[:-1]
    assert all(chunk.get("object") == "chat.completion.chunk" for chunk in chunks), f"not chunks: {datas[:3]}"
    assert len({chunk["id"] for chunk in chunks}) <= 1 and len({chunk["created"] for chunk in chunks}) <= 1, \
        f"several ids or created in one stream: {sorted({(c['id'], c['created']) for c in chunks})}"
    if chunks:
        assert chunks[0]["choices"][0]["delta"].get("role") == "assistant", f"first chunk {chunks[0]}"
PY

# A chat JWT of the same user, for the passes that authenticate as a browser would.
TOKEN="$(cd "$WORK" && env -i PATH="$PATH" HOME="${HOME:-/root}" CHAT_GATEWAY_JWT_SECRET="fuzz-gateway-secret" \
    "$BIN/chat-gateway" gen-jwt drillquiz 12345 2>/dev/null | head -n1)"
[ -n "$TOKEN" ] || fail "gen-jwt printed no token"

# fuzz "<auth header>" [schemathesis options, which override the defaults here]
fuzz() {
    local auth="$1"
    shift
    echo "== schemathesis, ${auth%%:*} $*"
    FUZZ_CONVERSATION="$CONVERSATION" FUZZ_MESSAGE="$MESSAGE" SCHEMATHESIS_HOOKS="$WORK/hooks.py" \
        schemathesis run "$URL/openapi.json" \
        --header "$auth" \
        --checks "$CHECKS" \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --generation-database none \
        --workers "$WORKERS" \
        --request-timeout 10 \
        --report-dir "$WORK/report" \
        --exclude-path-regex '^/dify/v1/' \
        "$@"
}
# Every operation with the key, then with the token, then with only the credentials schemathesis makes up (random
# keys and JWTs: all 401). The token pass generates no security parameters, else a made-up X-API-Key (which wins
# over Bearer) makes every answer a 401. DELETE comes last, since schemathesis reuses ids it reads in responses and
# would delete the seeded conversation before the other operations are done with it.
for filter in "--exclude-method DELETE" "--include-method DELETE"; do
    # shellcheck disable=SC2086
    fuzz "X-API-Key: $API_KEY" $filter || fail "schemathesis found failures (API key, $filter)"
    # shellcheck disable=SC2086
    fuzz "Authorization: Bearer $TOKEN" $filter --generation-with-security-parameters false ||
        fail "schemathesis found failures (chat JWT, $filter)"
done
# The admin API with the admin key (before the made-up credentials, whose wrong admin keys make 127.0.0.1 wait).
fuzz "X-Admin-Key: $ADMIN_KEY" --include-path-regex '^/admin/' --generation-with-security-parameters false ||
    fail "schemathesis found failures (admin key)"
# /openai/v1 as an OpenAI client calls it: the key as `Authorization: Bearer`, limited to drillquiz, whose model the
# hooks aim a third of the cases at (another third with a message Dify answers).
fuzz "Authorization: Bearer $OPENAI_KEY" --include-path-regex '^/openai/v1/' --generation-with-security-parameters false ||
    fail "schemathesis found failures (OpenAI API, Bearer key)"
fuzz "X-Fuzz-Pass: made-up credentials" || fail "schemathesis found failures (made-up credentials)"
# Sequences along the links schemathesis infers (chat, then list, rename, delete, then read the deleted one...), on
# fresh data: a deleted conversation must stay gone, a created one must be readable.
FUZZ_AIM=off fuzz "X-API-Key: $API_KEY" --phases stateful --checks "$CHECKS,use_after_free,ensure_resource_availability" ||
    fail "schemathesis found failures (stateful)"
kill -0 "$GATEWAY_PID" 2>/dev/null || fail "the gateway died during the run"
echo "fuzz-gateway: no failures"
