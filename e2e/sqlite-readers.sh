#!/usr/bin/env bash
# Operators' processes on the gateway's SQLite file while it takes chats: a read-only reader, a read-write
# connection, and `sqlite3 .backup` in a loop. Fails unless the gateway keeps running, every acknowledged chat is
# stored, and `PRAGMA integrity_check` passes on the database and on every backup.
# DURATION (seconds, default 20) sets how long the chats and the readers run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
e2e_start

start_fake_dify "$bin_dir/fake-dify" app-readers-key "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY=app-readers-key \
    CHAT_GATEWAY_JWT_SECRET=readers-secret-0123456789 CHAT_GATEWAY_API_KEY=readers-key \
    DATABASE_URL="sqlite:///$work/gateway.db" \
    "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$port" >"$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.log" >&2; echo "FAIL: the gateway did not start" >&2; exit 1; }
    sleep 0.1
done

python3 e2e/sqlite_readers.py "http://127.0.0.1:$port" "$work/gateway.db" "$work" "${DURATION:-20}" || {
    tail -n 40 "$work/gateway.log" >&2
    exit 1
}
kill -0 "$gateway_pid" 2>/dev/null || { tail -n 40 "$work/gateway.log" >&2; echo "FAIL: the gateway died" >&2; exit 1; }
echo "OK: the gateway kept running beside readers, writers and backups"
