#!/usr/bin/env bash
# Runs the browser acceptance suite against the outpost release binary.
#
#   OUTPOST_BIN           path of the binary; default ../target/release/outpost from this folder
#   OUTPOST_COLLECTOR_BIN path of the outpost-collector agent that the collector flow runs;
#                         default ../target/release/outpost-collector from this folder
#   OUTPOST_DATABASE_URL  postgres://USER@127.0.0.1:PORT/DB to run on PostgreSQL, where the
#                         suite creates a fresh database per server start; unset runs on SQLite
#   CI=true               makes a missing chromium, psql, oathtool, zbarimg or outpost-collector
#                         fail the run instead of skipping the tests that need it
set -euo pipefail

e2e_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A relative OUTPOST_BIN is taken from the caller's working directory.
binary="${OUTPOST_BIN:-$e2e_dir/../target/release/outpost}"
if [[ ! -x "$binary" ]]; then
  echo "error: outpost binary not found or not executable at $binary; build it with 'cargo build --release -p outpost' or set OUTPOST_BIN" >&2
  exit 1
fi
OUTPOST_BIN="$(realpath "$binary")"
export OUTPOST_BIN

collector_binary="${OUTPOST_COLLECTOR_BIN:-$e2e_dir/../target/release/outpost-collector}"
if [[ ! -x "$collector_binary" ]]; then
  message="outpost-collector binary not found or not executable at $collector_binary; build it with 'cargo build --release -p outpost-collector' or set OUTPOST_COLLECTOR_BIN"
  if [[ "${CI:-}" == "true" ]]; then
    echo "error: $message" >&2
    exit 1
  fi
  echo "warning: $message; the collector flow is skipped" >&2
fi
# realpath -m resolves a missing file too, so the flow names the path it looked at.
OUTPOST_COLLECTOR_BIN="$(realpath -m "$collector_binary")"
export OUTPOST_COLLECTOR_BIN

node_major="$(node --version | sed -E 's/^v([0-9]+).*/\1/')"
if (( node_major < 20 )); then
  echo "error: Node.js 20 or newer is required, found $(node --version)" >&2
  exit 1
fi

cd "$e2e_dir"
if [[ ! -d node_modules ]]; then
  # --ignore-scripts: no package may run an install step (such as a browser download).
  npm ci --ignore-scripts
fi

exec node --test --test-reporter=spec tests/*.test.js
