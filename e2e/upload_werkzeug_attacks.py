#!/usr/bin/env python3
"""Raw multipart bodies through the gateway's /dify/v1 uploads, judged by Werkzeug's own parse of what the gateway
forwarded (e2e/werkzeug_dify.py, which reads forms as Flask and so Dify do). Dify keeps the FIRST `user` field.

    upload_werkzeug_attacks.py GATEWAY_PORT SERVER_KEY STAND_IN_URL

Invariant, for every case: every form Werkzeug parsed with something in it has exactly one `user`, starting with
`drillquiz_`, and was not split on the client's boundary. A request the gateway cut off (Werkzeug's parse failed)
is one Dify acts on nowhere, so it does not count. Honest forms must also succeed and arrive byte-identical.
"""
import hashlib
import http.client
import json
import sys
import time
import urllib.request

from werkzeug.http import parse_options_header

gateway_port, server_key, stand_in = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CRLF = b"\r\n"
SMUGGLED = b"cointutor_victim"  # another system's user: what a drillquiz key must never reach
# A file with line breaks and boundary look-alikes in it, so "byte-identical" means something.
FILE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--\r\n--gw\r\n\n--gw\r\n" * 3
FILE_HEADERS = b'Content-Disposition: form-data; name="file"; filename="photo.png"\r\nContent-Type: image/png'
BOUNDARY = "------------------------e2eWerkzeug0123"  # curl's kind
B = BOUNDARY.encode()


def cd(params):
    return b"Content-Disposition: form-data; " + params


def form(boundary, *parts):
    """parts: (raw header block, body); the header block is written as given, bare CR/LF and all."""
    out = b"".join(b"--" + boundary + CRLF + headers + CRLF + CRLF + body + CRLF for headers, body in parts)
    return out + b"--" + boundary + b"--" + CRLF


FILE_PART = (FILE_HEADERS, FILE)
USER_U1 = (cd(b'name="user"'), b"u1")


def smuggle(params, *more_headers):
    """A `user` part carrying another system's user, first (Dify keeps the first), then an honest file."""
    return form(B, (CRLF.join((cd(params),) + more_headers), SMUGGLED), FILE_PART)


# A form split on a shorter boundary `x` hidden in a file part: what Werkzeug finds if it reads `boundary=x…` as `x`.
HIDDEN = (CRLF + b"--x" + CRLF + cd(b'name="user"') + CRLF + CRLF + SMUGGLED + CRLF + b"--x" + CRLF
          + cd(b'name="file"; filename="smuggled.png"') + CRLF + b"Content-Type: image/png" + CRLF + CRLF
          + b"smuggled" + CRLF + b"--x--" + CRLF)


def hidden_boundary(header_value, real):
    """Content-Type with boundary parameter `header_value`; the body really uses `real` and hides a form on `x`."""
    return ("multipart/form-data; boundary=" + header_value,
            form(real.encode(), (FILE_HEADERS, FILE + HIDDEN), USER_U1), real)


def honest(name, body, user):
    return name, "multipart/form-data; boundary=" + BOUNDARY, body, BOUNDARY, user


def attack(name, body):
    return name, "multipart/form-data; boundary=" + BOUNDARY, body, BOUNDARY, None


HONEST_QUOTED = "honest quoted:=?(b)'+_,-./x"  # every RFC 2046 bchar kind, space not last: legal, must work
# (name, Content-Type, body, the boundary the body really uses, the Dify user an honest form must reach or None)
CASES = [
    honest("honest", form(B, USER_U1, FILE_PART), "drillquiz_u1"),
    honest("user-after-file", form(B, FILE_PART, USER_U1), "drillquiz_u1"),
    honest("no-user", form(B, FILE_PART), "drillquiz_DEFAULT-USER"),
    ("honest-quoted-boundary", f'multipart/form-data; boundary="{HONEST_QUOTED}"',
     form(HONEST_QUOTED.encode(), USER_U1, FILE_PART), HONEST_QUOTED, "drillquiz_u1"),
    # Content-Disposition parameters the gateway and Werkzeug may read differently.
    attack("filename-bare", smuggle(b'name="user"; filename')),
    attack("filename-empty", smuggle(b'name="user"; filename=')),
    attack("filename-quoted-empty", smuggle(b'name="user"; filename=""')),
    attack("filename-spaced", smuggle(b'name="user"; filename = "x"')),
    attack("FILENAME-upper", smuggle(b'name="user"; FILENAME="x"')),
    attack("NAME-upper", smuggle(b'NAME="user"')),
    attack("name-unquoted", smuggle(b"name=user")),
    attack("name-spaced", smuggle(b'name = "user"')),
    attack("user-with-content-type", smuggle(b'name="user"', b"Content-Type: text/plain; charset=utf-8")),
    attack("param-without-equals", smuggle(b'name="user"; x; filename')),
    attack("quoted-semicolon", smuggle(b'name="user"; x="; filename=y"')),
    attack("junk-after-quoted-name", smuggle(b'name="user"x')),
    attack("name-continuation", smuggle(b'name*0="us"; name*1="er"')),
    attack("two-users", form(B, USER_U1, (cd(b'name="user"'), SMUGGLED), FILE_PART)),
    # Werkzeug also ends header lines and boundaries at a bare LF or CR.
    attack("bare-lf-in-header-block", form(
        B, (b"X-Pad: a\n" + cd(b'name="user"') + CRLF + cd(b'name="pad"; filename="pad.txt"'), SMUGGLED), FILE_PART)),
    attack("bare-cr-in-header-block", form(
        B, (b"X-Pad: a\r" + cd(b'name="user"') + CRLF + cd(b'name="pad"; filename="pad.txt"'), SMUGGLED), FILE_PART)),
    attack("bare-lf-boundary-in-file", form(B, (FILE_HEADERS, FILE + b"\n--" + B + CRLF + cd(b'name="user"') + CRLF
                                               + CRLF + SMUGGLED + b"\n--" + B + CRLF + cd(b'name="pad"') + CRLF))),
    # Boundaries Werkzeug reads shorter than the gateway if forwarded as they came.
    ("boundary-quoted-space", *hidden_boundary('"x y"', "x y"), None),
    ("boundary-quoted-semicolon", *hidden_boundary('"x;y"', "x;y"), None),
    ("boundary-quoted-comma", *hidden_boundary('"x,y"', "x,y"), None),
    ("boundary-quoted-quote", *hidden_boundary('"x\\"y"', 'x"y'), None),
    ("boundary-at-sign", *hidden_boundary("x@y", "x@y"), None),
    ("boundary-slash-unquoted", *hidden_boundary("x/y", "x/y"), None),
]


def stand_in_call(method, path):
    with urllib.request.urlopen(urllib.request.Request(stand_in + path, method=method), timeout=10) as reply:
        return json.loads(reply.read())


def send(path, content_type, body):
    """One raw POST through the gateway; (status or None if the connection broke, JSON body or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway_port, timeout=30)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in (("Authorization", f"Bearer {server_key}"), ("Content-Type", content_type),
                            ("Content-Length", str(len(body)))):
            conn.putheader(name, value)
        conn.endheaders(body)
        reply = conn.getresponse()
        raw = reply.read()
        try:
            return reply.status, json.loads(raw)
        except ValueError:
            return reply.status, raw[:200]
    except (OSError, http.client.HTTPException) as exc:
        return None, repr(exc)
    finally:
        conn.close()


def settled_records():
    """What Werkzeug recorded, once nothing is still arriving (an upstream request the gateway cut off included)."""
    time.sleep(0.3)
    for _ in range(50):
        state = stand_in_call("GET", "/_recorded")
        if state["in_flight"] == 0:
            return state["requests"]
        time.sleep(0.1)
    return state["requests"] + [{"error": "still in flight after 5 s"}]


def describe(record):
    if record.get("error"):
        return f"parse failed ({record['error'][:60]})"
    files = ",".join(f"{f['field']}:{f['filename']}" for f in record["files"])
    return f"users={record['users']} files=[{files}] boundary={record['boundary_read']!r}"


def check(endpoint, name, content_type, body, real_boundary, honest_user):
    stand_in_call("POST", "/_reset")
    status, answer = send(f"/dify/v1/{endpoint}", content_type, body)
    records = settled_records()
    parsed = [r for r in records if not r.get("error") and (r["fields"] or r["files"])]
    client_reads = {real_boundary, parse_options_header(content_type)[1].get("boundary")}
    problems = []
    for record in parsed:
        if len(record["users"]) != 1 or not record["users"][0].startswith("drillquiz_"):
            problems.append("Dify would read user " + repr(record["user"]))
        if record["boundary_read"] in client_reads:
            problems.append("client's boundary forwarded")
    if honest_user is not None:
        expected_status = 201 if endpoint == "files/upload" else 200
        expected_file = [{"field": "file", "filename": "photo.png", "size": len(FILE),
                          "sha256": hashlib.sha256(FILE).hexdigest(), "mimetype": "image/png"}]
        if status != expected_status:
            problems.append(f"honest form answered {status}, not {expected_status}: {answer}")
        elif len(parsed) != 1 or parsed[0]["fields"] != [["user", honest_user]] or parsed[0]["files"] != expected_file:
            problems.append(f"Werkzeug did not get exactly user {honest_user} and the file byte-identical")
    seen = "; ".join(describe(r) for r in records) or "nothing reached Werkzeug"
    verdict = "FAIL" if problems else "PASS"
    print(f"{verdict} {endpoint:13} {name:26} gateway {status}; werkzeug: {seen}"
          + (f" -- {'; '.join(dict.fromkeys(problems))}" if problems else ""), flush=True)
    return not problems


results = [check(endpoint, *case) for endpoint in ("files/upload", "audio-to-text") for case in CASES]
passed = sum(results)
print(f"{passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) else 1)
