# Shared by the bench scripts: release binaries, a scratch folder, loopback ports, and clean-up.
# Source it from the repository root: `. bench/lib.sh`.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# BENCH_BIN_DIR: a folder with prebuilt chat-gateway and fake-dify (to compare builds); otherwise a release build.
# The bare Vapor proxy is a package of its own (bench/vapor-proxy, with its own .build): built here too, unless
# BENCH_BIN_DIR is set, which then uses the one already built there, if any.
vapor_proxy_bin=$PWD/bench/vapor-proxy/.build/release/vapor-proxy-reference
if [ -n "${BENCH_BIN_DIR:-}" ]; then
  bin=$BENCH_BIN_DIR
else
  swift build -c release --product chat-gateway >/dev/null
  swift build -c release --product fake-dify >/dev/null
  swift build -c release --package-path bench/vapor-proxy >/dev/null
  bin=$(swift build -c release --show-bin-path)
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  for entry in "${postgres_cleanup[@]}"; do psql "${entry%%|*}" -qtAX -c "DROP DATABASE IF EXISTS ${entry#*|} WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until something answers HTTP on the URL (any status).
wait_for() { for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" != 000 ] && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

# start_fake_dify PORT [FLAG...]: the release fake Dify on PORT with $BENCH_DIFY_KEY, until it answers.
start_fake_dify() {
  local port=$1; shift
  "$bin/fake-dify" --host 127.0.0.1 --port "$port" --api-key "${BENCH_DIFY_KEY:-app-bench}" --log-level error "$@" >"$work/fake.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/v1/meta"
}

# start_gateway DIFY_PORT DIFY_KEY GATEWAY_PORT [DATABASE_URL]: the release gateway in production mode, on SQLite in
# $work unless a database URL is given; sets gw_pid. gateway_bin_dir, when set, names another build's folder.
start_gateway() {
  # BENCH_GATEWAY_ENV: more VAR=VALUE settings for the gateway (e.g. DIFY_MAX_CONNECTIONS=20000).
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME="$HOME" DIFY_BASE_URL="http://127.0.0.1:$1" DIFY_API_KEY="$2" ${BENCH_GATEWAY_ENV:-} \
    CHAT_GATEWAY_API_KEY="${BENCH_API_KEY:-bench-key}" CHAT_GATEWAY_JWT_SECRET=bench-secret DATABASE_URL="${4:-sqlite:///$work/gw.db}" \
    "${gateway_bin_dir:-$bin}/chat-gateway" serve --env production --hostname 127.0.0.1 --port "$3" --log warning >"$work/gw.log" 2>&1 &
  gw_pid=$!
  pids+=("$gw_pid")
  wait_for "http://127.0.0.1:$3/health"
}

# start_nginx_proxy UPSTREAM_PORT PORT: the reference every gateway row is compared with, a bare nginx reverse
# proxy (one worker, keep-alive to the upstream) in front of the fake Dify. Responses are not buffered, so a stream's
# events pass as they come, as through the gateway (for a blocking answer that changes nothing).
start_nginx_proxy() {
  cat >"$work/nginx.conf" <<NGINX
worker_processes ${NGINX_WORKERS:-1};
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body; proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fcgi; uwsgi_temp_path $work/nginx-uwsgi; scgi_temp_path $work/nginx-scgi;
  upstream fake { server 127.0.0.1:$1; keepalive 256; }
  server {
    listen 127.0.0.1:$2 backlog=4096;
    location / { proxy_pass http://fake; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work" &
  pids+=($!)
  wait_for "http://127.0.0.1:$2/v1/meta"
}

# start_vapor_proxy UPSTREAM_PORT PORT [STYLE]: the reference for the gateway's own stack, Vapor and AsyncHTTPClient
# proxying a chat with none of the gateway's work (bench/vapor-proxy; STYLE async, futures or relay). Returns 1, and
# starts nothing, when bench/vapor-proxy has not been built (BENCH_BIN_DIR set and no earlier build).
start_vapor_proxy() {
  [ -x "$vapor_proxy_bin" ] || return 1
  UPSTREAM_URL="http://127.0.0.1:$1" PROXY_STYLE="${3:-async}" "$vapor_proxy_bin" serve --env production \
    --hostname 127.0.0.1 --port "$2" --log warning >"$work/vapor-proxy.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$2/health"
}

# count_rows SQL [DATABASE_URL]: one number from the gateway's database (SQLite in $work, or a postgres:// URL).
count_rows() {
  case "${2:-}" in
    postgres*) psql "$2" -qtAX -c "$1" ;;
    sqlite:///*) python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "${2#sqlite://}" "$1" ;;
    *) python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$work/gw.db" "$1" ;;
  esac
}
# fresh_postgres_database SERVER_URL NAME: creates an empty database and prints its URL. Register it for dropping
# on exit in the calling shell: postgres_cleanup+=("SERVER_URL|NAME").
fresh_postgres_database() {
  psql "$1" -qtAX -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" >/dev/null
  python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/' + sys.argv[2])))" "$1" "$2"
}
postgres_cleanup=()
# cpu_seconds PID: the process's user and system CPU so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
peak_rss() { awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$gw_pid/status"; }
machine() { echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"; }
