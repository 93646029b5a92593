"""Fills a migrated gateway SQLite file with USERS users × DAYS days of chats (one turn each per day, over
SYSTEMS systems): a user row and an assistant row with Dify-shaped usage per turn, ending today (UTC).

usage: python3 bench/usage_seed.py DB USERS DAYS SYSTEMS
"""
import random
import sqlite3
import sys
import time
import uuid

db, users, days, systems = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
connection = sqlite3.connect(db)
random.seed(7)
today = int(time.time() // 86400)
columns = ("id, message_id, conversation_id, system_id, user_id, role, content, status, position, created_at, "
           "updated_at, prompt_tokens, completion_tokens, total_tokens, total_price, total_price_scaled, currency, latency_ms")
rows = []
for day in range(today - days + 1, today + 1):
    for user in range(users):
        at = day * 86400 + random.randint(0, 86399)
        system = "system-%d" % (user % systems)
        message = uuid.uuid4().hex
        conversation = str(uuid.uuid4())
        prompt, completion = random.randint(5, 400), random.randint(5, 800)
        price = prompt * 10 + completion * 20  # 1e-7 USD, as the fake Dify prices
        common = (conversation, system, "user-%d" % user)
        rows.append((uuid.uuid4().bytes, message + "_user") + common + ("user", "q", "complete", 0, at, at)
                    + (None,) * 7)
        rows.append((uuid.uuid4().bytes, message + "_assistant") + common
                    + ("assistant", "a", "complete", 0, at + 1, at + 1, prompt, completion, prompt + completion,
                       "0.%07d" % price, price * 100000, "USD", random.randint(300, 5000)))
    if len(rows) > 200000:
        connection.executemany("INSERT INTO gateway_messages (%s) VALUES (%s)" % (columns, ",".join("?" * 18)), rows)
        rows = []
connection.executemany("INSERT INTO gateway_messages (%s) VALUES (%s)" % (columns, ",".join("?" * 18)), rows)
connection.commit()
print("%d message rows" % connection.execute("SELECT COUNT(*) FROM gateway_messages").fetchone()[0])
