#!/usr/bin/env bash
# POST /v1/chat at 16 and 64 connections through the gateway to a zero-latency fake Dify, beside two references
# measured in the same run: the fake Dify called directly, and a bare nginx reverse proxy in front of it.
# Prints requests/s, p50/p99, the gateway's peak RSS, and how many answered chats are missing from its database.
# Usage: bench/chat-throughput.sh [seconds per run, default 10]   (needs wrk and nginx: apt-get install wrk nginx-light)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (apt-get install -y wrk nginx-light)" >&2; exit 2; }
swift build -c release --product chat-gateway >/dev/null
swift build -c release --product fake-dify >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" != 000 ] && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
fake_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
"$bin/fake-dify" --host 127.0.0.1 --port "$fake_port" --api-key "$BENCH_DIFY_KEY" --log-level error >"$work/fake.log" 2>&1 &
pids+=($!)
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body; proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fcgi; uwsgi_temp_path $work/nginx-uwsgi; scgi_temp_path $work/nginx-scgi;
  upstream fake { server 127.0.0.1:$fake_port; keepalive 256; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://fake; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY="$BENCH_DIFY_KEY" \
  CHAT_GATEWAY_API_KEY="$BENCH_API_KEY" CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="sqlite:///$work/gw.db" \
  "$bin/chat-gateway" serve --env production --hostname 127.0.0.1 --port "$gw_port" --log warning >"$work/gw.log" 2>&1 &
gw_pid=$!
pids+=($gw_pid)
wait_for "http://127.0.0.1:$gw_port/health"
wait_for "http://127.0.0.1:$nginx_port/v1/meta"
sleep 0.5

# run NAME CONNECTIONS URL SCRIPT -> "req/s p50ms p99ms ok"
run() {
  local out
  out=$(wrk -t2 -c"$2" -d"${duration}s" --latency -s "$4" "$3")
  echo "$out" >"$work/wrk-$1-$2.txt"
  python3 - "$work/wrk-$1-$2.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)); p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
bad = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {total - bad} {bad + errors}")
PY
}

printf '%-6s %-22s %10s %9s %9s %10s\n' conns target "req/s" "p50 ms" "p99 ms" "failed"
answered=0
for conns in 16 64; do
  declare -A rps p50
  for target in direct nginx gateway; do
    case $target in
      direct)  url="http://127.0.0.1:$fake_port/v1/chat-messages"; script=bench/wrk/dify-chat.lua; label="fake Dify direct" ;;
      nginx)   url="http://127.0.0.1:$nginx_port/v1/chat-messages"; script=bench/wrk/dify-chat.lua; label="nginx -> fake Dify" ;;
      gateway) url="http://127.0.0.1:$gw_port/v1/chat"; script=bench/wrk/gateway-chat.lua; label="gateway -> fake Dify" ;;
    esac
    read -r r p q ok failed < <(run "$target" "$conns" "$url" "$script")
    rps[$target]=$r; p50[$target]=$p
    [ "$target" = gateway ] && answered=$((answered + ok))
    printf '%-6s %-22s %10s %9s %9s %10s\n' "$conns" "$label" "$r" "$p" "$q" "$failed"
  done
  python3 -c "print(f'       gateway/nginx throughput: {${rps[gateway]}/${rps[nginx]}:.2f}x   added p50 vs direct: {${p50[gateway]}-${p50[direct]}:.2f} ms')"
done
sleep 1
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from gateway_messages where role='assistant'\").fetchone()[0])" "$work/gw.db")
failed_rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from gateway_messages where status!='complete'\").fetchone()[0])" "$work/gw.db")
echo
echo "gateway peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$gw_pid/status)"
# wrk stops counting at the deadline while the last requests are still completing, so stored can exceed answered.
missing=$((answered > stored ? answered - stored : 0))
echo "chats answered 2xx (as counted by wrk): $answered   answers stored: $stored   answered but missing from the database: $missing   rows not complete: $failed_rows"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
