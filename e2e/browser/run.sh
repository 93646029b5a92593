#!/usr/bin/env bash
# Browser end-to-end tests of the chat page and the widget: the built `chat-gateway` in front of the built
# `fake-dify`, both on free loopback ports, driven by headless Chromium through selenium (pytest).
# Screenshots go to e2e/artifacts/screenshots/. Needs: chromium, chromium-driver, python3 selenium + pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
root=$(pwd)
# Always (incrementally) build: the page's files are copied into the build's resource bundle, so a binary
# built before an edit of the page (Resources/pages/chat/*.js) would serve the old one.
swift build --product chat-gateway >/dev/null
swift build --product fake-dify >/dev/null
bin="$(swift build --show-bin-path)"

work=$(mktemp -d)
artifacts="$root/e2e/artifacts"
mkdir -p "$artifacts/screenshots"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  cp "$work/gateway.log" "$artifacts/gateway.log" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 150); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }

dify_port=$(free_port)
"$bin/fake-dify" --port "$dify_port" --api-key app-e2e-key --token-delay-ms 15 >"$work/fake-dify.log" 2>&1 &
pids+=($!)
gateway_port=$(free_port)
env -i PATH="$PATH" HOME="${HOME:-/root}" LOG_LEVEL=debug \
  DIFY_BASE_URL="http://127.0.0.1:$dify_port" DIFY_API_KEY=app-e2e-key \
  CHAT_GATEWAY_JWT_SECRET=e2e-secret-0123456789 CHAT_GATEWAY_API_KEY=e2e-api-key CHAT_GATEWAY_BROWSER_KEY=drillquiz:e2e-browser-key \
  DIFY_ALLOWED_NETWORKS=127.0.0.0/8 CHAT_GATEWAY_ADMIN_KEY=e2e-admin-key CHAT_GATEWAY_ENCRYPTION_KEY=$(python3 -c 'import os; print(os.urandom(32).hex())') \
  DATABASE_URL="sqlite:///$work/gateway.db" STREAM_KEEPALIVE_SECONDS=2 \
  WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 WEBHOOK_RETRY_SCHEDULE=1,1,1 \
  "$bin/chat-gateway" serve --hostname 127.0.0.1 --port "$gateway_port" >"$work/gateway.out" 2>"$work/gateway.log" &
pids+=($!)
wait_for "http://127.0.0.1:$dify_port/_fake/stats"
wait_for "http://127.0.0.1:$gateway_port/health"

export GATEWAY_URL="http://127.0.0.1:$gateway_port" FAKE_DIFY_URL="http://127.0.0.1:$dify_port"
export GATEWAY_API_KEY=e2e-api-key GATEWAY_JWT_SECRET=e2e-secret-0123456789 GATEWAY_ADMIN_KEY=e2e-admin-key
export GATEWAY_DB="$work/gateway.db" SCREENSHOT_DIR="$artifacts/screenshots"
# Extra arguments go to pytest: `run.sh -k webhooks` runs only the tests whose names match.
python3 -m pytest -p no:cacheprovider -q "$root/e2e/browser" "$@"

# The token travels in the page URL and in every Authorization header: none may reach the log.
if grep -q 'eyJ' "$work/gateway.log"; then
  echo "FAIL: a JWT appears in the gateway's log" >&2
  exit 1
fi
# (Only when every test ran: a selection such as `-k webhooks` may open no chat page at all.)
if [ $# -eq 0 ]; then
  grep -q '"/chat"\|path=/chat\|/chat ' "$work/gateway.log" || { echo "FAIL: the log shows no /chat request at all" >&2; exit 1; }
fi
# The history page takes the API key in a form and in the seed's ?api_key= link: it must not reach the log either.
if grep -q 'e2e-api-key' "$work/gateway.log"; then
  echo "FAIL: the API key appears in the gateway's log" >&2
  exit 1
fi
# Nor may the admin key, typed into the console's sign-in form, or a key the console created (cgk_...).
if grep -q 'e2e-admin-key\|cgk_' "$work/gateway.log"; then
  echo "FAIL: the admin key or a created key appears in the gateway's log" >&2
  exit 1
fi
# Nor a webhook secret the console was shown (whsec_...).
if grep -q 'whsec_' "$work/gateway.log"; then
  echo "FAIL: a webhook secret appears in the gateway's log" >&2
  exit 1
fi
echo "browser e2e: gateway log holds no token, no API key, no admin key and no webhook secret"
