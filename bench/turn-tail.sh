#!/usr/bin/env bash
# How late a turn's live events reach a reader on another replica (PostgreSQL): N streams started on replica A,
# each followed at once by a second reader on A and one on B (GET /v1/turns/{id}/events). For every delta the two
# readers both received as its own event, B's arrival minus A's is the tail's lag; B polls the journal, which A
# writes every 200 ms, so the lag is up to about 200 + 250 ms. Prints the lag's p50/p90/p99/max beside A's own
# second reader. Needs PostgreSQL: BENCH_POSTGRES_URL or TEST_DATABASE_URL.
# Usage: bench/turn-tail.sh [streams=20] [token_ms=100]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-20}; token_ms=${2:-100}
. bench/lib.sh
server=${BENCH_POSTGRES_URL:-${TEST_DATABASE_URL:?set BENCH_POSTGRES_URL or TEST_DATABASE_URL}}
url=$(fresh_postgres_database "$server" "gw_tail_$$"); postgres_cleanup+=("$server|gw_tail_$$")
fake_port=$(free_port); port_a=$(free_port); port_b=$(free_port)
start_fake_dify "$fake_port" --token-delay-ms "$token_ms"
start_gateway "$fake_port" app-bench "$port_a" "$url"
start_gateway "$fake_port" app-bench "$port_b" "$url"
python3 - "$port_a" "$port_b" "$streams" <<'PY'
import sys, threading, time
sys.path.insert(0, "e2e")
from gateway_http import EventStream
port_a, port_b, streams = (int(v) for v in sys.argv[1:4])
key = [("X-API-Key", "bench-key")]
lags = {"A, second reader": [], "B, other replica": []}
def follow(port, path, seen):
    stream = EventStream(port, "GET", path, headers=key, timeout=60)
    while (event := stream.next()) is not None:
        seen.setdefault(event["id"], time.perf_counter())
        if event["event"] in ("done", "error"): return
def one(index):
    user = f"tail{index}"
    first = EventStream(port_a, "POST", "/v1/chat", {"system_id": "bench", "user_id": user, "message": "/tokens 50",
                                                     "stream": True}, headers=key, timeout=60)
    turn = first.headers["x-turn-id"]
    path = f"/v1/turns/{turn}/events?system_id=bench&user_id={user}"
    origin, local, remote = {}, {}, {}
    readers = [threading.Thread(target=follow, args=(port_a, path, local)),
               threading.Thread(target=follow, args=(port_b, path, remote))]
    for r in readers: r.start()
    while (event := first.next()) is not None:
        origin.setdefault(event["id"], time.perf_counter())
    for r in readers: r.join()
    for name, seen in (("A, second reader", local), ("B, other replica", remote)):
        lags[name] += [(seen[i] - origin[i]) * 1000 for i in origin if i in seen and i > 1]
threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
for t in threads: t.start()
for t in threads: t.join()
def pct(values, p): return sorted(values)[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")
print(f"{'reader':<20}{'events':>8}{'lag p50':>10}{'p90':>8}{'p99':>8}{'max':>8}  (ms after the original stream)")
for name, values in lags.items():
    print(f"{name:<20}{len(values):>8}{pct(values, 50):>10.1f}{pct(values, 90):>8.1f}{pct(values, 99):>8.1f}{max(values or [0]):>8.1f}")
PY
echo "machine: $(machine)"
