#!/usr/bin/env python3
"""Dify's two upload routes, POST /v1/files/upload and /v1/audio-to-text, on Werkzeug itself: the form is read
by werkzeug.wrappers.Request exactly as Flask (and so Dify) reads it, and what Werkzeug saw is kept for the test.

    werkzeug_dify.py --api-key KEY [--host 127.0.0.1] [--port 0]

Prints its URL on the first line of stdout (as fake-dify does, so scripts/lib/fake-dify.sh's start_fake_dify can
start it). GET /_recorded answers {"in_flight": n, "requests": [...]}; POST /_reset forgets them.
"""
import argparse
import hashlib
import json
import threading
import time
import uuid

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

recorded = []
in_flight = 0
lock = threading.Lock()


def answer(status, body):
    return Response(json.dumps(body), status=status, mimetype="application/json")


def error(status, code, message):
    return answer(status, {"status": status, "code": code, "message": message})


def read_form(request):
    """What Dify would act on: Werkzeug's parse of the body (None and the error when it failed, e.g. cut off)."""
    entry = {"content_type": request.headers.get("Content-Type"),
             "transfer_encoding": request.headers.get("Transfer-Encoding"),
             "content_length": request.headers.get("Content-Length"),
             "boundary_read": request.mimetype_params.get("boundary"), "error": None}
    try:
        form, files = request.form, request.files
        entry["users"] = form.getlist("user")
        entry["user"] = form.get("user")
        entry["fields"] = [[name, value[:200]] for name, value in form.items(multi=True)]
        entry["files"] = []
        for field, storage in files.items(multi=True):
            data = storage.read()
            storage.seek(0)
            entry["files"].append({"field": field, "filename": storage.filename, "size": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest(), "mimetype": storage.mimetype})
    except Exception as exc:  # a body the gateway cut off: Flask answers an error, Dify acts on nothing
        entry["error"] = f"{type(exc).__name__}: {exc}"
        return entry, None
    return entry, (form, files)


def handle(request, path):
    if request.headers.get("Authorization") != f"Bearer {args.api_key}":
        return error(401, "unauthorized", "Access token is invalid")
    entry, parsed = read_form(request)
    entry["path"] = path
    with lock:
        recorded.append(entry)
    if parsed is None:
        return error(400, "bad_request", entry["error"])
    form, files = parsed
    audio = path == "/v1/audio-to-text"
    if "file" not in files:
        return error(400, *(("no_audio_uploaded", "Please upload your audio.") if audio
                            else ("no_file_uploaded", "Please upload your file.")))
    file = files["file"]
    size = len(file.read())
    if audio:
        return answer(200, {"text": f"{size} bytes of {file.filename}"})
    if len(files) > 1:
        return error(400, "too_many_files", "Only one file is allowed.")
    if not file.filename:
        return error(400, "filename_not_exists_error", "The specified filename does not exist.")
    # created_by is Dify's end-user id for the user it read: a UUID derived from it, stable per user.
    user = form.get("user") or "DEFAULT-USER"
    return answer(201, {"id": str(uuid.uuid4()), "name": file.filename, "size": size,
                        "extension": file.filename.rsplit(".", 1)[-1] if "." in file.filename else "",
                        "mime_type": file.mimetype, "created_by": str(uuid.uuid5(uuid.NAMESPACE_URL, user)),
                        "created_at": int(time.time())})


@Request.application
def app(request):
    global in_flight
    path = request.path
    if request.method == "GET" and path == "/_recorded":
        with lock:
            return answer(200, {"in_flight": in_flight, "requests": list(recorded)})
    if request.method == "POST" and path == "/_reset":
        with lock:
            recorded.clear()
        return answer(200, {"result": "success"})
    if request.method == "GET" and path == "/v1/info":
        return answer(200, {"name": "werkzeug stand-in", "description": "", "tags": [], "mode": "chat",
                            "author_name": "e2e"})
    if request.method == "GET" and path == "/v1/parameters":
        return answer(200, {"opening_statement": "", "suggested_questions": [], "user_input_form": [],
                            "file_upload": {"image": {"enabled": True, "number_limits": 3,
                                                      "transfer_methods": ["local_file"]}}})
    if request.method == "POST" and path in ("/v1/files/upload", "/v1/audio-to-text"):
        with lock:
            in_flight += 1
        try:
            return handle(request, path)
        finally:
            with lock:
                in_flight -= 1
    return error(404, "not_found", "The requested URL was not found on the server.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"http://{args.host}:{server.server_port}", flush=True)  # Werkzeug's request log goes to stderr
    server.serve_forever()
