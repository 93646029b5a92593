"""The export bench's helpers (bench/export.sh).

  seed DB SYSTEM USER CONVERSATIONS MESSAGES EXPECTED
      Gives USER of SYSTEM in a migrated gateway SQLite file CONVERSATIONS conversations of MESSAGES messages each
      (user and assistant in turn), as the gateway writes them: texts full of emoji (ZWJ sequences, flags, skin
      tones), CJK (with astral ideographs), zero-width characters, right-to-left text, combining marks, U+2028/U+2029
      and U+0085, quotes, backslashes, tabs and line breaks, some at the texts' ends; every fifth answer with sources,
      every tenth with feedback, every fiftieth question with a file; usage on every answer and the user's daily sums.
      Writes every seeded text (message contents, conversation names, feedback comments, sources' contents) to
      EXPECTED (JSON) for `check`.
  fetch URL ADMIN_KEY PID OUT
      Streams the export at URL to OUT (64 KB reads) while reading the gateway's (PID) VmRSS every 10 ms and, after
      resetting it (/proc/PID/clear_refs), its VmHWM; prints one JSON line: status, content type, bytes, seconds,
      time to the first byte, the gateway's CPU seconds, RSS before and the peak.
  check json|jsonl OUT EXPECTED SYSTEM USER
      Validates the file (strict UTF-8; JSON with json.load, or JSON Lines split on "\\n" alone, every line an object
      with a type) and compares every seeded text with what came back, as UTF-8 bytes; prints one JSON line.
"""
import json
import random
import sqlite3
import sys
import threading
import time
import urllib.request
import uuid

DAY = 86400
EMOJI = ["😀", "👩‍👩‍👧‍👦", "🇰🇷", "🇯🇵", "👍🏽", "🧑🏻‍💻", "❤️", "𝕏", "🀄", "1️⃣", "🏳️‍🌈", "🫠"]
CJK = ["漢字", "한국어 문장입니다", "ひらがなとカタカナ", "中文测试", "𠜎𠜱𠝹", "데이터 보호", "個人情報", "ｆｕｌｌｗｉｄｔｈ"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u00ad"]
OTHER = ["e\u0301", "שלום", "مرحبا", "\u2028", "\u2029", "\u0085", '"quoted"', "back\\slash", "tab\there",
         "line\nbreak", "crlf\r\n", "</script>", "<b>&amp;</b>", "\u00a0", "Ω≈ç√∫", "{\"json\": [1]}", "\\u0041"]
WORDS = "the export must round trip every byte of what the person wrote and what the assistant answered".split()


def text(rng, n, words):
    parts = ["[%d]" % n]
    for _ in range(words):
        pick = rng.random()
        pool = WORDS if pick < 0.55 else CJK if pick < 0.7 else EMOJI if pick < 0.82 else ZERO_WIDTH if pick < 0.92 else OTHER
        parts.append(rng.choice(pool))
    body = " ".join(parts)
    edge = rng.random()
    if edge < 0.05:
        body = "\u200b" + body + "\u200d"
    elif edge < 0.1:
        body = "  " + body + "\n"
    return body


def row_id():
    return str(uuid.uuid4()).upper()  # Fluent's UUIDs in SQLite: upper-case text


def insert(connection, table, rows):
    columns = list(rows[0].keys())
    connection.executemany('INSERT INTO "%s" (%s) VALUES (%s)' % (
        table, ", ".join('"%s"' % c for c in columns), ", ".join("?" * len(columns))),
        ([row[c] for c in columns] for row in rows))


def seed(db, system, user, conversations, per_conversation, expected_path):
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA synchronous=OFF")
    rng = random.Random(34)
    now = time.time()
    expected = {"messages": {}, "names": {}, "feedback": {}, "sources": {}}
    columns = ("id", "message_id", "conversation_id", "system_id", "user_id", "role", "content", "status", "task_id",
               "position", "created_at", "updated_at", "prompt_tokens", "completion_tokens", "total_tokens",
               "total_price", "total_price_scaled", "currency", "latency_ms", "retriever_resources", "files",
               "feedback_rating", "feedback_content")
    messages, convs, usage = [], [], {}
    n = 0
    for c in range(conversations):
        conversation = str(uuid.uuid4())
        first = now - 90 * DAY + c * (89 * DAY / conversations)
        name = text(rng, c, rng.randint(1, 4))
        expected["names"][conversation] = name
        turns = per_conversation // 2
        for t in range(turns):
            dify = str(uuid.uuid4())
            asked = first + t * 30
            for role in ("user", "assistant"):
                n += 1
                row = dict.fromkeys(columns)
                row.update(id=row_id(), message_id="%s_%s" % (dify, role), conversation_id=conversation,
                           system_id=system, user_id=user, role=role, status="complete", position=0,
                           created_at=asked if role == "user" else asked + 1, updated_at=asked + 1)
                row["content"] = text(rng, n, rng.randint(4, 20) if role == "user" else rng.randint(20, 90))
                if role == "user" and n % 100 == 1:
                    row["files"] = json.dumps([{"type": "image", "transfer_method": "remote_url",
                                                "url": "https://example.com/猫%d.png" % n}], ensure_ascii=False)
                if role == "assistant":
                    prompt, completion = rng.randint(5, 400), rng.randint(5, 800)
                    price = prompt * 10 + completion * 20
                    row.update(task_id=str(uuid.uuid4()), prompt_tokens=prompt, completion_tokens=completion,
                               total_tokens=prompt + completion, total_price="0.%07d" % price,
                               total_price_scaled=price * 100000, currency="USD", latency_ms=rng.randint(300, 5000))
                    if t % 5 == 0:
                        source = text(rng, n, 12)
                        expected["sources"][row["message_id"]] = source
                        row["retriever_resources"] = json.dumps([{
                            "position": 1, "dataset_id": str(uuid.uuid4()), "dataset_name": "手册 📘",
                            "document_id": str(uuid.uuid4()), "document_name": "guide\u200b.md",
                            "segment_id": str(uuid.uuid4()), "score": 0.87, "content": source}], ensure_ascii=False)
                    if t % 10 == 3:
                        row["feedback_rating"] = "dislike" if t % 20 == 3 else "like"
                        if row["feedback_rating"] == "dislike":
                            row["feedback_content"] = text(rng, n, 6)
                            expected["feedback"][row["message_id"]] = row["feedback_content"]
                    day = int((asked + 1) // DAY)
                    plain = usage.setdefault((day, ""), [0, 0, 0, 0, 0])
                    plain[0] += 1
                    usd = usage.setdefault((day, "USD"), [0, 0, 0, 0, 0])
                    usd[1] += 1; usd[2] += prompt; usd[3] += completion; usd[4] += price * 100000
                expected["messages"][row["message_id"]] = row["content"]
                messages.append(row)
        convs.append({"id": row_id(), "conversation_id": conversation, "system_id": system, "user_id": user,
                      "dify_user": "%s_%s" % (system, user), "name": name, "created_at": first,
                      "updated_at": first + turns * 30})
        if len(messages) >= 50000:
            insert(connection, "gateway_messages", messages); messages = []
    if messages:
        insert(connection, "gateway_messages", messages)
    insert(connection, "gateway_conversations", convs)
    insert(connection, "gateway_users", [{"id": row_id(), "system_id": system, "user_id": user,
                                          "dify_user": "%s_%s" % (system, user), "created_at": now - 90 * DAY,
                                          "updated_at": now}])
    insert(connection, "gateway_usage_users", [
        {"day": day, "system_id": system, "user_id": user, "currency": currency, "chats": v[0], "completed": v[1],
         "prompt_tokens": v[2], "completion_tokens": v[3], "total_tokens": v[2] + v[3], "price_scaled": v[4],
         "latency_count": v[1]} for (day, currency), v in usage.items()])
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(expected_path, "w", encoding="utf-8") as f:
        json.dump(expected, f)
    size = sum(len(v.encode("utf-8")) for v in expected["messages"].values())
    print("seeded %s: %d messages in %d conversations, %.1f MB of message text"
          % (user, len(expected["messages"]), conversations, size / 1e6))


def rss(pid, field):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu(pid):
    import os
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fetch(url, admin_key, pid, out):
    before = rss(pid, "VmRSS")
    cpu_before = cpu(pid)
    try:
        with open("/proc/%s/clear_refs" % pid, "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        hwm_reset = True
    except OSError:
        hwm_reset = False
    peak, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss(pid, "VmRSS"))
            time.sleep(0.01)
    sampler = threading.Thread(target=sample)
    sampler.start()
    request = urllib.request.Request(url, headers={"X-Admin-Key": admin_key})
    started = time.perf_counter()
    first_byte, size, status, headers = None, 0, 0, {}  # headers: an HTTPMessage (case-insensitive)
    try:
        with urllib.request.urlopen(request, timeout=600) as response, open(out, "wb") as f:
            status, headers = response.status, response.headers
            while True:
                chunk = response.read(65536)
                if not chunk:
                    break
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                f.write(chunk)
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
        with open(out, "wb") as f:
            f.write(error.read())
    seconds = time.perf_counter() - started
    cpu_used = cpu(pid) - cpu_before
    time.sleep(0.2)
    done.set()
    sampler.join()
    hwm = rss(pid, "VmHWM") if hwm_reset else 0
    print(json.dumps({"status": status, "content_type": headers.get("Content-Type"),
                      "chunked": (headers.get("Transfer-Encoding") or "").lower() == "chunked",
                      "disposition": headers.get("Content-Disposition"), "bytes": size, "seconds": seconds, "cpu": cpu_used,
                      "first_byte": first_byte, "rss_before": before, "rss_peak": max(peak[0], hwm),
                      "sampled_peak": peak[0], "hwm": hwm}))


def check(kind, out, expected_path, system, user):
    expected = json.load(open(expected_path, encoding="utf-8"))
    result = {"valid": False, "error": None, "messages": 0, "conversations": 0, "texts": 0, "mismatched": 0,
              "missing": 0, "unknown": 0, "example": None}
    raw = open(out, "rb").read()
    try:
        document = raw.decode("utf-8")  # strict: invalid UTF-8 fails here
        messages, conversations = [], []
        if kind == "json":
            top = json.loads(document)
            if top.get("system_id") != system or top.get("user_id") != user:
                raise ValueError("system_id/user_id %r/%r" % (top.get("system_id"), top.get("user_id")))
            for conversation in top["conversations"]:
                conversations.append(conversation)
                messages.extend(conversation.get("messages", []))
            messages.extend(top.get("messages_without_conversation", []))
        else:
            lines = raw.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            types = {}
            for number, line in enumerate(lines):
                item = json.loads(line.decode("utf-8"))
                if not isinstance(item, dict) or "type" not in item:
                    raise ValueError("line %d has no type" % (number + 1))
                if number == 0 and (item["type"] != "export" or item.get("system_id") != system
                                    or item.get("user_id") != user):
                    raise ValueError("first line is not the export's header: %r" % line[:200])
                types[item["type"]] = types.get(item["type"], 0) + 1
                if item["type"] == "conversation":
                    conversations.append(item)
                elif item["type"] == "message":
                    messages.append(item)
            result["lines"] = types
        result["valid"] = True
    except Exception as error:  # noqa: BLE001 - any failure to parse is the finding
        result["error"] = "%s: %s" % (type(error).__name__, str(error)[:300])
        print(json.dumps(result)); return
    result["messages"], result["conversations"] = len(messages), len(conversations)

    def compare(kind_, key, got, want):
        result["texts"] += 1
        try:
            same = isinstance(got, str) and got.encode("utf-8") == want.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate came back
            same = False
        if not same:
            result["mismatched"] += 1
            if result["example"] is None:
                result["example"] = {"kind": kind_, "id": key, "want": want[:120], "got": repr(got)[:200]}

    seen = set()
    for message in messages:
        key = message.get("message_id")
        if key not in expected["messages"]:
            key = "%s_%s" % (key, message.get("role"))  # the export may name a turn by Dify's id alone
        if key not in expected["messages"]:
            result["unknown"] += 1
            continue
        seen.add(key)
        compare("message", key, message.get("content"), expected["messages"][key])
        if key in expected["feedback"]:
            compare("feedback", key, (message.get("feedback") or {}).get("content"), expected["feedback"][key])
        if key in expected["sources"]:
            sources = message.get("sources") or []
            compare("source", key, sources[0].get("content") if sources else None, expected["sources"][key])
    result["missing"] = len(expected["messages"]) - len(seen)
    result["expected_texts"] = sum(len(expected[k]) for k in ("messages", "names", "feedback", "sources"))
    for conversation in conversations:
        key = conversation.get("conversation_id")
        if key in expected["names"]:
            compare("name", key, conversation.get("name"), expected["names"][key])
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(args[0], args[1], args[2], int(args[3]), int(args[4]), args[5])
    elif command == "fetch":
        fetch(*args)
    elif command == "check":
        check(*args)
    else:
        raise SystemExit(__doc__)
