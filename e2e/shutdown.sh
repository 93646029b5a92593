#!/usr/bin/env bash
# The SIGTERM sequence with the real binary: /readyz is 503 at once, chats still start during
# SHUTDOWN_GRACE_READY and are refused with 503 after it, a stream in flight is read to its end and stored
# complete, and the process exits 0. Then a stream longer than SHUTDOWN_GRACE: stored as far as it got, marked
# interrupted, its client told the gateway is restarting, and exit 0 again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
e2e_start
fail() { echo "FAIL: $*" >&2; tail -n 30 "$work/gateway.log" >&2 || true; exit 1; }

start_fake_dify "$bin_dir/fake-dify" app-shutdown-key "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
key=shutdown-key-0123456789

# start_gateway READY_GRACE GRACE: the gateway on $port with its own database file.
start_gateway() {
    env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY=app-shutdown-key \
        CHAT_GATEWAY_JWT_SECRET=shutdown-secret-0123456789 CHAT_GATEWAY_API_KEY=$key \
        DATABASE_URL="sqlite:///$work/gateway.db" SHUTDOWN_GRACE_READY="$1" SHUTDOWN_GRACE="$2" \
        "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$port" >"$work/gateway.log" 2>&1 &
    gateway_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$gateway_pid" 2>/dev/null || fail "the gateway did not start"
        sleep 0.1
    done
    fail "the gateway never became ready"
}
chat() { # chat USER MESSAGE STREAM: prints the HTTP status, the body to $work/USER.out
    curl -sS -N -o "$work/$1.out" -w '%{http_code}' -H "X-API-Key: $key" -H 'Content-Type: application/json' \
        -d "{\"system_id\":\"drillquiz\",\"user_id\":\"$1\",\"message\":\"$2\",\"stream\":$3}" "$base/v1/chat"
}
wait_for_start() {
    for _ in $(seq 1 100); do grep -q 'event: start' "$work/$1.out" 2>/dev/null && return 0; sleep 0.05; done
    fail "the stream of $1 never started"
}
fake_delay() {
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "{\"token_delay_ms\": $1}" "$FAKE_URL/_fake/options"
}
status_of() { sqlite3 "$work/gateway.db" "SELECT status || '|' || content FROM gateway_messages WHERE user_id = '$1' AND role = 'assistant'"; }

echo "-- a stream in flight at SIGTERM finishes and is stored"
# Nine seconds of answer and a five-second ready grace: each step lands in its phase however slow the machine.
start_gateway 5s 30s
fake_delay 150
(chat alice '/tokens 60' true >"$work/alice.status") &
stream_job=$!
wait_for_start alice
signalled=$(date +%s.%N)
kill -TERM "$gateway_pid"
# until ... returns N: polls every 0.1 s for up to N seconds.
until_within() { local limit=$1; shift; for _ in $(seq 1 $((limit * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
readyz_unavailable() { [ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/readyz")" = 503 ]; }
until_within 2 readyz_unavailable || fail "/readyz did not answer 503 within 2 s of SIGTERM"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] || fail "/healthz stopped answering"
[ "$(chat bob hello false)" = 200 ] || fail "a chat inside SHUTDOWN_GRACE_READY was refused"
carol_refused() { [ "$(chat carol hello false)" = 503 ]; }
until_within 15 carol_refused || fail "a chat after SHUTDOWN_GRACE_READY was not refused with 503"
grep -q 'restarting' "$work/carol.out" || fail "the refusal does not say the gateway is restarting"
wait "$stream_job"
set +e; wait "$gateway_pid"; code=$?; set -e
gateway_pid=""
[ "$code" = 0 ] || fail "exit code $code, not 0"
grep -q 'event: done' "$work/alice.out" || fail "the stream did not end with done"
[ "$(status_of alice)" = "complete|$(seq -f 'tok%g' -s ' ' 1 60)" ] || fail "the streamed answer is not stored complete: $(status_of alice)"
echo "   exit 0 after $(python3 -c "import time; print(round(time.time() - $signalled, 1))") s; answer stored complete"

echo "-- a stream still running at SHUTDOWN_GRACE is stored as far as it got, marked interrupted"
start_gateway 0 3s
fake_delay 500
(chat dave '/tokens 40' true >"$work/dave.status") &
stream_job=$!
wait_for_start dave
kill -TERM "$gateway_pid"
wait "$stream_job"
set +e; wait "$gateway_pid"; code=$?; set -e
gateway_pid=""
[ "$code" = 0 ] || fail "exit code $code, not 0"
grep -q 'gateway_restarting' "$work/dave.out" || fail "the client was not told the gateway is restarting"
stored=$(status_of dave)
case "$stored" in
    interrupted\|tok1\ *) ;;
    *) fail "the interrupted answer is not stored interrupted with what arrived: $stored" ;;
esac
[ "$stored" != "interrupted|$(seq -f 'tok%g' -s ' ' 1 40)" ] || fail "the whole answer arrived: the deadline was not tested"
echo "   stored: ${stored:0:40}..."
echo "OK: SIGTERM drains streams, refuses new chats after the ready grace and exits 0"
