#!/usr/bin/env bash
# Retention on SQLite while chats go on: a migrated file seeded (bench/retention_load.py) with CONVERSATIONS
# conversations of TURNS turns, all older than 30 days (defaults 100,000 × 5: 1,000,000 message rows), copied twice.
# On each copy the gateway (release, production mode, zero-latency fake Dify) serves 4 blocking chat clients
# (POST /v1/chat, X-API-Key, a new conversation each) for BASELINE seconds, then the rows go while they keep
# chatting: on the first copy through `chat-gateway purge` with RETENTION_DAYS=30, a second process on the same file
# (the gateway itself has no RETENTION_DAYS); on the second through the gateway's own job (RETENTION_DAYS=30,
# RETENTION_INTERVAL=BASELINE seconds). A read-only watcher counts the old conversations every 0.1 s for when the
# deleting starts and ends.
# Prints rows purged, the purge's duration (and the command's peak RSS), the chats' p50/p99/max before and during
# each purge side by side, the target (chat p99 during the purge under one second), and checks that every seeded
# row went, every chat of the run stayed and the usage sums did not move.
# Usage: bench/retention.sh [conversations=100000] [turns=5] [baseline seconds=15]
set -euo pipefail
cd "$(dirname "$0")/.."
conversations=${1:-100000}; turns=${2:-5}; baseline=${3:-15}
clients=${RETENTION_CLIENTS:-4}
. bench/lib.sh

if ! "$bin/chat-gateway" --help 2>&1 | grep -qw purge; then
  echo "$bin/chat-gateway has no purge command (issue 34 not built yet)" >&2; exit 1
fi
export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
system=bench
fake_port=$(free_port)
start_fake_dify "$fake_port"
# The release gateway's settings for one-shot commands; add DATABASE_URL=... and more VAR=VALUE after it.
gateway_env=(env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY="$BENCH_DIFY_KEY"
  CHAT_GATEWAY_API_KEY="$BENCH_API_KEY" CHAT_GATEWAY_JWT_SECRET=bench-secret ALLOWED_SYSTEM_IDS=$system)
"${gateway_env[@]}" DATABASE_URL="sqlite:///$work/seed.db" "$bin/chat-gateway" migrate --env production --log warning \
  >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
echo "seeding $conversations conversations × $turns turns older than 30 days..."
python3 bench/retention_load.py seed "$work/seed.db" "$system" "$conversations" "$turns"
seeded=$(count_rows "SELECT COUNT(*) FROM gateway_messages" "sqlite:///$work/seed.db")
seeded_conversations=$(count_rows "SELECT COUNT(*) FROM gateway_conversations" "sqlite:///$work/seed.db")
usage_sums="SELECT SUM(chats) || ' chats, ' || SUM(total_tokens) || ' tokens' FROM gateway_usage_users"
usage_before=$(count_rows "$usage_sums" "sqlite:///$work/seed.db")
echo "database file: $(du -h "$work/seed.db" | cut -f1)"
cutoff=$(python3 -c "import time; print(int(time.time()) - 30 * 86400)")

run() { # MODE: command or job, on a copy of the seeded file
  local mode=$1 port db
  port=$(free_port); db=$work/gw-$mode.db
  cp "$work/seed.db" "$db"
  local env="ALLOWED_SYSTEM_IDS=$system"
  [ "$mode" = job ] && env="$env RETENTION_DAYS=30 RETENTION_INTERVAL=${baseline}s"
  BENCH_GATEWAY_ENV="$env" start_gateway "$fake_port" "$BENCH_DIFY_KEY" "$port" "sqlite:///$db"
  rm -f "$work/stop"
  python3 bench/retention_load.py chats "http://127.0.0.1:$port" "$BENCH_API_KEY" "$system" "$clients" \
    "$work/chats-$mode.tsv" "$work/stop" &
  local load=$!; pids+=("$load")
  python3 bench/retention_load.py watch "$db" "$cutoff" "$((baseline + 900))" "$work/deleting-$mode" "$work/stop" &
  local watcher=$!; pids+=("$watcher")
  if [ "$mode" = command ]; then
    sleep "$baseline"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%e %M" -o "$work/purge-time" "${gateway_env[@]}" DATABASE_URL="sqlite:///$db" RETENTION_DAYS=30 \
      "$bin/chat-gateway" purge --env production --log warning >"$work/purge.log" 2>"$work/purge.err" \
      || { echo "chat-gateway purge failed:" >&2; cat "$work/purge.log" "$work/purge.err" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$start $end" >"$work/window-$mode"   # chats during the command's whole run count as during the purge
    sleep 1
    touch "$work/stop"
    wait "$watcher" || true
  else
    wait "$watcher" || true   # the job starts after RETENTION_INTERVAL and ends when no seeded conversation is left
    cut -d' ' -f1,2 "$work/deleting-$mode" >"$work/window-$mode"
    curl -s "http://127.0.0.1:$port/metrics" | grep '^chatgw_retention_deleted_total' >"$work/job-metrics" || true
  fi
  sleep 3   # some chats after the purge
  touch "$work/stop"
  wait "$load"
  kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
}
run command
run job

echo
echo "seeded: $seeded message rows in $seeded_conversations conversations, all older than 30 days; $clients chat clients"
for mode in command job; do
  db=sqlite:///$work/gw-$mode.db
  left=$(count_rows "SELECT COUNT(*) FROM gateway_messages WHERE created_at < $cutoff" "$db")
  left_conversations=$(count_rows "SELECT COUNT(*) FROM gateway_conversations WHERE created_at < $cutoff" "$db")
  chats_ok=$(awk -F'\t' '$3 == 200' "$work/chats-$mode.tsv" | wc -l)
  kept=$(count_rows "SELECT COUNT(*) FROM gateway_messages WHERE role = 'assistant' AND created_at >= $cutoff" "$db")
  usage_after=$(count_rows "$usage_sums WHERE day < $cutoff / 86400" "$db")
  read -r first_deleted last_deleted _ _ <"$work/deleting-$mode"
  deleting=$(python3 -c "print(f'{$last_deleted - $first_deleted:.1f}')")
  rate=$(python3 -c "print(f'{($seeded - $left) / max($last_deleted - $first_deleted, 0.1):.0f}')")
  if [ "$mode" = command ]; then
    read -r elapsed rss <"$work/purge-time"
    echo "chat-gateway purge: $((seeded - left)) message rows, $((seeded_conversations - left_conversations)) conversations purged; deleting took $deleting s ($rate rows/s), the process ${elapsed} s, peak RSS $((rss / 1024)) MB; it printed:"
    sed 's/^/    /' "$work/purge.log"
  else
    echo "periodic job (RETENTION_INTERVAL=${baseline}s): $((seeded - left)) message rows, $((seeded_conversations - left_conversations)) conversations purged; deleting took about $deleting s ($rate rows/s); $(tr '\n' ' ' <"$work/job-metrics")"
  fi
  echo "    left of the seed: $left messages, $left_conversations conversations; chats of the run stored: $kept of $chats_ok answered; usage sums before the cutoff: $usage_after (seeded: $usage_before)$([ "$usage_after" = "$usage_before" ] && echo ", unchanged" || echo ", CHANGED")"
done
echo
python3 bench/retention_load.py report "$work" command job
echo "machine: $(machine)"
