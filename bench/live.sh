#!/usr/bin/env bash
# Live-capture benchmark: replays a capture with tcpreplay onto one end of a veth pair inside a private
# network namespace while `tlsscope monitor` captures on the other end, and reports
#   1. for each replay rate, the rate tcpreplay reached and what libpcap saw and dropped (a rate "keeps up"
#      when dropped and interface_dropped are both 0 and every packet sent was received);
#   2. a long run (the capture replayed in a loop) at one rate: tlsscope's resident memory every 5 s.
#
#   sudo bench/live.sh [CAPTURE]     (default: bench/out/tls-1024M.pcap, made by bench/make-capture.sh)
#
# Environment:
#   TLSSCOPE=/path/to/tlsscope   the binary (default .build/release/tlsscope if present, else .build/debug/tlsscope)
#   LIVE_BUILD=release|debug     the build kind of a TLSSCOPE outside .build/release or .build/debug (for the report)
#   LIVE_RATES="topspeed 100000 50000 20000"   rates to probe: topspeed or packets per second
#   LIVE_PROBE_SECONDS=15        length of each probe (the capture is looped if it is shorter)
#   LIVE_DURATION=600            length of the long run in seconds (0: skip it)
#   LIVE_RATE=...                rate of the long run (default: the highest probed rate without drops)
#   BENCH_OUT=DIR                where results go (default bench/out); the table is written to DIR/live.md
# Needs root (namespaces, capture), iproute2 and tcpreplay. The namespace is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/out}
capture=${1:-$out/tls-1024M.pcap}
rates=${LIVE_RATES:-"topspeed 100000 50000 20000"}
probe_seconds=${LIVE_PROBE_SECONDS:-15}
long_seconds=${LIVE_DURATION:-600}
mkdir -p "$out"

die() { echo "live: $*" >&2; exit 2; }
(( EUID == 0 )) || die "needs root (network namespace, live capture)"
command -v tcpreplay >/dev/null || die "tcpreplay is missing (apt-get install tcpreplay)"
command -v ip >/dev/null || die "ip (iproute2) is missing"
[[ -r $capture ]] || die "cannot read capture '$capture' (make one with bench/make-capture.sh)"
if [[ -z ${TLSSCOPE:-} ]]; then
    if [[ -x $root/.build-static/release/tlsscope ]]; then TLSSCOPE=$root/.build-static/release/tlsscope
    elif [[ -x $root/.build/release/tlsscope ]]; then TLSSCOPE=$root/.build/release/tlsscope
    else TLSSCOPE=$root/.build/debug/tlsscope; fi
fi
[[ -x $TLSSCOPE ]] || die "no tlsscope binary at $TLSSCOPE (swift build, or set TLSSCOPE)"
# The build kind, from where the binary lives (.build/release, .build/debug); LIVE_BUILD=... says it for a copy elsewhere.
build=${LIVE_BUILD:-unknown}
[[ $TLSSCOPE == */release/* ]] && build=release
[[ $TLSSCOPE == */debug/* ]] && build=debug

ns=tlsscope-bench-$$
work=$(mktemp -d)
monitor_pid=
monitor_job=
cleanup() {
    [[ -n $monitor_pid ]] && kill "$monitor_pid" 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Both ends live in the namespace: the host's own traffic never reaches the capture.
ip netns add "$ns"
ip -n "$ns" link add tsb0 type veth peer name tsb1
for end in tsb0 tsb1; do
    ip -n "$ns" link set "$end" mtu 65535 up  # the capture may hold frames above 1500 (offloads)
done
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

packets_in_capture=$(capinfos -c -M "$capture" 2>/dev/null | awk -F': *' '/Number of packets/ {print $2}')

# Starts tlsscope on tsb1 writing ndjson + summary to $1; waits until it listens.
start_monitor() {
    local output=$1
    rm -f "$output.pid"
    # Through sh so that tlsscope's own process id is known (ip netns exec runs it as a child).
    in_ns sh -c 'echo $$ >"$0"; exec "$@"' "$output.pid" \
        "$TLSSCOPE" monitor --interface tsb1 --format ndjson --summary --output "$output" \
        --buffer-size $((64 << 20)) 2>"$output.stderr" &
    monitor_job=$!
    for _ in $(seq 1 200); do
        if [[ -s $output.pid ]] && grep -q "listening on" "$output.stderr" 2>/dev/null; then
            monitor_pid=$(cat "$output.pid")
            return 0
        fi
        sleep 0.05
    done
    die "tlsscope did not start: $(cat "$output.stderr")"
}

stop_monitor() {
    kill -INT "$monitor_pid"
    local status=0
    wait "$monitor_job" || status=$?
    (( status == 0 )) || die "tlsscope exited with $status: $(cat "$1.stderr")"
    monitor_pid=
}

# "received dropped interface_dropped tls_connections" from the summary line.
summary_of() {
    tail -n 1 "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = s["capture"]
print(c["received"], c["dropped"], c["interface_dropped"], s["tls_connections"], s["packets"])'
}

replay_args() {
    case $1 in
        topspeed) echo "--topspeed" ;;
        *) echo "--pps=$1" ;;
    esac
}

echo "live: $TLSSCOPE ($build build), capture $capture ($packets_in_capture packets)" >&2
echo "live: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

results=$work/probes.txt
: >"$results"
best=
for rate in $rates; do
    output=$work/probe-$rate.ndjson
    start_monitor "$output"
    replay=$(in_ns tcpreplay --intf1=tsb0 $(replay_args "$rate") --loop=0 --duration="$probe_seconds" \
        "$capture" 2>&1) || die "tcpreplay failed: $replay"
    sleep 1  # let the capture drain what is in flight
    stop_monitor "$output"
    sent=$(awk '/Actual:/ {print $2; exit}' <<<"$replay")
    rated_pps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /pps/) {print $(i-1); exit}}' <<<"$replay")
    rated_mbps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /Mbps/) {print $(i-1); exit}}' <<<"$replay")
    read -r received dropped ifdropped tls analyzed < <(summary_of "$output")
    ok=no
    if (( dropped == 0 && ifdropped == 0 && received >= sent )); then ok=yes; fi
    if [[ $ok == yes && -z $best ]]; then best=$rate; fi
    echo "$rate $sent ${rated_pps%.*} ${rated_mbps} $received $dropped $ifdropped $analyzed $tls $ok" >>"$results"
    echo "live: probe $rate: sent $sent at ${rated_pps} pps / ${rated_mbps} Mbps; received $received," \
        "dropped $dropped, interface dropped $ifdropped; $tls TLS records" >&2
done

long_rate=${LIVE_RATE:-${best:-$(awk '{print $1}' <<<"$rates" | tail -n 1)}}
memory=$work/memory.txt
: >"$memory"
long_line=
if (( long_seconds > 0 )); then
    output=$work/long.ndjson
    start_monitor "$output"
    in_ns tcpreplay --intf1=tsb0 $(replay_args "$long_rate") --loop=0 --duration="$long_seconds" \
        "$capture" >"$work/long.tcpreplay" 2>&1 &
    replay_pid=$!
    started=$(date +%s)
    while kill -0 "$replay_pid" 2>/dev/null; do
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$monitor_pid/status" 2>/dev/null || echo 0)
        echo "$(( $(date +%s) - started )) $rss" >>"$memory"
        sleep 5
    done
    wait "$replay_pid" || die "tcpreplay failed: $(cat "$work/long.tcpreplay")"
    sleep 1
    stop_monitor "$output"
    replay=$(cat "$work/long.tcpreplay")
    sent=$(awk '/Actual:/ {print $2; exit}' <<<"$replay")
    rated_pps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /pps/) {print $(i-1); exit}}' <<<"$replay")
    rated_mbps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /Mbps/) {print $(i-1); exit}}' <<<"$replay")
    read -r received dropped ifdropped tls analyzed < <(summary_of "$output")
    long_line="$long_rate $sent ${rated_pps%.*} $rated_mbps $received $dropped $ifdropped $analyzed $tls"
fi

{
    echo "# tlsscope live-capture benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- binary: \`$TLSSCOPE\` (**$build build**)"
    echo "- capture: \`$capture\` ($packets_in_capture packets), replayed by tcpreplay $(tcpreplay --version 2>&1 | awk 'NR==1 {print $3}') onto a veth pair in a network namespace, looped"
    echo "- machine: $(nproc) cores, load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- tlsscope: \`monitor --interface tsb1 --format ndjson --summary --output FILE --buffer-size 67108864\`"
    echo
    echo "## Probes ($probe_seconds s each)"
    echo
    echo "| requested rate | packets sent | pps reached | Mbps reached | received (libpcap) | dropped | interface dropped | frames analyzed | TLS records | kept up |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    while read -r rate sent pps mbps received dropped ifdropped analyzed tls ok; do
        echo "| $rate | $sent | $pps | $mbps | $received | $dropped | $ifdropped | $analyzed | $tls | $ok |"
    done <"$results"
    if [[ -n $long_line ]]; then
        read -r rate sent pps mbps received dropped ifdropped analyzed tls <<<"$long_line"
        echo
        echo "## Long run ($long_seconds s at $rate)"
        echo
        echo "Sent $sent packets at $pps pps / $mbps Mbps; libpcap received $received, dropped $dropped" \
            "(interface $ifdropped); tlsscope analyzed $analyzed frames and wrote $tls TLS records."
        echo
        echo "Resident memory (VmRSS) of tlsscope, sampled every 5 s (shown every 30 s; peak" \
            "$(awk '$2 > m {m = $2} END {printf "%.1f", m / 1024}' "$memory") MB):"
        echo
        echo "| seconds | RSS MB |"
        echo "|---:|---:|"
        awk -v n="$(wc -l <"$memory")" '$1 % 30 < 5 || NR == n {printf "| %d | %.1f |\n", $1, $2 / 1024}' "$memory"
    fi
} | tee "$out/live.md"
