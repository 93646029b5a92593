#!/usr/bin/env bash
# Drives the built `chat-gateway` binary as an operator would: gen-env, gen-jwt, migrate, bad configuration,
# and `serve --hostname H --port P` in demo mode (no Dify configured), over real HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)/chat-gateway"
[ -x "$bin" ] || swift build --product chat-gateway
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"
# Keep the operator's .env out of this check.
env_clean=(env -i PATH="$PATH" HOME="${HOME:-/root}")

echo "-- gen-env"
out=$("${env_clean[@]}" "$bin" gen-env 2>/dev/null)
echo "$out" | grep -Eq '^CHAT_GATEWAY_JWT_SECRET=[0-9a-f]{64}$' || fail "gen-env secret line: $out"
echo "$out" | grep -Eq '^CHAT_GATEWAY_API_KEY=[0-9a-f]{32}$' || fail "gen-env key line: $out"

echo "-- gen-jwt"
out=$("${env_clean[@]}" CHAT_GATEWAY_JWT_SECRET=s3cret "$bin" gen-jwt cointutor 999 2>/dev/null)
token=$(echo "$out" | head -1)
[ "$(echo "$token" | tr -cd '.' | wc -c)" = 2 ] || fail "gen-jwt token: $out"
echo "$out" | grep -q "http://localhost:8088/chat?token=$token" || fail "gen-jwt url: $out"

echo "-- bad configuration names the variable"
if "${env_clean[@]}" DIFY_BASE_URL='not a url' "$bin" migrate 2>err.txt; then fail "bad DIFY_BASE_URL accepted"; fi
grep -q DIFY_BASE_URL err.txt || fail "error does not name DIFY_BASE_URL: $(cat err.txt)"
if "${env_clean[@]}" DIFY_BASE_URL=https://dify.example "$bin" serve --env production 2>err.txt; then fail "production without secret started"; fi
grep -q CHAT_GATEWAY_JWT_SECRET err.txt || fail "error does not name CHAT_GATEWAY_JWT_SECRET: $(cat err.txt)"

echo "-- migrate"
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/migrated.db" "$bin" migrate >/dev/null 2>&1 || fail "migrate"
python3 - "$work/migrated.db" <<'PY' || fail "migrate created no tables"
import sqlite3, sys
names = {r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master where type='table'")}
assert {"gateway_users", "gateway_conversations", "gateway_messages"} <= names, names
PY

echo "-- serve (demo upstream)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${env_clean[@]}" CHAT_GATEWAY_API_KEY=k1 DATABASE_URL="sqlite:///$work/gw.db" \
  "$bin" serve --hostname 127.0.0.1 --port "$port" >out.txt 2>log.txt &
pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"ok"' || fail "health: $(cat log.txt)"
answer=$(curl -fsS -X POST "http://127.0.0.1:$port/v1/chat" -H 'X-API-Key: k1' -H 'Content-Type: application/json' \
  -d '{"system_id":"demo","user_id":"u1","message":"hello"}')
echo "$answer" | grep -q '"answer":"Echo: hello"' || fail "chat: $answer"
grep -q "demo upstream" log.txt || fail "no demo-upstream warning in the log"
for _ in $(seq 20); do grep -q "/chat?token=" out.txt && break; sleep 0.2; done
link_token=$(grep -o 'chat?token=[^ ]*' out.txt | head -1 | cut -d= -f2 || true)
[ -n "$link_token" ] || fail "no dev chat link printed: $(cat out.txt)"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/conversations?token=$link_token")
[ "$status" = 200 ] || fail "dev link token refused ($status)"
grep -q "$link_token" log.txt && fail "a token reached the log"
python3 - "$work/gw.db" <<'PY' || fail "chat not stored"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select role, content, status from gateway_messages order by created_at").fetchall()
assert rows == [("user", "hello", "complete"), ("assistant", "Echo: hello", "complete")], rows
PY
echo "cli-smoke: all checks passed"
