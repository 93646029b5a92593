#!/usr/bin/env bash
# History at scale: USERS users with CONVERSATIONS conversations of TURNS turns each in the fake Dify (defaults
# 1000 × 20 × 50: one million turns, two million message rows), registered by opening the chat page, then
# `chat-gateway sync` twice (full, then incremental), then the cache API's latency on the filled SQLite database.
# Prints sync throughput (messages/s), the incremental run's time, and p50/p99 of filtered, paginated listings.
# Usage: bench/history.sh [users] [conversations] [turns]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000}; conversations=${2:-20}; turns=${3:-50}
. bench/lib.sh

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
fake_port=$(free_port); gw_port=$(free_port)
start_fake_dify "$fake_port"
start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$gw_port"

echo "seeding the fake Dify and registering $users users through the chat page..."
python3 bench/history_load.py seed "http://127.0.0.1:$fake_port" "http://127.0.0.1:$gw_port" "$users" "$conversations" "$turns"
kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true

sync_once() {
  local started ended
  started=$(date +%s.%N)
  env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY="$BENCH_DIFY_KEY" \
    CHAT_GATEWAY_API_KEY="$BENCH_API_KEY" CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="sqlite:///$work/gw.db" \
    /usr/bin/time -f "%M" -o "$work/sync-rss" "$bin/chat-gateway" sync --env production --log warning >"$work/sync-$1.log" 2>&1
  ended=$(date +%s.%N)
  python3 -c "print(f'{$ended - $started:.1f}')"
}
full=$(sync_once full)
rows=$(count_rows "select count(*) from gateway_messages")
echo "full sync:        $full s, $rows message rows stored ($(python3 -c "print(f'{$rows / $full:.0f}')") messages/s), peak RSS $(awk '{printf "%.0f MB", $1/1024}' "$work/sync-rss")"
tail -1 "$work/sync-full.log" | tr -d '\r' | sed 's/^/                  /'
again=$(sync_once again)
echo "incremental sync: $again s (nothing changed in Dify)"
tail -1 "$work/sync-again.log" | tr -d '\r' | sed 's/^/                  /'

start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$gw_port"
echo
echo "cache API on $rows messages (SQLite), keep-alive client, 300 requests per row:"
python3 bench/history_load.py query "http://127.0.0.1:$gw_port" "$BENCH_API_KEY" "$users"
echo "database file: $(du -h "$work/gw.db" | cut -f1)"
echo "machine: $(machine)"
