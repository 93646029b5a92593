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
start_e2e_gateway app-readers-key CHAT_GATEWAY_JWT_SECRET=readers-secret-0123456789 \
    CHAT_GATEWAY_API_KEY=readers-key

python3 e2e/sqlite_readers.py "$gateway_url" "$work/gateway.db" "$work" "${DURATION:-20}" || {
    tail -n 40 "$work/gateway.log" >&2
    exit 1
}
kill -0 "$gateway_pid" 2>/dev/null || { tail -n 40 "$work/gateway.log" >&2; echo "FAIL: the gateway died" >&2; exit 1; }
echo "OK: the gateway kept running beside readers, writers and backups"
