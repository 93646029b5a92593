#!/usr/bin/env bash
# The gateway with the real things around it: Debian's Prometheus scraping /metrics every second, and an OTLP/HTTP
# receiver (opentelemetry-proto) taking its traces. e2e/telemetry_check.py then chats through the gateway and
# checks the counters in Prometheus, the Grafana dashboard's queries, the spans and the JSON logs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
command -v prometheus >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
python3 -c 'import opentelemetry.proto' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check opentelemetry-proto
find_binaries
bin_dir=$BIN_DIR
work=$(mktemp -d)
FAKE_PID="" gateway_pid="" receiver_pid="" prometheus_pid=""
cleanup() {
    for pid in "$gateway_pid" "$prometheus_pid" "$receiver_pid" "$FAKE_PID"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_fake_dify "$bin_dir/fake-dify" app-telemetry-key "$work"
python3 e2e/otlp_receiver.py "$work/otlp.port" "$work/spans.jsonl" &
receiver_pid=$!
for _ in $(seq 1 50); do [ -s "$work/otlp.port" ] && break; sleep 0.1; done
otlp_port=$(cat "$work/otlp.port")

port=$(free_port)
env -i PATH="$PATH" HOME="${HOME:-/root}" DIFY_BASE_URL="$FAKE_URL" DIFY_API_KEY=app-telemetry-key \
    CHAT_GATEWAY_JWT_SECRET=telemetry-secret-0123456789 CHAT_GATEWAY_API_KEY=telemetry-key-0123456789 \
    ALLOWED_SYSTEM_IDS=drillquiz,cointutor DATABASE_URL="sqlite:///$work/gateway.db" LOG_FORMAT=json \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" OTEL_SERVICE_NAME=chat-gateway-e2e \
    OTEL_RESOURCE_ATTRIBUTES=deployment.environment=ci OTEL_EXPORTER_OTLP_HEADERS=x-collector-token=ci-header-7d2 \
    OTEL_TRACES_SAMPLER=parentbased_always_on OTEL_BSP_SCHEDULE_DELAY=200 \
    "$bin_dir/chat-gateway" serve --hostname 127.0.0.1 --port "$port" >"$work/gateway.log" 2>&1 &
gateway_pid=$!
wait_for "http://127.0.0.1:$port/readyz" gateway "$gateway_pid" || { tail -n 30 "$work/gateway.log" >&2; exit 1; }

prometheus_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: chat-gateway
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!
wait_for "http://127.0.0.1:$prometheus_port/-/ready" prometheus "$prometheus_pid" || { tail "$work/prometheus.log" >&2; exit 1; }

python3 e2e/telemetry_check.py --gateway "http://127.0.0.1:$port" --prometheus "http://127.0.0.1:$prometheus_port" \
    --fake "$FAKE_URL" --spans "$work/spans.jsonl" --log "$work/gateway.log" \
    --dashboard docs/grafana/chat-gateway.json --api-key telemetry-key-0123456789 \
    --secrets telemetry-key-0123456789,telemetry-secret-0123456789,app-telemetry-key || {
    tail -n 20 "$work/gateway.log" >&2
    exit 1
}
