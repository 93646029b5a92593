#!/usr/bin/env bash
# Real OpenAI clients from PyPI against the gateway's /openai/v1: the official `openai` SDK, LangChain's
# `langchain-openai` and LiteLLM, each in its own virtual environment, each through a scripted session
# (e2e/openai_client_session.py, e2e/openai_langchain.py, e2e/openai_litellm.py). Nothing is mocked: the real
# binaries on loopback, the fake Dify behind the gateway.
#
# Three systems: drillquiz and cointutor from the environment (cointutor's model named `coin-tutor`), and `quota`
# from the admin API with a per-user budget of one token a day, so its second chat is refused. Two keys: one
# limited to drillquiz, one for every system. STREAM_KEEPALIVE_SECONDS=1, so that a slow answer's stream carries
# keep-alive comments between chunks, as a thinking Dify app's does after 15 s.
#
# Env: OPENAI_CLIENT_VENVS (default .build/openai-client-venvs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/fake-dify.sh
e2e_start
fail() { fail_showing_log "$work/gateway.log" "$@"; }

venvs=${OPENAI_CLIENT_VENVS:-.build/openai-client-venvs}
for client in openai langchain-openai litellm; do
    python="$venvs/$client/bin/python"
    if [ ! -x "$python" ] || ! "$python" -m pip show -q "$client" >/dev/null 2>&1; then
        python3 -m venv "$venvs/$client"
        "$python" -m pip install --quiet --disable-pip-version-check "$client"
    fi
    echo "$client $("$python" -m pip show "$client" | sed -n 's/^Version: //p')" \
        "(openai $("$python" -m pip show openai | sed -n 's/^Version: //p'))"
done

drillquiz_key=oa-drillquiz-key-0123456789
all_key=oa-all-key-0123456789
admin_key=oa-admin-key-0123456789
shared_app_key=app-oa-shared-key
start_fake_dify "$bin_dir/fake-dify" "$shared_app_key" "$work"
# Each environment system its own Dify app key; the fake takes all three.
curl -fsS "$FAKE_URL/_fake/options" -H 'Content-Type: application/json' \
    -d "{\"api_keys\": [\"$shared_app_key\", \"app-oa-drillquiz-key\", \"app-oa-cointutor-key\"]}" >/dev/null
start_e2e_gateway "$shared_app_key" CHAT_GATEWAY_JWT_SECRET=openai-secret-0123456789 \
    CHAT_GATEWAY_API_KEY="drillquiz:$drillquiz_key,$all_key" \
    DIFY_DRILLQUIZ_API_KEY=app-oa-drillquiz-key DIFY_COINTUTOR_API_KEY=app-oa-cointutor-key \
    DIFY_COINTUTOR_OPENAI_MODEL=coin-tutor STREAM_KEEPALIVE_SECONDS=1 \
    CHAT_GATEWAY_ADMIN_KEY="$admin_key" CHAT_GATEWAY_ENCRYPTION_KEY=openai-encryption-key-0123456789abcdef0123

# The third system, with the shared Dify app and a budget its users spend in one answer.
status=$(curl -sS -o "$work/quota.json" -w '%{http_code}' -X POST "$gateway_url/admin/v1/systems" \
    -H "X-Admin-Key: $admin_key" -H 'Content-Type: application/json' \
    -d '{"system_id": "quota", "name": "Quota", "budget": {"per_user_tokens_per_day": 1}}')
[ "$status" = 201 ] || [ "$status" = 200 ] || fail "creating the system quota: HTTP $status $(cat "$work/quota.json")"
# The registry reloads within two seconds; wait until the model is offered.
for _ in $(seq 1 100); do
    curl -fsS "$gateway_url/openai/v1/models" -H "Authorization: Bearer $all_key" 2>/dev/null |
        grep -q '"quota"' && break
    sleep 0.1
done

# Every client runs, whatever the one before it found; the script fails at the end if any did.
failed=()
"$venvs/openai/bin/python" e2e/openai_client_session.py "$gateway_url" "$FAKE_URL" "$drillquiz_key" "$all_key" \
    "$shared_app_key" || failed+=("openai")
"$venvs/langchain-openai/bin/python" e2e/openai_langchain.py "$gateway_url" "$drillquiz_key" "$all_key" ||
    failed+=("langchain-openai")
LITELLM_LOCAL_MODEL_COST_MAP=True "$venvs/litellm/bin/python" e2e/openai_litellm.py "$gateway_url" \
    "$drillquiz_key" "$all_key" || failed+=("litellm")
[ ${#failed[@]} -eq 0 ] || fail "the sessions of ${failed[*]}"
kill -0 "$gateway_pid" 2>/dev/null || fail "the gateway died during the run"
echo "openai-clients: every client passed"
