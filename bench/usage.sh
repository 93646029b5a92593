#!/usr/bin/env bash
# GET /v1/usage at scale on SQLite: USERS users chatting once a day for DAYS days (defaults 10,000 × 30: 300,000
# turns, 600,000 message rows) over 4 systems, their daily sums recounted (`chat-gateway recount-usage`, timed), then
# the report's p50/p99 for each grouping, 30 requests each, beside
# `SELECT COUNT(*)` of the whole messages table (what a full scan costs on the same file). Target: under 200 ms.
# Usage: bench/usage.sh [users] [days]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10000}; days=${2:-30}
. bench/lib.sh

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
fake_port=$(free_port); gw_port=$(free_port)
start_fake_dify "$fake_port"
start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$gw_port"   # migrates the file
kill -9 "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
echo "seeding $users users × $days days..."
python3 bench/usage_seed.py "$work/gw.db" "$users" "$days" 4
/usr/bin/time -f "recount-usage: %e s, %M KB peak" env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="sqlite:///$work/gw.db" CHAT_GATEWAY_JWT_SECRET=bench-secret \
    DIFY_BASE_URL="http://127.0.0.1:$fake_port" "$bin/chat-gateway" recount-usage --env production --log warning
start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$gw_port"

python3 - "http://127.0.0.1:$gw_port" "$work/gw.db" <<'PY'
import sqlite3, statistics, sys, time, urllib.request
base, db = sys.argv[1], sys.argv[2]
def timed(query):
    samples = []
    for _ in range(30):
        request = urllib.request.Request(base + "/v1/usage?" + query, headers={"X-API-Key": "bench-key"})
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            body = response.read()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1], len(body)
print("%-40s %9s %9s %10s" % ("query", "p50 ms", "p99 ms", "bytes"))
for query in ["group_by=system", "group_by=day", "group_by=system,day", "group_by=system&user_id=user-42",
              "group_by=user", "group_by=user&format=csv"]:
    p50, p99, size = timed(query)
    print("%-40s %9.1f %9.1f %10d" % (query, p50, p99, size))
connection = sqlite3.connect(db)
started = time.perf_counter()
connection.execute("SELECT COUNT(*), SUM(LENGTH(content)) FROM gateway_messages").fetchone()
print("%-40s %9.1f   (sqlite3, for scale)" % ("full scan of gateway_messages", (time.perf_counter() - started) * 1000))
PY
echo "machine: $(machine)"
