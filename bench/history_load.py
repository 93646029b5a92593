"""Helpers for bench/history.sh: seed the fake Dify and register users; time cache API queries."""
import base64, hashlib, hmac, http.client, json, random, statistics, sys, time, urllib.parse
from concurrent.futures import ThreadPoolExecutor


def jwt(system, user, secret=b"bench-secret"):
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=")
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"system_id": system, "user_id": user, "exp": int(time.time()) + 3600}).encode())
    signature = b64(hmac.new(secret, header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


def connection(base):
    parsed = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)


def seed(fake, gateway, users, conversations, turns):
    def one(index):
        user = f"user{index:05d}"
        fake_conn, gw_conn = connection(fake), connection(gateway)
        body = json.dumps({"user": f"bench_{user}", "conversations": conversations, "turns_each": turns})
        fake_conn.request("POST", "/_fake/seed", body, {"Content-Type": "application/json"})
        assert fake_conn.getresponse().read() and True
        gw_conn.request("GET", "/chat?token=" + jwt("bench", user))
        response = gw_conn.getresponse()
        response.read()
        assert response.status == 200, response.status
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(users)))


def query(gateway, key, users):
    conn = connection(gateway)
    headers = {"X-API-Key": key}

    def get(path):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:200])
        return (time.perf_counter() - started) * 1000, response

    today = time.strftime("%Y-%m-%d", time.gmtime())
    random.seed(7)
    cases = {
        "system, limit 50 (first page)": lambda: f"/v1/cache/conversations?system_id=bench&limit=50",
        "system + user, limit 50": lambda: f"/v1/cache/conversations?system_id=bench&user_id=user{random.randrange(users):05d}&limit=50",
        "system + date range, limit 50": lambda: f"/v1/cache/conversations?system_id=bench&from_date=2020-01-01&to_date={today}&limit=50",
        "next pages via cursor, limit 50": None,
        "messages of one conversation": None,
    }
    cursors, conversation_ids = [], []
    _, first = get("/v1/cache/conversations?system_id=bench&limit=50")
    for _ in range(300):
        _, page = get("/v1/cache/conversations?system_id=bench&limit=50" + (f"&cursor={cursors[-1]}" if cursors else ""))
        nxt = page.getheader("X-Next-Cursor")
        if not nxt:
            break
        cursors.append(nxt)
    listing = json.loads(connection_get_body(gateway, "/v1/cache/conversations?system_id=bench&limit=500", headers))
    conversation_ids = [row["conversation_id"] for row in listing]
    print(f"  {'query':40s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for name, make in cases.items():
        timings = []
        for index in range(300):
            if name.startswith("next pages"):
                path = f"/v1/cache/conversations?system_id=bench&limit=50&cursor={cursors[index % len(cursors)]}"
            elif name.startswith("messages"):
                path = f"/v1/cache/conversations/{random.choice(conversation_ids)}/messages"
            else:
                path = make()
            timings.append(get(path)[0])
        timings.sort()
        print(f"  {name:40s} {statistics.median(timings):8.2f} {timings[int(len(timings) * 0.99) - 1]:8.2f}")
    timings = sorted(get("/v1/cache/conversations?system_id=bench&q=question%2019.50&limit=50")[0] for _ in range(5))
    print(f"  {'text search q= (full scan), 5 requests':40s} {statistics.median(timings):8.2f} {timings[-1]:8.2f}")


def connection_get_body(base, path, headers):
    conn = connection(base)
    conn.request("GET", path, headers=headers)
    return conn.getresponse().read()


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        query(sys.argv[2], sys.argv[3], int(sys.argv[4]))
