#!/usr/bin/env python3
"""Opens N concurrent streaming chats over raw HTTP/1.1 and reports time-to-first-token and errors.

Usage: stream_clients.py gateway|dify HOST PORT N RAMP_SECONDS KEY
  gateway: POST /v1/chat {"stream": true}          first token = first `event: delta`, end = `event: done`
  dify:    POST /v1/chat-messages response_mode=streaming, first token = first `"event":"message"`, end = message_end
Prints one JSON line: {"n", "ok", "errors", "ttft_ms": {p50, p90, p99}, "total_ms": {p50, p99}}.
"""
import asyncio, json, sys, time

MARKERS = {
    "gateway": (b"event: delta", b"event: done"),
    "dify": (b'"event":"message"', b'"event":"message_end"'),
}

def request(kind, host, index, key):
    if kind == "gateway":
        path = "/v1/chat"
        body = json.dumps({"system_id": "bench", "user_id": f"s{index}", "message": "/tokens 50", "stream": True})
        auth = f"X-API-Key: {key}"
    else:
        path = "/v1/chat-messages"
        body = json.dumps({"query": "/tokens 50", "user": f"bench_s{index}", "inputs": {}, "response_mode": "streaming"})
        auth = f"Authorization: Bearer {key}"
    data = body.encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"{auth}\r\nConnection: close\r\n\r\n")
    return head.encode() + data

async def one(kind, host, port, index, key, delay, results):
    await asyncio.sleep(delay)
    first, end = MARKERS[kind]
    started = time.perf_counter()
    ttft = None
    seen = b""
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request(kind, host, index, key))
        await writer.drain()
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout=60)
            if not chunk:
                break
            seen = (seen + chunk)[-4096:]
            if ttft is None and first in seen:
                ttft = (time.perf_counter() - started) * 1000
            if end in seen:
                break
        writer.close()
        ok = ttft is not None and end in seen
        results.append((ok, ttft, (time.perf_counter() - started) * 1000))
    except Exception as error:  # counted, not raised: one failure must not stop the run
        results.append((False, None, None))

def pct(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p / 100))], 2) if values else None

async def main():
    kind, host, port, n, ramp, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    results = []
    await asyncio.gather(*(one(kind, host, port, i, key, ramp * i / n, results) for i in range(n)))
    ttfts = [r[1] for r in results if r[0]]
    totals = [r[2] for r in results if r[0]]
    print(json.dumps({"n": n, "ok": len(ttfts), "errors": n - len(ttfts),
                      "ttft_ms": {"p50": pct(ttfts, 50), "p90": pct(ttfts, 90), "p99": pct(ttfts, 99)},
                      "total_ms": {"p50": pct(totals, 50), "p99": pct(totals, 99)}}))

asyncio.run(main())
