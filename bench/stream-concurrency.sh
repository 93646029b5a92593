#!/usr/bin/env bash
# N concurrent streaming chats (default 1000) at a fixed token pace, through the gateway, straight to the
# fake Dify, and through two bare proxies in front of it (nginx, and Vapor + AsyncHTTPClient relaying the body:
# bench/vapor-proxy), in the same run. Reports time-to-first-token (and each proxy's overhead on it), errors, and
# the gateway's peak RSS. Needs nginx (nginx-light).
# Usage: bench/stream-concurrency.sh [streams=1000] [token_delay_ms=100] [ramp_seconds=2]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}; token_ms=${2:-100}; ramp=${3:-2}
. bench/lib.sh

fake_port=$(free_port); nginx_port=$(free_port); vapor_port=$(free_port); gw_port=$(free_port)
"$bin/fake-dify" --host 127.0.0.1 --port "$fake_port" --api-key app-bench --token-delay-ms "$token_ms" --log-level error >"$work/fake.log" 2>&1 &
pids+=($!)
start_nginx_proxy "$fake_port" "$nginx_port"
has_vapor=0; if start_vapor_proxy "$fake_port" "$vapor_port" relay; then has_vapor=1; fi
start_gateway "$fake_port" app-bench "$gw_port"

echo "$streams concurrent streams, 50 tokens each at ${token_ms} ms, started over ${ramp}s"
direct=$(python3 bench/stream_clients.py dify 127.0.0.1 "$fake_port" "$streams" "$ramp" app-bench)
nginx=$(python3 bench/stream_clients.py dify 127.0.0.1 "$nginx_port" "$streams" "$ramp" app-bench)
vapor=null; [ $has_vapor = 1 ] && vapor=$(python3 bench/stream_clients.py dify 127.0.0.1 "$vapor_port" "$streams" "$ramp" app-bench)
gateway=$(python3 bench/stream_clients.py gateway 127.0.0.1 "$gw_port" "$streams" "$ramp" bench-key)
sleep 1
stored=$(count_rows "select count(*) from gateway_messages where role='assistant' and status='complete'")
python3 - "$direct" "$nginx" "$vapor" "$gateway" <<'PY'
import json, sys
d, n, v, g = (json.loads(arg) for arg in sys.argv[1:5])
rows = [("fake Dify direct", d), ("nginx -> fake Dify", n)] + ([("bare Vapor proxy", v)] if v else []) + [("gateway -> fake Dify", g)]
print(f"{'target':<22}{'ok':>6}{'errors':>8}{'ttft p50':>10}{'p90':>9}{'p99':>9}{'total p50':>11}")
for name, r in rows:
    t = r["ttft_ms"]; print(f"{name:<22}{r['ok']:>6}{r['errors']:>8}{t['p50']:>10}{t['p90']:>9}{t['p99']:>9}{r['total_ms']['p50']:>11}")
for name, r in rows[1:]:
    if d["ttft_ms"]["p50"] is not None and r["ttft_ms"]["p50"] is not None:
        print(f"{name} first-token overhead p50: {r['ttft_ms']['p50'] - d['ttft_ms']['p50']:.2f} ms")
PY
echo "answers stored complete: $stored / $streams"
echo "gateway peak RSS: $(peak_rss)"
echo "machine: $(machine)"
