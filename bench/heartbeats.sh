#!/usr/bin/env bash
# Heartbeat benchmark: heartbeats per second through the real agent API of `outpost serve`,
# spread over COLLECTORS seeded collectors, against an empty handler without middleware in
# the same run. Afterwards it stops the server with SIGTERM and checks that every collector
# that got a 200 has its heartbeat stored (zero lost), and reports the largest writer lag seen
# in /metrics during the run. Loopback only; each load lasts DURATION. Not part of CI.
#
# Needs wrk and sqlite3 (Debian packages wrk, sqlite3) and curl.
set -euo pipefail

cd "$(dirname "$0")/.."
COLLECTORS="${COLLECTORS:-100000}"
DURATION="${DURATION:-20s}"
WRK_THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
export WRK_THREADS

for tool in wrk sqlite3 curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing; install it (apt-get install $tool)" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p outpost
cargo build --release -q -p outpost-server --example bench_baseline --example heartbeat_seed

work="$(mktemp -d /tmp/outpost-heartbeats-XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

echo "Seeding $COLLECTORS collectors…"
mkdir -p "$work/data"
"$target/release/examples/heartbeat_seed" "sqlite://$work/data/outpost.db" "$COLLECTORS" "$work/tokens.txt" >/dev/null
export TOKENS_FILE="$work/tokens.txt"

# Starts a server command whose first stdout line ends with its address; sets $address.
start() {
    local log="$1"
    shift
    "$@" >"$log" 2>"$log.err" &
    pids+=("$!")
    for _ in $(seq 1 100); do
        address="$(grep -oE '127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)"
        [ -n "$address" ] && return 0
        sleep 0.1
    done
    echo "error: $* did not print its address; see $log.err" >&2
    exit 1
}

load() {
    wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" -s bench/heartbeat.lua "http://$1/agent/v1/heartbeat"
}

start "$work/baseline.out" "$target/release/examples/bench_baseline" 127.0.0.1:0
baseline_address="$address"
echo "Baseline (empty handler, no middleware) at $baseline_address"
baseline_output="$(load "$baseline_address")"
baseline_rate="$(awk '/Requests\/sec/ {print $2}' <<<"$baseline_output")"
kill "${pids[0]}"

start "$work/outpost.out" env RUST_LOG=warn "$target/release/outpost" serve --bind 127.0.0.1:0 --data-dir "$work/data"
outpost_pid="${pids[1]}"
outpost_address="$address"
echo "outpost serve at $outpost_address"

# Samples the writer lag gauge twice a second while the load runs.
(
    while true; do
        curl -s "http://$outpost_address/metrics" | awk '/^heartbeat_writer_lag_seconds / {print $2}'
        sleep 0.5
    done
) >"$work/lag.txt" &
sampler=$!
pids+=("$sampler")

outpost_output="$(load "$outpost_address")"
sleep 2
kill "$sampler" 2>/dev/null || true
outpost_rate="$(awk '/Requests\/sec/ {print $2}' <<<"$outpost_output")"
requests="$(awk '/requests in/ {print $1}' <<<"$outpost_output")"
failures="$(awk '/non-200 responses/ {print $3}' <<<"$outpost_output")"

kill -TERM "$outpost_pid"
wait "$outpost_pid" || true

stored="$(sqlite3 "$work/data/outpost.db" 'SELECT COUNT(*) FROM collectors WHERE uptime_seconds IS NOT NULL')"
reached=$(( requests < COLLECTORS ? requests : COLLECTORS ))
lost=$(( reached - stored ))
max_lag="$(sort -g "$work/lag.txt" | tail -1)"
ratio="$(awk -v a="$outpost_rate" -v b="$baseline_rate" 'BEGIN {printf "%.1f", 100 * a / b}')"

echo
echo "$outpost_output"
echo
printf '%-44s %s\n' "collectors" "$COLLECTORS"
printf '%-44s %s\n' "baseline requests/s (empty handler)" "$baseline_rate"
printf '%-44s %s\n' "outpost heartbeats/s" "$outpost_rate"
printf '%-44s %s %%  (goal >= 40 %%)\n' "ratio" "$ratio"
printf '%-44s %s\n' "heartbeat requests answered" "$requests"
printf '%-44s %s\n' "non-200 responses" "${failures:-unknown}"
printf '%-44s %s of %s  (lost: %s, goal 0)\n' "collectors with a stored heartbeat" "$stored" "$reached" "$lost"
printf '%-44s %s s  (goal <= 2 s)\n' "largest writer lag seen" "${max_lag:-none sampled}"
