# Sourced by scripts that need a fake Dify on loopback (check-fake-dify.sh, fuzz-gateway.sh, the e2e scripts).
#
# start_fake_dify BIN KEY WORK: starts BIN (a fake-dify binary) on a free loopback port (port 0: the fake binds one and
# prints its URL), with app key KEY, logging to WORK/fake.log. Sets FAKE_PID as soon as it runs (for the caller's
# clean-up) and FAKE_URL once it answers; fails with the fake's log if it dies or never reports its URL.
start_fake_dify() {
    local bin=$1 key=$2 work=$3
    "$bin" --host 127.0.0.1 --port 0 --api-key "$key" >"$work/fake.url" 2>"$work/fake.log" &
    FAKE_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$work/fake.url" ] && break
        kill -0 "$FAKE_PID" 2>/dev/null || { cat "$work/fake.log" >&2; echo "fake-dify died" >&2; return 1; }
        sleep 0.1
    done
    FAKE_URL="$(head -n1 "$work/fake.url")"
    [ -n "$FAKE_URL" ] || { echo "fake-dify did not report its URL" >&2; return 1; }
}

# find_binaries: sets BIN_DIR to the debug build's folder, building chat-gateway and fake-dify if either is missing.
find_binaries() {
    BIN_DIR="$(swift build --show-bin-path)"
    [ -x "$BIN_DIR/chat-gateway" ] && [ -x "$BIN_DIR/fake-dify" ] || swift build --product chat-gateway --product fake-dify
}

# e2e_start: for the e2e scripts. Installs sqlite3 if missing, sets bin_dir (find_binaries), makes the scratch folder
# $work, and on exit kills $gateway_pid and $FAKE_PID (when set) and removes $work.
e2e_start() {
    command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
    find_binaries
    bin_dir=$BIN_DIR
    work=$(mktemp -d)
    FAKE_PID="" gateway_pid=""
    trap e2e_cleanup EXIT
}
e2e_cleanup() {
    # SIGKILL: a SIGTERM would wait SHUTDOWN_GRACE_READY for nothing.
    [ -n "$gateway_pid" ] && { kill -9 "$gateway_pid" && wait "$gateway_pid"; } 2>/dev/null || true
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true
    rm -rf "$work"
}

# free_port: prints a free loopback TCP port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_gateway URL PID: waits up to 30 s for URL/readyz to answer; fails at once if PID dies first.
wait_for_gateway() {
    local url=$1 pid=$2
    for _ in $(seq 1 300); do
        curl -fsS "$url/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { echo "the gateway died at start-up" >&2; return 1; }
        sleep 0.1
    done
    echo "the gateway was not ready at $url within 30 s" >&2
    return 1
}
