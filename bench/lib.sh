# Shared by the bench scripts: release binaries, a scratch folder, loopback ports, and clean-up.
# Source it from the repository root: `. bench/lib.sh`.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
swift build -c release --product chat-gateway >/dev/null
swift build -c release --product fake-dify >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until something answers HTTP on the URL (any status).
wait_for() { for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" != 000 ] && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

# start_gateway DIFY_PORT DIFY_KEY GATEWAY_PORT: the release gateway on SQLite in $work, production mode; sets gw_pid.
start_gateway() {
  env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$1" DIFY_API_KEY="$2" \
    CHAT_GATEWAY_API_KEY="${BENCH_API_KEY:-bench-key}" CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="sqlite:///$work/gw.db" \
    "$bin/chat-gateway" serve --env production --hostname 127.0.0.1 --port "$3" --log warning >"$work/gw.log" 2>&1 &
  gw_pid=$!
  pids+=("$gw_pid")
  wait_for "http://127.0.0.1:$3/health"
}

# count_rows SQL: one number from the gateway's database.
count_rows() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$work/gw.db" "$1"; }
peak_rss() { awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$gw_pid/status"; }
machine() { echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"; }
