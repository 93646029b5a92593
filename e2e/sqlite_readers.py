"""Chats against a gateway while other processes use its SQLite file (see sqlite-readers.sh).

Usage: sqlite_readers.py BASE_URL DB_PATH WORK_DIR SECONDS
"""
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

base_url, db_path, work, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
deadline = time.monotonic() + seconds
acknowledged = []  # (conversation_id, message_id, answer) of every chat answered 200
failures = []
lock = threading.Lock()


def chat(worker: int) -> None:
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        body = json.dumps({"system_id": "drillquiz", "user_id": f"reader-{worker}", "message": f"turn {turn}"}).encode()
        request = urllib.request.Request(
            base_url + "/v1/chat", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-API-Key": "readers-key"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
            with lock:
                acknowledged.append((answer["conversation_id"], answer["message_id"], answer["answer"]))
        except Exception as error:  # the gateway died or refused: the check below fails
            with lock:
                failures.append(f"chat {worker}/{turn}: {error!r}")
            time.sleep(0.2)


def read_only() -> int:
    reads = 0
    while time.monotonic() < deadline:
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        connection.execute("select count(*) from gateway_messages").fetchone()
        connection.execute("select * from gateway_conversations order by created_at desc limit 20").fetchall()
        connection.close()
        reads += 1
        time.sleep(0.05)
    return reads


def read_write() -> int:
    writes = 0
    connection = sqlite3.connect(db_path, timeout=10)
    connection.execute("create table if not exists operator_notes (at real, note text)")
    connection.commit()
    while time.monotonic() < deadline:
        connection.execute("insert into operator_notes values (?, ?)", (time.time(), "checked"))
        connection.commit()
        connection.execute("select role, count(*) from gateway_messages group by role").fetchall()
        writes += 1
        time.sleep(0.1)
    connection.close()
    return writes


def backups() -> list:
    made = []
    while time.monotonic() < deadline:
        path = f"{work}/backup-{len(made)}.db"
        subprocess.run(["sqlite3", db_path, f".backup '{path}'"], check=True, timeout=60)
        made.append(path)
        time.sleep(0.5)
    return made


results = {}


def run(name, function):
    try:
        results[name] = function()
    except Exception as error:
        failures.append(f"{name}: {error!r}")


threads = [threading.Thread(target=chat, args=(worker,)) for worker in range(4)]
threads += [threading.Thread(target=run, args=(name, function))
            for name, function in [("reads", read_only), ("writes", read_write), ("backups", backups)]]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

problems = list(failures)
connection = sqlite3.connect(db_path, timeout=10)
for conversation_id, message_id, answer in acknowledged:
    rows = dict(connection.execute(
        "select role, content from gateway_messages where message_id in (?, ?)",
        (f"{message_id}_user", f"{message_id}_assistant")).fetchall())
    if rows.get("assistant") != answer or "user" not in rows:
        problems.append(f"chat {message_id} of {conversation_id} acknowledged but not stored: {rows}")
for path in [db_path] + results.get("backups", []):
    check = sqlite3.connect(path).execute("pragma integrity_check").fetchone()[0]
    if check != "ok":
        problems.append(f"integrity_check on {path}: {check}")
print(f"chats acknowledged {len(acknowledged)}, read-only passes {results.get('reads', 0)}, "
      f"read-write commits {results.get('writes', 0)}, backups {len(results.get('backups', []))}")
if not acknowledged:
    problems.append("no chat was acknowledged")
if problems:
    print("FAIL:\n  " + "\n  ".join(problems[:20]), file=sys.stderr)
    sys.exit(1)
