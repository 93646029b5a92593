#!/usr/bin/env bash
# N concurrent streaming chats (default 1000) at a fixed token pace, through the gateway, straight to the
# fake Dify, and through a bare nginx proxy in front of it, in the same run. Reports time-to-first-token (and the
# overhead of the gateway and of nginx on it), errors, and the gateway's peak RSS. Needs nginx (nginx-light).
# Usage: bench/stream-concurrency.sh [streams=1000] [token_delay_ms=100] [ramp_seconds=2]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}; token_ms=${2:-100}; ramp=${3:-2}
. bench/lib.sh

fake_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
"$bin/fake-dify" --host 127.0.0.1 --port "$fake_port" --api-key app-bench --token-delay-ms "$token_ms" --log-level error >"$work/fake.log" 2>&1 &
pids+=($!)
start_nginx_proxy "$fake_port" "$nginx_port"
start_gateway "$fake_port" app-bench "$gw_port"

echo "$streams concurrent streams, 50 tokens each at ${token_ms} ms, started over ${ramp}s"
direct=$(python3 bench/stream_clients.py dify 127.0.0.1 "$fake_port" "$streams" "$ramp" app-bench)
nginx=$(python3 bench/stream_clients.py dify 127.0.0.1 "$nginx_port" "$streams" "$ramp" app-bench)
gateway=$(python3 bench/stream_clients.py gateway 127.0.0.1 "$gw_port" "$streams" "$ramp" bench-key)
sleep 1
stored=$(count_rows "select count(*) from gateway_messages where role='assistant' and status='complete'")
python3 - "$direct" "$nginx" "$gateway" <<'PY'
import json, sys
d, n, g = (json.loads(arg) for arg in sys.argv[1:4])
print(f"{'target':<22}{'ok':>6}{'errors':>8}{'ttft p50':>10}{'p90':>9}{'p99':>9}{'total p50':>11}")
for name, r in (("fake Dify direct", d), ("nginx -> fake Dify", n), ("gateway -> fake Dify", g)):
    t = r["ttft_ms"]; print(f"{name:<22}{r['ok']:>6}{r['errors']:>8}{t['p50']:>10}{t['p90']:>9}{t['p99']:>9}{r['total_ms']['p50']:>11}")
for name, r in (("nginx", n), ("gateway", g)):
    if d["ttft_ms"]["p50"] is not None and r["ttft_ms"]["p50"] is not None:
        print(f"{name} first-token overhead p50: {r['ttft_ms']['p50'] - d['ttft_ms']['p50']:.2f} ms")
PY
echo "answers stored complete: $stored / $streams"
echo "gateway peak RSS: $(peak_rss)"
echo "machine: $(machine)"
