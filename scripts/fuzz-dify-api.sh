#!/usr/bin/env bash
# Fuzzes the gateway's Dify-compatible API with schemathesis against Dify's own openapi_chat.json, its base URL set to
# the gateway's /dify/v1 and a gateway key (limited to one system) as the bearer token, the built gateway in front of
# fake-dify on loopback. The operations the gateway serves must give no 5xx and only responses the document
# describes (streams checked event by event); every other operation of the document must be Dify's 404 body.
#
# Env: DIFY_SPEC (default ../shared/dify/openapi_chat.json), MAX_EXAMPLES (default 30 per operation and phase),
#      SEED (default 20261125), BIN_DIR (a directory holding prebuilt chat-gateway and fake-dify: skips the build).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
SPEC="${DIFY_SPEC:-../shared/dify/openapi_chat.json}"
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
SEED="${SEED:-20261125}"
DIFY_KEY="app-fake-key"
GATEWAY_KEY="fuzz-dify-api-drillquiz-key"
[ -f "$SPEC" ] || { echo "spec not found: $SPEC (set DIFY_SPEC)" >&2; exit 2; }

if ! python3 -c 'import schemathesis, sys; sys.exit(0 if int(schemathesis.__version__.split(".")[0]) == 4 else 1)' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
. scripts/lib/fake-dify.sh
. scripts/lib/dify-schemathesis.sh
if [ -n "${BIN_DIR:-}" ]; then BIN="$BIN_DIR"; else find_binaries; BIN="$BIN_DIR"; fi

WORK="$(mktemp -d)"
FAKE_PID=""
GATEWAY_PID=""
cleanup() {
    for pid in $GATEWAY_PID $FAKE_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { fail_showing_log "$WORK/gateway.log" "$@"; }

start_fake_dify "$BIN/fake-dify" "$DIFY_KEY" "$WORK" || exit 1
PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
(cd "$WORK" && exec env -i PATH="$PATH" HOME="${HOME:-/root}" \
    DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY="$DIFY_KEY" \
    CHAT_GATEWAY_API_KEY="drillquiz:$GATEWAY_KEY" CHAT_GATEWAY_JWT_SECRET="fuzz-dify-api-secret" \
    DATABASE_URL="sqlite:///$WORK/gateway.db" \
    "$BIN/chat-gateway" serve --hostname 127.0.0.1 --port "$PORT" >"$WORK/gateway.out" 2>"$WORK/gateway.log") &
GATEWAY_PID=$!
wait_for "$URL/readyz" "the gateway" "$GATEWAY_PID" || fail "starting the gateway"
echo "gateway at $URL/dify/v1 (fake Dify at $FAKE_URL)"

# Seeded through the gateway itself, so that it knows the owner: three conversations of one user, each answered.
TEST_USER="schemathesis-user"
seed_chat() {
    curl -fsS -X POST "$URL/dify/v1/chat-messages" -H "Authorization: Bearer $GATEWAY_KEY" \
        -H 'Content-Type: application/json' \
        -d "{\"query\": \"hello\", \"inputs\": {}, \"response_mode\": \"blocking\", \"user\": \"$TEST_USER\"}" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["conversation_id"], d["message_id"])'
}
read -r C1 M1 < <(seed_chat) || fail "seeding a conversation"
read -r C2 _ < <(seed_chat) || fail "seeding a conversation"
read -r C3 _ < <(seed_chat) || fail "seeding a conversation"

export DIFY_BEARER="$GATEWAY_KEY"
echo "== the operations the gateway serves"
dify_schemathesis "$URL/dify/v1" "$TEST_USER" "$C1" "$C2" "$C3" "$M1" "$DIFY_SERVED_OPERATIONS" ||
    fail "schemathesis found failures (served operations)"
echo "== the operations it does not pass through: Dify's 404"
DIFY_CHECKS=is_difys_404 dify_schemathesis "$URL/dify/v1" "$TEST_USER" "$C1" "$C2" "$C3" "$M1" '.*' \
    --exclude-operation-id-regex "$DIFY_SERVED_OPERATIONS" --max-examples 10 ||
    fail "schemathesis found failures (operations not passed through)"
kill -0 "$GATEWAY_PID" 2>/dev/null || fail "the gateway died during the run"
echo "fuzz-dify-api: no failures"
