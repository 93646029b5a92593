"""Chats through the gateway, then checks what Prometheus scraped, the Grafana dashboard's queries, the spans the
OTLP receiver decoded and the gateway's JSON logs. Run by e2e/telemetry.sh."""
import argparse
import json
import secrets
import sys
import time
import urllib.parse
import urllib.request

parser = argparse.ArgumentParser()
for flag in ["gateway", "prometheus", "fake", "spans", "log", "dashboard", "api-key", "secrets"]:
    parser.add_argument("--" + flag, required=True)
args = parser.parse_args()
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)
    return condition


def http(url, body=None, headers=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def chat(system, message, stream, traceparent=None):
    headers = {"X-API-Key": args.api_key}
    if traceparent:
        headers["traceparent"] = traceparent
    text = http(args.gateway + "/v1/chat",
                {"system_id": system, "user_id": "telemetry-user", "message": message, "stream": stream}, headers)
    if not stream:
        return json.loads(text)
    # A block is `id:`, `event:` and `data:` lines (the first also `retry:`).
    done = [block for block in text.split("\n\n") if "event: done" in block.split("\n")]
    assert done, text
    return json.loads(done[0].split("data: ", 1)[1])


def promql(expr):
    url = args.prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    return json.loads(http(url))


def scalar(expr):
    result = promql(expr)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def wait_until(what, predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    check(False, what)
    return None


# Prometheus scrapes the gateway before any chat.
wait_until("Prometheus scrapes the gateway",
           lambda: scalar('up{job="chat-gateway"}') == 1 and scalar("sum(chatgw_http_requests_total)"))
before_chats = scalar("sum(chatgw_chats_total) or vector(0)")
before_tokens = scalar("sum(chatgw_tokens_total) or vector(0)")

texts = ["telemetry-private-text-%d-%s" % (i, secrets.token_hex(4)) for i in range(5)]
trace1, parent1 = secrets.token_hex(16), secrets.token_hex(8)
trace2, parent2 = secrets.token_hex(16), secrets.token_hex(8)
answers = [chat("drillquiz", texts[0], False, "00-%s-%s-01" % (trace1, parent1))]
sent_to_dify = json.loads(http(args.fake + "/_fake/stats"))["last_chat_traceparent"]
answers.append(chat("drillquiz", texts[1], True, "00-%s-%s-01" % (trace2, parent2)))
answers.append(chat("drillquiz", texts[2], False))
answers.append(chat("cointutor", texts[3], False))
answers.append(chat("cointutor", texts[4], True))
tokens = sum(a["metadata"]["usage"]["prompt_tokens"] + a["metadata"]["usage"]["completion_tokens"] for a in answers)

# The counters rise by exactly what happened.
wait_until("Prometheus sees the 5 chats",
           lambda: scalar('sum(chatgw_chats_total{outcome="completed"})') == before_chats + 5)
check(scalar('sum(chatgw_chats_total{mode="blocking",outcome="completed"})') == 3, "3 blocking chats counted")
check(scalar('sum(chatgw_chats_total{mode="stream",outcome="completed"})') == 2, "2 streamed chats counted")
check(scalar('sum(chatgw_chats_total{system="cointutor"})') == 2, "2 cointutor chats counted")
check(scalar("sum(chatgw_tokens_total)") - before_tokens == tokens, "tokens counted: %d" % tokens)
check(scalar('sum(chatgw_messages_stored_total{role="assistant",status="complete"})') == 5, "5 answers stored")
check(scalar('sum(chatgw_dify_requests_total{endpoint="chat-messages",status="200"})') == 5, "5 Dify calls")

# The Grafana dashboard's queries, as Grafana would send them with every system and job selected, once a rate
# over the new series has a few samples.
wait_until("a few scrapes since the chats",
           lambda: (scalar("min(count_over_time(chatgw_tokens_total[1m]))") or 0) >= 4)
dashboard = json.load(open(args.dashboard))
must_have_data = {"Chats per second, by outcome", "HTTP requests per second, by route and status",
                  "Dify latency p50 and p95", "Time to first token p95", "Tokens per second", "Cost per hour",
                  "Streams running", "Process: memory", "Process: CPU and descriptors"}
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        expr = (target["expr"].replace("$__rate_interval", "1m").replace("$system", ".*").replace("$job", ".*"))
        answer = promql(expr)
        check(answer["status"] == "success", "dashboard query runs: %s" % expr)
        if panel["title"] in must_have_data:
            check(answer["data"]["result"], "dashboard panel has data: %s (%s)" % (panel["title"], target["refId"]))

# Traces: the caller's traceparent continued, children linked to their parents, Dify given the trace.
def spans():
    try:
        return [json.loads(line) for line in open(args.spans)]
    except FileNotFoundError:
        return []


def find(all_spans, trace, name):
    return [s for s in all_spans if s["trace_id"] == trace and s["name"] == name]


all_spans = wait_until("the receiver gets both traced chats' spans", lambda: (
    lambda got: got if find(got, trace1, "POST /v1/chat") and find(got, trace2, "chat stream")
    and find(got, trace2, "dify chat-messages") else None)(spans()))
if all_spans:
    server1 = find(all_spans, trace1, "POST /v1/chat")[0]
    check(server1["parent_span_id"] == parent1 and server1["kind"] == 2, "the server span continues the traceparent")
    check(server1["attributes"].get("http.route") == "/v1/chat", "the server span names its route")
    check(server1["resource"].get("service.name") == "chat-gateway-e2e", "OTEL_SERVICE_NAME honoured")
    check(server1["resource"].get("deployment.environment") == "ci", "OTEL_RESOURCE_ATTRIBUTES honoured")
    check(server1["headers"].get("x-collector-token") == "ci-header-7d2", "OTEL_EXPORTER_OTLP_HEADERS honoured")
    dify1 = find(all_spans, trace1, "dify chat-messages")
    check(len(dify1) == 1 and dify1[0]["parent_span_id"] == server1["span_id"] and dify1[0]["kind"] == 3,
          "the Dify call is a client span under the request's span")
    check(dify1 and dify1[0]["attributes"].get("dify.system_id") == "drillquiz"
          and dify1[0]["attributes"].get("http.response.status_code") == 200, "the Dify span has system and status")
    check(sent_to_dify is not None and sent_to_dify.split("-")[1] == trace1
          and dify1 and sent_to_dify.split("-")[2] == dify1[0]["span_id"],
          "Dify got a traceparent of the same trace, parented by the Dify span: %s" % sent_to_dify)
    writes1 = [s for s in all_spans if s["trace_id"] == trace1 and s["name"].startswith("db ")]
    check(writes1 and all(s["parent_span_id"] == server1["span_id"] for s in writes1),
          "database transactions are spans under the request's span: %s" % [s["name"] for s in writes1])

    server2 = find(all_spans, trace2, "POST /v1/chat")[0] if find(all_spans, trace2, "POST /v1/chat") else None
    stream2 = find(all_spans, trace2, "chat stream")[0]
    check(server2 is not None and server2["parent_span_id"] == parent2, "the stream's request continues its traceparent")
    check(server2 is not None and stream2["parent_span_id"] == server2["span_id"], "the stream span is the request's child")
    dify2 = find(all_spans, trace2, "dify chat-messages")[0]
    check(dify2["parent_span_id"] == stream2["span_id"], "the streamed Dify call is under the stream span")
    stored2 = [s for s in all_spans if s["trace_id"] == trace2 and s["name"] == "db record turn"]
    check(stored2 and stored2[-1]["parent_span_id"] == stream2["span_id"], "storing the answer is under the stream span")
    check(server2 is not None and stored2 and server2["end"] >= max(s["end"] for s in stored2),
          "the stream's request span ends after the answer is stored")

    forbidden = texts + args.secrets.split(",")
    leaks = [s["name"] for s in all_spans for v in [s["name"], *map(str, s["attributes"].values())]
             if any(f in v for f in forbidden)]
    check(not leaks, "no message text, key or secret in any span (%d spans)" % len(all_spans))

# Logs: one JSON object per line, trace ids on the traced request's lines, no secret.
lines = [line for line in open(args.log).read().splitlines() if line.strip()]
objects = []
for line in lines:
    try:
        objects.append(json.loads(line))
    except ValueError:
        check(False, "a log line is not JSON: %s" % line[:120])
check(all({"timestamp", "level", "message"} <= o.keys() for o in objects), "every log line has timestamp, level, message")
check(any(o.get("trace_id") == trace1 and o.get("request_id") for o in objects), "the traced request's logs carry trace_id")
check(not [line for line in lines if any(f in line for f in texts + args.secrets.split(","))], "no secret in the logs")

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("OK: Prometheus, the dashboard's queries, the traces and the JSON logs agree with the chats made")
