#!/usr/bin/env bash
# A user's export at scale: one user given CONVERSATIONS conversations of MESSAGES messages each (defaults 1,000 × 100:
# 100,000 messages) in a migrated SQLite file by bench/export_data.py, their texts full of emoji, CJK, zero-width and
# other awkward characters; then the release gateway (production mode) streams
# GET /admin/v1/systems/{system_id}/users/{user_id}/export?format=json and ?format=jsonl to a file, after one warm-up
# export of a 10-message user in each format, while its RSS is read (VmRSS every 10 ms, and VmHWM reset before each
# export). Prints for each format side by side: status and headers, size, duration, the gateway's CPU, time to the
# first byte, the RSS before and its peak growth, whether the file is valid JSON (json.load) or JSON Lines, whether
# every seeded text came back byte for byte, and PASS/FAIL against the issue's target (growth under 50 MB, valid,
# every text intact).
# Usage: bench/export.sh [conversations=1000] [messages per conversation=100]
set -euo pipefail
cd "$(dirname "$0")/.."
conversations=${1:-1000}; per_conversation=${2:-100}
. bench/lib.sh

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
admin_key=bench-admin-key-0123456789
system=bench user="exporter-😀-한국"
user_path=$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=''))" "$user")
fake_port=$(free_port); gw_port=$(free_port)
start_fake_dify "$fake_port"
env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY="$BENCH_DIFY_KEY" \
  CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="sqlite:///$work/gw.db" \
  "$bin/chat-gateway" migrate --env production --log warning >"$work/migrate.log" 2>&1 \
  || { cat "$work/migrate.log" >&2; exit 1; }
echo "seeding $conversations conversations × $per_conversation messages for one user..."
python3 bench/export_data.py seed "$work/gw.db" "$system" warm-user 1 10 "$work/expected-warm.json" >/dev/null
python3 bench/export_data.py seed "$work/gw.db" "$system" "$user" "$conversations" "$per_conversation" "$work/expected.json"
echo "database file: $(du -h "$work/gw.db" | cut -f1)"

BENCH_GATEWAY_ENV="CHAT_GATEWAY_ADMIN_KEY=$admin_key ALLOWED_SYSTEM_IDS=$system" \
  start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$gw_port"
base="http://127.0.0.1:$gw_port/admin/v1/systems/$system/users"
status=$(curl -s -o "$work/probe" -w "%{http_code}" -H "X-Admin-Key: $admin_key" "$base/warm-user/export")
if [ "$status" != 200 ]; then
  echo "GET $base/warm-user/export answered $status (issue 34's export not built?): $(head -c 300 "$work/probe")" >&2; exit 1
fi
idle=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$gw_pid/status")
for format in json jsonl; do
  curl -fsS -o /dev/null -H "X-Admin-Key: $admin_key" "$base/warm-user/export?format=$format"
done
for format in json jsonl; do
  python3 bench/export_data.py fetch "$base/$user_path/export?format=$format" "$admin_key" "$gw_pid" \
    "$work/export.$format" >"$work/fetch-$format.json"
  python3 bench/export_data.py check "$format" "$work/export.$format" "$work/expected.json" "$system" "$user" \
    >"$work/check-$format.json"
done
kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true

python3 - "$work" "$idle" <<'PY'
import json, sys
work, idle = sys.argv[1], int(sys.argv[2])
fetched = {f: json.load(open(f"{work}/fetch-{f}.json")) for f in ("json", "jsonl")}
checked = {f: json.load(open(f"{work}/check-{f}.json")) for f in ("json", "jsonl")}
mb = lambda b: b / 1048576
rows = [
    ("HTTP status", lambda f, c: str(f["status"])),
    ("Content-Type", lambda f, c: str(f["content_type"])),
    ("chunked", lambda f, c: "yes" if f["chunked"] else "no"),
    ("size", lambda f, c: f"{f['bytes'] / 1e6:.1f} MB"),
    ("duration", lambda f, c: f"{f['seconds']:.2f} s ({f['bytes'] / 1e6 / max(f['seconds'], 1e-9):.1f} MB/s)"),
    ("gateway CPU", lambda f, c: f"{f['cpu']:.1f} s"),
    ("first byte", lambda f, c: f"{f['first_byte'] * 1000:.0f} ms" if f["first_byte"] is not None else "-"),
    ("RSS before", lambda f, c: f"{mb(f['rss_before']):.1f} MB"),
    ("peak RSS growth", lambda f, c: f"{mb(f['rss_peak'] - f['rss_before']):.1f} MB"
                                     + (" (VmHWM)" if f["hwm"] >= f["sampled_peak"] and f["hwm"] else " (sampled)")),
    ("valid", lambda f, c: "yes" if c["valid"] else f"NO: {c['error']}"),
    ("conversations", lambda f, c: str(c["conversations"])),
    ("messages", lambda f, c: f"{c['messages']} ({c['missing']} missing, {c['unknown']} unknown)"),
    ("texts intact", lambda f, c: f"{c['texts'] - c['mismatched']} of {c.get('expected_texts', c['texts'])}"),
]
print(f"RSS at idle after start-up: {mb(idle):.1f} MB; after a warm-up export in each format, the figures below")
print(f"{'export':18} {'?format=json':>34} {'?format=jsonl':>34}")
for label, value in rows:
    print(f"{label:18} {value(fetched['json'], checked['json']):>34} {value(fetched['jsonl'], checked['jsonl']):>34}")
for f in ("json", "jsonl"):
    c, x = checked[f], fetched[f]
    growth = mb(x["rss_peak"] - x["rss_before"])
    ok = (x["status"] == 200 and c["valid"] and c["mismatched"] == 0 and c["missing"] == 0
          and c["texts"] == c.get("expected_texts", c["texts"]) and growth < 50)
    print(f"{f}: growth {growth:.1f} MB (< 50 MB), {'valid' if c['valid'] else 'invalid'}, "
          f"{c['mismatched']} texts changed, {c['missing']} messages missing: {'PASS' if ok else 'FAIL'}")
    if c.get("example"):
        print(f"    first changed text: {json.dumps(c['example'], ensure_ascii=False)}")
    if c.get("lines"):
        print(f"    lines by type: {c['lines']}")
PY
echo "machine: $(machine)"
