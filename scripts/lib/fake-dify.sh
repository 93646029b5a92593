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

# start_e2e_gateway DIFY_KEY [VAR=VALUE ...]: for the e2e scripts, after e2e_start and start_fake_dify. The built
# chat-gateway on a free loopback port in front of $FAKE_URL (app key DIFY_KEY), its SQLite file $work/gateway.db,
# with the settings VAR=VALUE (keys, secrets) and nothing else: env -i keeps the operator's .env and shell out.
# Logs to $work/gateway.log; sets gateway_port, gateway_url and gateway_pid; fails showing the log unless it is ready.
start_e2e_gateway() {
    local dify_key=$1
    shift
    gateway_port=$(free_port)
    gateway_url="http://127.0.0.1:$gateway_port"
    env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY="$dify_key" \
        DATABASE_URL="sqlite:///$work/gateway.db" "$@" \
        "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$gateway_port" >"$work/gateway.log" 2>&1 &
    gateway_pid=$!
    wait_for "$gateway_url/readyz" "the gateway" "$gateway_pid" ||
        fail_showing_log "$work/gateway.log" "starting the gateway"
}

# free_port: prints a free loopback TCP port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for URL WHAT PID: waits up to 15 s for URL to answer 2xx; fails at once if PID (WHAT) dies first.
wait_for() {
    for _ in $(seq 1 150); do
        curl -fsS "$1" >/dev/null 2>&1 && return 0
        kill -0 "$3" 2>/dev/null || { echo "FAIL: $2 died" >&2; return 1; }
        sleep 0.1
    done
    echo "FAIL: $2 never answered $1" >&2
    return 1
}

# fail_showing_log LOG MESSAGE: prints MESSAGE, then the gateway log LOG's errors (the last 20) and its last 30
# lines, and exits 1.
fail_showing_log() {
    local log=$1
    shift
    echo "FAIL: $*" >&2
    echo "--- gateway log: errors (last 20), then the last 30 lines" >&2
    grep -E ' (error|critical) ' "$log" 2>/dev/null | tail -n 20 >&2 || true
    echo "..." >&2
    tail -n 30 "$log" >&2 2>/dev/null || true
    exit 1
}
