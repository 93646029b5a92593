#!/usr/bin/env bash
# /dify/v1's multipart uploads judged by Werkzeug itself: the gateway forwards to e2e/werkzeug_dify.py (Dify's two
# upload routes, forms read as Flask reads them), and e2e/upload_werkzeug_attacks.py sends honest and hostile raw
# bodies, checking that Dify would read exactly one user, the gateway's `drillquiz_…`, never one the client smuggled.
# BIN_DIR_OVERRIDE=path/to/debug uses binaries already built there (no `swift build`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
if [ -n "${BIN_DIR_OVERRIDE:-}" ]; then find_binaries() { BIN_DIR=$BIN_DIR_OVERRIDE; }; fi
e2e_start

python3 -c 'import werkzeug' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check werkzeug
echo "werkzeug $(python3 -c 'import importlib.metadata as m; print(m.version("werkzeug"))')"

# The stand-in takes fake-dify's flags and prints its URL as fake-dify does, so start_fake_dify starts it.
start_fake_dify e2e/werkzeug_dify.py app-werkzeug-key "$work"
start_e2e_gateway app-werkzeug-key CHAT_GATEWAY_JWT_SECRET=werkzeug-secret-0123456789 \
    CHAT_GATEWAY_API_KEY="drillquiz:werkzeug-drillquiz-key-0123456789abcdef"

python3 e2e/upload_werkzeug_attacks.py "$gateway_port" werkzeug-drillquiz-key-0123456789abcdef "$FAKE_URL" ||
    fail_showing_log "$work/gateway.log" "Werkzeug read a form the gateway should not have forwarded (above)"
