#!/usr/bin/env bash
# The hostile-pressure benchmark (issue #9): builds each case of bench/make-pressure.py at N and 2N flows, runs
# tlsscope on it under GNU time, and prints case, input size, packets, wall seconds, CPU seconds, peak RSS,
# records written, and how wall time, CPU time and peak grew from N to 2N (linear: 2.00 for time). On a shared
# machine the CPU ratio is the steadier one.
#
#   bench/pressure.sh [BINARY]      (default: $TLSSCOPE, else a release build made here)
#
# Every case runs `tlsscope analyze --format ndjson --summary CAPTURE`; quadratic-groups and alpn-sni-spread also
# run `tlsscope audit --format ndjson --summary CAPTURE` (the audit's per-server table and the audit rules), and
# quadratic-groups `analyze --no-findings` as the control: its hellos have a fixed size, so a rule quadratic in
# one hello's size grows linearly with the number of flows, and shows as the gap between the two. The
# output goes through a pipe that counts the records and keeps the summary line (out/NAME.summary.json), so
# gigabytes of ndjson never reach the disk; stderr goes to out/NAME.stderr. The capture is read once into
# the page cache before each measured run. Prints a table; writes it as markdown to out/results.md.
#
# Environment:
#   TLSSCOPE=/path/to/tlsscope   the binary (the first argument wins)
#   PRESSURE_CASES="CASE[:N] ..." cases to run, N their flow count (default: all six at the issue's N;
#                                `bench/make-pressure.py --list` names them)
#   PRESSURE_SCALES="1 2"        multiples of N to build and run (default "1 2": N and 2N)
#   PRESSURE_OUT=DIR             captures and results (default bench/out/pressure; 4.1 GB for all cases)
#   PRESSURE_REMAKE=1            rebuild captures that already exist (they are deterministic, so by default a
#                                capture whose .json matches is reused)
#   PRESSURE_TIMEOUT=SECONDS     give up on one run after this long (default 3600; the row says "timeout")
#   PRESSURE_AUDIT=0             leave the audit runs out
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${PRESSURE_OUT:-$here/out/pressure}
mkdir -p "$out"
out=$(cd "$out" && pwd)
scales=${PRESSURE_SCALES:-1 2}
time_limit=${PRESSURE_TIMEOUT:-3600}

if [[ ! -x /usr/bin/time ]]; then
    if (( EUID == 0 )) && command -v apt-get >/dev/null; then
        echo "pressure: installing GNU time" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        echo "pressure: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
        exit 2
    fi
fi

tlsscope=${1:-${TLSSCOPE:-}}
if [[ -z $tlsscope ]]; then
    echo "pressure: building tlsscope (release)" >&2
    tlsscope=$("$root/scripts/build-release")
fi
if [[ ! -x $tlsscope ]]; then
    echo "pressure: '$tlsscope' is not an executable" >&2
    exit 2
fi
tlsscope=$(cd "$(dirname "$tlsscope")" && pwd)/$(basename "$tlsscope")

declare -A default_flows
while read -r name flows; do default_flows[$name]=$flows; done < <(python3 "$here/make-pressure.py" --list)
cases=${PRESSURE_CASES:-$(python3 "$here/make-pressure.py" --list | cut -d ' ' -f 1 | tr '\n' ' ')}

# json_field FILE KEY: a top-level number from a small JSON file.
json_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "?"))' "$1" "$2"
}

# capture_for CASE FLOWS: makes (or reuses) the capture and prints its path.
capture_for() {
    local case=$1 flows=$2 pcap=$out/$1-$2.pcap
    if [[ ${PRESSURE_REMAKE:-0} == 1 || ! -r $pcap || ! -r $pcap.json ]] \
        || [[ $(json_field "$pcap.json" flows) != "$flows" ]]; then
        echo "pressure: making $pcap" >&2
        python3 "$here/make-pressure.py" "$case" --flows "$flows" --output "$pcap" >/dev/null
    fi
    printf '%s' "$pcap"
}

rows=()   # case|command|flows|MB|packets|wall s|cpu s|peak MB|records|exit|wall ratio|cpu ratio|peak ratio
declare -A first_seconds first_cpu first_mb   # by case/command, the run at the smallest scale

# measure NAME PCAP 'SUBCOMMAND [OPTION...]': runs `tlsscope SUBCOMMAND [OPTION...] --format ndjson --summary PCAP`
# (the words split at spaces), setting m_seconds,
# m_cpu, m_mb, m_records and m_status ("timeout" when PRESSURE_TIMEOUT ran out).
measure() {
    local name=$1 pcap=$2 subcommand=$3 started ended timing=$out/$1.time
    echo "pressure: $name: $subcommand $(basename "$pcap")" >&2
    cat "$pcap" > /dev/null
    rm -f "$timing" "$out/$name.summary.json"
    started=$(date +%s%N)
    set +e
    # timeout runs under time, which reports the largest RSS and the CPU time of what it waited for, tlsscope
    # included (and timeout ends tlsscope itself, not just time).
    /usr/bin/time -v -o "$timing" timeout "$time_limit" \
        "$tlsscope" $subcommand --format ndjson --summary --quiet "$pcap" 2> "$out/$name.stderr" \
        | awk -v summary="$out/$name.summary.json" '
            index($0, "{\"type\":\"tls\"") == 1 { records++ }
            index($0, "{\"type\":\"summary\"") == 1 { print > summary }
            END { print records + 0 }' > "$out/$name.records"
    set -e
    ended=$(date +%s%N)
    m_seconds=$(awk -v ns=$((ended - started)) 'BEGIN { printf "%.2f", ns / 1e9 }')
    m_records=$(cat "$out/$name.records")
    m_status=$(sed -n 's/^\tExit status: //p' "$timing")
    if [[ -z $m_status || $m_status == 124 ]]; then
        m_status=timeout m_cpu=- m_mb=-
        return
    fi
    m_cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$timing")
    m_mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$timing")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "-" }'; }

load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
for spec in $cases; do
    case=${spec%%:*}
    base=${spec#*:}
    [[ $base == "$spec" ]] && base=${default_flows[$case]:-}
    if [[ -z $base ]]; then
        echo "pressure: no case '$case' (bench/make-pressure.py --list)" >&2
        exit 2
    fi
    commands=(analyze)
    [[ $case == quadratic-groups ]] && commands+=("analyze --no-findings")
    if [[ ${PRESSURE_AUDIT:-1} == 1 && ( $case == quadratic-groups || $case == alpn-sni-spread ) ]]; then
        commands+=(audit)
    fi
    for scale in $scales; do
        flows=$((base * scale))
        pcap=$(capture_for "$case" "$flows")
        mb=$(awk -v b="$(stat -c %s "$pcap")" 'BEGIN { printf "%.0f", b / 1048576 }')
        packets=$(json_field "$pcap.json" packets)
        for command in "${commands[@]}"; do
            measure "$case-$flows-${command// --/-}" "$pcap" "$command"
            key=$case/$command
            time_ratio=- cpu_ratio=- mb_ratio=-
            if [[ $m_status == timeout ]]; then
                :   # no ratio to or from a run that did not finish
            elif [[ -z ${first_seconds[$key]:-} ]]; then
                first_seconds[$key]=$m_seconds first_cpu[$key]=$m_cpu first_mb[$key]=$m_mb
            else
                time_ratio=$(ratio "${first_seconds[$key]}" "$m_seconds")
                cpu_ratio=$(ratio "${first_cpu[$key]}" "$m_cpu")
                mb_ratio=$(ratio "${first_mb[$key]}" "$m_mb")
            fi
            rows+=("$case|$command|$flows|$mb|$packets|$m_seconds|$m_cpu|$m_mb|$m_records|$m_status|$time_ratio|$cpu_ratio|$mb_ratio")
            echo "pressure: $case $command N=$flows: $m_seconds s, $m_mb MB, $m_records records, exit $m_status" >&2
        done
    done
done

# --- reporting ----------------------------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
version=$("$tlsscope" --version 2>/dev/null || echo '?')
header="| case | command | flows | input MB | packets | wall s | CPU s | peak RSS MB | records | exit | wall × | CPU × | peak × |"
{
    echo "# tlsscope hostile-pressure benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- binary: \`$tlsscope\` (version $version, $(stat -c %y "$tlsscope" | cut -d . -f 1))"
    echo "- machine: $(nproc) cores ($cpu), $mem_gb GB RAM, $(uname -sr); load average before: $load_before, after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
    echo "- command: \`tlsscope COMMAND --format ndjson --summary --quiet CAPTURE\`, output counted through a pipe; wall time around the run, CPU (user + system) and peak RSS from \`/usr/bin/time -v\`; captures from \`bench/make-pressure.py CASE --flows N\` in \`$out\`"
    echo
    echo "The × columns divide each run by the same case's run at the first scale (N): 2.00 at 2N is linear time."
    echo
    echo "$header"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for row in "${rows[@]}"; do
        IFS='|' read -r -a f <<< "$row"
        echo "| ${f[0]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} | ${f[5]} | ${f[6]} | ${f[7]} | ${f[8]} | ${f[9]} | ${f[10]} | ${f[11]} | ${f[12]} |"
    done
} > "$out/results.md"

printf '\n%-24s %-21s %7s %8s %9s %8s %8s %8s %8s %7s %6s %6s %6s\n' case command flows "in MB" packets "wall s" "CPU s" \
    "peak MB" records exit "wall×" "CPU×" "peak×"
for row in "${rows[@]}"; do
    IFS='|' read -r -a f <<< "$row"
    printf '%-24s %-21s %7s %8s %9s %8s %8s %8s %8s %7s %6s %6s %6s\n' "${f[@]}"
done
echo
echo "× columns: this run divided by the run at the first scale (N); 2.00 at 2N is linear time. Binary: $tlsscope"
echo "results: $out/results.md"
