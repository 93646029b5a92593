"""What the OpenAI client sessions share (e2e/openai-clients.sh): counted checks grouped in steps that each run to
their end or to their first failed check, so one run lists every failing step; JSON calls to the gateway's operator
endpoints and to the fake Dify; the fake model's answers and usage, predicted as the fake computes them. Standard
library only: each client's virtual environment imports it beside its client."""
import json
import re
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request


class CheckFailed(Exception):
    pass


class Checks:
    """`check` counts a passed check or raises; `step` runs a function as a named step, recording a failure (a failed
    check or any exception) and going on; `finish` prints the tally and exits 1 if a step failed."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def check(self, condition, what):
        if not condition:
            raise CheckFailed(what)
        self.passed += 1

    def step(self, function):
        started = time.monotonic()
        try:
            function()
            print(f"  ok   {function.__name__} ({time.monotonic() - started:.1f} s)", flush=True)
        except CheckFailed as failure:
            self.failed.append(function.__name__)
            print(f"  FAIL {function.__name__}: {failure}", flush=True)
        except Exception:  # noqa: BLE001 - a step's crash is that step's failure, the others still run
            self.failed.append(function.__name__)
            print(f"  FAIL {function.__name__}: {traceback.format_exc()}", flush=True)
        return function

    def finish(self):
        print(f"{self.name}: {self.passed} checks passed; {len(self.failed)} steps failed"
              + (f": {', '.join(self.failed)}" if self.failed else ""))
        sys.exit(1 if self.failed else 0)


def http(url, headers=None, body=None, method=None):
    """(status, parsed JSON or text, headers with lower-case names); an HTTP error status is returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {**({"Content-Type": "application/json"} if data else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, found = response.status, response.read(), response.headers.items()
    except urllib.error.HTTPError as error:
        status, raw, found = error.code, error.read(), error.headers.items()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, parsed, {name.lower(): value for name, value in found}


def query(**params):
    return "?" + urllib.parse.urlencode(params)


class Gateway:
    """The gateway's operator endpoints (docs/api.md), with an `X-API-Key`."""

    def __init__(self, url, key):
        self.url, self.key = url, key

    def get(self, path, **params):
        status, body, _ = http(self.url + path + (query(**params) if params else ""), {"X-API-Key": self.key})
        if status != 200:
            raise CheckFailed(f"GET {path} {params}: HTTP {status} {str(body)[:300]}")
        return body

    def cached_conversations(self, **filters):
        return self.get("/v1/cache/conversations", **filters)

    def cached_messages(self, conversation_id):
        return self.get(f"/v1/cache/conversations/{conversation_id}/messages")

    def stored_answer(self, system_id, text):
        """The stored answer to the user message `text`, which must be complete."""
        _, rows = self.find_stored_turn(system_id, text)
        if len(rows) != 2 or rows[1]["status"] != "complete":
            raise CheckFailed(f"{text!r} stored: {rows}")
        return rows[1]["content"]

    def find_stored_turn(self, system_id, text, timeout=10):
        """The stored conversation holding the user message `text` (searched with `q`), as (conversation, rows):
        waits until its answer has left `pending`/`streaming`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.cached_conversations(system_id=system_id, q=text)]
            for conversation in found:
                rows = self.cached_messages(conversation["conversation_id"])
                for index, row in enumerate(rows):
                    if row["role"] == "user" and row["content"] == text:
                        answer = rows[index + 1] if index + 1 < len(rows) else None
                        settled = answer is None or answer["status"] not in ("pending", "streaming")
                        if settled or time.monotonic() > deadline:
                            return conversation, rows[index:index + 2]
            if time.monotonic() > deadline:
                raise CheckFailed(f"no stored conversation of {system_id} holds the message {text!r}: {found}")
            time.sleep(0.1)


class FakeDify:
    """The fake Dify's Service API (as an app key sees it) and its `/_fake` control routes."""

    def __init__(self, url, app_key):
        self.url, self.app_key = url, app_key

    def get(self, path, **params):
        status, body, _ = http(self.url + "/v1" + path + query(**params), {"Authorization": f"Bearer {self.app_key}"})
        if status != 200:
            raise CheckFailed(f"fake Dify GET {path} {params}: HTTP {status} {body}")
        return body

    def control(self, name, body=None):
        status, answer, _ = http(f"{self.url}/_fake/{name}", body=body, method="POST" if body is not None else "GET")
        if status != 200:
            raise CheckFailed(f"fake Dify /_fake/{name}: HTTP {status} {answer}")
        return answer

    def chat_requests(self):
        return self.control("stats")["chat_requests"]

    def conversations(self, dify_user):
        return self.get("/conversations", user=dify_user, limit=100)["data"]

    def queries(self, conversation_id, dify_user):
        page = self.get("/messages", conversation_id=conversation_id, user=dify_user, limit=100)
        return [m["query"] for m in page["data"]]


def fake_answer(query_text):
    """FakeDifyAnswer.answer(for:)."""
    if query_text.startswith("/answer "):
        return query_text[len("/answer "):]
    match = re.fullmatch(r"/tokens (\s*\d+\s*)", query_text)
    if match and 0 <= int(match.group(1)) <= 100_000:
        return " ".join(f"tok{i + 1}" for i in range(int(match.group(1))))
    return "Echo: " + query_text


def fake_chunks(text):
    """FakeDifyAnswer.chunks(of:): about a word each (the word and the whitespace after it), at most 12 characters."""
    chunks, current, count, saw_space = [], "", 0, False
    for character in text:
        is_space = character.isspace()
        if current and ((saw_space and not is_space) or count >= 12):
            chunks.append(current)
            current, count, saw_space = "", 0, False
        current += character
        count += 1
        saw_space = saw_space or is_space
    if current:
        chunks.append(current)
    return chunks


def fake_usage(query_text):
    """The token counts FakeDifyUsage reports for a completed answer to `query_text`."""
    prompt = max(1, len(fake_chunks(query_text)))
    completion = len(fake_chunks(fake_answer(query_text)))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
