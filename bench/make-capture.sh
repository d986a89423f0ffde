#!/usr/bin/env bash
# Builds a large capture of real loopback TLS traffic for the benchmark.
#
#   bench/make-capture.sh [SIZE_MB]        (default: $BENCH_SIZE_MB, else 1024; MB = MiB)
#
# 1. Records a seed (once; reused while bench/out/seed-N.pcap exists): N real TLS connections
#    (BENCH_SEED_CONNECTIONS, default 500) between openssl s_server and s_client, captured with tcpdump on
#    the loopback interface of a private network namespace (see record-seed.sh).
# 2. Replicates the seed with rewritten IPv4 addresses and shifted timestamps until the capture reaches
#    SIZE_MB (see replicate.py).
# Output: bench/out/tls-SIZE_MB.pcap and tls-SIZE_MB.pcap.json (sizes, packets, connections).
# Environment: BENCH_OUT (output directory), BENCH_RESEED=1 (record a new seed), BENCH_JOBS (parallel
# client workers, default 2), BENCH_NETNS=0 (record on the shared lo instead of a private namespace).
# BENCH_PROFILE=short: the connection-heavy capture (bench/out/tls-short-SIZE_MB.pcap): a 1,000-connection
# seed of short transfers (1 KB to 128 KB), certificate chains (leaf + intermediate), a mix weighted towards
# TLS 1.3 with x25519 as real traffic is: about 20,000 TLS connections per GB.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
size_mb=${1:-${BENCH_SIZE_MB:-1024}}
out=${BENCH_OUT:-$here/out}
profile=${BENCH_PROFILE:-bulk}
case $profile in
    bulk) connections=${BENCH_SEED_CONNECTIONS:-500}; tag="" ;;
    short)
        connections=${BENCH_SEED_CONNECTIONS:-1000}; tag="short-"
        export BENCH_SIZES_KB=${BENCH_SIZES_KB:-"1 2 4 8 16 24 32 48 64 96 128"} BENCH_CHAIN=1 BENCH_REAL_MIX=1 ;;
    *) echo "make-capture: BENCH_PROFILE is bulk or short, got '$profile'" >&2; exit 2 ;;
esac

if ! [[ $size_mb =~ ^[0-9]+$ ]] || (( size_mb < 1 )); then
    echo "make-capture: size must be a whole number of MB, got '$size_mb'" >&2
    exit 2
fi
for tool in openssl tcpdump python3; do
    command -v "$tool" >/dev/null || { echo "make-capture: $tool is not installed" >&2; exit 2; }
done

mkdir -p "$out"
seed=$out/seed-$tag$connections.pcap
capture=$out/tls-$tag${size_mb}M.pcap

if [[ ! -s $seed || ${BENCH_RESEED:-0} == 1 ]]; then
    if (( EUID != 0 )); then
        echo "make-capture: recording the seed needs root (tcpdump, and unshare for the private lo)" >&2
        exit 2
    fi
    echo "make-capture: recording $connections TLS connections into $seed" >&2
    started=$SECONDS
    rm -f "$seed.partial"
    if [[ ${BENCH_NETNS:-1} != 0 ]]; then
        unshare --net bash "$here/record-seed.sh" "$out/seed-${tag}work" "$seed.partial" "$connections"
    else
        bash "$here/record-seed.sh" "$out/seed-${tag}work" "$seed.partial" "$connections"
    fi
    mv "$seed.partial" "$seed"
    echo "make-capture: seed recorded in $((SECONDS - started)) s ($(stat -c %s "$seed") bytes)" >&2
fi

echo "make-capture: replicating the seed into $capture (${size_mb} MB)" >&2
python3 "$here/replicate.py" "$seed" "$capture" $((size_mb * 1024 * 1024)) > "$capture.json"
python3 - "$capture.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"make-capture: {s['capture']}: {s['bytes']} bytes, {s['packets']} packets, "
      f"{s['tcp_connections']} TCP connections ({s['copies']} copies of a {s['seed_tcp_connections']}-connection seed) "
      f"in {s['seconds']} s", file=sys.stderr)
PY
