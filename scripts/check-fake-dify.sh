#!/usr/bin/env bash
# Checks fake-dify against Dify's official OpenAPI description of chat apps with schemathesis (scripts/lib/dify-schemathesis.sh):
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
. scripts/lib/dify-schemathesis.sh
DIFY_BEARER="$KEY" DIFY_LONG_USER_500=allowed dify_schemathesis "$URL/v1" "$TEST_USER" "$C1" "$C2" "$C3" "$M1" \
    "$DIFY_SERVED_OPERATIONS"
