#!/usr/bin/env bash
# Prints fresh CHAT_GATEWAY_JWT_SECRET and CHAT_GATEWAY_API_KEY lines to paste into .env.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift run --quiet chat-gateway gen-env
