#!/usr/bin/env bash
# Benchmarks tlsscope against the libpcap read floor, tshark and ssldump on one capture.
#
#   bench/run.sh [CAPTURE...]       (default: bench/out/tls-1024M.pcap, made by bench/make-capture.sh, and
#                                   bench/out/tls-short-1024M.pcap, the connection-heavy one, when it exists)
#
# With several captures, each is measured in a run of its own (the floor beside the tools every time), its
# results in bench/out/NAME/, and bench/out/results.md holds all the tables.
#
# After one warm-up read of the capture into the page cache, the tools run in rounds (each once per round,
# in turn; tshark after the rounds) under /usr/bin/time -f '%e %M' (peak resident set size; the wall time
# is taken around it to the millisecond). Every tool writes its output to a file in bench/out/ (a few MB at
# most, in the page cache), from which the connections it found are counted. On a capture made by
# make-udp-capture.sh, connections are counted per protocol (TLS, DTLS, QUIC) and tshark reads DTLS too.
# Prints a table and writes it as markdown to bench/out/results.md.
#
# Environment:
#   TLSSCOPE=/path/to/tlsscope   use this binary instead of building with scripts/build-release
#   SKIP_TLSSCOPE=1 SKIP_TSHARK=1 SKIP_SSLDUMP=1 SKIP_FLOOR=1   leave a tool out
#   BENCH_OUT=DIR                where the results go (default bench/out)
#   BENCH_RUNS=N                 N rounds: each tool N times, fastest and median reported (default 5; on
#                                a shared machine one run can be 25 % off)
#   TLSSCOPE_BASELINE=/path/to/tlsscope   another build to run beside TLSSCOPE in every round (a row of its
#                                own, e.g. the code before a change); TLSSCOPE_BASELINE_LABEL names it
#   TSHARK_RUNS=N                runs of tshark, which takes ~45 s each (default 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/out}
mkdir -p "$out"
if (( $# == 0 )); then
    set -- "$out/tls-1024M.pcap"
    [[ -r $out/tls-short-1024M.pcap ]] && set -- "$@" "$out/tls-short-1024M.pcap"
fi
if (( $# > 1 )); then
    status=0
    combined=$out/results.md
    : > "$combined"
    if [[ ${SKIP_TLSSCOPE:-0} != 1 && -z ${TLSSCOPE:-} ]]; then
        echo "run: building tlsscope (release), once for every capture" >&2
        TLSSCOPE=$("$root/scripts/build-release") && export TLSSCOPE
    fi
    for one in "$@"; do
        name=$(basename "$one")
        name=${name%.pcap*}
        echo "run: === $one ===" >&2
        BENCH_OUT=$out/$name bash "$0" "$one" || status=$?
        { echo "## $name"; echo; cat "$out/$name/results.md" 2>/dev/null; echo; } >> "$combined"
    done
    echo "run: all tables in $combined" >&2
    exit $status
fi
capture=$1

if [[ ! -r $capture ]]; then
    echo "run: cannot read capture '$capture' (make one with bench/make-capture.sh)" >&2
    exit 2
fi
capture=$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")
# A capture made by make-udp-capture.sh (its .json counts DTLS/QUIC connections): count connections per
# protocol, and give tshark the DTLS fields too.
udp_capture=0
if [[ -r $capture.json ]] && grep -q '"dtls_quic_connections"' "$capture.json"; then
    udp_capture=1
fi

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
    if tlsscope=$("$root/scripts/build-release"); then
        :
    else
        echo "run: the release build failed; skipping tlsscope (set TLSSCOPE=/path/to/tlsscope to use a binary)" >&2
        SKIP_TLSSCOPE=1
    fi
fi
if [[ ${SKIP_TLSSCOPE:-0} != 1 && ! -x $tlsscope ]]; then
    echo "run: TLSSCOPE=$tlsscope is not an executable; skipping tlsscope" >&2
    SKIP_TLSSCOPE=1
fi
baseline=${TLSSCOPE_BASELINE:-}
baseline_label=${TLSSCOPE_BASELINE_LABEL:-$baseline}
if [[ -n $baseline && ! -x $baseline ]]; then
    echo "run: TLSSCOPE_BASELINE=$baseline is not an executable" >&2
    exit 2
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
declare -A run_times=() run_kb=() run_status=()

# Files a tool writes besides its standard output (its --output), by NAME.
declare -A written=()

# run_once NAME OUTPUT_FILE COMMAND...: runs COMMAND once with stdout to OUTPUT_FILE, stderr to
# out/NAME.stderr, and adds its wall time, peak RSS and exit status to NAME's runs.
#
# What the previous round wrote is removed before the clock starts, so every round writes new files as
# the first one did: overwriting a file truncates it (freeing its cached pages, ~9 ms for tlsscope's
# 82 MB of NDJSON) and makes ext4 start writing it back when it is closed (auto_da_alloc, another ~9 ms),
# costs of the previous round's leftovers, not of the run.
run_once() {
    local name=$1 output=$2 started ended seconds kb status
    shift 2
    rm -f -- "$output" ${written[$name]:-}
    started=$(date +%s%N)
    set +e
    /usr/bin/time -f '%e %M' -o "$out/$name.time" "$@" > "$output" 2> "$out/$name.stderr"
    status=$?
    set -e
    ended=$(date +%s%N)
    # Wall time taken here to the millisecond (time's %e has two decimals); time gives the peak RSS.
    seconds=$(awk -v ns=$((ended - started)) 'BEGIN { printf "%.3f", ns / 1e9 }')
    read -r _ kb < <(tail -n 1 "$out/$name.time")
    run_times[$name]+="$seconds "
    (( kb > ${run_kb[$name]:-0} )) && run_kb[$name]=$kb
    run_status[$name]=$status
    echo "run: $name: $seconds s, $kb KB" >&2
    if (( status != 0 )); then
        echo "run: $name exited with status $status (see $out/$name.stderr)" >&2
    fi
}

# summarize NAME: sets m_seconds (the fastest run), m_median (the median run), m_mb (the largest peak RSS)
# and m_status (the last run's exit status).
summarize() {
    local name=$1
    m_seconds=$(printf '%s\n' ${run_times[$name]} | sort -n | head -n 1)
    m_median=$(printf '%s\n' ${run_times[$name]} | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
    m_mb=$(awk -v kb="${run_kb[$name]:-0}" 'BEGIN { printf "%.0f", kb / 1024 }')
    m_status=${run_status[$name]}
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

# tlsscope_found NDJSON: records with "type": "tls"; on a capture with UDP, split by protocol.
tlsscope_found() {
    local all
    all=$(grep -c -E '"type" ?: ?"tls"' "$1" 2>/dev/null || true)
    if (( udp_capture )); then
        printf '%s (tls %s, dtls %s, quic %s)' "${all:-0}" \
            "$(grep -c -E '"protocol" ?: ?"tls"' "$1" || true)" "$(grep -c -E '"protocol" ?: ?"dtls"' "$1" || true)" \
            "$(grep -c -E '"protocol" ?: ?"quic"' "$1" || true)"
    else
        printf '%s' "${all:-0}"
    fi
}

echo "run: warming the page cache with $capture" >&2
cat "$capture" > /dev/null

capture_bytes=$(stat -L -c %s "$capture")
packets=?

floor_cmd=("$floor" "$capture")
tlsscope_cmd=("$tlsscope" analyze --format ndjson --output "$out/tlsscope.ndjson" "$capture")
baseline_cmd=("$baseline" analyze --format ndjson --output "$out/tlsscope-baseline.ndjson" "$capture")
ssldump_cmd=(ssldump -n -r "$capture")
written[tlsscope]="$out/tlsscope.ndjson"
written[tlsscope-baseline]="$out/tlsscope-baseline.ndjson"

# Rounds: each tool once per round, in turn, so that a slow stretch of the shared machine hits all of them
# (and tlsscope and its baseline run side by side, in either order).
for ((run = 1; run <= runs; run++)); do
    (( runs > 1 )) && echo "run: round $run of $runs" >&2
    [[ ${SKIP_FLOOR:-0} != 1 ]] && run_once pcap-floor "$out/pcap-floor.out" "${floor_cmd[@]}"
    # With a baseline, the two builds swap places every other round.
    if [[ -n $baseline ]] && (( run % 2 == 0 )); then
        run_once tlsscope-baseline "$out/tlsscope-baseline.stdout" "${baseline_cmd[@]}"
    fi
    [[ ${SKIP_TLSSCOPE:-0} != 1 ]] && run_once tlsscope "$out/tlsscope.stdout" "${tlsscope_cmd[@]}"
    if [[ -n $baseline ]] && (( run % 2 == 1 )); then
        run_once tlsscope-baseline "$out/tlsscope-baseline.stdout" "${baseline_cmd[@]}"
    fi
    [[ ${SKIP_SSLDUMP:-0} != 1 ]] && run_once ssldump "$out/ssldump.txt" "${ssldump_cmd[@]}"
done

if [[ ${SKIP_FLOOR:-0} != 1 ]]; then
    summarize pcap-floor
    floor_seconds=$m_seconds
    floor_median=$m_median
    packets=$(sed -n 's/^packets=\([0-9]*\).*/\1/p' "$out/pcap-floor.out")
    rows+=("pcap-floor (libpcap read only)|$m_seconds|$m_median|$m_mb|-|$m_status|$(command_line "${floor_cmd[@]}")")
fi

if [[ ${SKIP_TLSSCOPE:-0} != 1 ]]; then
    summarize tlsscope
    rows+=("tlsscope analyze (ndjson)|$m_seconds|$m_median|$m_mb|$(tlsscope_found "$out/tlsscope.ndjson")|$m_status|$(command_line "${tlsscope_cmd[@]}")")
fi

per_round=
if [[ -n $baseline && ${SKIP_TLSSCOPE:-0} != 1 ]]; then
    # tlsscope / baseline in each round (they ran side by side), and the median of those ratios.
    ratios=$(paste <(printf '%s\n' ${run_times[tlsscope]}) <(printf '%s\n' ${run_times[tlsscope-baseline]}) |
        awk '{ printf "%.3f\n", $1 / $2 }')
    per_round="$(echo $ratios) (median $(sort -n <<< "$ratios" | awk '{ r[NR] = $1 } END { printf "%.3f", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }'))"
fi

if [[ -n $baseline ]]; then
    summarize tlsscope-baseline
    rows+=("tlsscope baseline ($baseline_label)|$m_seconds|$m_median|$m_mb|$(tlsscope_found "$out/tlsscope-baseline.ndjson")|$m_status|$(command_line "${baseline_cmd[@]}")")
fi

if [[ ${SKIP_TSHARK:-0} != 1 ]]; then
    # The same facts tlsscope reports for a ClientHello/ServerHello; TLS and TCP reassembly are on by
    # default (tls.desegment_ssl_records, tls.desegment_ssl_application_data, tcp.desegment_tcp_streams),
    # spelled out here so a local preferences file cannot change them. TLS on the capture's non-standard
    # ports is found by tshark's TLS-over-TCP heuristic (enabled by default). tls.handshake.type comes first
    # so that ClientHellos can be counted.
    if (( udp_capture )); then
        # DTLS hellos too, and UDP ports; QUIC's hellos are tls.handshake (tshark decrypts QUIC Initials,
        # found by its QUIC-over-UDP heuristic). Connections are counted as distinct 4-tuples with a
        # ClientHello, per transport.
        cmd=(tshark -n -r "$capture"
            -o tls.desegment_ssl_records:TRUE -o tls.desegment_ssl_application_data:TRUE
            -o tcp.desegment_tcp_streams:TRUE
            -Y 'tls.handshake.type==1 || tls.handshake.type==2 || dtls.handshake.type==1 || dtls.handshake.type==2'
            -T fields -e tls.handshake.type -e dtls.handshake.type -e ip.src -e ip.dst -e tcp.srcport
            -e tcp.dstport -e udp.srcport -e udp.dstport -e tls.handshake.version -e tls.handshake.ciphersuite
            -e tls.handshake.extensions_server_name -e dtls.handshake.version -e dtls.handshake.ciphersuite
            -e dtls.handshake.extensions_server_name -e tls.handshake.ja3)
    else
        cmd=(tshark -n -r "$capture"
            -o tls.desegment_ssl_records:TRUE -o tls.desegment_ssl_application_data:TRUE
            -o tcp.desegment_tcp_streams:TRUE
            -Y 'tls.handshake.type==1 || tls.handshake.type==2'
            -T fields -e tls.handshake.type -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport
            -e tls.handshake.version -e tls.handshake.ciphersuite -e tls.handshake.extensions_server_name
            -e tls.handshake.ja3)
    fi
    for ((run = 1; run <= ${TSHARK_RUNS:-1}; run++)); do
        run_once tshark "$out/tshark.tsv" "${cmd[@]}"
    done
    summarize tshark
    if (( udp_capture )); then
        found=$(awk -F'\t' '
            function has_hello(field,   n, t, i) { n = split(field, t, ","); for (i = 1; i <= n; i++) if (t[i] == "1") return 1; return 0 }
            { tls = has_hello($1); dtls = has_hello($2); if (!tls && !dtls) next
              key = $3 " " $4 " " $5 $7 " " $6 $8; if (seen[key]++) next
              if (dtls) d++; else if ($5 != "") t++; else q++ }
            END { printf "%d (tls %d, dtls %d, quic %d)", t + d + q, t, d, q }' "$out/tshark.tsv")
    else
        found=$(awk -F'\t' '{ n = split($1, t, ","); for (i = 1; i <= n; i++) if (t[i] == "1") c++ } END { print c + 0 }' "$out/tshark.tsv")
    fi
    rows+=("tshark (hello fields)|$m_seconds|$m_median|$m_mb|$found|$m_status|$(command_line "${cmd[@]}")")
fi

if [[ ${SKIP_SSLDUMP:-0} != 1 ]]; then
    summarize ssldump
    found=$(grep -c -E '^ +ClientHello' "$out/ssldump.txt" || true)
    tcp_found=$(grep -c 'New TCP connection' "$out/ssldump.txt" || true)
    rows+=("ssldump|$m_seconds|$m_median|$m_mb|$found (of $tcp_found TCP)|$m_status|$(command_line "${ssldump_cmd[@]}")")
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

contents="? TCP connections"
if [[ -r $capture.json ]]; then
    contents=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
line = "%d TCP connections" % s["tcp_connections"]
if "dtls_quic_connections" in s:
    line += ", %d DTLS/QUIC connections (%.0f%% of the packets), %d DNS packets (%.0f%%)" % (
        s["dtls_quic_connections"], 100 * s["dtls_quic_packet_share"], s["dns_noise_packets"], 100 * s["dns_noise_packet_share"])
print(line)' "$capture.json")
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d ' ' -f 1-3 /proc/loadavg)
tshark_version=
[[ ${SKIP_TSHARK:-0} != 1 ]] && tshark_version=$(tshark --version 2>/dev/null | head -n 1 || true)
ssldump_version=
[[ ${SKIP_SSLDUMP:-0} != 1 ]] && ssldump_version=$(ssldump -v 2>&1 | head -n 1 || true)

{
    echo "# tlsscope benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- capture: \`$capture\` — $capture_bytes bytes, $packets packets, $contents"
    echo "- machine: $(nproc) cores ($cpu), $mem_gb GB RAM, $(uname -sr); load average before the runs: $load"
    echo "- tools: ${tshark_version:-tshark not run}; ${ssldump_version:-ssldump not run}"
    echo "- method: $runs round(s), each tool once per round in turn (tshark: ${TSHARK_RUNS:-1} run(s) after them) after one warm-up read of the capture (page cache); fastest and median wall time to the ms, peak RSS from \`/usr/bin/time -f '%e %M'\`; × floor compares fastest with fastest and median with median"
    echo
    echo "| tool | fastest s | median s | peak MB | × floor (fastest) | × floor (median) | TLS connections found | exit |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for row in "${rows[@]}"; do
        IFS='|' read -r tool seconds median mb found status _ <<< "$row"
        echo "| $tool | $seconds | $median | $mb | $(ratio "$seconds" "$floor_seconds") | $(ratio "$median" "$floor_median") | $found | $status |"
    done
    if [[ -n $per_round ]]; then
        echo
        echo "tlsscope / baseline ($baseline_label), round by round: $per_round"
    fi
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
[[ -n $per_round ]] && printf '\ntlsscope / baseline, round by round: %s\n' "$per_round"
echo
echo "capture: $capture ($capture_bytes bytes, $packets packets, $contents)"
echo "results: $out/results.md"
