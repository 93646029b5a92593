#!/usr/bin/env bash
# The gateway killed with SIGKILL in the middle of 24 streams, then started again on the same SQLite file: every turn
# it left running is finished by the new process (TurnRecovery) once the dead process's lease (TURN_LEASE=3s) has run
# out, and none stays accepted or streaming.
#   - 20 streams were mid-answer (a few words read by their clients): each must end `completed` with the answer Dify
#     stored for it (the whole answer where Dify goes on without its client), or `interrupted` with the start of it;
#   - 4 follow-ups in existing conversations were still waiting for Dify's first event (fake latency 60 s): Dify never
#     answered them, so each must end `interrupted` once max(DIFY_TIMEOUT, DIFY_STREAM_IDLE_TIMEOUT) = 4 s has passed
#     since its question. One of them asks again what its conversation's previous message asked.
# Checked through GET /v1/turns/{id} and in the database (sqlite3 -readonly): the rows, no turn still held by a
# process, no journaled events left. Prints which outcome the mid-answer streams got: it depends on what the fake
# Dify keeps of an answer whose client (the gateway) went away.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
e2e_start
fail() { fail_showing_log "$work/gateway.log" "$@"; }

start_fake_dify "$bin_dir/fake-dify" app-crash-key "$work"
settings=(CHAT_GATEWAY_API_KEY=crash-key-0123456789 CHAT_GATEWAY_JWT_SECRET=crash-secret-0123456789
    TURN_LEASE=3s DIFY_TIMEOUT=4 DIFY_STREAM_IDLE_TIMEOUT=4 RATE_LIMIT_PER_USER=off)
start_e2e_gateway app-crash-key "${settings[@]}"
# Slow streams (40 words, 250 ms apart: 10 s each); a ping every second keeps the waiting streams alive.
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"token_delay_ms": 250, "ping_interval_ms": 1000}' \
    "$FAKE_URL/_fake/options"

echo "-- 24 streams under way, then kill -9"
# The clients: once every stream is where it should be, they say so in $work/ready and read on until the gateway dies.
python3 - "$gateway_port" "$FAKE_URL" "$work/turns.json" "$work/ready" <<'PY' &
import http.client, json, sys, threading, time, urllib.request
sys.path.insert(0, "e2e")
from gateway_http import EventStream, call
port, fake_url, out, ready_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
key = [("X-API-Key", "crash-key-0123456789")]
def fake_options(**options):
    request = urllib.request.Request(f"{fake_url}/_fake/options", json.dumps(options).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
turns, lock = [], threading.Lock()
ready = threading.Semaphore(0)
def stream(user, message, group, conversation_id=None, first=None, deltas=0):
    body = {"system_id": "drillquiz", "user_id": user, "message": message, "stream": True}
    if conversation_id: body["conversation_id"] = conversation_id
    record = {"user": user, "group": group, "message": message, "previous": first, "text": "", "last": 0,
              "message_id": None, "ended": None, "asked": time.time()}
    try:
        s = EventStream(port, "POST", "/v1/chat", body, key)
        assert s.status == 200, s.status
        record["turn"] = s.headers["x-turn-id"]
        with lock: turns.append(record)
        if deltas == 0: ready.release()
        seen = 0
        while (event := s.next()) is not None:
            record["last"] = event["id"]
            if event["event"] == "start": record["message_id"] = event["data"]["message_id"]
            if event["event"] == "delta":
                record["text"] += event["data"]["text"]
                seen += 1
                if seen == deltas: ready.release()
            if event["event"] in ("done", "error"): record["ended"] = event["event"]
    except (OSError, ValueError, http.client.HTTPException) as error:  # the gateway died under it
        record["cut"] = type(error).__name__
threads = []
def start(*args, **kwargs):
    thread = threading.Thread(target=stream, args=args, kwargs=kwargs, daemon=True)
    thread.start()
    threads.append(thread)
# Four conversations with one answered message each, then a follow-up Dify does not start answering for 60 s.
firsts = {}
for i in range(1, 5):
    message = "/tokens 40" if i == 4 else f"first question {i}"
    status, body, _ = call(port, "POST", "/v1/chat", {"system_id": "drillquiz", "user_id": f"waiting{i}", "message": message}, key)
    assert status == 200, (status, body)
    firsts[i] = (body["conversation_id"], body["message_id"])
fake_options(latency_ms=60000)
for i in range(1, 5):
    start(f"waiting{i}", "/tokens 40", "waiting", conversation_id=firsts[i][0], first=firsts[i][1])
for _ in range(4): assert ready.acquire(timeout=15), "a waiting follow-up got no response head"
fake_options(latency_ms=0)
# Twenty answers under way: three words read by each client.
for i in range(1, 21):
    start(f"streamer{i}", "/tokens 40", "streaming", deltas=3)
for _ in range(20): assert ready.acquire(timeout=15), "a stream never got 3 words"
open(ready_file, "w").close()
for thread in threads: thread.join(timeout=15)
assert not any(t.is_alive() for t in threads), "a client still reads from the killed gateway"
assert not [t for t in turns if t["ended"]], [t for t in turns if t["ended"]]
json.dump(turns, open(out, "w"))
words = sorted(len(t["text"].split()) for t in turns if t["group"] == "streaming")
print(f"   killed with 20 answers at {words[0]}-{words[-1]} of 40 words (as their clients saw them) and 4 waiting for Dify")
PY
clients=$!
for _ in $(seq 600); do
    [ -e "$work/ready" ] && break
    kill -0 "$clients" 2>/dev/null || fail "starting the streams"
    sleep 0.05
done
[ -e "$work/ready" ] || fail "the streams never got under way"
killed=$(date +%s.%N)
{ kill -9 "$gateway_pid" && wait "$gateway_pid"; } 2>/dev/null || true  # as e2e_cleanup: no "Killed" line
gateway_pid=""
wait "$clients" || fail "the clients of the killed gateway"
mv "$work/gateway.log" "$work/gateway-killed.log"

echo "-- restarted on the same database: every turn ends"
start_e2e_gateway app-crash-key "${settings[@]}"
recovery_failed() {
    echo "FAIL: the turns the killed gateway left" >&2
    echo "--- the restarted gateway's log: recovery and warnings (last 20)" >&2
    grep -E 'recover|warning|error' "$work/gateway.log" | tail -n 20 >&2 || true
    exit 1
}
python3 - "$gateway_port" "$FAKE_URL" "$work/turns.json" "$work/gateway.db" "$killed" <<'PY' || recovery_failed
import json, subprocess, sys, time, urllib.request
sys.path.insert(0, "e2e")
from gateway_http import call
port, fake_url, record, database, killed = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
key = [("X-API-Key", "crash-key-0123456789")]
turns = json.load(open(record))
full = " ".join(f"tok{i}" for i in range(1, 41))
def sql(query):
    return subprocess.run(["sqlite3", "-readonly", database, query], check=True, capture_output=True, text=True).stdout.rstrip("\n")
def state(turn):
    status, body, _ = call(port, "GET", f"/v1/turns/{turn['turn']}?system_id=drillquiz&user_id={turn['user']}", None, key)
    assert status == 200, (turn, status, body)
    return body
def dify_answer(state, turn):  # what the fake Dify keeps of the turn's message
    if not state["conversation_id"]: return None
    request = urllib.request.Request(
        f"{fake_url}/v1/messages?conversation_id={state['conversation_id']}&user=drillquiz_{turn['user']}&limit=100",
        headers={"Authorization": "Bearer app-crash-key"})
    messages = json.load(urllib.request.urlopen(request, timeout=10))["data"]
    mine = state["message_id"] or turn["message_id"]
    answers = [m["answer"] for m in messages
               if m["id"] == mine or (not mine and m["id"] != turn["previous"] and m["query"] == turn["message"])]
    return answers[-1] if answers else None
deadline = time.monotonic() + 30
ended = {}  # turn: when it was first seen over
while True:
    states = {t["turn"]: state(t) for t in turns}
    running = [t for t in turns if states[t["turn"]]["status"] in ("accepted", "streaming")]
    for t in turns:
        if t not in running: ended.setdefault(t["turn"], time.time())
    if not running or time.monotonic() > deadline: break
    time.sleep(0.25)
took = time.time() - killed
problems = {}  # kind: what went wrong, turn by turn
def problem(kind, text): problems.setdefault(kind, []).append(text)
for t in running:
    problem("still running", f"{t['group']} turn {t['turn']} ({t['user']}) still {states[t['turn']]['status']} {took:.0f} s after the kill")
outcomes = {}
for t in turns:
    s = states[t["turn"]]
    if s["status"] in ("accepted", "streaming"): continue
    outcomes.setdefault((t["group"], s["status"]), []).append(t)
    dify = dify_answer(s, t)
    where = f"{t['group']} turn {t['turn']} ({t['user']})"
    row = sql(f"SELECT turn_status FROM gateway_messages WHERE upper(id) = upper('{t['turn']}')")
    if row != s["status"]:
        problem("user row", f"{where}: its user row says {row!r}, GET /v1/turns says {s['status']}")
    if t["group"] == "waiting":
        # Not before the bound, 4 s after the question (which the gateway got after "asked").
        if s["status"] == "interrupted" and ended[t["turn"]] <= t["asked"] + 4:
            problem("interrupted early", f"{where}: interrupted {ended[t['turn']] - t['asked']:.1f} s after its question, "
                                         "before max(DIFY_TIMEOUT, DIFY_STREAM_IDLE_TIMEOUT) = 4 s")
        if s["status"] != "interrupted":
            problem("unanswered, not interrupted", f"{where}: Dify never answered it (it keeps {dify!r}), yet it ended {s['status']} with "
                            f"{s['text']!r}, message {s['message_id']} (the conversation's previous one: {t['previous']})")
        continue
    if s["status"] == "completed":
        # Dify's own record of the answer: the whole of it where Dify goes on without its client; the fake Dify
        # stops when its client goes away and keeps what it produced.
        if s["text"] != dify or not s["text"].startswith(t["text"].rstrip()):
            problem("completed, not Dify's answer", f"{where}: completed with {len(s['text'].split())} words, {s['text'][-20:]!r} last "
                            f"(Dify keeps {len((dify or '').split())} words; its client had {len(t['text'].split())})")
    elif s["status"] == "interrupted":
        if not full.startswith(s["text"]):
            problem("interrupted text", f"{where}: interrupted with {s['text']!r}, not the start of the answer")
    else:
        problem("other status", f"{where}: ended {s['status']}, not completed or interrupted")
    rows = sql(f"SELECT status || '|' || content FROM gateway_messages WHERE message_id = '{s['message_id']}_assistant'")
    expected = ("complete" if s["status"] == "completed" else "interrupted") + "|" + s["text"]
    if rows != expected:
        problem("answer row", f"{where}: its answer row is {rows[:60]!r}..., the turn says {s['status']} {s['text'][:30]!r}...")
# The database: every user row's turn over and held by no process; no answer row still streaming; no events left.
left = sql("SELECT count(*) FROM gateway_messages WHERE role = 'user' AND (turn_status IN ('accepted', 'streaming') OR turn_holder IS NOT NULL)")
streaming = sql("SELECT count(*) FROM gateway_messages WHERE role = 'assistant' AND status = 'streaming'")
events = sql("SELECT count(*) FROM gateway_turn_events")
if (left, streaming, events) != ("0", "0", "0"):
    problem("database", f"database: {left} user rows with a turn still running or held, {streaming} answer rows streaming, "
                    f"{events} journaled events left")
summary = ", ".join(f"{len(v)} {group} {status} (the last {max(ended[t['turn']] for t in v) - killed:.1f} s after the kill)"
                    for (group, status), v in sorted(outcomes.items()))
print(f"   {summary or 'none ended'}; {len(running)} still running {took:.1f} s after the kill")
if problems:
    for kind, texts in problems.items():
        print(f"   PROBLEM ({kind}, {len(texts)} {'turn' if len(texts) == 1 else 'turns'}): {texts[0]}", file=sys.stderr)
        for text in texts[1:3]: print(f"      also {text}", file=sys.stderr)
        if len(texts) > 3: print(f"      and {len(texts) - 3} more", file=sys.stderr)
    sys.exit(1)
mid = {status for (group, status) in outcomes if group == "streaming"}
print("   the mid-answer streams: " + (
    "completed with the answer Dify stored" if mid == {"completed"} else
    "interrupted (Dify kept no whole answer)" if mid == {"interrupted"} else "some completed whole, some interrupted"))
PY
echo "OK: after kill -9 and a restart every turn ended, completed with the answer Dify stored, or interrupted"
