"""A scripted session with one of Dify's Python SDKs, pointed at the gateway's /dify/v1 with a gateway key.

Usage: dify_sdk_session.py SDK GATEWAY_URL KEY SYSTEM_ID FAKE_URL
SDK is `dify-client` (Dify's official SDK) or `dify-client-python` (the typed one). Each step uses the SDK's own
call where the SDK has one, else the SDK's own request helper (its auth, its HTTP client, its error handling).
Every turn must then be in the gateway's /v1/cache, and the upload must reach Dify as `{system_id}_{user}`.
"""
import json
import sys
import threading
import time
import urllib.request

sdk_name, gateway, key, system_id, fake = sys.argv[1:6]
base = gateway + "/dify/v1"
user = f"sdk-user-{sdk_name}"
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise SystemExit(f"FAIL [{sdk_name}]: {what}")
    checks += 1


def http_json(url, headers=None, data=None, method=None):
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def fake_options(**options):
    http_json(fake + "/_fake/options", {"Content-Type": "application/json"}, json.dumps(options).encode())


class OfficialSDK:
    """dify-client: methods return `requests` responses; streams are read line by line, as its README does."""

    def __init__(self):
        from dify_client import ChatClient
        self.client = ChatClient(key)
        self.client.base_url = base

    def ok(self, response):
        check(response.status_code < 300, f"HTTP {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def chat(self, query, conversation_id=None):
        return self.ok(self.client.create_chat_message({}, query, user, "blocking", conversation_id))

    def stream(self, query, conversation_id=None):
        response = self.client.create_chat_message({}, query, user, "streaming", conversation_id)
        check(response.status_code == 200, f"stream HTTP {response.status_code}")
        # The events are the `data:` lines; Dify's `event: ping` and the gateway's `id:` and `retry:` are framing.
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data:") and line[5:].strip():
                yield json.loads(line[5:].strip())

    def conversations(self):
        return self.ok(self.client.get_conversations(user, limit=100))["data"]

    def messages(self, conversation_id):
        return self.ok(self.client.get_conversation_messages(user, conversation_id))["data"]

    def rename(self, conversation_id, name=None, auto=False):
        if not auto:
            return self.ok(self.client.rename_conversation(conversation_id, name, user))
        return self.ok(self.client._send_request(
            "POST", f"/conversations/{conversation_id}/name", {"auto_generate": True, "user": user}))

    def feedback(self, message_id, rating):
        return self.ok(self.client.message_feedback(message_id, rating, user))

    def suggested(self, message_id):
        return self.ok(self.client._send_request("GET", f"/messages/{message_id}/suggested", params={"user": user}))

    def parameters(self):
        return self.ok(self.client.get_application_parameters(user))

    def meta(self):
        return self.ok(self.client._send_request("GET", "/meta", params={"user": user}))

    def upload(self, name, content, mime):
        response = self.client.file_upload(user, {"file": (name, content, mime)})
        check(response.status_code == 201, f"upload HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def stop(self, task_id):
        return self.ok(self.client._send_request("POST", f"/chat-messages/{task_id}/stop", {"user": user}))

    def delete(self, conversation_id):
        response = self.client._send_request("DELETE", f"/conversations/{conversation_id}", {"user": user})
        check(response.status_code == 204, f"delete HTTP {response.status_code}")


class TypedSDK:
    """dify-client-python: typed requests and responses, and its own SSE parser (httpx-sse) for streams."""

    def __init__(self):
        from dify_client import Client, _clientx, models
        self.models = models
        self.client_endpoints = _clientx
        self.client = Client(api_key=key, api_base=base)

    def request(self, path, method, **kwargs):
        response = self.client.request(self.client._prepare_url(path), method, **kwargs)
        return response.json() if response.content else None

    def chat(self, query, conversation_id=None):
        # The SDK's own steps for a blocking chat, keeping the raw body: its ChatResponse model has no
        # conversation_id field, so a dump of the parsed model would drop it.
        m = self.models
        request = m.ChatRequest(
            query=query, user=user, response_mode=m.ResponseMode.BLOCKING, conversation_id=conversation_id or "")
        body = self.request(self.client_endpoints.ENDPOINT_CHAT_MESSAGES, "POST", json=request.model_dump())
        m.ChatResponse(**body)
        return body

    def stream(self, query, conversation_id=None):
        m = self.models
        for event in self.client.chat_messages(m.ChatRequest(
                query=query, user=user, response_mode=m.ResponseMode.STREAMING,
                conversation_id=conversation_id or "")):
            yield event.model_dump(mode="json")

    def conversations(self):
        return self.request("/conversations", "GET", params={"user": user, "limit": 100})["data"]

    def messages(self, conversation_id):
        return self.request("/messages", "GET", params={"user": user, "conversation_id": conversation_id})["data"]

    def rename(self, conversation_id, name=None, auto=False):
        body = {"auto_generate": True, "user": user} if auto else {"name": name, "user": user}
        return self.request(f"/conversations/{conversation_id}/name", "POST", json=body)

    def feedback(self, message_id, rating):
        m = self.models
        return self.client.feedback_messages(message_id, m.FeedbackRequest(rating=rating, user=user)).model_dump()

    def suggested(self, message_id):
        return self.client.suggest_messages(message_id, self.models.ChatSuggestRequest(user=user)).model_dump()

    def parameters(self):
        return self.request("/parameters", "GET", params={"user": user})

    def meta(self):
        return self.request("/meta", "GET", params={"user": user})

    def upload(self, name, content, mime):
        return self.client.upload_files((name, content, mime), self.models.UploadFileRequest(user=user)).model_dump()

    def stop(self, task_id):
        return self.client.stop_chat_messages(task_id, self.models.StopRequest(user=user)).model_dump()

    def delete(self, conversation_id):
        self.request(f"/conversations/{conversation_id}", "DELETE", json={"user": user})

    def audio(self):
        m = self.models
        speech = self.client.text_to_audio(m.TextToAudioRequest(text="Hello there", user=user))
        check(speech[:2] == b"\xff\xfb" and len(speech) >= 1024, "text-to-audio gave the fake's audio (MPEG frames)")
        text = self.client.audio_to_text(("hello.mp3", speech, "audio/mpeg"), m.AudioToTextRequest(user=user))
        check(str(len(speech)) in text.text, "audio-to-text transcribed the audio sent")


sdk = OfficialSDK() if sdk_name == "dify-client" else TypedSDK()
cache_headers = {"X-API-Key": key}

# A blocking chat, then a stream read event by event, then that conversation continued.
first = sdk.chat("Hello from the SDK")
check(first["answer"] == "Echo: Hello from the SDK", f"blocking answer: {first.get('answer')}")
check(first["id"] == first["message_id"] and first["conversation_id"], "blocking answer has Dify's ids")
events = list(sdk.stream("/tokens 5"))
names = [event["event"] for event in events]
check(names.count("message") == 5 and names[-1] == "message_end", f"stream events: {names}")
streamed = "".join(event.get("answer") or "" for event in events if event["event"] == "message")
check(streamed == "tok1 tok2 tok3 tok4 tok5", f"streamed answer: {streamed!r}")
conversation = events[0]["conversation_id"]
check(all(event["conversation_id"] == conversation for event in events), "one conversation id in the stream")
check(events[-1]["metadata"]["usage"]["total_tokens"] > 0, "message_end carries Dify's usage")
second = sdk.chat("And a follow-up", conversation)
check(second["conversation_id"] == conversation, "the follow-up continued the streamed conversation")

# Lists, rename, feedback, suggestions, the app's parameters and meta.
listed = {item["id"] for item in sdk.conversations()}
check({first["conversation_id"], conversation} <= listed, f"both conversations listed: {listed}")
turns = sdk.messages(conversation)
check([turn["query"] for turn in turns] == ["/tokens 5", "And a follow-up"], f"messages: {turns}")
renamed = sdk.rename(conversation, "Renamed by the SDK")
check(renamed["name"] == "Renamed by the SDK", f"rename: {renamed}")
generated = sdk.rename(conversation, auto=True)
check(generated["name"] and generated["name"] != "Renamed by the SDK", f"auto_generate: {generated}")
message_id = second["message_id"]
check(sdk.feedback(message_id, "like")["result"] == "success", "like")
check(sdk.feedback(message_id, "dislike")["result"] == "success", "dislike")
suggested = sdk.suggested(message_id)
check(suggested["result"] == "success" and len(suggested["data"]) >= 1, f"suggested: {suggested}")
check("opening_statement" in sdk.parameters(), "parameters")
check("tool_icons" in sdk.meta(), "meta")

# A file upload reaches Dify as the gateway's user for this system, never the bare id.
uploaded = sdk.upload("notes.txt", b"some notes for the assistant\n" * 100, "text/plain")
check(uploaded["name"] == "notes.txt" and uploaded["size"] == 2900, f"upload: {uploaded}")
stats = http_json(fake + "/_fake/stats")
check(any(f["id"] == uploaded["id"] and f["user"] == f"{system_id}_{user}" for f in stats["uploads"]),
      f"the upload's user at Dify: {stats['uploads']}")
if hasattr(sdk, "audio"):
    sdk.audio()

# Stopping a running stream: what arrived is stored, marked stopped.
fake_options(token_delay_ms=150)
stopped_events = []
stopper = None
for event in sdk.stream("/tokens 40"):
    stopped_events.append(event)
    if stopper is None and event["event"] == "message":
        task_id = event["task_id"]
        stopper = threading.Thread(target=lambda: check(sdk.stop(task_id)["result"] == "success", "stop"))
        stopper.start()
stopper.join()
fake_options(token_delay_ms=0)
stopped_names = [event["event"] for event in stopped_events]
check(stopped_names[-1] == "message_end" and stopped_names.count("message") < 40, f"stopped stream: {stopped_names}")
stopped_conversation = stopped_events[0]["conversation_id"]

# Every turn is in the gateway's own records.
def cached(conversation_id):
    return http_json(f"{gateway}/v1/cache/conversations/{conversation_id}/messages", cache_headers)

check(len(cached(first["conversation_id"])) == 2, "the blocking turn is in /v1/cache")
rows = cached(conversation)
check([row["role"] for row in rows] == ["user", "assistant"] * 2, f"the streamed conversation in /v1/cache: {rows}")
check(rows[1]["content"] == "tok1 tok2 tok3 tok4 tok5" and rows[1]["status"] == "complete", "the stream's answer")
deadline = time.time() + 10
while time.time() < deadline and cached(stopped_conversation)[-1]["status"] != "stopped":
    time.sleep(0.1)
check(cached(stopped_conversation)[-1]["status"] == "stopped", "the stopped answer is stored, marked stopped")

# Deleting: gone from Dify's list and from the gateway's records.
sdk.delete(conversation)
check(conversation not in {item["id"] for item in sdk.conversations()}, "deleted conversation no longer listed")
try:
    cached(conversation)
    check(False, "the deleted conversation is gone from /v1/cache")
except urllib.error.HTTPError as error:
    check(error.code == 404, f"deleted conversation: {error.code}")

print(f"ok [{sdk_name}]: {checks} checks passed")
