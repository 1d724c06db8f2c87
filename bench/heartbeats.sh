#!/usr/bin/env bash
# Heartbeat benchmark: heartbeats per second through the real agent API of `outpost serve`,
# spread over COLLECTORS seeded collectors, against an empty handler without middleware in
# the same run. Each server first gets an unmeasured load of WARMUP; for outpost that is the
# first heartbeat of every collector since the start, each of which reads the credential from
# the database, and its rate is reported too. Then each gets the measured load of DURATION.
# Afterwards it stops outpost with SIGTERM and checks that every collector that got a 200 in
# the measured load has that heartbeat stored (zero lost), and reports the largest writer lag
# of any batch, from /metrics. Loopback only. Not part of CI.
#
# Needs wrk and sqlite3 (Debian packages wrk, sqlite3) and curl.
set -euo pipefail

cd "$(dirname "$0")/.."
COLLECTORS="${COLLECTORS:-100000}"
DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-10s}"
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

# Loads address $1 for $2 with heartbeats that report uptime $3.
load() {
    UPTIME="$3" wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$2" -s bench/heartbeat.lua "http://$1/agent/v1/heartbeat"
}

start "$work/baseline.out" "$target/release/examples/bench_baseline" 127.0.0.1:0
baseline_address="$address"
echo "Baseline (empty handler, no middleware) at $baseline_address"
load "$baseline_address" "$WARMUP" 1 >/dev/null
baseline_output="$(load "$baseline_address" "$DURATION" 1)"
baseline_rate="$(awk '/Requests\/sec/ {print $2}' <<<"$baseline_output")"
kill "${pids[0]}"

start "$work/outpost.out" env RUST_LOG=warn "$target/release/outpost" serve --bind 127.0.0.1:0 --data-dir "$work/data"
outpost_pid="${pids[1]}"
outpost_address="$address"
echo "outpost serve at $outpost_address"

echo "Warm-up: $WARMUP of first heartbeats, then $DURATION measured"
warmup_output="$(load "$outpost_address" "$WARMUP" 1)"
warmup_rate="$(awk '/Requests\/sec/ {print $2}' <<<"$warmup_output")"
warmup_requests="$(awk '/requests in/ {print $1}' <<<"$warmup_output")"
outpost_output="$(load "$outpost_address" "$DURATION" 2)"
sleep 2
# The lag summary covers the last minute, which includes both loads, so quantile 1 is the
# largest lag of any batch written in them.
curl -s "http://$outpost_address/metrics" | grep '^heartbeat' >"$work/writer.txt"
max_lag="$(awk '/^heartbeat_writer_lag_seconds\{quantile="1"\}/ {printf "%.2f", $2}' "$work/writer.txt")"
outpost_rate="$(awk '/Requests\/sec/ {print $2}' <<<"$outpost_output")"
requests="$(awk '/requests in/ {print $1}' <<<"$outpost_output")"
failures="$(awk '/non-200 responses/ {print $3}' <<<"$outpost_output")"
warmup_failures="$(awk '/non-200 responses/ {print $3}' <<<"$warmup_output")"

kill -TERM "$outpost_pid"
wait "$outpost_pid" || true

# Heartbeats of the measured load report uptime 2; those of the warm-up, 1.
stored="$(sqlite3 "$work/data/outpost.db" 'SELECT COUNT(*) FROM collectors WHERE uptime_seconds = 2')"
reached=$(( requests < COLLECTORS ? requests : COLLECTORS ))
lost=$(( reached - stored ))
ratio="$(awk -v a="$outpost_rate" -v b="$baseline_rate" 'BEGIN {printf "%.1f", 100 * a / b}')"

echo
echo "$outpost_output"
echo
echo "Heartbeat writer metrics after both loads:"
cat "$work/writer.txt"
echo
printf '%-44s %s\n' "collectors" "$COLLECTORS"
printf '%-44s %s\n' "baseline requests/s (empty handler)" "$baseline_rate"
printf '%-44s %s (%s requests, %s non-200)\n' "outpost first heartbeats/s (warm-up)" "$warmup_rate" "$warmup_requests" "${warmup_failures:-unknown}"
printf '%-44s %s\n' "outpost heartbeats/s" "$outpost_rate"
printf '%-44s %s %%  (goal >= 40 %%)\n' "ratio" "$ratio"
printf '%-44s %s\n' "heartbeat requests answered" "$requests"
printf '%-44s %s\n' "non-200 responses" "${failures:-unknown}"
printf '%-44s %s of %s  (lost: %s, goal 0)\n' "collectors with a stored heartbeat" "$stored" "$reached" "$lost"
printf '%-44s %s s  (goal <= 2 s)\n' "largest writer lag seen" "${max_lag:-none sampled}"
