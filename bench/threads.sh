#!/usr/bin/env bash
# How `tlsscope analyze --threads N` scales on this machine, and that its output does not depend on N.
#
#   bench/threads.sh [CAPTURE]     (default: bench/out/tls-short-1024M.pcap, else bench/out/tls-1024M.pcap)
#
# After a warm-up read, rounds of: the libpcap floor (bench/out/pcap-floor), then tlsscope with each thread
# count in turn (so a slow stretch of a shared machine hits all of them), under GNU time. Reports per thread
# count the median wall time, × floor, median user and system CPU seconds, peak RSS, and whether the NDJSON
# is byte for byte that of --threads 1. The table goes to bench/out/threads.md.
#
# Environment:
#   TLSSCOPE=/path/to/tlsscope   the binary (default .build/release/tlsscope, built if missing)
#   THREADS="1 2 3 4 8"          thread counts to measure
#   BENCH_RUNS=5                 rounds
#   BENCH_OUT=DIR                where outputs and the table go (default bench/out)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/out}
mkdir -p "$out"
capture=${1:-}
if [[ -z $capture ]]; then
    capture=$out/tls-short-1024M.pcap
    [[ -r $capture ]] || capture=$out/tls-1024M.pcap
fi
[[ -r $capture ]] || { echo "threads: cannot read '$capture' (bench/make-capture.sh makes one)" >&2; exit 2; }
counts=${THREADS:-"1 2 3 4 8"}
runs=${BENCH_RUNS:-5}
[[ -x /usr/bin/time ]] || { echo "threads: needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 2; }
if [[ -z ${TLSSCOPE:-} ]]; then
    TLSSCOPE=$("$root/scripts/build-release")
fi
floor=$out/pcap-floor
if [[ ! -x $floor || $here/pcap-floor.c -nt $floor ]]; then
    cc -O2 -o "$floor" "$here/pcap-floor.c" -lpcap
fi

cat "$capture" > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One measured run: appends "wall user system maxrss_kb" to $work/NAME.
measure() {
    local name=$1; shift
    /usr/bin/time -o "$work/$name.last" -f '%e %U %S %M' "$@" > /dev/null
    cat "$work/$name.last" >> "$work/$name"
}
for (( round = 1; round <= runs; round++ )); do
    echo "threads: round $round of $runs" >&2
    measure floor "$floor" "$capture"
    for n in $counts; do
        rm -f "$out/threads-$n.ndjson"  # a fresh file each round, as in run.sh (no truncation of the last one)
        measure "t$n" "$TLSSCOPE" analyze --quiet --threads "$n" --format ndjson --output "$out/threads-$n.ndjson" "$capture"
    done
done

median() {  # column $2 of file $1
    sort -n -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
floor_median=$(median "$work/floor" 1)
table=$out/threads.md
{
    echo "Capture: $(basename "$capture") ($(stat -c %s "$capture") bytes); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); load before: $(cut -d' ' -f1-3 /proc/loadavg); $runs rounds, medians."
    echo
    echo "| reader | wall s | × floor | user s | system s | peak MB | output |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '| pcap-floor | %s | 1.00 | %s | %s | %d | |\n' "$floor_median" "$(median "$work/floor" 2)" "$(median "$work/floor" 3)" \
        $(( $(sort -n -k4,4 "$work/floor" | tail -1 | cut -d' ' -f4) / 1024 ))
    for n in $counts; do
        wall=$(median "$work/t$n" 1)
        same="same bytes as --threads 1"
        [[ $n == 1 ]] && same="$(wc -l < "$out/threads-1.ndjson") records"
        if [[ $n != 1 ]] && ! cmp -s "$out/threads-1.ndjson" "$out/threads-$n.ndjson"; then same="DIFFERS from --threads 1"; fi
        printf '| tlsscope --threads %s | %s | %.2f | %s | %s | %d | %s |\n' "$n" "$wall" \
            "$(awk -v a="$wall" -v b="$floor_median" 'BEGIN { print a / b }')" "$(median "$work/t$n" 2)" \
            "$(median "$work/t$n" 3)" $(( $(sort -n -k4,4 "$work/t$n" | tail -1 | cut -d' ' -f4) / 1024 )) "$same"
    done
} > "$table"
cat "$table"
grep -q DIFFERS "$table" && exit 1
exit 0
