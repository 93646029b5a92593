"""The steps of e2e/webhooks.sh, each against the real gateway and e2e/webhook_receiver.py:

  python3 e2e/webhook_checks.py STEP --receiver URL --gateway PORT [--gateway PORT] [--fake URL] [--figures FILE]
                                [--state FILE] [--claims FILE --killed T --restarted T]

STEP is one of `signatures`, `content`, `responses`, `outage`, `admin-under-load`, `crash-load`, `crash-verify`,
`no-allowed-networks`, `replicas` (what each checks is in its function's comment). Every delivery a step looks at must verify with the
endpoint's secret(s) (Standard Webhooks' own `Webhook.verify`, in the receiver) and be refused with one byte of
its body changed. A step prints its figures, adds them to --figures (JSON), and exits 1 listing every problem.
"""
import argparse
import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_http import EventStream, call  # noqa: E402

ADMIN = [("X-Admin-Key", "wh-admin-key-0123456789")]
API_KEY = "wh-api-key-0123456789"
KEY = [("X-API-Key", API_KEY)]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
COMPLETED_FIELDS = {"system_id", "user_id", "dify_user", "conversation_id", "turn_id", "message_id", "question_id",
                    "dify_message_id", "task_id", "channel", "status", "sequence", "usage", "sources", "created_at"}

args = None
problems = []
figures = {}


def problem(text):
    problems.append(text)


def finish(step):
    if args.figures:
        merged = json.load(open(args.figures)) if os.path.exists(args.figures) else {}
        merged.update(figures)
        json.dump(merged, open(args.figures, "w"), indent=1)
    if problems:
        print(f"FAIL: {step}: {len(problems)} problem(s)", file=sys.stderr)
        for text in problems[:40]:
            print(f"  - {text}", file=sys.stderr)
        if len(problems) > 40:
            print(f"  ... and {len(problems) - 40} more", file=sys.stderr)
        sys.exit(1)


def wait_until(what, condition, timeout, interval=0.1):
    """Polls `condition` until it returns something true, for at most `timeout` seconds; returns (value, seconds).
    Raises AssertionError naming `what` (with `condition`'s last value) on the deadline."""
    started = time.monotonic()
    while True:
        value = condition()
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


# --- the gateway -------------------------------------------------------------------------------------------------

def port(i=0):
    return args.gateway[i % len(args.gateway)]


def admin(method, path, body=None, gateway=0):
    status, answer, _ = call(port(gateway), method, path, body, ADMIN)
    return status, answer


def create_endpoint(name, system_id, events=None, include_content=None, fetch=True, url=None, **receiver):
    """An endpoint for the receiver's /hooks/NAME, its secret given to the receiver (with `fetch`: the receiver
    checks each message.completed in /v1/cache before answering)."""
    body = {"url": url or f"{args.receiver}/hooks/{name}", "system_id": system_id,
            "description": f"e2e webhooks: {name}"}
    if events is not None:
        body["events"] = events
    if include_content is not None:
        body["include_content"] = include_content
    status, endpoint = admin("POST", "/admin/v1/webhooks", body)
    assert status == 201, f"POST /admin/v1/webhooks {body}: {status} {endpoint}"
    secret = endpoint.get("secret") or ""
    if not secret.startswith("whsec_") or len(base64.b64decode(secret[6:])) != 32:
        problem(f"endpoint {name}: secret {secret[:10]}… is not whsec_ + base64 of 32 bytes")
    for field, expected in (("system_id", system_id), ("enabled", True), ("include_content", bool(include_content)),
                            ("url", body["url"])):
        if endpoint.get(field) != expected:
            problem(f"endpoint {name}: created with {field} {endpoint.get(field)!r}, expected {expected!r}")
    configure(name, secrets=[secret], fetch={"urls": [f"http://127.0.0.1:{p}" for p in args.gateway],
                                             "api_key": API_KEY} if fetch else None, **receiver)
    return endpoint


def endpoint_state(endpoint_id):
    status, endpoint = admin("GET", f"/admin/v1/webhooks/{endpoint_id}")
    assert status == 200, f"GET /admin/v1/webhooks/{endpoint_id}: {status} {endpoint}"
    return endpoint


def attempts(endpoint_id, limit=500):
    status, body = admin("GET", f"/admin/v1/webhooks/{endpoint_id}/deliveries?limit={limit}")
    assert status == 200, f"GET …/{endpoint_id}/deliveries: {status} {body}"
    return body["data"] if isinstance(body, dict) and "data" in body else body


def attempt_status(attempt):
    return attempt.get("status_code", attempt.get("response_status"))


def chat(system, user, message, conversation_id=None, stream=False, gateway=0):
    """One turn through POST /v1/chat: {conversation_id, message_id, answer, turn_id}."""
    body = {"system_id": system, "user_id": user, "message": message}
    if conversation_id:
        body["conversation_id"] = conversation_id
    if not stream:
        status, answer, headers = call(port(gateway), "POST", "/v1/chat", body, KEY)
        assert status == 200, f"POST /v1/chat {body}: {status} {answer}"
        return {"conversation_id": answer["conversation_id"], "message_id": answer["message_id"],
                "answer": answer["answer"], "turn_id": headers.get("x-turn-id"), "question": message,
                "user": user}
    reader = EventStream(port(gateway), "POST", "/v1/chat", {**body, "stream": True}, KEY)
    assert reader.status == 200, f"stream {body}: {reader.status}"
    events = reader.read_rest()
    done = [e for e in events if e["event"] == "done"]
    assert done, f"stream {body}: no done in {[e['event'] for e in events]}"
    return {"conversation_id": done[0]["data"]["conversation_id"], "message_id": done[0]["data"]["message_id"],
            "answer": done[0]["data"]["answer"], "turn_id": reader.headers.get("x-turn-id"), "question": message,
            "user": user}


def chats(system, count, threads=16, prefix="q", users=50):
    """`count` turns of `system`, each starting its own conversation, spread over the gateways, in parallel."""
    def one(i):
        return chat(system, f"user{i % users}", f"{prefix} {i}", gateway=i)
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def turn_key(message_id):
    """Dify's message id, from the chat's `message_id` or an event's `<id>_assistant`."""
    return message_id[:-len("_assistant")] if message_id and message_id.endswith("_assistant") else message_id


def fake_options(**options):
    request = urllib.request.Request(f"{args.fake}/_fake/options", json.dumps(options).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def fake_fault(**fault):
    request = urllib.request.Request(f"{args.fake}/_fake/fault", json.dumps(fault).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


# --- the receiver ------------------------------------------------------------------------------------------------

def receiver(method, path, body=None):
    request = urllib.request.Request(f"{args.receiver}{path}", json.dumps(body).encode() if body is not None else None,
                                     {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def configure(name, **settings):
    receiver("POST", f"/_config/{name}", settings)


def records(name):
    return receiver("GET", f"/_records/{name}")


def ids_answered(name, status=None, kind=None):
    return {r["webhook_id"] for r in records(name)
            if (status is None or r["status"] == status) and (kind is None or r.get("type") == kind)}


def delivered(name, kind=None):
    """The records the receiver answered with a 2xx, `kind` only if given."""
    return [r for r in records(name) if 200 <= r["status"] < 300 and (kind is None or r.get("type") == kind)]


def check_delivery(name, record, signatures=1):
    """What every delivery must be: signed (each configured secret verifies it, a one-byte change does not), headers
    and body as docs/webhooks.md says."""
    where = f"{name} {record.get('webhook_id')} ({record.get('type')})"
    if not (record.get("webhook_id") or "").startswith("msg_"):
        problem(f"{where}: webhook-id {record.get('webhook_id')!r} is not msg_…")
    if not record["verified"] or not all(record["verified"]):
        problem(f"{where}: did not verify with every secret ({record['verify_errors']}; "
                f"{len(record['signatures'])} signatures)")
    if not all(record["tampered_refused"]):
        problem(f"{where}: the body with one byte changed verified too")
    if len(record["signatures"]) != signatures or not all(s.startswith("v1,") for s in record["signatures"]):
        problem(f"{where}: {len(record['signatures'])} signatures {[s[:6] for s in record['signatures']]}, "
                f"expected {signatures} v1,…")
    if not (record.get("content_type") or "").startswith("application/json"):
        problem(f"{where}: Content-Type {record.get('content_type')!r}")
    try:
        if abs(int(record["webhook_timestamp"]) - record["start"]) > 30:
            problem(f"{where}: webhook-timestamp {record['webhook_timestamp']} is not this attempt's time")
    except (TypeError, ValueError):
        problem(f"{where}: webhook-timestamp {record.get('webhook_timestamp')!r}")
    try:
        body = json.loads(record["body"])
        if set(body) != {"type", "timestamp", "data"} or not isinstance(body["data"], dict):
            problem(f"{where}: body fields {sorted(body)}")
        elif not TIMESTAMP.match(body["timestamp"] or ""):
            problem(f"{where}: timestamp {body['timestamp']!r} is not ISO 8601 UTC with milliseconds")
    except ValueError as error:
        problem(f"{where}: body is not JSON ({error})")
    if record.get("type") == "message.completed" and "readable" in record and not record["readable"]["ok"]:
        readable = record["readable"]
        problem(f"{where}: on receipt the message was not readable in /v1/cache: {readable.get('status')} "
                f"{readable.get('error')}")
    if record.get("answer_error") and not args.step.startswith("crash"):
        problem(f"{where}: the receiver's answer could not be sent: {record['answer_error']}")


def check_turns_arrived(name, turns, what, kind="message.completed"):
    """Each turn's event arrived (at least once, with a 2xx answer), and its stored answer was the chat's."""
    by_key = {}
    for record in delivered(name, kind):
        by_key.setdefault(turn_key((record.get("data") or {}).get("message_id")), []).append(record)
    missing = [t for t in turns if turn_key(t["message_id"]) not in by_key]
    if missing:
        problem(f"{what}: {len(missing)} of {len(turns)} turns never arrived as {kind}, e.g. {missing[0]}")
    for turn in turns:
        for record in by_key.get(turn_key(turn["message_id"]), []):
            data = record["data"]
            if data.get("conversation_id") != turn["conversation_id"] or data.get("turn_id", turn["turn_id"]) != turn["turn_id"]:
                problem(f"{what}: {record['webhook_id']} names conversation {data.get('conversation_id')} turn "
                        f"{data.get('turn_id')}, the chat answered {turn['conversation_id']} {turn['turn_id']}")
            readable = record.get("readable")
            if readable and readable.get("ok") and readable.get("content") != turn["answer"]:
                problem(f"{what}: /v1/cache held {readable.get('content')!r} for {data.get('message_id')}, the chat "
                        f"answered {turn['answer']!r}")
    return by_key


def readable_figure(name):
    checked = [r for r in records(name) if "readable" in r]
    return sum(1 for r in checked if r["readable"]["ok"]), len(checked)


# --- 1. signatures, rotation, the test event, a replay, and what message.completed holds -------------------------

def step_signatures():
    """Turns (blocking, streamed, a follow-up) and a test event reach an endpoint of every event type; each verifies,
    a changed byte does not; message.completed holds the documented fields (no content by default) and each
    conversation's sequence counts 1, 2, …; after rotate-secret every delivery has two signatures, and the old and the
    new secret each verify it; a replay sends the same webhook-id again."""
    name = "sign"
    endpoint = create_endpoint(name, "whsign")
    turns = [chat("whsign", f"signer{i}", f"signed question {i}") for i in range(8)]
    turns += [chat("whsign", f"streamer{i}", f"streamed question {i}", stream=True) for i in range(3)]
    turns += [chat("whsign", "signer0", "a follow-up", conversation_id=turns[0]["conversation_id"])]
    status, test = admin("POST", f"/admin/v1/webhooks/{endpoint['id']}/test")
    assert status == 202 and (test or {}).get("event_id", "").startswith("msg_"), f"POST …/test: {status} {test}"
    wait_until("the turns and the test event at the receiver",
               lambda: test["event_id"] in ids_answered(name) and
               len(ids_answered(name, kind="message.completed")) >= len(turns), 30)
    wait_until("nothing pending", lambda: endpoint_state(endpoint["id"])["stats"]["pending"] == 0, 15)
    check_turns_arrived(name, turns, "before rotation")
    tests = [r for r in delivered(name) if r["webhook_id"] == test["event_id"]]
    if not tests or tests[0]["type"] != "webhook.test" or tests[0]["data"].get("endpoint_id") != endpoint["id"]:
        problem(f"the test event {test['event_id']}: {tests[:1]}")
    # What message.completed holds, without content.
    for record in delivered(name, "message.completed"):
        data = record["data"]
        if set(data) != COMPLETED_FIELDS:
            problem(f"message.completed {record['webhook_id']}: fields {sorted(set(data) ^ COMPLETED_FIELDS)} "
                    f"differ from docs/webhooks.md")
        if data.get("system_id") != "whsign" or data.get("dify_user") != f"whsign_{data.get('user_id')}" or \
                data.get("channel") != "/v1" or data.get("status") != "completed" or \
                data.get("question_id") != f"{data.get('dify_message_id')}_user":
            problem(f"message.completed {record['webhook_id']}: {json.dumps(data)[:300]}")
    # Each conversation's events are numbered 1, 2, … (this endpoint takes every type).
    sequences = collections.defaultdict(list)
    for record in delivered(name):
        if record["data"].get("conversation_id") and record["type"] != "webhook.test":
            sequences[record["data"]["conversation_id"]].append(record["data"].get("sequence"))
    for conversation, numbers in sequences.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            problem(f"conversation {conversation}: sequences {sorted(numbers, key=str)}, expected 1…{len(numbers)}")
    created = [r for r in delivered(name, "conversation.created")]
    if len(created) != len(turns) - 1:
        problem(f"{len(created)} conversation.created for {len(turns) - 1} conversations started")
    # Rotation: nothing pending (above), then a new secret; the receiver wants both to verify every delivery now.
    before = list(records(name))
    for record in before:
        check_delivery(name, record)
    old_secret = endpoint["secret"]
    status, rotated = admin("POST", f"/admin/v1/webhooks/{endpoint['id']}/rotate-secret")
    assert status in (200, 201) and (rotated or {}).get("secret", "").startswith("whsec_"), \
        f"rotate-secret: {status} {rotated}"
    new_secret = rotated["secret"]
    if new_secret == old_secret:
        problem("rotate-secret gave the same secret")
    configure(name, secrets=[old_secret, new_secret])
    expires = endpoint_state(endpoint["id"]).get("previous_secret_expires_at")
    try:
        left = time.mktime(time.strptime(expires[:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(time.gmtime())
        if not 23.5 * 3600 < left < 24.5 * 3600:
            problem(f"previous_secret_expires_at {expires}: {left / 3600:.1f} h from now, not 24 h")
    except (TypeError, ValueError):
        problem(f"after rotate-secret previous_secret_expires_at is {expires!r}")
    rotated_turns = [chat("whsign", f"rotated{i}", f"after the rotation {i}") for i in range(4)]
    status, test2 = admin("POST", f"/admin/v1/webhooks/{endpoint['id']}/test")
    assert status == 202, f"POST …/test: {status} {test2}"
    wait_until("the deliveries after the rotation",
               lambda: test2["event_id"] in ids_answered(name) and
               len(ids_answered(name, kind="message.completed")) >= len(turns) + len(rotated_turns), 30)
    check_turns_arrived(name, rotated_turns, "after rotation")
    after = records(name)[len(before):]
    for record in after:
        check_delivery(name, record, signatures=2)
    # Each of the two signatures is one secret's own: old and new, not the same one twice.
    both = 0
    for record in after:
        signed = {old_secret: False, new_secret: False}
        for secret in signed:
            key = base64.b64decode(secret[6:])
            mac = hmac.new(key, f"{record['webhook_id']}.{record['webhook_timestamp']}.".encode() +
                           record["body"].encode(), hashlib.sha256).digest()
            signed[secret] = "v1," + base64.b64encode(mac).decode() in record["signatures"]
        both += all(signed.values())
    if both != len(after):
        problem(f"after rotation {len(after) - both} of {len(after)} deliveries lack the old or the new secret's signature")
    # A replay: the same event, the same webhook-id, signed anew.
    wait_until("nothing pending before the replay", lambda: endpoint_state(endpoint["id"])["stats"]["pending"] == 0, 15)
    replayed_id = delivered(name, "message.completed")[0]["webhook_id"]
    status, body = admin("POST", f"/admin/v1/webhooks/{endpoint['id']}/deliveries/{replayed_id}/replay")
    replayed = status == 202
    if not replayed:
        problem(f"POST …/deliveries/{replayed_id}/replay: {status} {body}, expected 202")
    else:
        again, _ = wait_until("the replayed event", lambda: [r for r in records(name) if r["webhook_id"] == replayed_id][1:], 15)
        check_delivery(name, again[0], signatures=2)
    ok, checked = readable_figure(name)
    figures["signatures"] = {"deliveries": len(records(name)), "before_rotation": len(before),
                             "after_rotation_two_signatures": len(after), "readable_on_receipt": f"{ok}/{checked}"}
    print(f"   {len(before)} deliveries with one signature, then rotate-secret: {len(after)} with two, each verified "
          f"by the old and the new secret; every one refused with one byte changed; {ok}/{checked} "
          f"message.completed readable in /v1/cache on receipt; " +
          ("a replay came with the same webhook-id" if replayed else "the replay was refused"))
    finish("signatures")


# --- 6. include_content --------------------------------------------------------------------------------------------

def step_content():
    """Two endpoints of one system, one with include_content false and one true; questions, answers, quoted
    sources, a feedback reason and a conversation name carry unique markers: not one byte of a marker in the first
    endpoint's bodies, each in its place in the second's."""
    marker = uuid.uuid4().hex[:12]
    source_text = f"SOURCE-{marker} quoted paragraph"
    fake_options(retriever_resources=[{"dataset_id": "ds-1", "dataset_name": "Handbook", "document_id": "doc-1",
                                       "document_name": "handbook.pdf", "segment_id": "seg-1", "score": 0.875,
                                       "content": source_text}])
    try:
        create_endpoint("bare", "whcontent", include_content=False)
        create_endpoint("full", "whcontent", include_content=True)
        turns = [chat("whcontent", "reader1", f"QUESTION-{marker}-1 what is it?"),
                 chat("whcontent", "reader2", f"QUESTION-{marker}-2 and this?", stream=True),
                 chat("whcontent", "reader3", f"/answer ANSWER-{marker}-3 as told")]
        turns.append(chat("whcontent", "reader1", f"QUESTION-{marker}-4 more", conversation_id=turns[0]["conversation_id"]))
        reason, name = f"REASON-{marker} wrong", f"NAME-{marker} chat"
        status, body, _ = call(port(), "POST", f"/v1/messages/{turns[0]['message_id']}/feedbacks",
                               {"system_id": "whcontent", "user_id": "reader1", "rating": "dislike", "content": reason}, KEY)
        assert status == 200, f"feedback: {status} {body}"
        status, body, _ = call(port(), "POST", f"/v1/conversations/{turns[1]['conversation_id']}/name",
                               {"system_id": "whcontent", "user_id": "reader2", "name": name}, KEY)
        assert status == 200, f"rename: {status} {body}"
        fake_fault(kind="http_error", status=500)
        try:
            status, body, _ = call(port(), "POST", "/v1/chat", {"system_id": "whcontent", "user_id": "reader4",
                                                               "message": f"QUESTION-{marker}-5 fails"}, KEY)
            assert status in (502, 503), f"a chat Dify fails: {status} {body}"
        finally:
            fake_fault(kind=None)
    finally:
        fake_options(retriever_resources=[])
    expected = {"message.completed": 4, "feedback.created": 1, "conversation.renamed": 1, "message.failed": 1}

    def arrived(endpoint_name):
        counts = collections.Counter(r["type"] for r in delivered(endpoint_name))
        return all(counts[k] >= v for k, v in expected.items())
    wait_until("the content events at both endpoints", lambda: arrived("bare") and arrived("full"), 30)
    for endpoint_name in ("bare", "full"):
        for record in records(endpoint_name):
            check_delivery(endpoint_name, record)
    check_turns_arrived("bare", turns, "include_content false")
    check_turns_arrived("full", turns, "include_content true")
    leaked = [(r["type"], m) for r in records("bare") for m in re.findall(rf"[A-Z]+-{marker}", r["body"])]
    if leaked:
        problem(f"include_content false: markers in the raw bodies: {sorted(set(leaked))}")
    for record in delivered("bare"):
        for field in ("question", "answer", "partial_answer", "content", "name"):
            if field in record["data"]:
                problem(f"include_content false: {record['type']} has {field!r}")
        for source in record["data"].get("sources") or []:
            if "content" in source or source.get("document_name") != "handbook.pdf":
                problem(f"include_content false: a source of {record['webhook_id']} is {source}")
    answers = {turn_key(t["message_id"]): t for t in turns}
    found = collections.Counter()
    for record in delivered("full"):
        data = record["data"]
        if record["type"] == "message.completed":
            turn = answers.get(turn_key(data.get("message_id")))
            if turn and (data.get("question"), data.get("answer")) != (turn["question"], turn["answer"]):
                problem(f"include_content true: {data.get('question')!r} → {data.get('answer')!r}, the chat was "
                        f"{turn['question']!r} → {turn['answer']!r}")
            sources = data.get("sources") or []
            if [s.get("content") for s in sources] != [source_text] or sources[0].get("document_name") != "handbook.pdf":
                problem(f"include_content true: sources {sources}")
            found["completed"] += bool(turn)
        elif record["type"] == "feedback.created":
            found["feedback"] += data.get("content") == reason and data.get("rating") == "dislike"
        elif record["type"] == "conversation.renamed":
            found["renamed"] += data.get("name") == name
        elif record["type"] == "message.failed":
            found["failed"] += data.get("question") == f"QUESTION-{marker}-5 fails" and "partial_answer" in data
    if (found["completed"], min(found["feedback"], 1), min(found["renamed"], 1), min(found["failed"], 1)) != (4, 1, 1, 1):
        problem(f"include_content true: the content found in its place: {dict(found)} (expected 4 answers, the "
                f"feedback reason, the new name, the failed question)")
    figures["content"] = {"bare_deliveries": len(records("bare")), "full_deliveries": len(records("full")),
                          "markers_leaked": len(leaked)}
    print(f"   include_content false: {len(records('bare'))} deliveries, no marker in any body; true: "
          f"{len(records('full'))} deliveries with the question, answer, source text, reason and name")
    finish("content")


# --- 7. what an answer means: 410, 302, refused URLs -----------------------------------------------------------------

def step_responses():
    """410 disables the endpoint after one attempt (and webhook.endpoint.disabled reaches an endpoint subscribed to
    it); 302 is a failed attempt, retried, never followed; URLs to link-local, private, CGNAT and unspecified
    addresses, and http to a public address, are refused with 400 on create and on PATCH."""
    create_endpoint("observer", None, events=["webhook.endpoint.disabled"], fetch=False)
    gone = create_endpoint("gone", "whgone", events=["message.completed"], status=410)
    redirect = create_endpoint("redirect", "whredirect", events=["message.completed"], status=302,
                               location=f"{args.receiver}/hooks/redirect-target")
    configure("redirect-target")
    chat("whgone", "leaver", "hello")
    redirect_turn = chat("whredirect", "mover", "hello")
    state, took = wait_until("the 410 endpoint disabled", lambda: (lambda s: s if not s["enabled"] else None)(
        endpoint_state(gone["id"])), 20)
    if not state.get("disabled_reason"):
        problem(f"410: disabled with disabled_reason {state.get('disabled_reason')!r}")
    notices, _ = wait_until("webhook.endpoint.disabled at the observer",
                            lambda: [r for r in delivered("observer", "webhook.endpoint.disabled")
                                     if r["data"].get("endpoint_id") == gone["id"]], 20)
    data = notices[0]["data"]
    if data.get("url") != gone["url"] or data.get("system_id") != "whgone" or not data.get("reason"):
        problem(f"webhook.endpoint.disabled: {data}")
    # 302: failed attempts (the redirect is not followed), retried on the schedule.
    retried, _ = wait_until("the 302 endpoint's event tried twice", lambda: (lambda a: a if len(
        [x for x in a if attempt_status(x) == 302]) >= 2 else None)(attempts(redirect["id"])), 20)
    failed = [a for a in retried if attempt_status(a) == 302]
    redirect_ids = {r["webhook_id"] for r in records("redirect")}
    if len(redirect_ids) != 1 or len(records("redirect")) < 2:
        problem(f"302: the receiver saw {len(records('redirect'))} requests for ids {redirect_ids}")
    if records("redirect-target"):
        problem(f"302: the redirect was followed: {len(records('redirect-target'))} requests at its Location")
    if any(a.get("succeeded") is not False or a.get("result") != "redirect" for a in failed):
        problem(f"302: an attempt answered 302 is not recorded as a failed redirect: {failed[0]}")
    if not endpoint_state(redirect["id"])["enabled"]:
        problem("302: the endpoint was disabled")
    # Once it answers 200 the retries deliver it.
    configure("redirect", status=200)
    wait_until("the 302 endpoint's event delivered once it answers 200", lambda: delivered("redirect"), 20)
    check_turns_arrived("redirect", [redirect_turn], "302 then 200")
    # Refused URLs (WEBHOOK_ALLOWED_NETWORKS is 127.0.0.0/8 here).
    refused = {}
    for url in ("http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/", "http://[fe80::1]/",
                "https://10.0.0.1/hook", "https://192.168.1.1/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
                "http://8.8.8.8/hook", "ftp://127.0.0.1/hook"):
        status, body = admin("POST", "/admin/v1/webhooks", {"url": url, "system_id": "whrefused"})
        refused[url] = status
        if status != 400 or not (body or {}).get("detail"):
            problem(f"POST /admin/v1/webhooks {url}: {status} {body}, expected 400 saying why")
    status, body = admin("PATCH", f"/admin/v1/webhooks/{redirect['id']}", {"url": "http://169.254.169.254/"})
    if status != 400:
        problem(f"PATCH url to http://169.254.169.254/: {status} {body}, expected 400")
    # Enabling the disabled endpoint clears disabled_reason.
    status, body = admin("PATCH", f"/admin/v1/webhooks/{gone['id']}", {"enabled": True})
    if status != 200 or not body.get("enabled") or body.get("disabled_reason") is not None:
        problem(f"PATCH enabled true on the 410 endpoint: {status} {body}")
    configure("gone", status=200)
    gone_records = [r for r in records("gone") if r["status"] == 410]
    if len(gone_records) != 1:
        problem(f"410: {len(gone_records)} attempts answered 410, expected exactly one")
    for name in ("observer", "gone", "redirect"):
        for record in records(name):
            check_delivery(name, record)
    figures["responses"] = {"disabled_after_s": round(took, 2), "attempts_410": len(gone_records),
                            "attempts_302": len(failed), "urls_refused": sum(1 for s in refused.values() if s == 400)}
    print(f"   410: disabled after {len(gone_records)} attempt ({took:.1f} s), webhook.endpoint.disabled sent; 302: "
          f"{len(failed)} failed attempts, never followed, then delivered; {len(refused)} URLs refused with "
          f"{sorted(set(refused.values()))}")
    finish("responses")


# --- 2. the receiver down while 500 turns complete ---------------------------------------------------------------

def step_outage():
    """The endpoint's port closed while 500 turns complete in parallel, then the receiver answers 503 until each
    event was refused once, then 200: every message.completed arrives, none marked failed, within the short
    WEBHOOK_RETRY_SCHEDULE."""
    count = 500
    down_port = free_port()
    url = f"http://127.0.0.1:{down_port}/hooks/down"
    endpoint = create_endpoint("down", "whoutage", events=["message.completed"], url=url, status=503)
    started = time.monotonic()
    turns = chats("whoutage", count, threads=16, prefix="outage")
    chatted = time.monotonic() - started
    unreachable, _ = wait_until("failed attempts to the closed port in …/deliveries", lambda: [
        a for a in attempts(endpoint["id"], 50) if attempt_status(a) is None and a.get("error")], 20)
    receiver("POST", "/_listen", {"port": down_port})
    _, refused_for = wait_until("every event refused once with 503",
                                lambda: len(ids_answered("down", 503)) >= count, 30, interval=0.25)
    with_503 = [a for a in attempts(endpoint["id"], 50) if attempt_status(a) == 503]
    if not with_503:
        problem("503: no attempt with status 503 in …/deliveries")
    configure("down", status=200)
    back = time.time()
    wait_until(f"all {count} events after the receiver came back",
               lambda: len(ids_answered("down", 200, "message.completed")) >= count, 60, interval=0.25)
    ok = delivered("down", "message.completed")
    drained = max(r["end"] for r in ok) - back
    check_turns_arrived("down", turns, "after the outage")
    distinct = {r["webhook_id"] for r in ok}
    if len(distinct) != count:
        problem(f"{len(distinct)} distinct webhook-ids delivered for {count} turns")
    for record in records("down"):
        check_delivery("down", record)
    stats = endpoint_state(endpoint["id"])["stats"]
    if stats.get("failed") or stats.get("pending"):
        problem(f"after the outage the endpoint's stats say {stats}: none may be failed or pending")
    tries = collections.Counter(r["webhook_id"] for r in records("down"))
    duplicates = sum(n - 1 for n in collections.Counter(r["webhook_id"] for r in ok).values())
    ok_readable, checked = readable_figure("down")
    figures["outage"] = {"turns": count, "chat_seconds": round(chatted, 1), "distinct_ids": len(distinct),
                         "refused_503_seconds": round(refused_for, 1), "drain_seconds": round(drained, 1),
                         "max_requests_per_id": max(tries.values()), "duplicates_2xx": duplicates,
                         "readable_on_receipt": f"{ok_readable}/{checked}", "stats": stats}
    print(f"   {count} turns in {chatted:.1f} s with the port closed ({len(unreachable)} unreachable attempts in the "
          f"last 50), then 503 until each was refused ({refused_for:.1f} s); back: all {len(distinct)} ids in "
          f"{drained:.1f} s, at most {max(tries.values())} requests per id at the receiver, {duplicates} 2xx "
          f"duplicates, stats {stats}")
    finish("outage")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    number = s.getsockname()[1]
    s.close()
    return number


# --- 3. kill -9 mid-dispatch ------------------------------------------------------------------------------------

def step_crash_load():
    """A slow receiver (200 ms a request) and 300 events queued; returns once 20 have arrived, for the caller to
    SIGKILL the gateway at once."""
    count = 300
    endpoint = create_endpoint("slow", "whcrash", events=["message.completed"], sleep_ms=200)
    turns = chats("whcrash", count, threads=16, prefix="crash")
    wait_until("20 deliveries to the slow receiver", lambda: len(records("slow")) >= 20, 30, interval=0.02)
    json.dump({"endpoint": endpoint, "turns": turns, "count": count}, open(args.state, "w"))
    print(f"   {count} turns; {len(records('slow'))} of their events at the slow receiver: kill -9")
    finish("crash-load")


def step_crash_verify():
    """After the restart on the same SQLite file: every event arrives at least once; what the killed process was
    sending is sent again only once its 30 s lease ran out."""
    state = json.load(open(args.state))
    count, killed, turns = state["count"], args.killed, state["turns"]
    # The killed process's claims, as it left them in the database: event id|lease_expires_at.
    claims = {line.split("|")[0]: float(line.split("|")[1]) for line in open(args.claims) if line.strip()}
    before = len([r for r in records("slow") if r["start"] <= killed])
    restarted = args.restarted  # what started before this came from the killed process

    def claims_sent_again():
        again = {r["webhook_id"] for r in records("slow") if r["start"] >= restarted}
        return all(event_id in again for event_id in claims)
    # Every event, and every claim the killed process left, sent again once its lease ran out (the receiver may
    # have had all ids already: what was in flight at the kill reached it, unanswered).
    _, took = wait_until(f"all {count} events and the killed process's claims after the restart",
                         lambda: len(ids_answered("slow", 200, "message.completed")) >= count and claims_sent_again(),
                         120, interval=0.25)
    all_records = records("slow")
    check_turns_arrived("slow", turns, "after kill -9")
    for record in all_records:
        if killed - 1 <= record["start"] <= restarted and not record.get("readable", {"ok": True})["ok"]:
            record.pop("readable")  # its look-up in /v1/cache may have met the gateway dying
        check_delivery("slow", record)
    by_id = collections.defaultdict(list)
    for record in all_records:
        by_id[record["webhook_id"]].append(record)
    # In flight at the kill: begun by the killed process (before the restart), not answered before the kill.
    in_flight = {i for i, rs in by_id.items() if any(r["start"] < restarted and r["end"] >= killed for r in rs)}
    duplicates = {i: rs for i, rs in by_id.items() if len(rs) > 1}
    unexplained = [i for i in duplicates if i not in in_flight and
                   not any(killed - 1.0 <= r["end"] <= killed for r in by_id[i])]
    if unexplained:
        problem(f"{len(unexplained)} events delivered twice that were not in flight when the gateway was killed: "
                f"{unexplained[:3]}")
    retaken = sorted(min(r["start"] for r in by_id[i] if r["start"] >= restarted) - killed
                     for i in in_flight if any(r["start"] >= restarted for r in by_id[i]))
    if len(retaken) != len(in_flight):
        problem(f"{len(in_flight) - len(retaken)} of the {len(in_flight)} events in flight at the kill never came again")
    # The lease: the killed process's claims are taken again only once lease_expires_at has passed, and each is
    # sent again; an attempt in flight at the kill comes again no sooner than 30 s after it began (less the moment
    # between its claim and its request).
    if in_flight - set(claims):
        problem(f"{len(in_flight - set(claims))} events in flight at the kill were not claimed by the killed process "
                f"in the database: {sorted(in_flight - set(claims))[:3]}")
    early = []
    for event_id, until in claims.items():
        later = [r["start"] for r in by_id.get(event_id, []) if r["start"] >= restarted]
        if not later:
            problem(f"{event_id}, claimed by the killed process, never came after the restart")
        elif min(later) < until:
            early.append((event_id, round(until - min(later), 2)))
    for event_id in in_flight:
        again = [r["start"] for r in by_id[event_id] if r["start"] >= restarted]
        if again and min(again) - min(r["start"] for r in by_id[event_id]) < 28:
            early.append((event_id, "within 28 s of the killed attempt"))
    if early:
        problem(f"{len(early)} claims of the killed process taken before their 30 s lease ran out: {early[:3]}")
    leases = sorted(until - killed for until in claims.values())
    span = lambda values: f"{values[0]:.1f}-{values[-1]:.1f}" if values else "-"
    figures["crash"] = {"events": count, "delivered_before_kill": before, "distinct_ids": len(by_id),
                        "in_flight_at_kill": len(in_flight), "duplicates": len(duplicates), "claims_left": len(claims),
                        "leases_ran_out_after_kill_s": span(leases), "in_flight_sent_again_after_kill_s": span(retaken),
                        "waited_after_restart_s": round(took, 1)}
    print(f"   after restart: all {count} ids arrived ({took:.1f} s of waiting); the killed process's {len(claims)} claims "
          f"ran out {span(leases)} s after the kill; the {len(in_flight)} in flight were sent again {span(retaken)} s "
          f"after it; {len(duplicates)} ids delivered more than once")
    finish("crash-verify")


# --- 7b. a gateway without WEBHOOK_ALLOWED_NETWORKS -----------------------------------------------------------------

def step_no_allowed_networks():
    """Without WEBHOOK_ALLOWED_NETWORKS loopback is refused: on create (400), and before a delivery to an endpoint
    created while it was allowed (the receiver never sees it)."""
    refused = {}
    receiver_port = args.receiver.rsplit(":", 1)[1]
    for url in (f"http://127.0.0.1:{receiver_port}/hooks/x", "https://127.0.0.1/hook",
                f"http://localhost:{receiver_port}/hooks/x", "https://[::1]/hook", "https://127.1.2.3/hook"):
        status, body = admin("POST", "/admin/v1/webhooks", {"url": url, "system_id": "whrefused"})
        refused[url] = status
        if status != 400 or not (body or {}).get("detail"):
            problem(f"without WEBHOOK_ALLOWED_NETWORKS, POST /admin/v1/webhooks {url}: {status} {body}, expected 400")
    status, listed = admin("GET", "/admin/v1/webhooks")
    listed = listed["data"] if isinstance(listed, dict) and "data" in listed else listed
    sign = [e for e in listed if e["url"].endswith("/hooks/sign")][0]
    status, test = admin("POST", f"/admin/v1/webhooks/{sign['id']}/test")
    assert status == 202, f"test: {status} {test}"
    attempt, _ = wait_until("an attempt of the test event to a loopback endpoint", lambda: [
        a for a in attempts(sign["id"], 50) if a.get("event_id") == test["event_id"]], 20)
    if test["event_id"] in {r["webhook_id"] for r in records("sign")}:
        problem("without WEBHOOK_ALLOWED_NETWORKS a delivery still went to 127.0.0.1")
    if attempt_status(attempt[0]) is not None or not attempt[0].get("error"):
        problem(f"the refused delivery's attempt: {attempt[0]}")
    figures["no_allowed_networks"] = {"urls_refused": sum(1 for s in refused.values() if s == 400),
                                      "delivery_refused": attempt[0].get("error")}
    print(f"   {sum(1 for s in refused.values() if s == 400)}/{len(refused)} loopback URLs refused with 400; a delivery "
          f"to an existing loopback endpoint not made ({attempt[0].get('error')!r})")
    finish("no-allowed-networks")


# --- 4. two replicas on PostgreSQL ------------------------------------------------------------------------------------

def step_replicas():
    """2,500 turns, each starting a conversation, spread over two replicas: 5,000 events (conversation.created and
    message.completed) to one endpoint. Each webhook-id is never in flight twice at once (the receiver records each
    request's interval, a 10 ms sleep inside); every id arrives; a duplicate is allowed only after a 30 s lease."""
    turns_count = 2500
    endpoint = create_endpoint("replicas", "whreplicas", events=["conversation.created", "message.completed"],
                               sleep_ms=10)
    started = time.monotonic()
    turns = chats("whreplicas", turns_count, threads=24, prefix="replicated", users=200)
    chatted = time.monotonic() - started
    expected = 2 * turns_count
    _, waited = wait_until(f"{expected} events at the receiver",
                           lambda: len(ids_answered("replicas", 200)) >= expected, 180, interval=0.5)
    drained = time.monotonic() - started
    wait_until("nothing pending", lambda: endpoint_state(endpoint["id"])["stats"]["pending"] == 0, 30, interval=0.5)
    all_records = records("replicas")
    for record in all_records:
        check_delivery("replicas", record)
    check_turns_arrived("replicas", turns, "two replicas")
    created = {r["data"]["conversation_id"] for r in delivered("replicas", "conversation.created")}
    if created != {t["conversation_id"] for t in turns}:
        problem(f"conversation.created: {len(created)} conversations, {turns_count} started")
    by_id = collections.defaultdict(list)
    for record in all_records:
        by_id[record["webhook_id"]].append((record["start"], record["end"]))
    overlaps, early = [], []
    for webhook_id, intervals in by_id.items():
        intervals.sort()
        for (s1, e1), (s2, e2) in zip(intervals, intervals[1:]):
            if s2 < e1:
                overlaps.append((webhook_id, s1, e1, s2, e2))
            elif s2 - s1 < 29:
                early.append((webhook_id, round(s2 - s1, 2)))
    duplicates = sum(len(v) - 1 for v in by_id.values())
    if overlaps:
        problem(f"{len(overlaps)} overlapping in-flight intervals for one webhook-id, e.g. {overlaps[0]}")
    if early:
        problem(f"{len(early)} deliveries repeated before a 30 s lease could run out, e.g. {early[:3]}")
    if len(by_id) != expected:
        problem(f"{len(by_id)} distinct webhook-ids, expected {expected}")
    per_replica = [replica_successes(i) for i in range(len(args.gateway))]
    if len(per_replica) == 2 and not all(per_replica):
        problem(f"successful deliveries by replica (chatgw_webhook_deliveries_total): {per_replica}: not both dispatch")
    ok, checked = readable_figure("replicas")
    figures["replicas"] = {"events": expected, "distinct_ids": len(by_id), "requests": len(all_records),
                           "duplicates": duplicates, "overlaps": len(overlaps), "chat_seconds": round(chatted, 1),
                           "drain_seconds_from_first_turn": round(drained, 1), "by_replica": per_replica,
                           "readable_on_receipt": f"{ok}/{checked}"}
    print(f"   {turns_count} turns over both replicas in {chatted:.1f} s; {len(by_id)}/{expected} ids arrived "
          f"{drained:.1f} s after the first turn; {duplicates} duplicates, {len(overlaps)} overlapping in-flight "
          f"intervals; deliveries by replica {per_replica}; {ok}/{checked} readable on receipt")
    finish("replicas")


def replica_successes(i):
    conn = http.client.HTTPConnection("127.0.0.1", port(i), timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("chatgw_webhook_deliveries_total") and 'result="success"' in line))


# --- 8. operator actions while chats run ------------------------------------------------------------------------------

def step_admin_under_load():
    """What an operator does to endpoints (replay one event, replay since, send a test, PATCH) while 400 chats run in
    4 threads, each starting a conversation: every chat answers 200 ("dispatch never slows a chat") and every action
    202 or 200. On SQLite the admin API writes outside the store's one writer, so this is where they meet."""
    endpoint = create_endpoint("busy", "whbusy", events=["webhook.test"], fetch=False)
    status, test = admin("POST", f"/admin/v1/webhooks/{endpoint['id']}/test")
    assert status == 202, f"test: {status} {test}"
    wait_until("the first test event", lambda: delivered("busy"), 15)
    chats_seen, actions_seen = collections.Counter(), collections.Counter()
    failures = []

    def chatting(thread):
        for i in range(100):
            body = {"system_id": "whbusy", "user_id": f"busy{thread}", "message": f"busy {thread} {i}"}
            status, answer, _ = call(port(), "POST", "/v1/chat", body, KEY)
            chats_seen[status] += 1
            if status != 200:
                failures.append(("POST /v1/chat", status, answer))
    threads = [threading.Thread(target=chatting, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    actions = [("POST", f"/admin/v1/webhooks/{endpoint['id']}/deliveries/{test['event_id']}/replay", None, 202),
               ("POST", f"/admin/v1/webhooks/{endpoint['id']}/replay", {"since": "2020-01-01T00:00:00Z"}, 202),
               ("POST", f"/admin/v1/webhooks/{endpoint['id']}/test", None, 202),
               ("PATCH", f"/admin/v1/webhooks/{endpoint['id']}", {"description": "busy"}, 200)]
    while any(thread.is_alive() for thread in threads):
        for method, path, body, expected in actions:
            status, answer = admin(method, path, body)
            what = f"{method} {path.replace(endpoint['id'], '{id}').replace(test['event_id'], '{event_id}')}"
            actions_seen[(what, status)] += 1
            if status != expected:
                failures.append((what, status, answer))
    for thread in threads:
        thread.join()
    if failures:
        kinds = collections.Counter((what, status) for what, status, _ in failures)
        problem(f"while chats ran, {len(failures)} requests failed: {dict(kinds)}; e.g. {failures[0]}")
    figures["admin_under_load"] = {"chats": dict(chats_seen), "actions": sum(actions_seen.values()),
                                   "failed": len(failures)}
    print(f"   {sum(chats_seen.values())} chats {dict(chats_seen)} beside {sum(actions_seen.values())} admin actions; "
          f"{len(failures)} failed")
    finish("admin-under-load")


STEPS = {"signatures": step_signatures, "content": step_content, "responses": step_responses, "outage": step_outage,
         "crash-load": step_crash_load, "crash-verify": step_crash_verify,
         "no-allowed-networks": step_no_allowed_networks, "replicas": step_replicas,
         "admin-under-load": step_admin_under_load}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--receiver", required=True)
    parser.add_argument("--gateway", type=int, action="append", required=True)
    parser.add_argument("--fake")
    parser.add_argument("--state")
    parser.add_argument("--claims")
    parser.add_argument("--killed", type=float)
    parser.add_argument("--restarted", type=float)
    parser.add_argument("--figures")
    args = parser.parse_args()
    try:
        STEPS[args.step]()
    except AssertionError as error:
        problem(str(error))
        finish(args.step)
