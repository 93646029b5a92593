# Sourced by scripts that need a fake Dify on loopback (check-fake-dify.sh, fuzz-gateway.sh).
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
