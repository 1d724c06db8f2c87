#!/usr/bin/env bash
# Benchmark harness for Outpost; docs/BENCHMARKS.md explains the measurements and records
# results. It builds release, starts `outpost serve` and a middleware-free axum baseline on
# free loopback ports, loads them with wrk, prints a table against the goals and stops the
# servers. Every request goes to 127.0.0.1. Not part of CI.
#
# Settings (environment variables):
#   BENCH_DURATION             seconds of the measured POST /sign-in run (default 10)
#   BENCH_HEALTHZ_DURATION     seconds of each measured GET /healthz run (default 5)
#   BENCH_HEALTHZ_ROUNDS       GET /healthz runs on each server, alternating (default 3)
#   BENCH_WARMUP               seconds of the unmeasured GET /healthz run on each server (default 2)
#   BENCH_ARGON2_SECONDS       seconds of each argon2 rate measurement (default 5)
#   BENCH_HEALTHZ_CONNECTIONS  wrk connections for GET /healthz (default 64)
#   BENCH_SIGN_IN_CONNECTIONS  wrk connections for POST /sign-in (default 4 per core)
#   BENCH_QUIET_WAIT           max seconds to wait for other processes to go quiet (default 120)
#   BENCH_KEEP                 1 keeps the temporary folder with logs and wrk output
set -euo pipefail

DURATION=${BENCH_DURATION:-10}
HEALTHZ_DURATION=${BENCH_HEALTHZ_DURATION:-5}
HEALTHZ_ROUNDS=${BENCH_HEALTHZ_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-2}
ARGON2_SECONDS=${BENCH_ARGON2_SECONDS:-5}
CORES=$(nproc)
HEALTHZ_CONNECTIONS=${BENCH_HEALTHZ_CONNECTIONS:-64}
SIGN_IN_CONNECTIONS=${BENCH_SIGN_IN_CONNECTIONS:-$((CORES * 4))}
QUIET_WAIT=${BENCH_QUIET_WAIT:-120}
KEEP=${BENCH_KEEP:-0}

# Goals: outpost's GET /healthz rate against the baseline's, and the sign-in rate against
# the single-thread argon2 rate times the number of cores.
HEALTHZ_GOAL=0.60
SIGN_IN_GOAL=0.85
# Other processes may use at most this share of the machine, in percent, during a phase
# before its figures are marked as disturbed.
QUIET_PERCENT=10

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_DIR/target}/release
CLOCK_TICKS=$(getconf CLK_TCK)

USERNAME=bench.user@example.com
PASSWORD="copper kettle river lantern"

WORK_DIR=""
SERVER_PIDS=()

log() {
    printf '[bench] %s\n' "$*" >&2
}

fail() {
    printf '[bench] error: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local status=$?
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $WORK_DIR ]]; then
        if [[ $status -ne 0 && -f $WORK_DIR/outpost.log ]]; then
            log "last lines of the outpost log:"
            tail -n 20 "$WORK_DIR/outpost.log" >&2 || true
        fi
        if [[ $KEEP == 1 ]]; then
            log "kept logs and wrk output in $WORK_DIR"
        else
            rm -rf "$WORK_DIR"
        fi
    fi
}
trap cleanup EXIT

require_tools() {
    if ! command -v wrk >/dev/null; then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            log "wrk is missing; installing Debian's wrk package"
            apt-get update -qq && apt-get install -y -qq wrk >/dev/null
        else
            fail "wrk is missing; install it with: sudo apt-get install -y wrk"
        fi
    fi
    for tool in cargo curl awk; do
        command -v "$tool" >/dev/null || fail "$tool is missing; install it and run again"
    done
}

build() {
    log "building release: outpost and the bench examples"
    # Two commands, so the outpost binary is built with the same features as a plain
    # release build and not with those that the examples' dev-dependencies add.
    (cd "$REPO_DIR" && cargo build --release --quiet -p outpost)
    (cd "$REPO_DIR" && cargo build --release --quiet -p outpost-server --example bench_baseline --example argon2_rate)
}

# Prints "PROCESSES TOTAL IDLE": CPU ticks since boot from /proc/stat. PROCESSES is the time
# spent in processes (user, nice, system) plus the time the hypervisor took (steal), and
# IDLE includes I/O wait. Interrupt time is in neither, because the kernel does not charge
# it to any process, and on loopback it mostly serves the benchmark's own traffic.
machine_ticks() {
    awk '/^cpu / { processes = $2 + $3 + $4 + $9; idle = $5 + $6; print processes, processes + idle + $7 + $8, idle }' /proc/stat
}

# Prints the CPU ticks (user + system) that process $1 has used so far. The servers'
# command names contain no spaces, so the fields of /proc/PID/stat split cleanly.
process_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Prints the minor page faults that process $1 has taken so far.
process_minor_faults() {
    awk '{ print $10 }' "/proc/$1/stat"
}

# Sets CHILDREN_TICKS to the CPU ticks used so far by this script's finished children, such
# as wrk. The `times` builtin runs in this shell, not in a command substitution, because a
# subshell reports only its own children.
CHILDREN_TICKS=0
update_children_ticks() {
    times >"$WORK_DIR/times.txt"
    CHILDREN_TICKS=$(awk -v hz="$CLOCK_TICKS" 'NR == 2 {
        ticks = 0
        for (field = 1; field <= 2; field++) {
            split($field, parts, /[ms]/)
            ticks += (parts[1] * 60 + parts[2]) * hz
        }
        printf "%d\n", ticks
    }' "$WORK_DIR/times.txt")
}

# Prints the sum of process_ticks over the running servers.
servers_ticks() {
    local sum=0 pid
    for pid in "${SERVER_PIDS[@]}"; do
        sum=$((sum + $(process_ticks "$pid")))
    done
    echo "$sum"
}

PHASE_START=""

phase_start() {
    update_children_ticks
    PHASE_START="$(machine_ticks) $(servers_ticks) $CHILDREN_TICKS"
}

# Sets OTHER_PERCENT to the share of the machine, in percent, that processes other than the
# servers and this script's children used since phase_start, and BUSY_PERCENT to the share
# that was not idle.
OTHER_PERCENT=0
BUSY_PERCENT=0
phase_end() {
    local now shares
    update_children_ticks
    now="$(machine_ticks) $(servers_ticks) $CHILDREN_TICKS"
    shares=$(awk -v start="$PHASE_START" -v now="$now" 'BEGIN {
        split(start, s, " ")
        split(now, n, " ")
        total = n[2] - s[2]
        other = (n[1] - s[1]) - (n[4] - s[4]) - (n[5] - s[5])
        other_percent = (total > 0) ? 100 * other / total : 0
        busy_percent = (total > 0) ? 100 * (total - (n[3] - s[3])) / total : 0
        printf "%.0f %.0f\n", (other_percent < 0) ? 0 : other_percent, busy_percent
    }')
    read -r OTHER_PERCENT BUSY_PERCENT <<<"$shares"
}

# Waits up to QUIET_WAIT seconds until other processes use less than QUIET_PERCENT of the
# machine over 3 seconds, because a build running beside the benchmark takes its cores.
wait_for_quiet() {
    local waited=0 other
    while true; do
        phase_start
        sleep 3
        phase_end
        other=$OTHER_PERCENT
        if ((other < QUIET_PERCENT)); then
            log "other processes use ${other}% of the machine; starting"
            return
        fi
        if ((waited >= QUIET_WAIT)); then
            log "warning: other processes still use ${other}% of the machine after ${waited} s; measuring anyway"
            return
        fi
        log "other processes use ${other}% of the machine; waiting for them to finish"
        sleep 5
        waited=$((waited + 8))
    done
}

# Runs the argon2_rate example with options "$@" and prints its last line, which contains
# key=value figures such as verifications_per_second=R.
argon2_rate() {
    "$TARGET_DIR/examples/argon2_rate" --seconds "$ARGON2_SECONDS" "$@" | tail -n 1
}

# Prints the value of key $2 in the line of key=value pairs $1, or "n/a" when it is absent.
key_value() {
    echo "$1" | tr ' ' '\n' | awk -F= -v key="$2" '$1 == key { value = $2 } END { print (value == "" ? "n/a" : value) }'
}

# Starts command "$@" in the background with standard output in $1 and standard error in
# $2, waits until standard output contains a line matching $3, and sets SERVER_URL to the
# http://127.0.0.1:PORT address in that output and SERVER_PID to the process id.
SERVER_URL=""
SERVER_PID=""
start_server() {
    local stdout_file=$1 stderr_file=$2 ready_pattern=$3
    shift 3
    "$@" >"$stdout_file" 2>"$stderr_file" &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")

    local attempt
    for ((attempt = 1; attempt <= 100; attempt++)); do
        if grep -qs "$ready_pattern" "$stdout_file"; then
            SERVER_URL="http://$(grep -o '127\.0\.0\.1:[0-9]*' "$stdout_file" | head -n 1)"
            return
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "$1 exited before listening; see $stderr_file"
        sleep 0.1
    done
    fail "$1 did not report its address within 10 s; see $stderr_file"
}

stop_server() {
    local pid=$1 index
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for index in "${!SERVER_PIDS[@]}"; do
        if [[ ${SERVER_PIDS[$index]} == "$pid" ]]; then
            unset 'SERVER_PIDS[index]'
        fi
    done
}

# Prints field $2 of wrk's output in file $1: rate, requests, non_success or socket_errors.
wrk_figure() {
    local file=$1 figure=$2
    case $figure in
        rate) awk '/^Requests\/sec:/ { print $2 }' "$file" ;;
        requests) awk '/ requests in / { print $1 }' "$file" ;;
        non_success) awk '/Non-2xx or 3xx responses:/ { count = $NF } END { print count + 0 }' "$file" ;;
        socket_errors)
            awk '/Socket errors:/ {
                gsub(/,/, "")
                count = $4 + $6 + $8 + $10
            } END { print count + 0 }' "$file"
            ;;
    esac
}

# Prints the latency at percentile $2 (such as 99%) from wrk --latency output in file $1.
wrk_percentile() {
    awk -v percentile="$2" '$1 == percentile { print $2 }' "$1"
}

# Prints the count of outpost's http_requests_total for POST /sign-in with status $2, from
# the /metrics endpoint at $1.
sign_in_metric() {
    curl -sS "$1/metrics" | awk -v status="$2" '/^http_requests_total\{/ &&
        /method="POST"/ && /route="\/sign-in"/ && index($0, "status=\"" status "\"") { count += $NF }
        END { printf "%d\n", count }'
}

# Prints the value of the hidden csrf_token field in the HTML file $1.
csrf_token_from_page() {
    grep -o 'name="csrf_token" value="[^"]*"' "$1" | head -n 1 | sed 's/.*value="\([^"]*\)"/\1/'
}

# Prints the value of the outpost_csrf cookie in the curl cookie jar $1.
csrf_cookie_from_jar() {
    awk '$6 == "outpost_csrf" { print $7 }' "$1"
}

check_status() {
    local expected=$1 actual=$2 what=$3
    [[ $actual == "$expected" ]] || fail "$what returned status $actual, expected $expected"
}

# Divides $1 by $2 and prints the result with 2 decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }'
}

# Prints "met" when $1 >= $2, else "NOT met".
verdict() {
    awk -v value="$1" -v goal="$2" 'BEGIN { print (value >= goal ? "met" : "NOT met") }'
}

# Measures argon2id on its own: the raw single-thread rate that the sign-in goal scales
# from, the raw rate on every core, the rate through the server's PasswordHasher, and the
# rate of the same path with reused argon2 memory (see argon2_rate.rs).
measure_argon2() {
    log "measuring argon2id verifications per second: raw on 1 and $CORES threads, through PasswordHasher, pooled"
    phase_start
    ARGON2_SINGLE=$(argon2_rate --threads 1)
    ARGON2_PARALLEL=$(argon2_rate --threads "$CORES")
    ARGON2_HASHER=$(argon2_rate --hasher-callers "$SIGN_IN_CONNECTIONS")
    ARGON2_POOLED=$(argon2_rate --pooled-callers "$SIGN_IN_CONNECTIONS")
    phase_end
    ARGON2_OTHER=$OTHER_PERCENT
}

start_servers() {
    log "starting the baseline and outpost on free loopback ports"
    start_server "$WORK_DIR/baseline.out" "$WORK_DIR/baseline.log" "listening on" \
        "$TARGET_DIR/examples/bench_baseline" 127.0.0.1:0
    BASELINE_URL=$SERVER_URL
    BASELINE_PID=$SERVER_PID
    start_server "$WORK_DIR/outpost.out" "$WORK_DIR/outpost.log" "Outpost is running" \
        "$TARGET_DIR/outpost" serve --bind 127.0.0.1:0 --data-dir "$WORK_DIR/data"
    OUTPOST_URL=$SERVER_URL
    OUTPOST_PID=$SERVER_PID
    log "baseline at $BASELINE_URL, outpost at $OUTPOST_URL"

    check_status 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$BASELINE_URL/healthz")" "baseline GET /healthz"
    check_status 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$OUTPOST_URL/healthz")" "outpost GET /healthz"
}

# Loads GET /healthz on the baseline and on outpost in turn, HEALTHZ_ROUNDS times, with the
# same wrk settings. Alternating rounds and taking each server's median keeps a slow spell
# of the machine from landing on one server only.
measure_healthz() {
    log "GET /healthz: ${WARMUP} s warm-up, then $HEALTHZ_ROUNDS rounds of ${HEALTHZ_DURATION} s on each server, $HEALTHZ_CONNECTIONS connections"
    local server url errors round file
    phase_start
    for server in baseline outpost; do
        if [[ $server == baseline ]]; then url=$BASELINE_URL; else url=$OUTPOST_URL; fi
        wrk -t"$CORES" -c"$HEALTHZ_CONNECTIONS" -d"${WARMUP}s" "$url/healthz" >/dev/null
    done
    local -A server_ticks=([baseline]=0 [outpost]=0) server_requests=([baseline]=0 [outpost]=0) server_pids=([baseline]=$BASELINE_PID [outpost]=$OUTPOST_PID)
    local ticks_before
    for ((round = 1; round <= HEALTHZ_ROUNDS; round++)); do
        for server in baseline outpost; do
            if [[ $server == baseline ]]; then url=$BASELINE_URL; else url=$OUTPOST_URL; fi
            file=$WORK_DIR/healthz-$server-$round.txt
            ticks_before=$(process_ticks "${server_pids[$server]}")
            wrk -t"$CORES" -c"$HEALTHZ_CONNECTIONS" -d"${HEALTHZ_DURATION}s" --latency "$url/healthz" >"$file"
            server_ticks[$server]=$((server_ticks[$server] + $(process_ticks "${server_pids[$server]}") - ticks_before))
            server_requests[$server]=$((server_requests[$server] + $(wrk_figure "$file" requests)))
            errors=$(($(wrk_figure "$file" non_success) + $(wrk_figure "$file" socket_errors)))
            ((errors == 0)) || fail "$server GET /healthz had $errors failed responses or socket errors; see $file"
        done
    done
    phase_end
    HEALTHZ_OTHER=$OTHER_PERCENT

    # Server CPU per request depends less on how the scheduler shares the cores with wrk
    # than the request rate does.
    BASELINE_CPU_US=$(per_request_microseconds "${server_ticks[baseline]}" "${server_requests[baseline]}")
    OUTPOST_CPU_US=$(per_request_microseconds "${server_ticks[outpost]}" "${server_requests[outpost]}")
    BASELINE_BYTES=$(response_bytes baseline)
    OUTPOST_BYTES=$(response_bytes outpost)

    BASELINE_RATES=$(healthz_rates baseline)
    OUTPOST_RATES=$(healthz_rates outpost)
    BASELINE_RATE=$(median "$BASELINE_RATES")
    OUTPOST_RATE=$(median "$OUTPOST_RATES")
}

# Prints CPU ticks $1 spread over $2 requests, in microseconds per request.
per_request_microseconds() {
    awk -v ticks="$1" -v hz="$CLOCK_TICKS" -v count="$2" 'BEGIN { printf "%.1f\n", (count > 0) ? 1e6 * ticks / hz / count : 0 }'
}

# Prints the size in bytes, headers and body, of one GET /healthz response of server $1
# to a request without cookies, as wrk sends them.
response_bytes() {
    local url
    if [[ $1 == baseline ]]; then url=$BASELINE_URL; else url=$OUTPOST_URL; fi
    curl -sS -o /dev/null -w '%{size_header} %{size_download}' "$url/healthz" | awk '{ print $1 + $2 }'
}

# Prints the requests/s of every GET /healthz round of server $1, separated by spaces.
healthz_rates() {
    local round rates=()
    for ((round = 1; round <= HEALTHZ_ROUNDS; round++)); do
        rates+=("$(wrk_figure "$WORK_DIR/healthz-$1-$round.txt" rate)")
    done
    echo "${rates[*]}"
}

# Prints the median of the space-separated numbers in $1.
median() {
    echo "$1" | tr ' ' '\n' | sort -g | awk '{ values[NR] = $1 } END {
        if (NR % 2 == 1) print values[(NR + 1) / 2]
        else printf "%.2f\n", (values[NR / 2] + values[NR / 2 + 1]) / 2
    }'
}

# Creates the account through the sign-up form, as a browser does, and checks that one
# sign-in with it returns 303. Sets CSRF_COOKIE and CSRF_TOKEN for the load.
sign_up() {
    log "signing up $USERNAME through GET and POST /sign-up"
    local jar=$WORK_DIR/cookies.txt status
    check_status 200 "$(curl -sS -c "$jar" -o "$WORK_DIR/sign-up.html" -w '%{http_code}' "$OUTPOST_URL/sign-up")" "GET /sign-up"
    CSRF_TOKEN=$(csrf_token_from_page "$WORK_DIR/sign-up.html")
    CSRF_COOKIE=$(csrf_cookie_from_jar "$jar")
    [[ -n $CSRF_TOKEN && -n $CSRF_COOKIE ]] || fail "GET /sign-up returned no csrf_token field or outpost_csrf cookie"

    status=$(curl -sS -b "$jar" -o "$WORK_DIR/sign-up-result.html" -w '%{http_code}' \
        --data-urlencode "csrf_token=$CSRF_TOKEN" --data-urlencode "username=$USERNAME" \
        --data-urlencode "password=$PASSWORD" --data-urlencode "password_confirmation=$PASSWORD" \
        "$OUTPOST_URL/sign-up")
    check_status 303 "$status" "POST /sign-up"

    # The load sends only the CSRF cookie, as a browser that is not signed in does.
    status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: outpost_csrf=$CSRF_COOKIE" \
        --data-urlencode "csrf_token=$CSRF_TOKEN" --data-urlencode "username=$USERNAME" \
        --data-urlencode "password=$PASSWORD" "$OUTPOST_URL/sign-in")
    check_status 303 "$status" "POST /sign-in with the new account"
}

# Prints the count of sign-ins that outpost's /metrics shows as failed or throttled.
failed_sign_in_metric() {
    echo $(($(sign_in_metric "$OUTPOST_URL" 401) + $(sign_in_metric "$OUTPOST_URL" 429) + $(sign_in_metric "$OUTPOST_URL" 423)))
}

# Loads POST /sign-in with correct credentials, with a light GET /healthz probe beside it,
# then checks from wrk's status counts and from outpost's /metrics that every sign-in got 303.
measure_sign_in() {
    log "POST /sign-in: ${DURATION} s with $SIGN_IN_CONNECTIONS connections, and a GET /healthz probe beside it"
    export BENCH_CSRF_COOKIE=$CSRF_COOKIE BENCH_CSRF_TOKEN=$CSRF_TOKEN BENCH_USERNAME=$USERNAME BENCH_PASSWORD=$PASSWORD
    local ok_before failed_before ticks_before faults_before probe_pid
    ok_before=$(sign_in_metric "$OUTPOST_URL" 303)
    failed_before=$(failed_sign_in_metric)
    ticks_before=$(process_ticks "$OUTPOST_PID")
    faults_before=$(process_minor_faults "$OUTPOST_PID")
    phase_start
    wrk -t1 -c1 -d"${DURATION}s" --latency -s "$BENCH_DIR/healthz_probe.lua" "$OUTPOST_URL/healthz" >"$WORK_DIR/probe.txt" &
    probe_pid=$!
    wrk -t1 -c"$SIGN_IN_CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/sign_in.lua" "$OUTPOST_URL/sign-in" >"$WORK_DIR/sign-in.txt"
    wait "$probe_pid"
    phase_end
    SIGN_IN_OTHER=$OTHER_PERCENT
    SIGN_IN_BUSY=$BUSY_PERCENT
    local ticks=$(($(process_ticks "$OUTPOST_PID") - ticks_before))
    local faults=$(($(process_minor_faults "$OUTPOST_PID") - faults_before))

    SIGN_IN_RATE=$(wrk_figure "$WORK_DIR/sign-in.txt" rate)
    SIGN_IN_OK=$(awk '$1 == "status" && $2 == 303 { print $3 }' "$WORK_DIR/sign-in.txt")
    local total failed
    total=$(awk '$1 == "status" { total += $3 } END { print total + 0 }' "$WORK_DIR/sign-in.txt")
    METRIC_OK=$(($(sign_in_metric "$OUTPOST_URL" 303) - ok_before))
    failed=$(($(failed_sign_in_metric) - failed_before))
    ((total > 0 && ${SIGN_IN_OK:-0} == total)) ||
        fail "not every sign-in returned 303: $(grep '^status' "$WORK_DIR/sign-in.txt" | tr '\n' ' ')"
    ((failed == 0)) || fail "outpost's /metrics counted $failed failed or throttled sign-ins during the load"
    ((METRIC_OK >= SIGN_IN_OK)) || fail "outpost's /metrics counted $METRIC_OK sign-ins with status 303, fewer than wrk's $SIGN_IN_OK"

    # The figures are per completed sign-in, so requests still in flight when wrk stopped
    # add a little.
    SIGN_IN_CPU_MS=$(awk -v ticks="$ticks" -v hz="$CLOCK_TICKS" -v count="$METRIC_OK" 'BEGIN { printf "%.1f\n", 1000 * ticks / hz / count }')
    SIGN_IN_FAULTS=$((faults / METRIC_OK))

    PROBE_P50=$(wrk_percentile "$WORK_DIR/probe.txt" 50%)
    PROBE_P99=$(wrk_percentile "$WORK_DIR/probe.txt" 99%)
    PROBE_MAX=$(awk '$1 == "Latency" { print $4 }' "$WORK_DIR/probe.txt")
    PROBE_ERRORS=$(($(wrk_figure "$WORK_DIR/probe.txt" non_success) + $(wrk_figure "$WORK_DIR/probe.txt" socket_errors)))
}

print_row() {
    printf '%-62s %s\n' "$1" "$2"
}

print_goal() {
    printf '%-50s %8s %8s %8s\n' "$@"
}

print_report() {
    local single_rate healthz_ratio sign_in_ceiling sign_in_ratio verify_ms
    single_rate=$(key_value "$ARGON2_SINGLE" verifications_per_second)
    healthz_ratio=$(ratio "$OUTPOST_RATE" "$BASELINE_RATE")
    sign_in_ceiling=$(awk -v rate="$single_rate" -v cores="$CORES" 'BEGIN { printf "%.2f\n", rate * cores }')
    sign_in_ratio=$(ratio "$SIGN_IN_RATE" "$sign_in_ceiling")
    verify_ms=$(awk -v rate="$single_rate" 'BEGIN { printf "%.1f\n", (rate > 0) ? 1000 / rate : 0 }')

    printf '\n'
    printf 'Machine: %s cores, %s, %s memory; %s\n' "$CORES" \
        "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
        "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'wrk: GET /healthz %s x %s s per server after %s s warm-up, POST /sign-in %s s.\n' \
        "$HEALTHZ_ROUNDS" "$HEALTHZ_DURATION" "$WARMUP" "$DURATION"
    printf 'Other processes used %s%% (argon2), %s%% (healthz), %s%% (sign-in) of the machine.\n\n' \
        "$ARGON2_OTHER" "$HEALTHZ_OTHER" "$SIGN_IN_OTHER"

    print_row "measurement" "value"
    print_row "baseline GET /healthz, median (requests/s)" "$BASELINE_RATE"
    print_row "outpost GET /healthz, median (requests/s)" "$OUTPOST_RATE"
    print_row "baseline GET /healthz, each round (requests/s)" "$BASELINE_RATES"
    print_row "outpost GET /healthz, each round (requests/s)" "$OUTPOST_RATES"
    print_row "server CPU per GET /healthz: baseline / outpost (us)" "$BASELINE_CPU_US / $OUTPOST_CPU_US"
    print_row "bytes per GET /healthz response: baseline / outpost" "$BASELINE_BYTES / $OUTPOST_BYTES"
    print_row "argon2id raw verify, 1 thread (per s)" "$single_rate"
    print_row "argon2id raw verify, 1 thread (ms each)" "$verify_ms"
    print_row "argon2id raw verify, $CORES threads (per s)" "$(key_value "$ARGON2_PARALLEL" verifications_per_second)"
    print_row "PasswordHasher::verify, $SIGN_IN_CONNECTIONS callers (per s)" "$(key_value "$ARGON2_HASHER" verifications_per_second)"
    print_row "same path, argon2 memory reused, $SIGN_IN_CONNECTIONS callers (per s)" "$(key_value "$ARGON2_POOLED" verifications_per_second)"
    print_row "minor page faults per verify: raw 1 / raw $CORES / hasher / reused" "$(key_value "$ARGON2_SINGLE" minor_faults_per_verification) / $(key_value "$ARGON2_PARALLEL" minor_faults_per_verification) / $(key_value "$ARGON2_HASHER" minor_faults_per_verification) / $(key_value "$ARGON2_POOLED" minor_faults_per_verification)"
    print_row "1-thread raw rate x $CORES cores (per s)" "$sign_in_ceiling"
    print_row "outpost POST /sign-in, all 303 (per s)" "$SIGN_IN_RATE"
    print_row "sign-ins with status 303 (wrk / outpost metrics)" "$SIGN_IN_OK / $METRIC_OK"
    print_row "outpost CPU per sign-in (ms)" "$SIGN_IN_CPU_MS"
    print_row "outpost minor page faults per sign-in" "$SIGN_IN_FAULTS"
    print_row "machine busy during sign-ins (%)" "$SIGN_IN_BUSY"
    print_row "GET /healthz probe during sign-ins p50 / p99 / max" "$PROBE_P50 / $PROBE_P99 / $PROBE_MAX"
    print_row "GET /healthz probe failed responses" "$PROBE_ERRORS"

    printf '\n'
    print_goal "goal" "ratio" "target" "result"
    print_goal "outpost / baseline GET /healthz" "$healthz_ratio" "$HEALTHZ_GOAL" "$(verdict "$healthz_ratio" "$HEALTHZ_GOAL")"
    print_goal "sign-ins / (1-thread raw argon2 x cores)" "$sign_in_ratio" "$SIGN_IN_GOAL" "$(verdict "$sign_in_ratio" "$SIGN_IN_GOAL")"

    local phase_other
    for phase_other in "$ARGON2_OTHER" "$HEALTHZ_OTHER" "$SIGN_IN_OTHER"; do
        if ((phase_other >= QUIET_PERCENT)); then
            printf '\nwarning: other processes used %s%% or more of the machine during a phase, so these figures are disturbed\n' "$QUIET_PERCENT"
            break
        fi
    done
}

main() {
    require_tools
    build

    # The user's OUTPOST_* settings (SMTP relay, proxies, database URL) must not reach the
    # server under test, and RUST_LOG stays at the server's default.
    local variable
    for variable in $(compgen -e | grep '^OUTPOST_' || true); do
        unset "$variable"
    done
    unset RUST_LOG

    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
    wait_for_quiet

    measure_argon2
    start_servers
    measure_healthz
    stop_server "$BASELINE_PID"
    sign_up
    measure_sign_in
    print_report
}

main "$@"
