#!/usr/bin/env bash
# Webhooks end to end (docs/webhooks.md): the built gateway and fake Dify on loopback, and a real receiver
# (e2e/webhook_receiver.py) that verifies EVERY delivery with the official Standard Webhooks library from PyPI
# (`standardwebhooks`) and checks that the same body with one byte changed does not verify. The steps
# (e2e/webhook_checks.py), on one SQLite gateway with WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 and a short
# WEBHOOK_RETRY_SCHEDULE:
#   1. signatures: blocking and streamed turns and a test event verify; message.completed holds the documented fields
#      and each conversation's `sequence` counts 1, 2, …; after rotate-secret every delivery carries two signatures,
#      the old secret's and the new one's, and each secret verifies it; a replay keeps the webhook-id;
#   5. on every message.completed the receiver, before answering, reads the message in
#      GET /v1/cache/conversations/{id}/messages: it is there, complete, with the chat's answer (in every step);
#   6. include_content false: no question, answer, quoted source, feedback reason or conversation name in any raw
#      body (unique markers); true: each in its place;
#   7. a 410 disables the endpoint after one attempt (webhook.endpoint.disabled goes to a subscriber); a 302 is a
#      failed attempt, retried and never followed; link-local, private, CGNAT, unspecified and plain-http public
#      URLs are refused with 400;
#   2. the endpoint's port closed while 500 turns complete (16 threads), then 503 until each event was refused once,
#      then 200: all 500 webhook-ids arrive within the schedule, none failed;
#   3. kill -9 while a slow receiver (200 ms a request) has 300 events queued, restart on the same SQLite file: every
#      event arrives; those in flight at the kill come again only after the 30 s lease;
#   7b. a gateway without WEBHOOK_ALLOWED_NETWORKS on the same file: loopback URLs refused with 400, and no delivery
#      to the loopback endpoints made earlier;
#   8. operator actions through the admin API (replay, test, PATCH) while 400 chats run: every chat answers 200 and
#      every action its documented status;
#   4. with TEST_DATABASE_URL (PostgreSQL): two replicas, 2,500 turns over both, 5,000 events; the receiver records
#      each request's time in flight per webhook-id: no overlap, every id, duplicates only after a lease expiry.
# Prints the figures at the end. KEEP_GOING=1 runs every step even after one failed (and fails at the end).
# Usage: [TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db] bash e2e/webhooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
python3 -c 'import standardwebhooks.webhooks' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check standardwebhooks
e2e_start
receiver_pid="" replica_pids=() database="" database_url=""
cleanup() {
    for pid in "${replica_pids[@]}"; do { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true; done
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
    [ -n "$database" ] && psql "$TEST_DATABASE_URL" -qtAX -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    e2e_cleanup
}
trap cleanup EXIT
gateway_log="$work/gateway.log"
failed_steps=()
step() {  # WHAT COMMAND...: runs a step; on failure stops showing the gateway's log (or, with KEEP_GOING, goes on)
    local what=$1 started=$SECONDS
    shift
    echo "-- $what"
    if "$@"; then
        echo "   ($((SECONDS - started)) s)"
    elif [ -n "${KEEP_GOING:-}" ]; then
        echo "FAIL: $what (going on: KEEP_GOING); the gateway log's last errors:" >&2
        grep -E ' (error|critical) ' "$gateway_log" 2>/dev/null | tail -n 5 >&2 || true
        failed_steps+=("$what")
    else
        fail_showing_log "$gateway_log" "$what"
    fi
}

api_key=wh-api-key-0123456789 admin_key=wh-admin-key-0123456789
schedule=1,1,2,2,3,3,5,5,5,5,5,5,5,5,5,5  # 62 s in all, room for the outage step on a slow machine; waits of 5 s at most
start_fake_dify "$bin_dir/fake-dify" app-wh-key "$work"
python3 e2e/webhook_receiver.py "$work/receiver.port" 2>"$work/receiver.log" &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.05; done
[ -s "$work/receiver.port" ] || { cat "$work/receiver.log" >&2; echo "FAIL: the receiver did not start" >&2; exit 1; }
receiver_url="http://127.0.0.1:$(cat "$work/receiver.port")"
settings=(CHAT_GATEWAY_API_KEY=$api_key CHAT_GATEWAY_JWT_SECRET=wh-jwt-secret-0123456789
    CHAT_GATEWAY_ADMIN_KEY=$admin_key CHAT_GATEWAY_ENCRYPTION_KEY=wh-encryption-key-0123456789abcdef0123
    RATE_LIMIT_PER_USER=off WEBHOOK_RETRY_SCHEDULE=$schedule
    # An endpoint's system_id must be one the gateway is configured for.
    ALLOWED_SYSTEM_IDS=whsign,whcontent,whgone,whredirect,whoutage,whbusy,whcrash,whreplicas,whrefused)
gateway_port=$(free_port)
gateway_url="http://127.0.0.1:$gateway_port"
start_gateway() {  # LOG [VAR=VALUE ...]: the gateway on $gateway_port (the same after a restart), SQLite $work/gateway.db
    gateway_log="$work/$1"
    shift
    env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY=app-wh-key \
        DATABASE_URL="sqlite:///$work/gateway.db" "${settings[@]}" "$@" \
        "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$gateway_port" >"$gateway_log" 2>&1 &
    gateway_pid=$!
    wait_for "$gateway_url/readyz" "the gateway" "$gateway_pid" || fail_showing_log "$gateway_log" "starting the gateway"
}
stop_gateway() {
    { kill -9 "$gateway_pid" && wait "$gateway_pid"; } 2>/dev/null || true
    gateway_pid=""
}
checks() {  # STEP [options]
    python3 e2e/webhook_checks.py "$1" --receiver "$receiver_url" --fake "$FAKE_URL" --figures "$work/figures.json" "${@:2}"
}

echo "== one gateway on SQLite (WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8, WEBHOOK_RETRY_SCHEDULE=$schedule)"
start_gateway gateway.log WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8
step "1. signatures: verified, one byte changed refused, rotate-secret signs with both" checks signatures --gateway "$gateway_port"
step "6. include_content false and true" checks content --gateway "$gateway_port"
step "7. 410 disables, 302 fails and is retried, refused URLs" checks responses --gateway "$gateway_port"
step "2. the receiver down while 500 turns complete, then back" checks outage --gateway "$gateway_port"
step "8. operator actions (replay, test, PATCH) while chats run: no chat fails" checks admin-under-load --gateway "$gateway_port"
step "3. kill -9 mid-dispatch (slow receiver, 300 events queued)" \
    checks crash-load --gateway "$gateway_port" --state "$work/crash.json"
killed=$(date +%s.%N)
stop_gateway
mv "$gateway_log" "$work/gateway-killed.log"
gateway_log="$work/gateway-killed.log"
# The claims the killed process left: event id|lease_expires_at.
claims="SELECT event_id || '|' || lease_expires_at FROM gateway_webhook_deliveries WHERE lease_holder IS NOT NULL AND status = 'pending'"
sqlite3 -readonly "$work/gateway.db" "$claims" >"$work/claims.txt" 2>/dev/null || sqlite3 "$work/gateway.db" "$claims" >"$work/claims.txt"
restarted=$(date +%s.%N)
start_gateway gateway-restarted.log WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8
step "3. restarted on the same SQLite file: nothing lost, claims re-taken after the lease" \
    checks crash-verify --gateway "$gateway_port" --state "$work/crash.json" --claims "$work/claims.txt" --killed "$killed" --restarted "$restarted"
stop_gateway
start_gateway gateway-closed.log
step "7b. without WEBHOOK_ALLOWED_NETWORKS: loopback refused" checks no-allowed-networks --gateway "$gateway_port"
stop_gateway

if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "== two replicas on PostgreSQL"
    database="gw_webhooks_$$"
    database_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/' + sys.argv[2])))" "$TEST_DATABASE_URL" "$database")
    psql "$TEST_DATABASE_URL" -qtAX -c "CREATE DATABASE $database" >/dev/null
    ports=()
    for replica in a b; do
        replica_port=$(free_port)
        env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY=app-wh-key \
            DATABASE_URL="$database_url" "${settings[@]}" WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 \
            "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$replica_port" >"$work/replica-$replica.log" 2>&1 &
        replica_pids+=($!)
        ports+=(--gateway "$replica_port")
    done
    for i in 0 1; do
        gateway_log="$work/replica-$([ $i = 0 ] && echo a || echo b).log"
        wait_for "http://127.0.0.1:${ports[$((2 * i + 1))]}/readyz" "replica $i" "${replica_pids[$i]}" ||
            fail_showing_log "$gateway_log" "starting the replicas"
    done
    gateway_log="$work/replica-a.log"
    step "4. two replicas, 5,000 events: never in flight twice at once, every id" checks replicas "${ports[@]}"
else
    echo "-- 4. two replicas on PostgreSQL: skipped (no TEST_DATABASE_URL)"
fi

echo "== figures"
[ -s "$work/figures.json" ] && python3 - "$work/figures.json" <<'PY'
import json, sys
for step, values in json.load(open(sys.argv[1])).items():
    print(f"   {step}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
PY
if [ ${#failed_steps[@]} -gt 0 ]; then
    printf 'FAIL: %s\n' "${failed_steps[@]}" >&2
    exit 1
fi
echo "OK"
