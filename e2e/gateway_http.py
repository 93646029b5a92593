"""What the e2e scripts' Python steps share: one JSON call to a gateway on loopback, and a stream of server-sent
events read event by event (e2e/postgres-replicas.sh, e2e/crash-recovery.sh)."""
import http.client
import json
import socket


def call(port, method, path, body=None, headers=()):
    """Returns (status, parsed JSON body or None, headers with lower-case names)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Content-Type": "application/json", **dict(headers)})
    response = conn.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None, {k.lower(): v for k, v in response.getheaders()}


class EventStream:
    """One request whose answer is read as server-sent events: `status` and `headers` (lower-case names) once the
    response started; `next()` gives the next event as {"id": int or None, "event": name, "data": parsed JSON}, or
    None when the body ends. Comments (keep-alives) and `retry:` lines are skipped."""

    def __init__(self, port, method, path, body=None, headers=(), timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          {"Content-Type": "application/json", **dict(headers)})
        self.sock = self.conn.sock  # the connection lets go of it when the response says it will close
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}

    def next(self):
        fields = {}
        data = []
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data or "event" in fields:
                    raw = "\n".join(data)
                    return {"id": int(fields["id"]) if "id" in fields else None,
                            "event": fields.get("event", "message"), "data": json.loads(raw) if raw else None}
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name in ("id", "event"):
                fields[name] = value

    def read_rest(self):
        """Every event left, to the end of the body."""
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events

    def drop(self):
        """Goes away mid-stream, as a closed tab or a lost network does: the connection is shut, unread."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.response.close()
        self.conn.close()
