#!/usr/bin/env bash
# Prints a test chat JWT and its /chat?token= URL, signed with CHAT_GATEWAY_JWT_SECRET from the environment or .env.
# Usage: ./scripts/gen-jwt.sh [system_id] [user_id]     e.g. ./scripts/gen-jwt.sh cointutor 999
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift run --quiet chat-gateway gen-jwt "$@"
