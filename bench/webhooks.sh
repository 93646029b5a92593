#!/usr/bin/env bash
# What webhooks cost a chat: POST /v1/chat at 16 connections with wrk through the gateway (release, SQLite, a
# zero-latency fake Dify), three times on fresh databases: with no webhook endpoint; with one disabled endpoint (every
# chat writes its two events, conversation.created and message.completed, into the outbox, and nothing is sent: the
# chat path's own cost); and with that endpoint enabled, taking every event with its content at a receiver on loopback
# (the dispatcher sharing the machine with the chats). Prints requests/s and p50/p99 side by side, then how the
# dispatcher kept up: events delivered, how long after wrk stopped the last one arrived, and each event's lag from
# its change to its arrival (p50/p99).
# Usage: bench/webhooks.sh [seconds per run, default 10]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
. bench/lib.sh

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
admin_key=bench-admin-key-0123456789
fake_port=$(free_port)
start_fake_dify "$fake_port"

receiver_port=$(free_port)
python3 - "$receiver_port" "$work/arrivals.tsv" <<'PY' &
import http.server, json, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
log = open(out, "w", buffering=1)
class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = json.loads(body)["timestamp"]
        with lock:
            log.write(f"{self.headers['webhook-id']}\t{time.time():.6f}\t{stamp}\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
pids+=($!)
wait_for "http://127.0.0.1:$receiver_port/"

run() { # NAME: wrk against a fresh gateway; with NAME=outbox or webhooks, an endpoint first (disabled for outbox)
  local name=$1 port
  port=$(free_port)
  BENCH_GATEWAY_ENV="CHAT_GATEWAY_ADMIN_KEY=$admin_key CHAT_GATEWAY_ENCRYPTION_KEY=bench-encryption-key-0123456789abcdef WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8" \
    start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$port" "sqlite:///$work/gw-$name.db"
  if [ "$name" != none ]; then
    local enabled=true; [ "$name" = outbox ] && enabled=false
    local id
    id=$(curl -fsS -H "X-Admin-Key: $admin_key" -H 'Content-Type: application/json' \
      -d "{\"url\": \"http://127.0.0.1:$receiver_port/hook\", \"include_content\": true}" \
      "http://127.0.0.1:$port/admin/v1/webhooks" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    curl -fsS -o /dev/null -X PATCH -H "X-Admin-Key: $admin_key" -H 'Content-Type: application/json' \
      -d "{\"enabled\": $enabled}" "http://127.0.0.1:$port/admin/v1/webhooks/$id"
  fi
  BENCH_TARGET=gateway wrk -t2 -c16 -d"${duration}s" --latency -s bench/wrk/chat.lua "http://127.0.0.1:$port" >"$work/wrk-$name.txt"
  date +%s.%N >"$work/stopped-$name"
  if [ "$name" = webhooks ]; then
    local chats events
    chats=$(sqlite3 -readonly "$work/gw-webhooks.db" "SELECT COUNT(*) FROM gateway_messages WHERE role = 'assistant' AND status = 'complete'")
    events=$(sqlite3 -readonly "$work/gw-webhooks.db" "SELECT COUNT(*) FROM gateway_webhook_events")
    echo "$chats $events" >"$work/counts"
    for _ in $(seq 600); do
      [ "$(cut -f1 "$work/arrivals.tsv" | sort -u | wc -l)" -ge "$events" ] && break
      sleep 0.1
    done
  fi
  kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
}
run none
run outbox
run webhooks

python3 - "$work" <<'PY'
import datetime, re, sys
work = sys.argv[1]
def wrk(name):
    text = open(f"{work}/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return rps, pct(50), pct(99)
print(f"{'POST /v1/chat, 16 connections':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
base = wrk("none")
for name, label in (("none", "no webhook endpoint"), ("outbox", "events written, none sent"),
                    ("webhooks", "one endpoint, every event sent")):
    rps, p50, p99 = wrk(name)
    print(f"{label:34} {rps:8.0f} {p50:8.2f} {p99:8.2f}" + ("" if name == "none" else f"   ({rps / base[0]:.0%} of the throughput)"))
chats, events = map(int, open(f"{work}/counts").read().split())
rows = [line.rstrip("\n").split("\t") for line in open(f"{work}/arrivals.tsv")]
seen, lags, last = set(), [], 0.0
for event_id, arrived, stamp in rows:
    if event_id in seen: continue
    seen.add(event_id)
    made = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    lags.append(float(arrived) - made); last = max(last, float(arrived))
lags.sort()
stopped = float(open(f"{work}/stopped-webhooks").read())
q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] * 1000 if lags else float("nan")
print(f"webhooks: {chats} chats made {events} events; {len(seen)} delivered ({len(rows) - len(seen)} twice), the last "
      f"{max(0.0, last - stopped):.1f} s after wrk stopped; lag from change to arrival p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms")
PY
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
