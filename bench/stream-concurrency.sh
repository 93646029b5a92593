#!/usr/bin/env bash
# N concurrent streaming chats (default 1000) at a fixed token pace, through the gateway and straight to the
# fake Dify in the same run. Reports time-to-first-token (and the gateway's overhead on it), errors, and the
# gateway's peak RSS.   Usage: bench/stream-concurrency.sh [streams=1000] [token_delay_ms=100] [ramp_seconds=2]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}; token_ms=${2:-100}; ramp=${3:-2}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
swift build -c release --product chat-gateway >/dev/null
swift build -c release --product fake-dify >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" != 000 ] && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

fake_port=$(free_port); gw_port=$(free_port)
"$bin/fake-dify" --host 127.0.0.1 --port "$fake_port" --api-key app-bench --token-delay-ms "$token_ms" --log-level error >"$work/fake.log" 2>&1 &
pids+=($!)
env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY=app-bench \
  CHAT_GATEWAY_API_KEY=bench-key CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="sqlite:///$work/gw.db" \
  "$bin/chat-gateway" serve --env production --hostname 127.0.0.1 --port "$gw_port" --log warning >"$work/gw.log" 2>&1 &
gw_pid=$!
pids+=($gw_pid)
wait_for "http://127.0.0.1:$gw_port/health"

echo "$streams concurrent streams, 50 tokens each at ${token_ms} ms, started over ${ramp}s"
direct=$(python3 bench/stream_clients.py dify 127.0.0.1 "$fake_port" "$streams" "$ramp" app-bench)
gateway=$(python3 bench/stream_clients.py gateway 127.0.0.1 "$gw_port" "$streams" "$ramp" bench-key)
sleep 1
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from gateway_messages where role='assistant' and status='complete'\").fetchone()[0])" "$work/gw.db")
python3 - "$direct" "$gateway" <<'PY'
import json, sys
d, g = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'target':<22}{'ok':>6}{'errors':>8}{'ttft p50':>10}{'p90':>9}{'p99':>9}{'total p50':>11}")
for name, r in (("fake Dify direct", d), ("gateway -> fake Dify", g)):
    t = r["ttft_ms"]; print(f"{name:<22}{r['ok']:>6}{r['errors']:>8}{t['p50']:>10}{t['p90']:>9}{t['p99']:>9}{r['total_ms']['p50']:>11}")
if d["ttft_ms"]["p50"] is not None and g["ttft_ms"]["p50"] is not None:
    print(f"first-token overhead p50: {g['ttft_ms']['p50'] - d['ttft_ms']['p50']:.2f} ms")
PY
echo "answers stored complete: $stored / $streams"
echo "gateway peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
