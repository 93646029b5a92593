#!/usr/bin/env bash
# Dify's own Python SDKs from PyPI against the gateway's /dify/v1: the official `dify-client` and the typed
# `dify-client-python`, each in its own virtual environment, each through a scripted session
# (e2e/dify_sdk_session.py) with a gateway key limited to one system. Nothing is mocked: the real binaries on
# loopback, the fake Dify behind the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
e2e_start
fail() { echo "FAIL: $*" >&2; tail -n 30 "$work/gateway.log" >&2 || true; exit 1; }

venvs=${DIFY_SDK_VENVS:-.build/dify-sdk-venvs}
for sdk in dify-client dify-client-python; do
    if [ ! -x "$venvs/$sdk/bin/python" ] || ! "$venvs/$sdk/bin/python" -m pip show -q "$sdk" >/dev/null 2>&1; then
        python3 -m venv "$venvs/$sdk"
        "$venvs/$sdk/bin/python" -m pip install --quiet --disable-pip-version-check "$sdk"
    fi
    echo "$sdk $("$venvs/$sdk/bin/python" -m pip show "$sdk" | sed -n 's/^Version: //p')"
done

start_fake_dify "$bin_dir/fake-dify" app-sdk-key "$work"
start_e2e_gateway app-sdk-key CHAT_GATEWAY_JWT_SECRET=sdk-secret-0123456789 \
    CHAT_GATEWAY_API_KEY="drillquiz:sdk-drillquiz-key-0123456789,cointutor:sdk-cointutor-key-0123456789"

"$venvs/dify-client/bin/python" e2e/dify_sdk_session.py dify-client "$gateway_url" sdk-drillquiz-key-0123456789 \
    drillquiz "$FAKE_URL" || fail "the dify-client session"
"$venvs/dify-client-python/bin/python" e2e/dify_sdk_session.py dify-client-python "$gateway_url" \
    sdk-cointutor-key-0123456789 cointutor "$FAKE_URL" || fail "the dify-client-python session"
