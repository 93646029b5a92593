"""A scripted session with the official `openai` Python SDK against the gateway's /openai/v1 (docs/openai-api.md),
run by e2e/openai-clients.sh in the SDK's own virtual environment.

Usage: openai_client_session.py GATEWAY_URL FAKE_URL DRILLQUIZ_KEY ALL_KEY FAKE_APP_KEY
DRILLQUIZ_KEY may use the system drillquiz only; ALL_KEY every system: drillquiz, cointutor (its model named
`coin-tutor`) and quota (a per-user budget of one token a day). Every call goes through the SDK (its auth, its
retries, its SSE parser, its exceptions); the gateway's operator endpoints and the fake Dify's record say what
happened behind it. Each step runs to its end or its first failed check; the run fails if any step failed.
"""
import base64
import json
import re
import struct
import sys
import time
import urllib.request
import uuid
import zlib

import openai

from openai_checks import CheckFailed, Checks, FakeDify, Gateway, fake_answer, fake_usage, http

gateway_url, fake_url, drillquiz_key, all_key, fake_app_key = sys.argv[1:6]
base_url = gateway_url + "/openai/v1"
checks = Checks("openai SDK " + openai.__version__)
check = checks.check
fake = FakeDify(fake_url, fake_app_key)
operator = Gateway(gateway_url, all_key)


class Attempts:
    """An httpx event hook counting the HTTP requests the SDK sends (its retries included)."""

    def __init__(self):
        self.count = 0

    def __call__(self, request):
        self.count += 1


def client(key, attempts=None, **options):
    http_client = openai.DefaultHttpxClient(event_hooks={"request": [attempts]}) if attempts else None
    return openai.OpenAI(base_url=base_url, api_key=key, http_client=http_client, **options)


dq_attempts, all_attempts = Attempts(), Attempts()
dq = client(drillquiz_key, dq_attempts)
every = client(all_key, all_attempts)

# Every turn that reached the chat path, for the last step: where it is stored and what it should show.
turns = []


def record(system, user, text, answer, status, conversation=None, mode="blocking", task=False, dify_query=None,
           chat=True):
    """`dify_query`: what Dify was asked, when it is not `text` (a transcript). `chat`: whether it went the chat
    path, and so counts in chatgw_chats_total (a budget's refusal does, as `refused`)."""
    turns.append({"system": system, "user": user, "text": text, "answer": answer, "status": status,
                  "conversation": conversation, "mode": mode, "task": task, "dify_query": dify_query or text,
                  "chat": chat})


def user_message(text):
    return {"role": "user", "content": text}


def create(sdk, **arguments):
    """A chat completion through the SDK's raw-response wrapper: (headers, the parsed completion, or the list of
    chunks of a stream read to its end)."""
    raw = sdk.chat.completions.with_raw_response.create(**arguments)
    parsed = raw.parse()
    return raw.headers, (list(parsed) if arguments.get("stream") else parsed)


def streamed_text(chunks):
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def turn_state(headers, system, user, key=all_key):
    return Gateway(gateway_url, key).get(f"/v1/turns/{headers['x-turn-id']}", system_id=system, user_id=user)


def settled_turn(headers, system, user, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        state = turn_state(headers, system, user)
        if state["status"] not in ("accepted", "streaming") or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def conversation_of(headers, system, user):
    """X-Conversation-Id, or (where a checked step already reported it missing) the turn's conversation."""
    return headers.get("x-conversation-id") or settled_turn(headers, system, user)["conversation_id"]


def usage_of(value):
    return {name: getattr(value, name) if not isinstance(value, dict) else value[name]
            for name in ("prompt_tokens", "completion_tokens", "total_tokens")}


def expect_error(kind, call, what):
    """Runs `call`, which must raise `kind`; returns the exception."""
    try:
        call()
    except kind as error:
        return error
    except openai.APIError as error:
        raise CheckFailed(f"{what}: {type(error).__name__} {getattr(error, 'status_code', '')} {error}") from error
    check(False, f"{what}: no {kind.__name__} raised")


def ignored_parameters(headers):
    value = headers.get("x-gateway-ignored-parameters")
    return [name.strip() for name in value.split(",")] if value else []


def png_data_url():
    """A valid 2x2 PNG, as a data URL."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return png, "data:image/png;base64," + base64.b64encode(png).decode()


# The fake app as the drillquiz steps expect it: no input variables (so system messages are ignored), image upload
# on. The fake ignores option names it does not know; the image step checks that it took this one.
fake.control("options", {"input_variables": [], "image_upload_enabled": True})
fake.control("fault", {"kind": None})


@checks.step
def models():
    """models.list() shows exactly the models the key may use; models.retrieve one of them."""
    mine = [m.id for m in dq.models.list()]
    check(mine == ["drillquiz"], f"drillquiz key's models: {mine}")
    listed = list(every.models.list())
    check([m.id for m in listed] == ["coin-tutor", "drillquiz", "quota"], f"all-systems key's models: {listed}")
    for model in listed:
        check(model.object == "model" and model.owned_by == "chat-gateway", f"model object: {model}")
    created = {m.id: m.created for m in listed}
    check(created["drillquiz"] == 0 and created["coin-tutor"] == 0, f"environment systems' created is 0: {created}")
    check(abs(created["quota"] - time.time()) < 600, f"the admin system's created is its creation time: {created}")
    status, body, _ = http(base_url + "/models", {"Authorization": f"Bearer {drillquiz_key}"})
    check(status == 200 and body == {"object": "list", "data": [
        {"id": "drillquiz", "object": "model", "created": 0, "owned_by": "chat-gateway"}]}, f"GET /models: {body}")
    one = every.models.retrieve("coin-tutor")
    check(one.id == "coin-tutor" and one.object == "model", f"retrieve coin-tutor: {one}")
    # A system's own id names its model too; a model outside the key's scope is as unknown as a made-up one.
    check(every.models.retrieve("cointutor").id in ("coin-tutor", "cointutor"), "retrieve by the system id")
    error = expect_error(openai.NotFoundError, lambda: dq.models.retrieve("coin-tutor"), "drillquiz key, coin-tutor")
    check(error.code == "model_not_found", f"code: {error.code}")


@checks.step
def blocking():
    """A blocking completion: OpenAI's shape, the fake's answer, Dify's usage, the turn stored."""
    user, text = "oa-blocking", "Hello from the openai SDK"
    headers, completion = create(dq, model="drillquiz", user=user, messages=[user_message(text)])
    check(completion.object == "chat.completion" and completion.id == f"chatcmpl-{headers['x-turn-id']}",
          f"id {completion.id} for turn {headers.get('x-turn-id')}")
    check(completion.model == "drillquiz" and abs(completion.created - time.time()) < 300, f"{completion}")
    choice = completion.choices[0]
    check(len(completion.choices) == 1 and choice.index == 0 and choice.finish_reason == "stop",
          f"{completion.choices}")
    check(choice.message.role == "assistant" and choice.message.content == fake_answer(text), f"{choice.message}")
    check(usage_of(completion.usage) == fake_usage(text), f"usage {completion.usage} != Dify's {fake_usage(text)}")
    check(headers.get("x-gateway-conversation") == "new" and headers.get("x-conversation-id"), f"{dict(headers)}")
    state = settled_turn(headers, "drillquiz", user)
    check(state["status"] == "completed" and state["text"] == fake_answer(text), f"turn: {state}")
    check(usage_of(state["usage"]) == fake_usage(text), f"stored usage {state['usage']}")
    check(state["conversation_id"] == headers["x-conversation-id"], "the turn's conversation is X-Conversation-Id")
    record("drillquiz", user, text, fake_answer(text), "complete", headers["x-conversation-id"])


@checks.step
def streaming():
    """A stream with include_usage: one id and one created, role first, the stored answer, Dify's usage last."""
    user, text = "oa-streaming", "/tokens 30"
    headers, chunks = create(dq, model="drillquiz", user=user, messages=[user_message(text)], stream=True,
                             stream_options={"include_usage": True})
    check(len({c.id for c in chunks}) == 1 and chunks[0].id == f"chatcmpl-{headers['x-turn-id']}",
          f"chunk ids: {sorted({c.id for c in chunks})}")
    check(len({c.created for c in chunks}) == 1, f"created: {sorted({c.created for c in chunks})}")
    check(all(c.object == "chat.completion.chunk" and c.model == "drillquiz" for c in chunks), "chunk object and model")
    first = chunks[0].choices[0]
    check(first.delta.role == "assistant" and first.delta.content == "" and first.finish_reason is None, f"{first}")
    check(chunks[-1].choices == [] and chunks[-1].usage is not None, f"last chunk: {chunks[-1]}")
    check(all(c.usage is None for c in chunks[:-1]), "usage only on the last chunk")
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason is not None]
    check(len(finish) == 1 and finish[0] is chunks[-2] and finish[0].choices[0].finish_reason == "stop",
          f"finish chunks: {finish}")
    text_streamed = streamed_text(chunks)
    check(text_streamed == fake_answer(text), f"streamed: {text_streamed!r}")
    check(usage_of(chunks[-1].usage) == fake_usage(text), f"usage {chunks[-1].usage} != Dify's {fake_usage(text)}")
    state = settled_turn(headers, "drillquiz", user)
    check(state["status"] == "completed" and usage_of(state["usage"]) == usage_of(chunks[-1].usage), f"turn: {state}")
    conversation = state["conversation_id"]
    stored = operator.cached_messages(conversation)
    check([(r["role"], r["content"], r["status"]) for r in stored]
          == [("user", text, "complete"), ("assistant", text_streamed, "complete")], f"/v1/cache: {stored}")
    listed = Gateway(gateway_url, drillquiz_key).get(f"/v1/conversations/{conversation}/messages",
                                                     system_id="drillquiz", user_id=user)
    check([m["content"] for m in listed] == [text, text_streamed], f"/v1/conversations/…/messages: {listed}")
    record("drillquiz", user, text, text_streamed, "complete", conversation, mode="stream")
    # A stream's head leaves before Dify names a new conversation: the turn says which it is.
    check(headers.get("x-conversation-id") is None, f"X-Conversation-Id before Dify named the conversation: {headers}")


@checks.step
def stream_wire():
    """The stream as bytes: every event numbered (`id:`), pings only as comments, `data: [DONE]` last."""
    user = "oa-streaming"
    request = urllib.request.Request(base_url + "/chat/completions", method="POST", data=json.dumps({
        "model": "drillquiz", "user": user, "stream": True, "stream_options": {"include_usage": True},
        "messages": [user_message("/tokens 3")]}).encode(),
        headers={"Authorization": f"Bearer {drillquiz_key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        check(response.headers.get_content_type() == "text/event-stream", f"content type {response.headers}")
        body = response.read().decode()
        raw_headers = {name.lower(): value for name, value in response.headers.items()}
    record("drillquiz", user, "/tokens 3", fake_answer("/tokens 3"), "complete",
           conversation_of(raw_headers, "drillquiz", user), mode="stream")
    events = [e for e in body.strip("\n").split("\n\n")]
    data = [e for e in events if any(line.startswith("data:") for line in e.split("\n"))]
    check(data[-1].split("\n")[-1] == "data: [DONE]" and body.endswith("\n\n"), f"stream ends {body[-80:]!r}")
    check(all(line.startswith((":", "id:", "data:", "retry:")) for e in events for line in e.split("\n")),
          f"framing: {body}")
    # The spec: "Each event has an `id:` line" ([DONE] aside).
    unnumbered = [e for e in data[:-1] if not any(line.startswith("id:") for line in e.split("\n"))]
    check(not unnumbered, f"events without an id: line: {unnumbered}")


@checks.step
def keep_alive_during_stream():
    """A quiet stream gets `: ping` comments (the gateway runs with STREAM_KEEPALIVE_SECONDS=1), and the SDK's SSE
    decoder reads past them. (It keeps the last `id:` across events, so a comment-only frame ended by a blank line
    after an event with an id is an event with empty data, which it fails to parse as JSON.)"""
    user, text = "oa-quiet", "/tokens 2"
    fake.control("options", {"token_delay_ms": 2500})
    try:
        raw = dq.chat.completions.with_raw_response.create(model="drillquiz", user=user, stream=True,
                                                           messages=[user_message(text)])
        chunks = []
        try:
            for chunk in raw.parse():
                chunks.append(chunk)
        except json.JSONDecodeError as error:
            check(False, f"the SDK failed on the stream after {streamed_text(chunks)!r}: JSONDecodeError {error}")
        finally:
            record("drillquiz", user, text, fake_answer(text), "complete",
                   conversation_of(raw.headers, "drillquiz", user), mode="stream")
        check(streamed_text(chunks) == fake_answer(text), f"streamed with keep-alives: {streamed_text(chunks)!r}")
        request = urllib.request.Request(base_url + "/chat/completions", method="POST", data=json.dumps({
            "model": "drillquiz", "user": user, "stream": True, "messages": [user_message("/tokens 2")]}).encode(),
            headers={"Authorization": f"Bearer {drillquiz_key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
            raw_headers = {name.lower(): value for name, value in response.headers.items()}
        record("drillquiz", user, "/tokens 2", fake_answer("/tokens 2"), "complete",
               conversation_of(raw_headers, "drillquiz", user), mode="stream")
        check(any(line.startswith(": ping") for line in body.split("\n")), f"no ping comment in {body!r}")
    finally:
        fake.control("options", {"token_delay_ms": 0})


three_turns_state = {}


@checks.step
def three_turns():
    """The client resends its history each turn: one Dify conversation, each query only the new message."""
    user = "oa-history"
    messages = [{"role": "system", "content": "You are a quiz master."}]
    conversation = None
    for number, (text, stream) in enumerate(
            [("What is a noun?", False), ("And a verb?", True), ("Give me an adjective.", False)], start=1):
        messages.append(user_message(text))
        if stream:
            headers, chunks = create(dq, model="drillquiz", user=user, messages=messages, stream=True)
            answer = streamed_text(chunks)
        else:
            headers, completion = create(dq, model="drillquiz", user=user, messages=messages)
            answer = completion.choices[0].message.content
        check(answer == fake_answer(text), f"turn {number}: {answer!r}")
        check(headers.get("x-gateway-conversation") == ("new" if number == 1 else "continued"),
              f"turn {number}: X-Gateway-Conversation {headers.get('x-gateway-conversation')}")
        conversation = conversation or headers["x-conversation-id"]
        check(headers["x-conversation-id"] == conversation, f"turn {number} in {headers['x-conversation-id']}")
        record("drillquiz", user, text, answer, "complete", conversation, mode="stream" if stream else "blocking")
        messages.append({"role": "assistant", "content": answer})
    dify_conversations = fake.conversations(f"drillquiz_{user}")
    check([c["id"] for c in dify_conversations] == [conversation], f"Dify's conversations: {dify_conversations}")
    queries = fake.queries(conversation, f"drillquiz_{user}")
    check(queries == ["What is a noun?", "And a verb?", "Give me an adjective."], f"Dify's queries: {queries}")
    three_turns_state.update(user=user, messages=messages, conversation=conversation)


@checks.step
def task_request():
    """A title task is answered, recorded as a task, and kept out of the user's conversations; the conversation
    goes on after it."""
    user, messages, conversation = (three_turns_state[k] for k in ("user", "messages", "conversation"))
    before = fake.chat_requests()
    text = "Write a five-word title for: What is a noun?"
    headers, completion = create(dq, model="drillquiz", user=user, messages=[user_message(text)],
                                 extra_headers={"X-Gateway-Task": "title"})
    check(completion.choices[0].message.content == fake_answer(text), f"task answer: {completion}")
    check(fake.chat_requests() == before + 1, "the task asked Dify once")
    record("drillquiz", user, text, fake_answer(text), "complete", None, task=True)
    deadline = time.monotonic() + 10
    while [c["id"] for c in fake.conversations(f"drillquiz_{user}")] != [conversation] and time.monotonic() < deadline:
        time.sleep(0.1)
    check([c["id"] for c in fake.conversations(f"drillquiz_{user}")] == [conversation],
          f"the task's Dify conversation is deleted: {fake.conversations(f'drillquiz_{user}')}")
    listed = Gateway(gateway_url, drillquiz_key).get("/v1/conversations", system_id="drillquiz", user_id=user)
    check([c["id"] for c in listed] == [conversation], f"the user's conversations after the task: {listed}")
    text = "One more: an adverb?"
    headers, completion = create(dq, model="drillquiz", user=user, messages=messages + [user_message(text)])
    check(headers.get("x-gateway-conversation") == "continued" and headers["x-conversation-id"] == conversation,
          f"after the task: {headers.get('x-gateway-conversation')} {headers.get('x-conversation-id')}")
    check(fake.queries(conversation, f"drillquiz_{user}")[-1] == text, "the fourth query is the new message")
    record("drillquiz", user, text, fake_answer(text), "complete", conversation)


@checks.step
def conversation_key_and_transcript():
    """X-Conversation-Id continues a conversation whatever the history; history nothing matches opens a new
    conversation whose first query carries the earlier turns."""
    user = "oa-keyed"
    key = {"X-Conversation-Id": f"oa-chat-{uuid.uuid4()}"}
    headers, _ = create(dq, model="drillquiz", user=user, messages=[user_message("First keyed")], extra_headers=key)
    conversation = headers["x-conversation-id"]
    record("drillquiz", user, "First keyed", fake_answer("First keyed"), "complete", conversation)
    headers, _ = create(dq, model="drillquiz", user=user, messages=[user_message("Second keyed")], extra_headers=key)
    check(headers["x-conversation-id"] == conversation and headers.get("x-gateway-conversation") == "continued",
          f"keyed: {headers.get('x-gateway-conversation')}")
    record("drillquiz", user, "Second keyed", fake_answer("Second keyed"), "complete", conversation)
    edited = [user_message("An edited question"), {"role": "assistant", "content": "An answer never given"},
              user_message("Follow-up to it")]
    headers, completion = create(dq, model="drillquiz", user=user, messages=edited)
    check(headers.get("x-gateway-conversation") == "transcript" and headers["x-conversation-id"] != conversation,
          f"unmatched history: {headers.get('x-gateway-conversation')}")
    queries = fake.queries(headers["x-conversation-id"], f"drillquiz_{user}")
    expected = ("Earlier in this conversation:\nUser: An edited question\nAssistant: An answer never given\n\n"
                "Follow-up to it")
    check(queries == [expected], f"the transcript query: {queries}")
    check(completion.choices[0].message.content == fake_answer(expected), "the answer to the transcript")
    record("drillquiz", user, "Follow-up to it", completion.choices[0].message.content, "complete",
           headers["x-conversation-id"], dify_query=expected)


@checks.step
def open_webui_and_librechat():
    """What Open WebUI and LibreChat send: the user in X-OpenWebUI-User-Id (no OPENWEBUI_USER_JWT_SECRET here), the
    chat in X-OpenWebUI-Chat-Id, and their auxiliary requests (X-OpenWebUI-Task, the `### Task:` prompt,
    LibreChat's title prompt), which open no conversation."""
    user = "owui-user"
    chat = {"X-OpenWebUI-User-Id": user, "X-OpenWebUI-Chat-Id": f"owui-chat-{uuid.uuid4()}"}
    headers, _ = create(dq, model="drillquiz", messages=[user_message("From Open WebUI")], extra_headers=chat)
    conversation = headers["x-conversation-id"]
    record("drillquiz", user, "From Open WebUI", fake_answer("From Open WebUI"), "complete", conversation)
    check([c["id"] for c in fake.conversations(f"drillquiz_{user}")] == [conversation],
          "Dify's user is drillquiz_owui-user")
    headers, _ = create(dq, model="drillquiz", messages=[user_message("Same chat")], extra_headers=chat)
    check(headers["x-conversation-id"] == conversation and headers.get("x-gateway-conversation") == "continued",
          f"X-OpenWebUI-Chat-Id: {headers.get('x-gateway-conversation')}")
    record("drillquiz", user, "Same chat", fake_answer("Same chat"), "complete", conversation)
    tasks = [({"X-OpenWebUI-Task": "tags_generation"}, "Generate 1-3 broad tags for this chat"),
             ({}, "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history."),
             ({}, "Provide a concise, 5-word-or-less title for the conversation, using its same language.")]
    for extra, text in tasks:
        _, completion = create(dq, model="drillquiz", messages=[
            {"role": "system", "content": "You are a helpful assistant."}, user_message(text)],
            extra_headers={"X-OpenWebUI-User-Id": user, **extra})
        check(completion.choices[0].message.content == fake_answer(text), f"task answer: {completion}")
        record("drillquiz", user, text, fake_answer(text), "complete", None, task=True)
    deadline = time.monotonic() + 10
    while len(fake.conversations(f"drillquiz_{user}")) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    check([c["id"] for c in fake.conversations(f"drillquiz_{user}")] == [conversation],
          f"the tasks' Dify conversations are deleted: {fake.conversations(f'drillquiz_{user}')}")
    listed = Gateway(gateway_url, drillquiz_key).get("/v1/conversations", system_id="drillquiz", user_id=user)
    check([c["id"] for c in listed] == [conversation], f"the user's conversations: {listed}")


@checks.step
def unknown_model_and_bad_key():
    before = fake.chat_requests()
    error = expect_error(openai.NotFoundError, lambda: dq.chat.completions.create(
        model="no-such-model", messages=[user_message("hi")]), "an unknown model")
    check(error.code == "model_not_found" and error.type == "invalid_request_error", f"{error.body}")
    check(error.body["message"] == "The model `no-such-model` does not exist or you do not have access to it.",
          f"message: {error.body}")
    bad = client("not-a-key-0123456789")
    error = expect_error(openai.AuthenticationError, lambda: bad.chat.completions.create(
        model="drillquiz", messages=[user_message("hi")]), "a bad key")
    check(error.code == "invalid_api_key" and error.response.headers.get("www-authenticate", "").startswith("Bearer"),
          f"401: {error.body} {dict(error.response.headers)}")
    expect_error(openai.AuthenticationError, lambda: client("not-a-key-0123456789").models.list(), "models, bad key")
    # A chat token minted for the key is not a key here.
    status, token, _ = http(gateway_url + "/v1/chat-token?system_id=drillquiz&user_id=oa-token",
                            {"X-API-Key": drillquiz_key})
    check(status == 200, f"chat-token: {status} {token}")
    expect_error(openai.AuthenticationError, lambda: client(token["token"]).chat.completions.create(
        model="drillquiz", messages=[user_message("hi")]), "a chat token as the key")
    check(fake.chat_requests() == before, "Dify was not called")


@checks.step
def scope():
    """A drillquiz key asking for another system's model: 404 model_not_found, and Dify is never called."""
    before = fake.chat_requests()
    for model in ("coin-tutor", "cointutor", "quota"):
        error = expect_error(openai.NotFoundError, lambda: dq.chat.completions.create(
            model=model, messages=[user_message("hi")], user="oa-scope"), f"drillquiz key, {model}")
        check(error.code == "model_not_found", f"{model}: {error.body}")
        error = expect_error(openai.NotFoundError, lambda: dq.chat.completions.create(
            model=model, messages=[user_message("hi")], user="oa-scope", stream=True),
            f"drillquiz key, {model}, stream")
    check(fake.chat_requests() == before, f"Dify was called: {fake.chat_requests() - before} times")


@checks.step
def named_model_and_system_prompt():
    """cointutor's model is named coin-tutor (its system id works too); its app declares system_prompt, so a system
    message goes to Dify as that input, never into the query; its app takes no images."""
    fake.control("options", {"input_variables": ["system_prompt"], "image_upload_enabled": False})
    try:
        user = "oa-coin"
        messages = [{"role": "system", "content": "You are Coin Tutor."}, user_message("What is a satoshi?")]
        headers, completion = create(every, model="coin-tutor", user=user, messages=messages)
        check(completion.model == "coin-tutor" and completion.choices[0].message.content == fake_answer(
            "What is a satoshi?"), f"{completion}")
        check("system_message" not in ignored_parameters(headers),
              f"ignored: {headers.get('x-gateway-ignored-parameters')}")
        conversation = headers["x-conversation-id"]
        dify = {c["id"]: c for c in fake.conversations(f"cointutor_{user}")}
        check(conversation in dify and dify[conversation]["inputs"] == {"system_prompt": "You are Coin Tutor."},
              f"Dify's conversation inputs: {dify}")
        check(fake.queries(conversation, f"cointutor_{user}") == ["What is a satoshi?"], "the query is the message")
        record("cointutor", user, "What is a satoshi?", completion.choices[0].message.content, "complete", conversation)
        headers, completion = create(every, model="cointutor", user="oa-coin-2",
                                     messages=[user_message("By system id")])
        check(completion.model == "cointutor" and completion.choices[0].message.content == fake_answer("By system id"),
              f"{completion}")
        record("cointutor", "oa-coin-2", "By system id", fake_answer("By system id"), "complete",
               headers["x-conversation-id"])
        before = fake.chat_requests()
        _, image = png_data_url()
        error = expect_error(openai.BadRequestError, lambda: every.chat.completions.create(
            model="coin-tutor", user=user, messages=[{"role": "user", "content": [
                {"type": "text", "text": "What is on it?"}, {"type": "image_url", "image_url": {"url": image}}]}]),
            "an image for an app without image upload")
        check(error.code == "unsupported_value" and error.param == "messages", f"{error.body}")
        check(fake.chat_requests() == before, "Dify was not called")
        # Bad input, as a refused `n`: nothing stored (the last step checks that no such message is).
    finally:
        fake.control("options", {"input_variables": [], "image_upload_enabled": True})


@checks.step
def ignored_parameters_header():
    user = "oa-ignored"
    headers, completion = create(dq, model="drillquiz", user=user, temperature=0.2, max_tokens=50, messages=[
        {"role": "system", "content": "Answer in French."}, user_message("Ignored parameters")])
    listed = ignored_parameters(headers)
    check({"temperature", "max_tokens", "system_message"} <= set(listed), f"X-Gateway-Ignored-Parameters: {listed}")
    check(listed[-1] == "system_message", f"system_message comes last: {listed}")
    check(fake.queries(headers["x-conversation-id"], f"drillquiz_{user}") == ["Ignored parameters"],
          "the system message is not pasted into the query")
    record("drillquiz", user, "Ignored parameters", completion.choices[0].message.content, "complete",
           headers["x-conversation-id"])
    # Sorted, whatever the body's order (the SDK orders the body itself, so this one is sent by hand).
    body = '{"top_p": 0.5, "model": "drillquiz", "temperature": 0.3, "seed": 7, "user": "oa-ignored", ' \
           '"messages": [{"role": "user", "content": "Order of ignored"}], "frequency_penalty": 0}'
    request = urllib.request.Request(base_url + "/chat/completions", data=body.encode(), method="POST", headers={
        "Authorization": f"Bearer {drillquiz_key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        order = [n.strip() for n in response.headers["X-Gateway-Ignored-Parameters"].split(",")]
        raw_conversation = response.headers["X-Conversation-Id"]
    record("drillquiz", user, "Order of ignored", fake_answer("Order of ignored"), "complete", raw_conversation)
    check(order == ["frequency_penalty", "seed", "temperature", "top_p"], f"not sorted: {order}")


@checks.step
def refused_parameters():
    before = fake.chat_requests()
    refused = [({"n": 2}, "n"), ({"logprobs": True}, "logprobs"),
               ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
               ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
                "response_format")]
    for extra, param in refused:
        error = expect_error(openai.BadRequestError, lambda: dq.chat.completions.create(
            model="drillquiz", user="oa-refused", messages=[user_message("hi")], **extra), f"{extra}")
        check(error.code == "unsupported_parameter" and error.param == param, f"{extra}: {error.body}")
    tool_message = {"role": "tool", "content": "x", "tool_call_id": "1"}
    audio_part = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    for messages, what in [([tool_message, user_message("hi")], "a tool message"),
                           ([{"role": "user", "content": [audio_part]}], "an audio part")]:
        error = expect_error(openai.BadRequestError, lambda: dq.chat.completions.create(
            model="drillquiz", user="oa-refused", messages=messages), what)
        check(error.code == "unsupported_value", f"{what}: {error.body}")
    error = expect_error(openai.BadRequestError, lambda: dq.chat.completions.create(
        model="drillquiz", messages=[user_message("hi"), {"role": "assistant", "content": "x"}]), "ends with assistant")
    check(error.param == "messages", f"{error.body}")
    check(fake.chat_requests() == before, "Dify was not called")


@checks.step
def idempotency():
    """The same Idempotency-Key twice: the same completion, Dify called once; with another body: 422."""
    user = "oa-idempotent"
    key = {"Idempotency-Key": f"oa-{uuid.uuid4()}"}
    before = fake.chat_requests()
    messages = [user_message("Exactly once, please")]
    first_headers, first = create(dq, model="drillquiz", user=user, messages=messages, extra_headers=key)
    again_headers, again = create(dq, model="drillquiz", user=user, messages=messages, extra_headers=key)
    check(first.id == again.id and first.choices[0].message.content == again.choices[0].message.content,
          f"{first.id} / {again.id}")
    check(again_headers.get("idempotent-replayed") == "true"
          and again_headers["x-turn-id"] == first_headers["x-turn-id"], f"replay headers: {dict(again_headers)}")
    check(fake.chat_requests() == before + 1, f"Dify calls: {fake.chat_requests() - before}")
    record("drillquiz", user, "Exactly once, please", first.choices[0].message.content, "complete",
           first_headers["x-conversation-id"])
    error = expect_error(openai.UnprocessableEntityError, lambda: dq.chat.completions.create(
        model="drillquiz", user=user, messages=[user_message("Another body")], extra_headers=key), "key reused")
    check(error.code == "idempotency_key_reused", f"{error.body}")
    stream_key = {"Idempotency-Key": f"oa-{uuid.uuid4()}"}
    messages = [user_message("/tokens 8")]
    first_headers, first_chunks = create(dq, model="drillquiz", user=user + "-s", messages=messages, stream=True,
                                         extra_headers=stream_key)
    again_headers, again_chunks = create(dq, model="drillquiz", user=user + "-s", messages=messages, stream=True,
                                         extra_headers=stream_key)
    check(streamed_text(first_chunks) == streamed_text(again_chunks) == fake_answer("/tokens 8"),
          "replayed stream text")
    check({c.id for c in first_chunks} == {c.id for c in again_chunks}, "replayed stream id")
    check(again_headers.get("idempotent-replayed") == "true", f"replayed stream headers: {dict(again_headers)}")
    check(fake.chat_requests() == before + 2, f"Dify calls: {fake.chat_requests() - before}")
    record("drillquiz", user + "-s", "/tokens 8", fake_answer("/tokens 8"), "complete",
           conversation_of(first_headers, "drillquiz", user + "-s"), mode="stream")


@checks.step
def budget():
    """quota's users may spend one token a day: the second chat is RateLimitError after exactly one HTTP attempt."""
    user = "oa-quota"
    headers, completion = create(every, model="quota", user=user, messages=[user_message("Spend it")])
    conversation = headers["x-conversation-id"]
    record("quota", user, "Spend it", completion.choices[0].message.content, "complete", conversation)
    # The client's next turns carry the history, so the refused messages are stored in that conversation.
    history = [user_message("Spend it"), {"role": "assistant", "content": completion.choices[0].message.content}]
    before, attempts_before = fake.chat_requests(), all_attempts.count
    error = expect_error(openai.RateLimitError, lambda: every.chat.completions.create(
        model="quota", user=user, messages=history + [user_message("Over budget")]), "a spent budget")
    check(all_attempts.count - attempts_before == 1, f"HTTP attempts: {all_attempts.count - attempts_before}")
    check(error.code == "insufficient_quota" and error.type == "insufficient_quota", f"{error.body}")
    check(error.response.headers.get("x-should-retry") == "false" and error.response.headers.get("retry-after"),
          f"headers: {dict(error.response.headers)}")
    check(fake.chat_requests() == before, "Dify was not called")
    record("quota", user, "Over budget", None, "refused", conversation)
    # The same with the SDK's streaming call.
    attempts_before = all_attempts.count
    expect_error(openai.RateLimitError, lambda: every.chat.completions.create(
        model="quota", user=user, stream=True, messages=history + [user_message("Over budget, streaming")]),
        "streaming")
    check(all_attempts.count - attempts_before == 1, f"HTTP attempts: {all_attempts.count - attempts_before}")
    record("quota", user, "Over budget, streaming", None, "refused", conversation, mode="stream")


@checks.step
def dify_error_mid_stream():
    """Dify fails after three chunks: APIError while iterating, and the turn is stored failed with what arrived."""
    user, text = "oa-failing", "/tokens 20"
    fake.control("fault", {"kind": "stream_error", "after_chunks": 3})
    try:
        raw = dq.chat.completions.with_raw_response.create(model="drillquiz", user=user, stream=True,
                                                           messages=[user_message(text)])
        headers, received = raw.headers, []
        stream = raw.parse()
        try:
            for chunk in stream:
                received.append(chunk)
            check(False, "the stream ended without an error")
        except openai.APIStatusError as error:
            check(False, f"an HTTP status error instead of an error in the stream: {error}")
        except openai.APIError as error:
            check(isinstance(error.body, dict) and error.body.get("message") and "type" in error.body,
                  f"error body: {error.body}")
    finally:
        fake.control("fault", {"kind": None})
    got = streamed_text(received)
    check(got == "tok1 tok2 tok3 ", f"received before the error: {got!r}")
    state = settled_turn(headers, "drillquiz", user)
    check(state["status"] == "failed" and state["error"], f"turn: {state}")
    check(state["text"] == got, f"stored {state['text']!r}, streamed {got!r}")
    record("drillquiz", user, text, got, "failed", state["conversation_id"] or headers.get("x-conversation-id"),
           mode="stream")


@checks.step
def image_part():
    """image_url parts reach Dify as files: a PNG data URL uploaded for the user (`local_file`), an https URL passed
    as a `remote_url`."""
    parameters = fake.get("/parameters", user="oa-image")
    check(parameters["file_upload"]["image"]["enabled"] is True,
          "the fake Dify cannot turn image upload on: POST /_fake/options {\"image_upload_enabled\": true} left "
          f"/parameters file_upload.image = {parameters['file_upload']['image']}")
    user, text = "oa-image", "What is in these pictures?"
    png, image = png_data_url()
    remote = "https://images.example.com/cat.png"
    uploads_before = len(fake.control("stats")["uploads"])
    headers, completion = create(dq, model="drillquiz", user=user, messages=[{"role": "user", "content": [
        {"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": image}},
        {"type": "image_url", "image_url": {"url": remote}}]}])
    check(completion.choices[0].message.content == fake_answer(text), f"{completion}")
    record("drillquiz", user, text, completion.choices[0].message.content, "complete", headers["x-conversation-id"])
    uploads = fake.control("stats")["uploads"][uploads_before:]
    check(len(uploads) == 1 and uploads[0]["user"] == f"drillquiz_{user}" and uploads[0]["mime_type"] == "image/png"
          and uploads[0]["size"] == len(png), f"uploads: {uploads}")
    messages = fake.get("/messages", conversation_id=headers["x-conversation-id"], user=f"drillquiz_{user}")["data"]
    check([m["query"] for m in messages] == [text], f"the query is the text part: {[m['query'] for m in messages]}")
    files = [{k: f.get(k) for k in ("type", "transfer_method", "upload_file_id", "url")}
             for f in messages[-1]["message_files"]]
    check(files == [{"type": "image", "transfer_method": "local_file", "upload_file_id": uploads[0]["id"], "url": None},
                    {"type": "image", "transfer_method": "remote_url", "upload_file_id": None, "url": remote}],
          f"the chat's files at Dify: {messages[-1]['message_files']}")


@checks.step
def default_user():
    """No `user` and no forwarded header: the key's own user, key-<24 hex>."""
    headers, completion = create(dq, model="drillquiz", messages=[user_message("Who am I?")])
    conversation = headers["x-conversation-id"]
    stored = [c for c in operator.cached_conversations(system_id="drillquiz") if c["conversation_id"] == conversation]
    check(len(stored) == 1 and re.fullmatch(r"key-[0-9a-f]{24}", stored[0]["user_id"]), f"stored: {stored}")
    user = stored[0]["user_id"]
    check(conversation in [c["id"] for c in fake.conversations(f"drillquiz_{user}")],
          "Dify's user is drillquiz_key-…")
    record("drillquiz", user, "Who am I?", completion.choices[0].message.content, "complete", conversation)


@checks.step
def every_turn_recorded():
    """Every turn in /v1/cache (its message and answer with their status), /v1/usage and /metrics."""
    for turn in turns:
        if turn["task"]:
            continue
        if turn["conversation"]:
            rows = operator.cached_messages(turn["conversation"])
            index = next((i for i, r in enumerate(rows) if r["role"] == "user" and r["content"] == turn["text"]), None)
            check(index is not None, f"{turn['text']!r} not in /v1/cache: {rows}")
            rows = rows[index:index + 2]
        elif turn["status"] == "refused":
            continue  # a refused message that opened no conversation is stored outside any (as /v1 stores it)
        else:
            _, rows = operator.find_stored_turn(turn["system"], turn["text"])
        if turn["status"] == "refused":
            check(rows[0]["status"] == "refused", f"refused message: {rows}")
            continue
        check(len(rows) == 2 and rows[1]["role"] == "assistant" and rows[1]["content"] == turn["answer"]
              and rows[1]["status"] == turn["status"], f"{turn['text']!r}: {rows}, expected {turn}")
    report = operator.get("/v1/usage", group_by="system,user")
    rows = {(r["system_id"], r["user_id"]): r for r in report["rows"]}
    expected = {}
    for turn in turns:
        figures = expected.setdefault((turn["system"], turn["user"]), {
            "chats": 0, "completed": 0, "failed": 0, "refused": 0, "total_tokens": 0, "tasks": 0})
        if turn["status"] == "complete":
            figures["total_tokens"] += fake_usage(turn["dify_query"])["total_tokens"]
        figures["tasks"] += 1 if turn["task"] else 0  # tasks are chats too, counted apart as well
        figures["chats"] += 1
        figures[{"complete": "completed", "failed": "failed", "refused": "refused"}[turn["status"]]] += 1
    for group, figures in expected.items():
        row = rows.get(group)
        check(row is not None, f"no /v1/usage row for {group}: {sorted(rows)}")
        got = {name: row.get(name) for name in figures}
        check(got == figures, f"/v1/usage {group}: {got}, expected {figures}")
    status, metrics, _ = http(gateway_url + "/metrics")
    check(status == 200, f"/metrics: {status}")
    chats = {}
    for line in metrics.splitlines():
        match = re.match(r'chatgw_chats_total\{(.*)\} (\S+)$', line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            key = (labels["system"], labels["mode"], labels["outcome"])
            chats[key] = chats.get(key, 0) + float(match.group(2))
    for system in ("drillquiz", "cointutor", "quota"):
        mine = [t for t in turns if t["system"] == system and t["chat"]]
        counted = sum(v for (s, _, _), v in chats.items() if s == system)
        check(counted == len(mine), f"chatgw_chats_total for {system}: {counted}, turns {len(mine)} ({chats})")
    check(chats.get(("drillquiz", "stream", "failed")) == 1, f"the failed stream in chatgw_chats_total: {chats}")
    check(chats.get(("quota", "blocking", "refused")) == 1 and chats.get(("quota", "stream", "refused")) == 1,
          f"the budget's refusals in chatgw_chats_total: {chats}")
    refusals = re.search(r'chatgw_budget_refusals_total\{system="quota"\} (\S+)', metrics)
    check(refusals and float(refusals.group(1)) == 2, f"chatgw_budget_refusals_total: {refusals}")


checks.finish()
