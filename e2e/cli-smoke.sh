#!/usr/bin/env bash
# Drives the built `chat-gateway` binary as an operator would: gen-env, gen-jwt, migrate, bad configuration, import-legacy, recount-usage,
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

echo "-- import-legacy (the Python gateway's SQLite file, twice)"
python3 - "$work/legacy.db" <<'PY' || fail "could not build the legacy database"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE sync_users (id INTEGER PRIMARY KEY, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
  dify_user VARCHAR(320) NOT NULL, updated_at DATETIME, UNIQUE (system_id, user_id));
CREATE TABLE conversation_mappings (id INTEGER PRIMARY KEY, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
  dify_user VARCHAR(320) NOT NULL, conversation_id VARCHAR(128) NOT NULL, created_at DATETIME, updated_at DATETIME, summary TEXT);
CREATE TABLE conversation_cache (id INTEGER PRIMARY KEY, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
  dify_user VARCHAR(320) NOT NULL, conversation_id VARCHAR(128) NOT NULL UNIQUE, name VARCHAR(512), created_at DATETIME, synced_at DATETIME);
CREATE TABLE message_cache (id INTEGER PRIMARY KEY, conversation_id VARCHAR(128) NOT NULL, message_id VARCHAR(128) NOT NULL UNIQUE,
  role VARCHAR(32) NOT NULL, content TEXT NOT NULL, created_at DATETIME, synced_at DATETIME);
INSERT INTO sync_users VALUES (1, 'drillquiz', 'u1', 'drillquiz_u1', '2025-01-02 03:04:05.123456');
INSERT INTO conversation_mappings VALUES (1, 'drillquiz', 'u1', 'drillquiz_u1', 'c1', '2025-01-02 03:04:05', NULL, NULL),
  (2, 'drillquiz', 'u1', 'drillquiz_u1', 'c1', '2025-01-02 03:04:09', NULL, NULL);
INSERT INTO conversation_cache VALUES (1, 'drillquiz', 'u1', 'drillquiz_u1', 'c1', 'Homework', NULL, '2025-01-03 00:00:00');
INSERT INTO message_cache VALUES (1, 'c1', 'm1_user', 'user', 'hi', '2025-01-02 03:04:06.5', NULL),
  (2, 'c1', 'm1_assistant', 'assistant', 'hello', '2025-01-02 03:04:06.5', NULL),
  (3, 'gone', 'local-0123456789ab', 'user', 'orphan', NULL, NULL);
""")
db.commit()
PY
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" "$bin" import-legacy "$work/legacy.db" >import1.txt 2>err.txt \
  || fail "import-legacy: $(cat err.txt)"
grep -Eq '^message_cache +read 3, added 2, already present 0, skipped 1 \(conversation has no known owner: 1\)$' import1.txt \
  || fail "first import: $(cat import1.txt)"
grep -Eq '^total +read 7, added 4, already present 2, skipped 1$' import1.txt || fail "first import total: $(cat import1.txt)"
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" "$bin" import-legacy "sqlite:///$work/legacy.db" >import2.txt 2>err.txt \
  || fail "second import-legacy: $(cat err.txt)"
grep -Eq '^total +read 7, added 0, already present 6, skipped 1$' import2.txt || fail "second import added rows: $(cat import2.txt)"
python3 - "$work/imported.db" <<'PY' || fail "imported rows"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select system_id, user_id, name from gateway_conversations").fetchall() == [("drillquiz", "u1", "Homework")]
rows = db.execute("select message_id, role, user_id, status from gateway_messages order by role desc").fetchall()
assert rows == [("m1_user", "user", "u1", "complete"), ("m1_assistant", "assistant", "u1", "complete")], rows
# The imported turn is in the usage sums: one chat, completed, usage unknown.
sums = db.execute("select chats, completed, unknown_usage from gateway_usage_users").fetchall()
assert sums == [(1, 1, 1)], sums
PY
echo "-- recount-usage"
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" "$bin" recount-usage >recount.txt 2>err.txt \
  || fail "recount-usage: $(cat err.txt)"
grep -q '^Usage sums recounted from the messages.$' recount.txt || fail "recount-usage said: $(cat recount.txt)"
echo "-- purge (retention: the imported turn is from 2025)"
if "${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" RETENTION_DAYS=soon "$bin" purge 2>err.txt >/dev/null; then
  fail "a bad RETENTION_DAYS was accepted"
fi
grep -q RETENTION_DAYS err.txt || fail "error does not name RETENTION_DAYS: $(cat err.txt)"
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" RETENTION_DAYS=30 "$bin" purge --dry-run >purge.txt 2>err.txt \
  || fail "purge --dry-run: $(cat err.txt)"
grep -q '^system drillquiz: 1 conversations, 2 messages would be deleted (retention 30 days)$' purge.txt \
  || fail "purge --dry-run said: $(cat purge.txt)"
"${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" RETENTION_DAYS=30 "$bin" purge >purge.txt 2>err.txt \
  || fail "purge: $(cat err.txt)"
grep -q '^total: 1 conversations, 2 messages deleted$' purge.txt || fail "purge said: $(cat purge.txt)"
python3 - "$work/imported.db" <<'PY' || fail "purged rows"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select count(*) from gateway_messages").fetchone() == (0,)
assert db.execute("select count(*) from gateway_conversations").fetchone() == (0,)
# The sums outlive the content.
assert db.execute("select chats, completed, unknown_usage from gateway_usage_users").fetchall() == [(1, 1, 1)]
PY
if "${env_clean[@]}" DATABASE_URL="sqlite:///$work/imported.db" "$bin" import-legacy "$work/missing.db" 2>err.txt >/dev/null; then
  fail "import-legacy of a missing file succeeded"
fi
grep -q "cannot open the legacy database $work/missing.db" err.txt || fail "missing source error: $(cat err.txt)"
mkdir "$work/fresh"
if (cd "$work/fresh" && "${env_clean[@]}" "$bin" import-legacy "$work/missing.db" >/dev/null 2>&1); then
  fail "import-legacy of a missing file succeeded"
fi
[ -z "$(ls -A "$work/fresh")" ] || fail "import-legacy of a missing source left files behind: $(ls -A "$work/fresh")"

echo "-- help and usage errors touch no database, network or file"
for args in "--help" "-h" "serve --help" "routes --help" "migrate --help" "gen-jwt --help" "gen-env --help" \
  "import-legacy --help" "sync --help" "purge --help"; do
  empty=$(mktemp -d)
  # shellcheck disable=SC2086 # the arguments are split on purpose
  (cd "$empty" && "${env_clean[@]}" SYNC_INTERVAL=1 "$bin" $args >"$work/help.txt" 2>&1) || fail "$args exited non-zero: $(cat "$work/help.txt")"
  grep -qi "usage" "$work/help.txt" || fail "$args printed no usage: $(cat "$work/help.txt")"
  [ -z "$(ls -A "$empty")" ] || fail "$args left files in an empty folder: $(ls -A "$empty")"
  rm -rf "$empty"
done
empty=$(mktemp -d)
if (cd "$empty" && "${env_clean[@]}" "$bin" no-such-command >"$work/help.txt" 2>&1); then fail "an unknown command exited 0"; fi
[ -z "$(ls -A "$empty")" ] || fail "an unknown command left files: $(ls -A "$empty")"
rm -rf "$empty"

echo "-- serve (demo upstream)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${env_clean[@]}" CHAT_GATEWAY_API_KEY=k1 DATABASE_URL="sqlite:///$work/gw.db" \
  "$bin" serve --hostname 127.0.0.1 --port "$port" >out.txt 2>log.txt &
pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"ok"' || fail "health: $(cat log.txt)"
answer=$(curl -fsS -X POST "http://127.0.0.1:$port/v1/chat" -H 'X-API-Key: k1' -H 'Content-Type: application/json' \
  -d '{"system_id":"demo","user_id":"u1","message":"hello"}')
echo "$answer" | grep -q '> hello' && echo "$answer" | grep -q 'retriever_resources' || fail "chat: $answer"
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
assert rows[0] == ("user", "hello", "complete") and rows[1][0] == "assistant" and "> hello" in rows[1][1], rows
sources = sqlite3.connect(sys.argv[1]).execute("select retriever_resources from gateway_messages where role = 'assistant'").fetchone()[0]
assert "Getting started.md" in sources, sources
PY
echo "-- fake-dify on a port already in use: one line naming it, not a crash report"
fake="$(dirname "$bin")/fake-dify"
[ -x "$fake" ] || fail "fake-dify is not built"
if "$fake" --host 127.0.0.1 --port "$port" >/dev/null 2>err.txt; then fail "fake-dify started on a port in use"; fi
[ "$(wc -l <err.txt)" = 1 ] && grep -q "cannot listen on 127.0.0.1:$port" err.txt || fail "fake-dify on a used port: $(head -5 err.txt)"
echo "cli-smoke: all checks passed"
