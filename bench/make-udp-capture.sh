#!/usr/bin/env bash
# Builds a QUIC/DTLS-rich capture for the benchmark: the TCP TLS seed's bulk traffic with the committed DTLS
# and QUIC fixture captures and DNS-like noise mixed in.
#
#   bench/make-udp-capture.sh [SIZE_MB]    (default: $BENCH_SIZE_MB, else 1024; MB = MiB)
#
# Every copy of the seed (bench/out/seed-N.pcap, recorded by bench/make-capture.sh) gets instances of the
# whole set of Fixtures/pcap/dtls*.pcap and quic*.pcap (recorded on loopback by
# Fixtures/make-udp-fixtures.sh), each instance with its own addresses, so that DTLS/QUIC datagrams are
# BENCH_UDP_SHARE of the packets (default 0.25) and DNS queries and answers BENCH_NOISE_SHARE (default 0.05);
# the rest is the seed's TCP TLS. See replicate.py. Deterministic: the same seed gives the same bytes.
# Without a seed (or with BENCH_UDP_ONLY=1) the capture is UDP only: bench/out/udponly-SIZE_MB.pcap.
# Output: bench/out/udp-SIZE_MB.pcap and its .json (sizes, packets, connections per transport, shares).
# Environment: BENCH_OUT (output directory), BENCH_SEED_CONNECTIONS (which seed, default 500).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
size_mb=${1:-${BENCH_SIZE_MB:-1024}}
out=${BENCH_OUT:-$here/out}
connections=${BENCH_SEED_CONNECTIONS:-500}

if ! [[ $size_mb =~ ^[0-9]+$ ]] || (( size_mb < 1 )); then
    echo "make-udp-capture: size must be a whole number of MB, got '$size_mb'" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "make-udp-capture: python3 is not installed" >&2; exit 2; }

shopt -s nullglob
udp=("$root"/Fixtures/pcap/dtls*.pcap "$root"/Fixtures/pcap/quic*.pcap)
shopt -u nullglob
if (( ${#udp[@]} == 0 )); then
    echo "make-udp-capture: no Fixtures/pcap/dtls*.pcap or quic*.pcap to mix in" >&2
    exit 2
fi

mkdir -p "$out"
seed=$out/seed-$connections.pcap
if [[ ${BENCH_UDP_ONLY:-0} == 1 || ! -s $seed ]]; then
    [[ ${BENCH_UDP_ONLY:-0} == 1 ]] || echo "make-udp-capture: no seed at $seed (bench/make-capture.sh records one): UDP only" >&2
    seed=-
    capture=$out/udponly-${size_mb}M.pcap
else
    capture=$out/udp-${size_mb}M.pcap
fi

into=
[[ $seed == - ]] || into=" into $seed"
echo "make-udp-capture: mixing ${#udp[@]} DTLS/QUIC captures$into -> $capture (${size_mb} MB)" >&2
python3 "$here/replicate.py" "$seed" "$capture" $((size_mb * 1024 * 1024)) \
    --udp "${udp[@]}" --udp-share "${BENCH_UDP_SHARE:-0.25}" --noise-share "${BENCH_NOISE_SHARE:-0.05}" \
    > "$capture.json"
python3 - "$capture.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"make-udp-capture: {s['capture']}: {s['bytes']} bytes, {s['packets']} packets: "
      f"{s['tcp_connections']} TCP connections, {s['dtls_quic_connections']} DTLS/QUIC connections "
      f"({s['udp_sets']} sets of {len(s['udp_captures'])} captures; {s['dtls_quic_packet_share']:.0%} of the packets), "
      f"{s['dns_noise_packets']} DNS packets ({s['dns_noise_packet_share']:.0%}) in {s['seconds']} s", file=sys.stderr)
PY
