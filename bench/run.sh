#!/usr/bin/env bash
# Benchmarks tlsscope against the libpcap read floor, tshark and ssldump on one capture.
#
#   bench/run.sh [CAPTURE]          (default: bench/out/tls-1024M.pcap, made by bench/make-capture.sh)
#
# Each tool runs once, after one warm-up read of the capture into the page cache, under
# /usr/bin/time -f '%e %M' (peak resident set size; the wall time is taken around it to the millisecond). Every tool writes its output to a file
# in bench/out/ (a few MB at most, in the page cache), from which the connections it found are counted.
# Prints a table and writes it as markdown to bench/out/results.md.
#
# Environment:
#   TLSSCOPE=/path/to/tlsscope   use this binary instead of building with `swift build -c release`
#   SKIP_TLSSCOPE=1 SKIP_TSHARK=1 SKIP_SSLDUMP=1 SKIP_FLOOR=1   leave a tool out
#   BENCH_OUT=DIR                where the results go (default bench/out)
#   BENCH_RUNS=N                 run each tool N times and report the fastest and the median (default 5; on
#                                a shared machine one run can be 25 % off)
#   TSHARK_RUNS=N                runs of tshark, which takes ~45 s each (default 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/out}
capture=${1:-$out/tls-1024M.pcap}
mkdir -p "$out"

if [[ ! -r $capture ]]; then
    echo "run: cannot read capture '$capture' (make one with bench/make-capture.sh)" >&2
    exit 2
fi
capture=$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")

if [[ ! -x /usr/bin/time ]]; then
    if (( EUID == 0 )) && command -v apt-get >/dev/null; then
        echo "run: installing GNU time" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        echo "run: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
        exit 2
    fi
fi

# --- the tools ----------------------------------------------------------------------------------------
floor=$out/pcap-floor
if [[ ${SKIP_FLOOR:-0} != 1 ]]; then
    cc -O2 "$here/pcap-floor.c" -lpcap -o "$floor"
fi

tlsscope=${TLSSCOPE:-}
if [[ ${SKIP_TLSSCOPE:-0} != 1 && -z $tlsscope ]]; then
    echo "run: building tlsscope (release)" >&2
    if (cd "$root" && swift build -c release --product tlsscope >&2); then
        tlsscope=$root/.build/release/tlsscope
    else
        echo "run: the release build failed; skipping tlsscope (set TLSSCOPE=/path/to/tlsscope to use a binary)" >&2
        SKIP_TLSSCOPE=1
    fi
fi
if [[ ${SKIP_TLSSCOPE:-0} != 1 && ! -x $tlsscope ]]; then
    echo "run: TLSSCOPE=$tlsscope is not an executable; skipping tlsscope" >&2
    SKIP_TLSSCOPE=1
fi
if [[ ${SKIP_TSHARK:-0} != 1 ]] && ! command -v tshark >/dev/null; then
    echo "run: tshark is not installed; skipping it" >&2
    SKIP_TSHARK=1
fi
if [[ ${SKIP_SSLDUMP:-0} != 1 ]] && ! command -v ssldump >/dev/null; then
    echo "run: ssldump is not installed; skipping it" >&2
    SKIP_SSLDUMP=1
fi

# --- measuring ----------------------------------------------------------------------------------------
rows=()          # tool|fastest s|median s|peak MB|connections|exit status|command
floor_seconds=
floor_median=
runs=${BENCH_RUNS:-5}

# measure NAME RUNS OUTPUT_FILE COMMAND...: runs COMMAND RUNS times with stdout to OUTPUT_FILE, stderr to
# out/NAME.stderr; sets m_seconds (the fastest run), m_median (the median run), m_mb (the largest peak RSS)
# and m_status (the last run's exit status).
measure() {
    local name=$1 runs=$2 output=$3 run started ended seconds kb max_kb=0 times=()
    shift 3
    echo "run: $name: $*" >&2
    m_seconds=
    for ((run = 1; run <= runs; run++)); do
        started=$(date +%s%N)
        set +e
        /usr/bin/time -f '%e %M' -o "$out/$name.time" "$@" > "$output" 2> "$out/$name.stderr"
        m_status=$?
        set -e
        ended=$(date +%s%N)
        # Wall time taken here to the millisecond (time's %e has two decimals); time gives the peak RSS.
        seconds=$(awk -v ns=$((ended - started)) 'BEGIN { printf "%.3f", ns / 1e9 }')
        read -r _ kb < <(tail -n 1 "$out/$name.time")
        (( kb > max_kb )) && max_kb=$kb
        times+=("$seconds")
        (( runs > 1 )) && echo "run: $name: run $run: $seconds s, $kb KB" >&2
    done
    m_seconds=$(printf '%s\n' "${times[@]}" | sort -n | head -n 1)
    m_median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
    m_mb=$(awk -v kb="$max_kb" 'BEGIN { printf "%.0f", kb / 1024 }')
    if (( m_status != 0 )); then
        echo "run: $name exited with status $m_status (see $out/$name.stderr)" >&2
    fi
}

# The command as one shell-quoted line, to paste into a terminal.
command_line() {
    local arg line=
    for arg in "$@"; do
        if [[ ! $arg =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
            arg="'${arg//\'/\'\\\'\'}'"
        fi
        line+="${line:+ }$arg"
    done
    printf '%s' "$line"
}

echo "run: warming the page cache with $capture" >&2
cat "$capture" > /dev/null

capture_bytes=$(stat -c %s "$capture")
packets=?

if [[ ${SKIP_FLOOR:-0} != 1 ]]; then
    cmd=("$floor" "$capture")
    measure pcap-floor "$runs" "$out/pcap-floor.out" "${cmd[@]}"
    floor_seconds=$m_seconds
    floor_median=$m_median
    packets=$(sed -n 's/^packets=\([0-9]*\).*/\1/p' "$out/pcap-floor.out")
    rows+=("pcap-floor (libpcap read only)|$m_seconds|$m_median|$m_mb|-|$m_status|$(command_line "${cmd[@]}")")
fi

if [[ ${SKIP_TLSSCOPE:-0} != 1 ]]; then
    cmd=("$tlsscope" analyze --format ndjson --output "$out/tlsscope.ndjson" "$capture")
    rm -f "$out/tlsscope.ndjson"
    measure tlsscope "$runs" "$out/tlsscope.stdout" "${cmd[@]}"
    found=$(grep -c -E '"type" ?: ?"tls"' "$out/tlsscope.ndjson" 2>/dev/null || true)
    rows+=("tlsscope analyze (ndjson)|$m_seconds|$m_median|$m_mb|${found:-0}|$m_status|$(command_line "${cmd[@]}")")
fi

if [[ ${SKIP_TSHARK:-0} != 1 ]]; then
    # The same facts tlsscope reports for a ClientHello/ServerHello; TLS and TCP reassembly are on by
    # default (tls.desegment_ssl_records, tls.desegment_ssl_application_data, tcp.desegment_tcp_streams),
    # spelled out here so a local preferences file cannot change them. TLS on the capture's non-standard
    # ports is found by tshark's TLS-over-TCP heuristic (enabled by default). tls.handshake.type comes first
    # so that ClientHellos can be counted.
    cmd=(tshark -n -r "$capture"
        -o tls.desegment_ssl_records:TRUE -o tls.desegment_ssl_application_data:TRUE
        -o tcp.desegment_tcp_streams:TRUE
        -Y 'tls.handshake.type==1 || tls.handshake.type==2'
        -T fields -e tls.handshake.type -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport
        -e tls.handshake.version -e tls.handshake.ciphersuite -e tls.handshake.extensions_server_name
        -e tls.handshake.ja3)
    measure tshark "${TSHARK_RUNS:-1}" "$out/tshark.tsv" "${cmd[@]}"
    found=$(awk -F'\t' '{ n = split($1, t, ","); for (i = 1; i <= n; i++) if (t[i] == "1") c++ } END { print c + 0 }' "$out/tshark.tsv")
    rows+=("tshark (hello fields)|$m_seconds|$m_median|$m_mb|$found|$m_status|$(command_line "${cmd[@]}")")
fi

if [[ ${SKIP_SSLDUMP:-0} != 1 ]]; then
    cmd=(ssldump -n -r "$capture")
    measure ssldump "$runs" "$out/ssldump.txt" "${cmd[@]}"
    found=$(grep -c -E '^ +ClientHello' "$out/ssldump.txt" || true)
    tcp_found=$(grep -c 'New TCP connection' "$out/ssldump.txt" || true)
    rows+=("ssldump|$m_seconds|$m_median|$m_mb|$found (of $tcp_found TCP)|$m_status|$(command_line "${cmd[@]}")")
fi

# --- reporting ----------------------------------------------------------------------------------------
# ratio SECONDS FLOOR: SECONDS / FLOOR to two decimals, or - without a floor.
ratio() {
    if [[ -n $2 ]]; then
        awk -v s="$1" -v f="$2" 'BEGIN { if (f > 0) printf "%.2f", s / f; else print "-" }'
    else
        printf -- '-'
    fi
}

tcp_conns=?
if [[ -r $capture.json ]]; then
    tcp_conns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tcp_connections"])' "$capture.json")
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d ' ' -f 1-3 /proc/loadavg)
tshark_version=$(tshark --version 2>/dev/null | head -n 1 || true)
ssldump_version=$(ssldump -v 2>&1 | head -n 1 || true)

{
    echo "# tlsscope benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- capture: \`$capture\` — $capture_bytes bytes, $packets packets, $tcp_conns TCP connections"
    echo "- machine: $(nproc) cores ($cpu), $mem_gb GB RAM, $(uname -sr); load average before the runs: $load"
    echo "- tools: ${tshark_version:-tshark not run}; ${ssldump_version:-ssldump not run}"
    echo "- method: $runs run(s) per tool (tshark: ${TSHARK_RUNS:-1}) after one warm-up read of the capture (page cache); fastest and median wall time to the ms, peak RSS from \`/usr/bin/time -f '%e %M'\`; × floor compares fastest with fastest and median with median"
    echo
    echo "| tool | fastest s | median s | peak MB | × floor (fastest) | × floor (median) | TLS connections found | exit |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for row in "${rows[@]}"; do
        IFS='|' read -r tool seconds median mb found status _ <<< "$row"
        echo "| $tool | $seconds | $median | $mb | $(ratio "$seconds" "$floor_seconds") | $(ratio "$median" "$floor_median") | $found | $status |"
    done
    echo
    echo "Commands:"
    echo
    for row in "${rows[@]}"; do
        IFS='|' read -r tool _ _ _ _ _ command <<< "$row"
        echo "- $tool: \`$command\`"
    done
} > "$out/results.md"

printf '\n%-32s %9s %9s %9s %9s %9s  %s\n' tool fastest median "peak MB" "x floor" "(median)" "TLS connections"
for row in "${rows[@]}"; do
    IFS='|' read -r tool seconds median mb found status _ <<< "$row"
    note=
    (( status != 0 )) && note=" (exit $status)"
    printf '%-32s %9s %9s %9s %9s %9s  %s%s\n' "$tool" "$seconds" "$median" "$mb" "$(ratio "$seconds" "$floor_seconds")" \
        "$(ratio "$median" "$floor_median")" "$found" "$note"
done
echo
echo "capture: $capture ($capture_bytes bytes, $packets packets, $tcp_conns TCP connections)"
echo "results: $out/results.md"
