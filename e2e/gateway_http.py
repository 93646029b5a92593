"""What e2e/postgres-replicas.sh's Python steps share: one JSON call to a gateway on loopback."""
import http.client
import json


def call(port, method, path, body=None, headers=()):
    """Returns (status, parsed JSON body or None, headers with lower-case names)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Content-Type": "application/json", **dict(headers)})
    response = conn.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None, {k.lower(): v for k, v in response.getheaders()}
