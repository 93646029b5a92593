#!/usr/bin/env bash
# N streaming chats (default 1000) of 50 tokens at a fixed pace (default 200 ms: about 10 s each), arriving evenly
# over the ramp (default 10 s, so about N open at once): through the gateway (on SQLite), straight to the fake Dify,
# and through two bare proxies in front of it (nginx, and Vapor + AsyncHTTPClient relaying the body:
# bench/vapor-proxy), in the same run. Reports time-to-first-token (and each proxy's overhead on it at p50 and p99),
# errors, answers stored complete (the whole text), the gateway's peak RSS, and the database writes the streams
# cost (chatgw_store_writes_total by operation, per stream). Needs nginx (nginx-light).
# BENCH_GATEWAY_ENV passes more settings to the gateway, e.g. DIFY_MAX_CONNECTIONS=20000 for 10,000 streams.
# Usage: bench/stream-concurrency.sh [streams=1000] [token_delay_ms=200] [ramp_seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}; token_ms=${2:-200}; ramp=${3:-10}
. bench/lib.sh

fake_port=$(free_port); nginx_port=$(free_port); vapor_port=$(free_port); gw_port=$(free_port)
start_fake_dify "$fake_port" --token-delay-ms "$token_ms"
start_nginx_proxy "$fake_port" "$nginx_port"
has_vapor=0; if start_vapor_proxy "$fake_port" "$vapor_port" relay; then has_vapor=1; fi
start_gateway "$fake_port" app-bench "$gw_port"

echo "$streams concurrent streams, 50 tokens each at ${token_ms} ms, started over ${ramp}s"
direct=$(python3 bench/stream_clients.py dify 127.0.0.1 "$fake_port" "$streams" "$ramp" app-bench)
nginx=$(python3 bench/stream_clients.py dify 127.0.0.1 "$nginx_port" "$streams" "$ramp" app-bench)
vapor=null; [ $has_vapor = 1 ] && vapor=$(python3 bench/stream_clients.py dify 127.0.0.1 "$vapor_port" "$streams" "$ramp" app-bench)
gateway=$(python3 bench/stream_clients.py gateway 127.0.0.1 "$gw_port" "$streams" "$ramp" bench-key)
sleep 1
# Complete means the whole answer: stream_clients.py asks for "/tokens 50", answered "tok1 tok2 ... tok50".
stored=$(count_rows "select count(*) from gateway_messages where role='assistant' and status='complete' and content='$(seq -f 'tok%g' -s ' ' 50)'")
python3 - "$direct" "$nginx" "$vapor" "$gateway" <<'PY'
import json, sys
d, n, v, g = (json.loads(arg) for arg in sys.argv[1:5])
rows = [("fake Dify direct", d), ("nginx -> fake Dify", n)] + ([("bare Vapor proxy", v)] if v else []) + [("gateway -> fake Dify", g)]
print(f"{'target':<22}{'ok':>6}{'errors':>8}{'ttft p50':>10}{'p90':>9}{'p99':>9}{'total p50':>11}")
for name, r in rows:
    t = r["ttft_ms"]; print(f"{name:<22}{r['ok']:>6}{r['errors']:>8}{t['p50']:>10}{t['p90']:>9}{t['p99']:>9}{r['total_ms']['p50']:>11}")
for name, r in rows[1:]:
    if d["ttft_ms"]["p50"] is not None and r["ttft_ms"]["p50"] is not None:
        print(f"{name} first-token overhead vs direct: p50 {r['ttft_ms']['p50'] - d['ttft_ms']['p50']:.2f} ms, p99 {r['ttft_ms']['p99'] - d['ttft_ms']['p99']:.2f} ms")
PY
echo "answers stored complete: $stored / $streams"
curl -s "http://127.0.0.1:$gw_port/metrics" | python3 -c '
import re, sys
streams = int(sys.argv[1])
writes = {m.group(1): float(m.group(2)) for m in re.finditer(r"chatgw_store_writes_total\{operation=\"([^\"]+)\"\} (\S+)", sys.stdin.read())}
total = sum(writes.values())
print(f"database writes: {total:.0f} in all, {total / streams:.2f} per stream (" + ", ".join(f"{name} {count / streams:.2f}" for name, count in sorted(writes.items())) + ")")
' "$streams"
echo "gateway peak RSS: $(peak_rss)"
echo "machine: $(machine)"
