#!/usr/bin/env bash
# POST /v1/chat at 1, 16 and 64 connections through the gateway to a zero-latency fake Dify, beside references
# measured in the same run: the fake Dify called directly, a bare nginx reverse proxy in front of it, and a bare
# Vapor + AsyncHTTPClient proxy (bench/vapor-proxy: the gateway's stack doing none of the gateway's work).
# Prints requests/s, p50/p99, the gateway's peak RSS, and how many answered chats are missing from its database.
# The gateway runs on SQLite, and also on PostgreSQL when BENCH_POSTGRES_URL (or TEST_DATABASE_URL) names a server
# (a throwaway database is created on it), reported side by side.
# With BENCH_BEFORE_BIN_DIR naming another build's folder (its chat-gateway and its resources), that build runs on
# SQLite beside this one, row by row: before and after a change, in one run. Each gateway's CPU per chat is printed.
# BENCH_CONNECTIONS picks the connection counts (default "1 16 64").
# Usage: bench/chat-throughput.sh [seconds per run, default 10]   (needs wrk and nginx: apt-get install wrk nginx-light)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
. bench/lib.sh

export BENCH_API_KEY=bench-key BENCH_DIFY_KEY=app-bench
fake_port=$(free_port); nginx_port=$(free_port); vapor_port=$(free_port); gw_port=$(free_port)
start_fake_dify "$fake_port"
start_nginx_proxy "$fake_port" "$nginx_port"
# The stack's own floor: Vapor and AsyncHTTPClient proxying the chat with none of the gateway's work
# (bench/vapor-proxy, a package of its own). Skipped when it is not built (BENCH_BIN_DIR set and no earlier build).
references=(direct nginx)
if start_vapor_proxy "$fake_port" "$vapor_port"; then references+=(vapor); fi
postgres_server=${BENCH_POSTGRES_URL:-${TEST_DATABASE_URL:-}}
stores=(sqlite); [ -n "$postgres_server" ] && stores+=(postgres)
declare -A store_url=([sqlite]="sqlite:///$work/gw.db")
if [ -n "${BENCH_BEFORE_BIN_DIR:-}" ]; then stores=(before "${stores[@]}"); store_url[before]="sqlite:///$work/gw-before.db"; fi
if [ -n "$postgres_server" ]; then
  store_url[postgres]=$(fresh_postgres_database "$postgres_server" "gw_bench_$$")
  postgres_cleanup+=("$postgres_server|gw_bench_$$")
fi
declare -A gw_ports gw_pids
for store in "${stores[@]}"; do
  gw_ports[$store]=$(free_port)
  gateway_bin_dir=$([ "$store" = before ] && echo "$BENCH_BEFORE_BIN_DIR" || echo "$bin") \
    start_gateway "$fake_port" "$BENCH_DIFY_KEY" "${gw_ports[$store]}" "${store_url[$store]}"
  gw_pids[$store]=$gw_pid
done
sleep 0.5

# run NAME CONNECTIONS URL SCRIPT -> "req/s p50ms p99ms ok"
run() {
  local out
  out=$(wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d"${duration}s" --latency -s "$4" "$3")
  echo "$out" >"$work/wrk-$1-$2.txt"
  python3 - "$work/wrk-$1-$2.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)); p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
bad = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {total - bad} {bad + errors}")
PY
}

printf '%-6s %-26s %10s %9s %9s %10s\n' conns target "req/s" "p50 ms" "p99 ms" "failed"
declare -A answered
for conns in ${BENCH_CONNECTIONS:-1 16 64}; do
  declare -A rps p50
  for target in "${references[@]}" "${stores[@]}"; do
    case $target in
      direct) url="http://127.0.0.1:$fake_port/v1/chat-messages"; export BENCH_TARGET=dify; label="fake Dify direct" ;;
      nginx)  url="http://127.0.0.1:$nginx_port/v1/chat-messages"; export BENCH_TARGET=dify; label="nginx -> fake Dify" ;;
      vapor)  url="http://127.0.0.1:$vapor_port/v1/chat-messages"; export BENCH_TARGET=dify; label="bare Vapor proxy -> fake" ;;
      *)      url="http://127.0.0.1:${gw_ports[$target]}/v1/chat"; export BENCH_TARGET=gateway; label="gateway ($target) -> fake Dify" ;;
    esac
    case $target in direct|nginx|vapor) ;; *) cpu_before=$(cpu_seconds "${gw_pids[$target]}") ;; esac
    read -r r p q ok failed < <(run "$target" "$conns" "$url" bench/wrk/chat.lua)
    rps[$target]=$r; p50[$target]=$p
    cpu=""
    case $target in
      direct|nginx|vapor) ;;
      *) answered[$target]=$(( ${answered[$target]:-0} + ok ))
         cpu=$(python3 -c "print(f'{($(cpu_seconds "${gw_pids[$target]}") - $cpu_before) * 1000 / max($ok, 1):.2f} ms CPU/chat')") ;;
    esac
    printf '%-6s %-26s %10s %9s %9s %10s  %s\n' "$conns" "$label" "$r" "$p" "$q" "$failed" "$cpu"
  done
  # Every row after the two references (direct, nginx): the bare Vapor proxy if it ran, then the gateway's.
  for target in "${references[@]:2}" "${stores[@]}"; do
    case $target in vapor) label="bare Vapor proxy" ;; *) label="gateway ($target)" ;; esac
    python3 -c "print(f'       $label/nginx throughput: {${rps[$target]}/${rps[nginx]}:.2f}x   added p50 vs nginx: {${p50[$target]}-${p50[nginx]}:.2f} ms, vs direct: {${p50[$target]}-${p50[direct]}:.2f} ms')"
  done
done
sleep 1
echo
for store in "${stores[@]}"; do
  url=${store_url[$store]}
  stored=$(count_rows "select count(*) from gateway_messages where role='assistant'" "$url")
  failed_rows=$(count_rows "select count(*) from gateway_messages where status!='complete'" "$url")
  # wrk stops counting at the deadline while the last requests are still completing, so stored can exceed answered.
  missing=$(( ${answered[$store]} > stored ? ${answered[$store]} - stored : 0 ))
  echo "gateway ($store): peak RSS $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/${gw_pids[$store]}/status"); chats answered 2xx (as counted by wrk): ${answered[$store]}; answers stored: $stored; answered but missing from the database: $missing; rows not complete: $failed_rows"
done
echo "machine: $(machine)"
