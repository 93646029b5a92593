"""A webhook receiver on loopback for e2e/webhooks.sh: verifies every delivery with the official Standard Webhooks
library (PyPI `standardwebhooks`) and records it.

usage: python3 e2e/webhook_receiver.py PORT_FILE
Binds a free loopback port, writes it to PORT_FILE, serves until killed.

Deliveries go to `POST /hooks/<name>`: one receiver serves many endpoints, each named by its path. For every delivery
it records, under its name: `webhook-id`, `webhook-timestamp`, the signatures, the event's type and `data`, the raw
body, whether each configured secret verified it (`Webhook(secret).verify`), whether the same body with one byte
changed was refused by each, the status it answered, and when the request was received and its answer sent (`start`,
`end`, Unix seconds: the delivery's time in flight as the receiver saw it). A `message.completed` is checked, before
answering, against the gateway's own store when the endpoint has `fetch`: `GET /v1/cache/conversations/{id}/messages`
must hold `data.message_id`, complete, with the answer (the event must never arrive before the message is readable).

Control, as JSON:
- `POST /_config/<name>` merges `{"secrets": ["whsec_…", …], "status": 200, "location": "/hooks/x", "sleep_ms": 0,
  "fetch": {"urls": ["http://127.0.0.1:PORT", …], "api_key": "…"} or null}` into the endpoint's settings: each
  secret must verify each delivery; `status` is what it answers (a 3xx with `location`).
- `POST /_listen` `{"port": N}`: serves the same routes on loopback port N too (for a receiver that "comes back").
- `GET /_records/<name>`: every delivery recorded for it, in the order the answers went out.
- `POST /_clear/<name>`: forgets its records.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

lock = threading.Lock()
settings = {}  # name: {"secrets", "status", "location", "sleep_ms", "fetch"}
records = {}  # name: [record]


def endpoint_settings(name):
    with lock:
        return dict(settings.setdefault(name, {"secrets": [], "status": 200, "location": None, "sleep_ms": 0,
                                               "fetch": None}))


def with_one_byte_changed(body):
    if not body:
        return b"x"
    i = len(body) // 2
    return body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]


def check_readable(fetch, event):
    """The message the event describes, read back from the gateway's store at this moment."""
    data = event.get("data") or {}
    conversation, message = data.get("conversation_id"), data.get("message_id")
    result = {"checked_at": time.time(), "ok": False}
    if not conversation or not message:
        result["error"] = f"event without conversation_id or message_id: {sorted(data)}"
        return result
    url = fetch["urls"][hash(message) % len(fetch["urls"])]
    request = urllib.request.Request(f"{url}/v1/cache/conversations/{conversation}/messages",
                                     headers={"X-API-Key": fetch["api_key"]})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            messages = json.loads(response.read())
        result["status"] = 200
    except urllib.error.HTTPError as error:
        result.update(status=error.code, error=error.read()[:300].decode("utf-8", "replace"))
        return result
    except (OSError, ValueError) as error:
        result["error"] = f"{type(error).__name__}: {error}"
        return result
    found = [m for m in messages if m.get("message_id") == message]
    if not found:
        result["error"] = f"{message} not among the conversation's {len(messages)} stored messages"
        return result
    stored = found[0]
    result.update(role=stored.get("role"), message_status=stored.get("status"), content=stored.get("content"))
    if stored.get("role") != "assistant" or stored.get("status") != "complete" or not stored.get("content"):
        result["error"] = f"stored as {stored.get('role')} {stored.get('status')} with {stored.get('content')!r}"
    elif "answer" in data and data["answer"] != stored.get("content"):
        result["error"] = f"the event's answer {data['answer']!r} is not the stored {stored.get('content')!r}"
    else:
        result["ok"] = True
    return result


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status, payload=b"", content_type="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def do_GET(self):
        self.read_body()
        if self.path.startswith("/_records/"):
            name = self.path[len("/_records/"):]
            with lock:
                payload = json.dumps(records.get(name, [])).encode()
            return self.answer(200, payload)
        self.answer(404, b'{"detail": "no such route"}')

    def do_POST(self):
        start = time.time()
        body = self.read_body()
        if self.path.startswith("/hooks/"):
            return self.deliver(self.path[len("/hooks/"):], body, start)
        if self.path.startswith("/_config/"):
            name = self.path[len("/_config/"):]
            endpoint_settings(name)
            with lock:
                settings[name].update(json.loads(body))
            return self.answer(200, b"{}")
        if self.path.startswith("/_clear/"):
            with lock:
                records.pop(self.path[len("/_clear/"):], None)
            return self.answer(200, b"{}")
        if self.path == "/_listen":
            listen(json.loads(body)["port"])
            return self.answer(200, b"{}")
        self.answer(404, b'{"detail": "no such route"}')

    def deliver(self, name, body, start):
        config = endpoint_settings(name)
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {"name": name, "start": start, "webhook_id": headers.get("webhook-id"),
                  "webhook_timestamp": headers.get("webhook-timestamp"),
                  "signatures": (headers.get("webhook-signature") or "").split(),
                  "content_type": headers.get("content-type"), "body": body.decode("utf-8", "replace"),
                  "verified": [], "verify_errors": [], "tampered_refused": []}
        for secret in config["secrets"]:
            try:
                Webhook(secret).verify(body, headers, json_parse=False)
                record["verified"].append(True)
            except WebhookVerificationError as error:
                record["verified"].append(False)
                record["verify_errors"].append(str(error))
            try:
                Webhook(secret).verify(with_one_byte_changed(body), headers, json_parse=False)
                record["tampered_refused"].append(False)
            except WebhookVerificationError:
                record["tampered_refused"].append(True)
        try:
            event = json.loads(body)
            record["type"], record["data"] = event.get("type"), event.get("data")
        except ValueError as error:
            event = None
            record["type"], record["data"], record["parse_error"] = None, None, str(error)
        if config["fetch"] and event and event.get("type") == "message.completed":
            record["readable"] = check_readable(config["fetch"], event)
        if config["sleep_ms"]:
            time.sleep(config["sleep_ms"] / 1000)
        status = config["status"]
        record["status"] = status
        extra = [("Location", config["location"])] if config["location"] and 300 <= status < 400 else []
        try:
            self.answer(status, json.dumps({"received": record["webhook_id"]}).encode(), extra=extra)
        except OSError as error:  # the gateway went away (killed) before reading the answer
            record["answer_error"] = f"{type(error).__name__}: {error}"
            self.close_connection = True
        record["end"] = time.time()
        with lock:
            records.setdefault(name, []).append(record)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def listen(port):
    server = Server(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    main = Server(("127.0.0.1", 0), Receiver)
    with open(sys.argv[1] + ".tmp", "w") as out:
        out.write(str(main.server_address[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    main.serve_forever()
