#!/usr/bin/env bash
# Two real gateway processes on one real PostgreSQL database, as a deployment behind a load balancer runs them:
#   1. both start at the same moment on an empty database: migrations run once, both serve;
#   2. concurrent first messages of one user, spread over both replicas: every message stored, no duplicate mapping;
#   3. the scheduled sync (SYNC_INTERVAL=1s on both) never runs on both at once;
#   4. admin changes made through replica A are in force on replica B within 2 s: a new key, a disabled system, a
#      revoked key;
#   4b. a user's budget used up through replica A is used up on replica B too, and so is a rate limit;
#   4c. a stream started on replica A, its client gone mid-answer, resumed on replica B from its Last-Event-ID: B
#       sends the rest live (A's events as A journals them), the text adds up to the stored answer exactly, and
#       after the end B and A answer a late reader with one sync and done, and a reader that has everything 204;
#   4d. a stream running on replica A, stopped through replica B: A's stream ends with a stopped done, and the turn
#       and its answer are stored stopped, with what had arrived;
#   4e. an erasure asked of replica A: replica B refuses the user's chats while it runs, and serves them after;
#   5. the PostgreSQL server stopped under load: requests get a quick 503 with a JSON body, and the gateway recovers
#      by itself when the server is back, without a restart.
# Usage: TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db e2e/postgres-replicas.sh
# The user needs CREATEDB; step 4 stops and starts the local cluster with pg_ctlcluster (Debian), so it needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a PostgreSQL server (see the header)}"
bin="$(swift build --show-bin-path)"
[ -x "$bin/chat-gateway" ] && [ -x "$bin/fake-dify" ] || swift build
work=$(mktemp -d)
pids=()
database="gw_replicas_$$"
server_url="$TEST_DATABASE_URL"
database_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/' + sys.argv[2])))" "$server_url" "$database")
psql_server() { psql "$server_url" -qtAX -c "$1"; }
psql_db() { psql "$database_url" -qtAX -c "$1"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql_server "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; tail -20 "$f" >&2; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 150); do [ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" = 200 ] && return 0; sleep 0.1; done; fail "not up: $1"; }

psql_server "CREATE DATABASE $database"
fake_port=$(free_port)
"$bin/fake-dify" --host 127.0.0.1 --port "$fake_port" --api-key app-e2e --latency-ms 20 --log-level error >"$work/fake.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$fake_port/_fake/stats"

# One user sends far more than 20 chats a minute here (40 at once, then polling through an outage): no rate limit.
start_replica() {  # NAME PORT
  env -i PATH="$PATH" HOME="${HOME:-/root}" DATABASE_URL="$database_url" DIFY_BASE_URL="http://127.0.0.1:$fake_port" DIFY_API_KEY=app-e2e \
    CHAT_GATEWAY_API_KEY=e2e-key CHAT_GATEWAY_JWT_SECRET=e2e-secret SYNC_INTERVAL=1s RATE_LIMIT_PER_USER=off \
    DIFY_ALLOWED_NETWORKS=127.0.0.0/8 CHAT_GATEWAY_ADMIN_KEY=e2e-admin CHAT_GATEWAY_ENCRYPTION_KEY=e2e-encryption-key-0123456789abcdef0123 \
    "$bin/chat-gateway" serve --env production --hostname 127.0.0.1 --port "$2" --log info >"$work/$1.log" 2>&1 &
  pids+=($!)
}

echo "-- 1. two replicas start at once on an empty database"
port_a=$(free_port); port_b=$(free_port)
start_replica a "$port_a"; start_replica b "$port_b"
wait_for "http://127.0.0.1:$port_a/health/ready"; wait_for "http://127.0.0.1:$port_b/health/ready"
migrations=$(psql_db "SELECT count(*) FROM _fluent_migrations")
distinct=$(psql_db "SELECT count(DISTINCT name) FROM _fluent_migrations")
[ "$migrations" = "$distinct" ] && [ "$migrations" -ge 5 ] || fail "migrations recorded $migrations times for $distinct migrations"
echo "   both ready; $migrations migrations, each recorded once"

echo "-- 2. concurrent first messages of one user on both replicas"
python3 - "$port_a" "$port_b" <<'PY' || fail "concurrent chats"
import http.client, json, sys
from concurrent.futures import ThreadPoolExecutor
ports = [int(p) for p in sys.argv[1:]]
def chat(i):
    conn = http.client.HTTPConnection("127.0.0.1", ports[i % 2], timeout=30)
    conn.request("POST", "/v1/chat", json.dumps({"system_id": "drillquiz", "user_id": "same-user", "message": f"first {i}"}),
                 {"Content-Type": "application/json", "X-API-Key": "e2e-key"})
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 200, (response.status, body)
    return body["conversation_id"]
with ThreadPoolExecutor(20) as pool:
    conversations = list(pool.map(chat, range(40)))
assert len(set(conversations)) == 40, "each first message starts its own conversation"
PY
stored=$(psql_db "SELECT count(*) FROM gateway_messages WHERE user_id='same-user' AND role='user' AND status='complete'")
mapped=$(psql_db "SELECT count(*) FROM gateway_conversations WHERE user_id='same-user'")
duplicates=$(psql_db "SELECT count(*) FROM (SELECT conversation_id FROM gateway_conversations GROUP BY conversation_id HAVING count(*) > 1) d")
users=$(psql_db "SELECT count(*) FROM gateway_users WHERE user_id='same-user'")
[ "$stored" = 40 ] && [ "$mapped" = 40 ] && [ "$duplicates" = 0 ] && [ "$users" = 1 ] \
  || fail "stored $stored/40 messages, $mapped/40 mappings, $duplicates duplicated mappings, $users user rows"
echo "   40/40 messages stored, 40 mappings, no duplicates, one user row"

echo "-- 3. the scheduled sync runs on one replica at a time"
for i in $(seq 30); do curl -s -o /dev/null "http://127.0.0.1:$fake_port/_fake/seed" -H 'Content-Type: application/json' \
  -d "{\"user\": \"drillquiz_synced$i\", \"conversations\": 3, \"turns_each\": 4}"; done
psql_db "INSERT INTO gateway_users (id, system_id, user_id, dify_user, created_at, updated_at)
         SELECT gen_random_uuid(), 'drillquiz', 'synced' || n, 'drillquiz_synced' || n, now(), now() FROM generate_series(1, 30) n" >/dev/null
# Until every seeded message is synced and the sync has run a few times (a minute at most).
for _ in $(seq 600); do
  synced=$(psql_db "SELECT count(*) FROM gateway_messages WHERE user_id LIKE 'synced%'")
  runs=$(cat "$work/a.log" "$work/b.log" | grep -c "history sync finished" || true)
  [ "$synced" = $((30 * 3 * 4 * 2)) ] && [ "$runs" -ge 4 ] && break
  sleep 0.1
done
python3 - "$work/a.log" "$work/b.log" <<'PY' || fail "sync runs overlapped"
import datetime, re, sys
runs = []
for path in sys.argv[1:]:
    for line in open(path, errors="replace"):
        if "history sync finished" not in line:
            continue
        start = datetime.datetime.fromisoformat(re.search(r"started_at=(\S+)", line).group(1).replace("Z", "+00:00"))
        duration = int(re.search(r"duration_ms=(\d+)", line).group(1))
        runs.append((start, start + datetime.timedelta(milliseconds=duration), path))
runs.sort()
assert len(runs) >= 2, f"only {len(runs)} sync runs"
# The lease is taken before a run's clock starts and released after it stops, so runs must not overlap at all.
assert all(a[1] <= b[0] for a, b in zip(runs, runs[1:])), runs
print(f"   {len(runs)} runs, by replica: " + ", ".join(f"{p.split('/')[-1][0]}={sum(1 for r in runs if r[2] == p)}" for p in sorted({r[2] for r in runs})))
PY
synced=$(psql_db "SELECT count(*) FROM gateway_messages WHERE user_id LIKE 'synced%'")
[ "$synced" = $((30 * 3 * 4 * 2)) ] || fail "synced $synced message rows, expected $((30 * 3 * 4 * 2))"
echo "   every seeded message synced once ($synced rows)"

echo "-- 4. admin changes through replica A, in force on replica B within 2 s"
python3 - "$port_a" "$port_b" "$fake_port" <<'PY' || fail "admin changes across replicas"
import sys, time
sys.path.insert(0, "e2e")
from gateway_http import call as call_with_headers
port_a, port_b, fake_port = (int(p) for p in sys.argv[1:])
def call(*args):
    return call_with_headers(*args)[:2]
admin = [("X-Admin-Key", "e2e-admin")]
def chat(port, key, system="drillquiz"):
    return call(port, "POST", "/v1/chat", {"system_id": system, "user_id": "replicated", "message": "hi"},
                [("X-API-Key", key)])[0]
def within_two_seconds(check, what):
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < 2.0, f"{what}: not in force on replica B after 2 s"
        time.sleep(0.05)
    return time.monotonic() - started
status, created = call(port_a, "POST", "/admin/v1/keys", {"name": "e2e", "systems": [], "kind": "server"}, admin)
assert status == 201, (status, created)
new_key = within_two_seconds(lambda: chat(port_b, created["key"]) == 200, "a new key")
status, _ = call(port_a, "POST", "/admin/v1/systems", {"system_id": "replicated", "dify_base_url": f"http://127.0.0.1:{fake_port}", "dify_api_key": "app-e2e"}, admin)
assert status == 201, status
assert within_two_seconds(lambda: chat(port_b, "e2e-key", "replicated") == 200, "a new system") < 2
status, _ = call(port_a, "PATCH", "/admin/v1/systems/replicated", {"enabled": False}, admin)
assert status == 200, status
disabled = within_two_seconds(lambda: chat(port_b, "e2e-key", "replicated") == 403, "a disabled system")
status, _ = call(port_a, "DELETE", f"/admin/v1/keys/{created['id']}", None, admin)
assert status == 204, status
revoked = within_two_seconds(lambda: chat(port_b, created["key"]) == 401, "a revoked key")
print(f"   on replica B after: new key {new_key:.2f} s, disabled system {disabled:.2f} s, revoked key {revoked:.2f} s")
PY

echo "-- 4b. one budget and one rate limit for both replicas"
python3 - "$port_a" "$port_b" "$fake_port" <<'PY' || fail "one budget across replicas"
import sys, time
sys.path.insert(0, "e2e")
from gateway_http import call
port_a, port_b, fake_port = (int(p) for p in sys.argv[1:])
admin = [("X-Admin-Key", "e2e-admin")]
status, _, _ = call(port_a, "POST", "/admin/v1/systems",
                    {"system_id": "budgeted", "budget": {"per_user_tokens_per_day": 30}}, admin)
assert status == 201, status
def chat(port):
    return call(port, "POST", "/v1/chat", {"system_id": "budgeted", "user_id": "spender", "message": "/tokens 40"},
                [("X-API-Key", "e2e-key")])
deadline = time.monotonic() + 5
while True:  # until both replicas know the system (its first chat goes through on A)
    status, body, _ = chat(port_a)
    if status == 200: break
    assert time.monotonic() < deadline, (status, body)
    time.sleep(0.1)
used = body["metadata"]["usage"]["total_tokens"]
time.sleep(2)
status, body, headers = chat(port_b)
assert status == 429, (status, body)
assert body["detail"].startswith("The daily token budget of 30 for this user is used up; it resets at "), body
assert int(headers["retry-after"]) > 0
status, _, _ = chat(port_a)
assert status == 429, status
print(f"   {used} tokens used through A: B refuses the next chat with 429, and so does A")
# The rate limit (here a system's own 2 a minute) is counted in the database too: 2 chats over both, then 429.
status, _, _ = call(port_a, "POST", "/admin/v1/systems", {"system_id": "limited", "rate_limit_per_user": "2/min"}, admin)
assert status == 201, status
time.sleep(2)
def limited(port):
    return call(port, "POST", "/v1/chat", {"system_id": "limited", "user_id": "hasty", "message": "hi"},
                [("X-API-Key", "e2e-key")])
statuses = [limited(port_a)[0], limited(port_b)[0]]
status, body, headers = limited(port_a)
assert statuses == [200, 200] and status == 429, (statuses, status, body)
assert body["detail"].startswith("Too many requests for this user."), body
print(f"   RATE_LIMIT of 2/min per user over both replicas: {statuses + [status]}, Retry-After {headers['retry-after']}")
PY

echo "-- 4c. a stream begun on replica A, its client gone, resumed on replica B from its Last-Event-ID"
python3 - "$port_a" "$port_b" "$fake_port" "$database_url" <<'PY' || fail "a turn resumed on the other replica"
import sys, time
sys.path.insert(0, "e2e")
from gateway_http import EventStream, call
from replica_steps import fake_port, key, port_a, port_b, psql
owner = "system_id=drillquiz&user_id=resumer"
tokens = 60
expected = " ".join(f"tok{i}" for i in range(1, tokens + 1))
def fold(text, event):  # what a client shows after an event
    kind, data = event["event"], event["data"]
    if kind == "delta": return text + data["text"]
    if kind == "sync": return data["text"]
    if kind == "replace": return data["answer"]
    return text
def read_to_end(stream, text, last):
    """Reads a resumed stream to its end: every event after `last`, in order, the text after each still the start of
    the answer (the words are numbered: a gap or a repeat breaks that), a sync taking the text on; returns the text,
    the last id, the events' names and times, and the last event."""
    kinds = []
    while (event := stream.next()) is not None:
        assert event["id"] is not None and event["id"] > last, f"event {event} after id {last}: repeated or out of order"
        if event["event"] == "sync":
            assert event["data"]["last_event_id"] == event["id"], event
            assert event["data"]["text"].startswith(text), f"sync {event} does not carry on from {text!r}"
        text, last = fold(text, event), event["id"]
        assert expected.startswith(text), f"after {[k for k, _ in kinds] + [event['event']]} the text is {text!r}"
        kinds.append((event["event"], time.monotonic()))
        if event["event"] in ("done", "error"):
            assert stream.next() is None, "events after the stream's last"
            return text, last, kinds, event
    raise AssertionError(f"the stream ended without done or error after {[k for k, _ in kinds]}")
# Twelve seconds of answer: B takes over mid-answer however slow the machine.
status, _, _ = call(fake_port, "POST", "/_fake/options", {"token_delay_ms": 200})
assert status == 200, status
try:
    # On A: the start and 8 deltas, then the client goes.
    a = EventStream(port_a, "POST", "/v1/chat",
                    {"system_id": "drillquiz", "user_id": "resumer", "message": f"/tokens {tokens}", "stream": True}, key)
    assert a.status == 200, a.status
    turn = a.headers["x-turn-id"]
    text_a, last_a, deltas_a = "", 0, 0
    while deltas_a < 8:
        event = a.next()
        assert event is not None and event["event"] in ("start", "delta") and event["id"] > last_a, event
        if event["event"] == "start":
            assert event["data"]["turn_id"] == turn, (event, turn)
            message_id = event["data"]["message_id"]
        text_a, last_a, deltas_a = fold(text_a, event), event["id"], deltas_a + (event["event"] == "delta")
    a.drop()
    # On B, which never ran the turn: its state, then its events after A's last id.
    status, state, _ = call(port_b, "GET", f"/v1/turns/{turn}?{owner}", None, key)
    assert status == 200 and state["status"] == "streaming" and expected.startswith(state["text"]), (status, state)
    b = EventStream(port_b, "GET", f"/v1/turns/{turn}/events?{owner}", None, key + [("Last-Event-ID", str(last_a))])
    assert b.status == 200 and b.headers.get("x-turn-id") == turn, (b.status, b.headers)
    text, last, kinds, done = read_to_end(b, text_a, last_a)
    names = [k for k, _ in kinds]
    assert names[-1] == "done", names
    assert text == done["data"]["answer"] == expected, \
        f"A's text to id {last_a} ({text_a!r}) and B's events {names} make {text!r}; the answer is {done['data']['answer']!r}"
    live = [t for k, t in kinds if k == "delta"]
    assert live, f"B sent no delta before done, only {names}: the live tail never reached it"
    # A sync may come last: the events of A's final moments (up to one journal interval) are not journaled once
    # the turn has ended, and B then takes the stored answer.
    tail = kinds[-1][1] - live[0]
    # Stored: the turn completed on A with the whole answer; both replicas tell it so.
    assert psql(f"SELECT turn_status FROM gateway_messages WHERE id = '{turn}'") == "completed"
    stored = psql(f"SELECT status || '|' || content FROM gateway_messages WHERE message_id = '{message_id}_assistant'")
    assert stored == "complete|" + expected, stored
    for port in (port_a, port_b):
        status, state, _ = call(port, "GET", f"/v1/turns/{turn}?{owner}", None, key)
        assert status == 200 and (state["status"], state["text"], state["last_event_id"]) == ("completed", expected, last), state
        # A reader that has everything: 204. One that stopped at A's last id, after the end: sync, then done.
        status, _, _ = call(port, "GET", f"/v1/turns/{turn}/events?{owner}", None, key + [("Last-Event-ID", str(last))])
        assert status == 204, f"Last-Event-ID {last} (done) on port {port}: {status}, not 204"
        late = EventStream(port, "GET", f"/v1/turns/{turn}/events?{owner}&after={last_a}", None, key)
        assert late.status == 200, late.status
        late_text, late_last, late_kinds, _ = read_to_end(late, text_a, last_a)
        assert [k for k, _ in late_kinds] == ["sync", "done"] and late_text == expected and late_last == last, \
            (port, late_kinds, late_text)
    print(f"   A: ids 1-{last_a}, {deltas_a} deltas, then the client left; B: {len(live)} delta events live over "
          f"{tail:.1f} s, then {' and '.join(n for n in names if n != 'delta')} at id {last}: A's text + B's == "
          f"the stored answer ({tokens} tokens), no gap, no repeat")
    print("   after the end, on A and B: from A's last id one sync and done; from done's id 204")
finally:
    call(fake_port, "POST", "/_fake/options", {"token_delay_ms": 0})
PY

echo "-- 4d. a stream running on replica A, stopped through replica B: stored stopped, with what had arrived"
python3 - "$port_a" "$port_b" "$fake_port" "$database_url" <<'PY' || fail "a stop through the other replica"
import sys
sys.path.insert(0, "e2e")
from gateway_http import EventStream, call
from replica_steps import fake_port, key, port_a, port_b, psql
expected = " ".join(f"tok{i}" for i in range(1, 2001))
status, _, _ = call(fake_port, "POST", "/_fake/options", {"token_delay_ms": 50})
assert status == 200, status
try:
    a = EventStream(port_a, "POST", "/v1/chat",
                    {"system_id": "drillquiz", "user_id": "stopper", "message": "/tokens 2000", "stream": True}, key)
    assert a.status == 200, a.status
    turn, text, deltas = a.headers["x-turn-id"], "", 0
    while deltas < 5:
        event = a.next()
        assert event is not None and event["event"] in ("start", "delta"), event
        if event["event"] == "start":
            task_id, message_id = event["data"]["task_id"], event["data"]["message_id"]
        else:
            text, deltas = text + event["data"]["text"], deltas + 1
    # B never ran the turn: it finds the task's owner in the database and tells Dify, and A must record a stop.
    status, body, _ = call(port_b, "POST", f"/v1/chat/{task_id}/stop",
                           {"system_id": "drillquiz", "user_id": "stopper"}, key)
    assert status == 200 and body == {"result": "success"}, (status, body)
    while (event := a.next()) is not None and event["event"] != "done":
        assert event["event"] == "delta", event
        text += event["data"]["text"]
    assert event is not None and event["data"]["stopped"] is True, f"A's stream ended with {event}, not a stopped done"
    answer = event["data"]["answer"]
    assert answer == text and expected.startswith(answer) and answer != expected, (answer, text)
    assert psql(f"SELECT turn_status FROM gateway_messages WHERE id = '{turn}'") == "stopped"
    # Closed with a bar: the answer may end in a space, which psql's output loses.
    stored = psql(f"SELECT status || '|' || content || '|' FROM gateway_messages WHERE message_id = '{message_id}_assistant'")
    assert stored == f"stopped|{answer}|", (stored, answer)
    for port in (port_a, port_b):
        status, state, _ = call(port, "GET", f"/v1/turns/{turn}?system_id=drillquiz&user_id=stopper", None, key)
        assert status == 200 and (state["status"], state["text"]) == ("stopped", answer), state
    print(f"   stopped through B after {deltas} deltas: A's stream ended with a stopped done, "
          f"{len(answer.split())} of 2000 tokens stored as stopped")
finally:
    call(fake_port, "POST", "/_fake/options", {"token_delay_ms": 0})
PY

echo "-- 4e. an erasure asked of replica A: replica B refuses the user's chats while it runs, then serves them anew"
python3 - "$port_a" "$port_b" <<'PY' || fail "an erasure across replicas"
import sys, time
sys.path.insert(0, "e2e")
from gateway_http import call
port_a, port_b = (int(p) for p in sys.argv[1:])
admin = [("X-Admin-Key", "e2e-admin")]
def chat(port):
    return call(port, "POST", "/v1/chat", {"system_id": "drillquiz", "user_id": "leaving", "message": "hello"},
                [("X-API-Key", "e2e-key")])[0]
assert chat(port_a) == 200 and chat(port_b) == 200
status, receipt, _ = call(port_a, "POST", "/admin/v1/systems/drillquiz/users/leaving/erasure", None, admin)
assert status == 202, (status, receipt)
started = time.monotonic()
while chat(port_b) != 410:
    assert time.monotonic() - started < 2.5, "replica B still takes the user's chats"
    time.sleep(0.05)
refused_after = time.monotonic() - started
while True:
    status, receipt, _ = call(port_b, "GET", f"/admin/v1/erasures/{receipt['id']}", None, admin)
    assert status == 200, status
    if receipt["status"] != "running": break
    assert time.monotonic() - started < 60, receipt
    time.sleep(0.2)
assert receipt["status"] == "completed", receipt
assert receipt["gateway"]["messages"] >= 4 and receipt["storage"]["engine"] == "postgresql", receipt
ended = time.monotonic()
while chat(port_b) != 200:  # B learns the erasure ended at its next look, within a second
    assert time.monotonic() - ended < 2.5, "replica B still refuses the user after the erasure"
    time.sleep(0.05)
print(f"   replica B refused the user after {refused_after:.2f} s; erased in {time.monotonic() - started:.1f} s; then a new chat")
PY
count=$(psql_db "SELECT count(*) FROM gateway_messages WHERE user_id = 'leaving'")
[ "$count" = 2 ] || fail "after the erasure the user has $count messages, not the new chat's 2"

echo "-- 5. PostgreSQL stopped under load, then started again"
command -v pg_ctlcluster >/dev/null || { echo "   skipped: no pg_ctlcluster (not Debian's postgresql)"; exit 0; }
cluster=$(pg_lsclusters -h | awk '$4 == "online" {print $1, $2; exit}')
[ -n "$cluster" ] || { echo "   skipped: no online local cluster to restart"; exit 0; }
python3 - "$port_a" "$cluster" <<'PY' || fail "database outage"
import http.client, json, subprocess, sys, time
port, cluster = int(sys.argv[1]), sys.argv[2].split()
def chat():
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/v1/chat", json.dumps({"system_id": "drillquiz", "user_id": "outage", "message": "hello"}),
                 {"Content-Type": "application/json", "X-API-Key": "e2e-key"})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}"), time.monotonic() - started
assert chat()[0] == 200
subprocess.run(["pg_ctlcluster", *cluster, "stop", "-m", "fast"], check=True)
try:
    down = [chat() for _ in range(10)]
    assert all(status == 503 and "detail" in body for status, body, _ in down), down
    assert max(seconds for _, _, seconds in down) < 5, down
finally:
    subprocess.run(["pg_ctlcluster", *cluster, "start"], check=True)
deadline = time.monotonic() + 30
while True:
    status, body, _ = chat()
    if status == 200:
        break
    assert time.monotonic() < deadline, (status, body)
    time.sleep(0.5)
recovered = [chat()[0] for _ in range(10)]
assert recovered == [200] * 10, recovered
print(f"   while down: 10/10 answered 503 with a JSON detail (slowest {max(s for _, _, s in down):.2f} s); after restart: 10/10 answered 200, no gateway restart")
PY
echo "OK"
