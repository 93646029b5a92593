"""The retention bench's helpers (bench/retention.sh).

  seed DB SYSTEM CONVERSATIONS TURNS
      Fills a migrated gateway SQLite file with CONVERSATIONS conversations of TURNS turns each (a user row and an
      assistant row per turn: CONVERSATIONS × TURNS × 2 message rows), all older than 30 days (their last message 31
      to 395 days ago), over CONVERSATIONS / 10 users of SYSTEM, with their conversations, users and daily usage sums,
      as the gateway writes them. Then checkpoints the WAL into the file, so the file can be copied.
  chats URL KEY SYSTEM CLIENTS OUT STOPFILE
      CLIENTS blocking chats at a time (POST /v1/chat with X-API-Key, keep-alive, each chat a new conversation) until
      STOPFILE exists; writes one line per chat to OUT: its start (epoch s), its latency (s), its HTTP status.
  watch DB CUTOFF TIMEOUT OUT STOPFILE
      Counts the conversations in DB created before CUTOFF (epoch s) every 0.1 s, through the (created_at) index and a
      read-only connection (WAL: it never blocks a writer), until none is left, STOPFILE exists or TIMEOUT seconds
      pass; writes to OUT the purge's start (the last sample before the count fell), its end (the first sample at
      its final count) and that count.
  report WORK MODE...
      Prints the chats of each MODE (WORK/chats-MODE.tsv) before and during its purge (WORK/window-MODE: start and
      end, epoch s) side by side, and whether p99 during the purge stayed under one second.
"""
import http.client
import json
import random
import sqlite3
import sys
import threading
import time
import urllib.parse
import uuid

DAY = 86400
# Every gateway_messages column the seeds write (the same keys in every row, so one INSERT fits all).
EMPTY = dict.fromkeys(("id", "message_id", "conversation_id", "system_id", "user_id", "role", "content", "status",
                       "task_id", "position", "created_at", "updated_at", "prompt_tokens", "completion_tokens",
                       "total_tokens", "total_price", "total_price_scaled", "currency", "latency_ms"))


def fill(connection, table, rows):
    """INSERTs dict rows; a NOT NULL column without a default that the row leaves out (one added after this script
    was written) gets 0 or '' so the seed keeps working, with a note on stderr."""
    info = connection.execute('PRAGMA table_info("%s")' % table).fetchall()
    names = [r[1] for r in info]
    given = list(rows[0].keys())
    missing = [r for r in info if r[3] and r[4] is None and not r[5] and r[1] not in given]
    for column in missing:
        print("note: %s.%s is NOT NULL and not seeded; filled with %s" % (table, column[1], "0 or ''"), file=sys.stderr)
    extra = {r[1]: (0 if any(t in (r[2] or "").upper() for t in ("INT", "REAL", "DOUBLE", "BOOL")) else "")
             for r in missing}
    unknown = [c for c in given if c not in names]
    if unknown:
        raise SystemExit("%s has no column %s: the migrations changed, update bench/retention_load.py" % (table, unknown))
    columns = given + list(extra)
    sql = 'INSERT INTO "%s" (%s) VALUES (%s)' % (table, ", ".join('"%s"' % c for c in columns), ", ".join("?" * len(columns)))
    connection.executemany(sql, ([row[c] for c in given] + list(extra.values()) for row in rows))


def row_id():
    return str(uuid.uuid4()).upper()  # Fluent's UUIDs in SQLite: upper-case text


WORDS = ("the answer depends on the question you asked about the quarterly report and its figures, "
         "please check the attached policy and the section on retention before you reply").split()


def text(rng, low, high):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def seed(db, system, conversations, turns):
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA synchronous=OFF")
    rng = random.Random(34)
    now = time.time()
    users = max(1, conversations // 10)
    messages, convs, usage_users, usage_systems = [], [], {}, {}
    written = 0
    started = time.time()

    def flush():
        nonlocal messages, convs, written
        if messages:
            fill(connection, "gateway_messages", messages)
            written += len(messages)
        if convs:
            fill(connection, "gateway_conversations", convs)
        connection.commit()
        messages, convs = [], []

    for c in range(conversations):
        user = "old-%d" % (c % users)
        last = now - (31 + (c % 365)) * DAY - rng.uniform(0, DAY - 3600)
        first = last - (turns - 1) * 60 - 1
        conversation = str(uuid.uuid4())
        for t in range(turns):
            asked = first + t * 60
            answered = asked + 1
            dify = str(uuid.uuid4())
            prompt, completion = rng.randint(5, 400), rng.randint(5, 800)
            price = prompt * 10 + completion * 20  # 1e-7 USD, as the fake Dify prices
            latency = rng.randint(300, 5000)
            base = dict(EMPTY, conversation_id=conversation, system_id=system, user_id=user, status="complete",
                        position=0)
            messages.append(dict(base, id=row_id(), message_id=dify + "_user", role="user",
                                 content=text(rng, 5, 25), created_at=asked, updated_at=answered))
            messages.append(dict(base, id=row_id(), message_id=dify + "_assistant", role="assistant",
                                 content=text(rng, 20, 90), created_at=answered, updated_at=answered,
                                 task_id=str(uuid.uuid4()), prompt_tokens=prompt, completion_tokens=completion,
                                 total_tokens=prompt + completion, total_price="0.%07d" % price,
                                 total_price_scaled=price * 100000, currency="USD", latency_ms=latency))
            day = int(answered // DAY)
            for key, sums in (((day, system, user), usage_users), ((day, system), usage_systems)):
                plain = sums.setdefault(key + ("",), [0, 0, 0, 0, 0, 0])
                plain[0] += 1
                usd = sums.setdefault(key + ("USD",), [0, 0, 0, 0, 0, 0])
                usd[1] += 1; usd[2] += prompt; usd[3] += completion; usd[4] += price * 100000; usd[5] += 1
        convs.append({"id": row_id(), "conversation_id": conversation, "system_id": system, "user_id": user,
                      "dify_user": "%s_%s" % (system, user), "name": text(rng, 2, 5), "created_at": first,
                      "updated_at": last})
        if len(messages) >= 100000:
            flush()
            if sys.stdout.isatty():
                print("  %d message rows (%.0f s)" % (written, time.time() - started), end="\r", flush=True)
    flush()
    fill(connection, "gateway_users", [{"id": row_id(), "system_id": system, "user_id": "old-%d" % u,
                                        "dify_user": "%s_old-%d" % (system, u), "created_at": now - 400 * DAY,
                                        "updated_at": now - 31 * DAY} for u in range(users)])
    for table, sums, key_columns in (("gateway_usage_users", usage_users, ("day", "system_id", "user_id", "currency")),
                                     ("gateway_usage_systems", usage_systems, ("day", "system_id", "currency"))):
        fill(connection, table, [dict(zip(key_columns, key), chats=v[0], completed=v[1], prompt_tokens=v[2],
                                      completion_tokens=v[3], total_tokens=v[2] + v[3], price_scaled=v[4],
                                      latency_count=v[5]) for key, v in sums.items()])
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = connection.execute("SELECT COUNT(*) FROM gateway_messages").fetchone()[0]
    print("seeded %d message rows in %d conversations of %d users, all older than 30 days (%.0f s)"
          % (count, conversations, users, time.time() - started))


def chats(url, key, system, clients, out, stopfile):
    import os
    target = urllib.parse.urlsplit(url)
    results, lock = [], threading.Lock()

    def client(n):
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        mine, count = [], 0
        while not os.path.exists(stopfile):
            count += 1
            body = json.dumps({"system_id": system, "user_id": "load-%d-%d" % (n, count % 100),
                               "message": "hello during the purge %d" % count})
            started = time.time()
            clock = time.perf_counter()
            try:
                connection.request("POST", "/v1/chat", body, {"Content-Type": "application/json", "X-API-Key": key})
                response = connection.getresponse()
                response.read()
                status = response.status
            except Exception:
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            mine.append((started, time.perf_counter() - clock, status))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    with open(out, "w") as f:
        for started, latency, status in sorted(results):
            f.write("%.6f\t%.6f\t%d\n" % (started, latency, status))


def watch(db, cutoff, timeout, out, stopfile):
    import os
    connection = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    query = "SELECT COUNT(*) FROM gateway_conversations WHERE created_at < ?"
    first = previous = connection.execute(query, (cutoff,)).fetchone()[0]
    deadline = time.time() + timeout
    start = end = None
    last_sample = time.time()
    while True:
        now = time.time()
        count = connection.execute(query, (cutoff,)).fetchone()[0]
        if count != previous:
            if start is None:
                start = last_sample
            end, previous = now, count
        last_sample = now
        if count == 0 or now > deadline or os.path.exists(stopfile):
            break
        time.sleep(0.1)
    if start is None:
        start = end = last_sample
    with open(out, "w") as f:
        f.write("%.6f %.6f %d %d\n" % (start, end, previous, first))


def report(work, modes):
    def stats(rows):
        ok = sorted(latency for _, latency, status in rows if status == 200)
        if not ok:
            return None
        pick = lambda p: ok[min(len(ok) - 1, int(p * len(ok)))] * 1000
        span = (rows[-1][0] + rows[-1][1]) - rows[0][0] if len(rows) > 1 else float("nan")
        return {"n": len(rows), "errors": sum(1 for r in rows if r[2] != 200), "rate": len(rows) / span if span else 0,
                "p50": pick(0.5), "p99": pick(0.99), "max": ok[-1] * 1000}
    columns, verdicts = [], []
    for mode in modes:
        rows = [tuple(float(x) for x in line.split("\t")) for line in open("%s/chats-%s.tsv" % (work, mode))]
        rows = [(s, l, int(c)) for s, l, c in rows]
        start, end = (float(x) for x in open("%s/window-%s" % (work, mode)).read().split())
        # A chat is "during" the purge when any part of it overlaps the purge.
        before = [r for r in rows if r[0] + r[1] < start]
        during = [r for r in rows if r[0] <= end and r[0] + r[1] >= start]
        for phase, chosen in (("baseline", before), ("during purge", during)):
            columns.append(("%s, %s" % (mode, phase), stats(chosen)))
        s = stats(during)
        if s:
            verdicts.append("%s: chat p99 during the purge %.0f ms, max %.0f ms: %s (p99 < 1000 ms)"
                            % (mode, s["p99"], s["max"], "PASS" if s["p99"] < 1000 else "FAIL"))
        else:
            verdicts.append("%s: no chat completed during the purge: FAIL" % mode)
    width = max(16, max(len(name) for name, _ in columns) + 2)
    print("%-14s" % "POST /v1/chat" + "".join("%*s" % (width, name) for name, _ in columns))
    for label, key, fmt in (("chats", "n", "%d"), ("errors", "errors", "%d"), ("chats/s", "rate", "%.0f"),
                            ("p50 ms", "p50", "%.1f"), ("p99 ms", "p99", "%.1f"), ("max ms", "max", "%.1f")):
        print("%-14s" % label + "".join("%*s" % (width, (fmt % s[key]) if s else "-") for _, s in columns))
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(args[0], args[1], int(args[2]), int(args[3]))
    elif command == "chats":
        chats(args[0], args[1], args[2], int(args[3]), args[4], args[5])
    elif command == "watch":
        watch(args[0], float(args[1]), float(args[2]), args[3], args[4])
    elif command == "report":
        report(args[0], args[1:])
    else:
        raise SystemExit(__doc__)
