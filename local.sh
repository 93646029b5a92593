#!/usr/bin/env bash
# Runs the gateway locally (reads .env if present). Extra arguments go to `serve`, e.g. ./local.sh --port 9000
set -euo pipefail
cd "$(dirname "$0")"
exec swift run chat-gateway serve "$@"
