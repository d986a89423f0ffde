#!/usr/bin/env bash
# Records the seed capture: real TLS connections between openssl s_server and s_client over loopback.
# Usage: record-seed.sh WORKDIR SEED_PCAP CONNECTIONS
# Run it inside a private network namespace (make-capture.sh does `unshare -n`): there, lo can get a
# 1500-byte MTU and no segmentation offload, so packets look like Ethernet traffic (1448-byte segments)
# instead of 64 KB loopback super-packets, and the capture sees no one else's loopback traffic.
# With BENCH_NETNS=0 it runs on the shared lo as is (big packets; the BPF filter keeps other traffic out).
set -euo pipefail

work=$1
seed=$2
connections=$3
base_port=${BENCH_BASE_PORT:-24431}

mkdir -p "$work/www" "$work/sess"
cd "$work"

if [[ ${BENCH_NETNS:-1} != 0 ]]; then
    # Private lo: Ethernet-sized segments (gso_max_segs 1 keeps TCP from handing lo 64 KB super-packets).
    ip link set lo up mtu "${BENCH_MTU:-1500}"
    ip link set lo gso_max_segs 1 2>/dev/null || echo "record-seed: cannot set gso_max_segs; packets may be large" >&2
fi

# Keys and certificates: an RSA 2048 and an ECDSA P-256 server. Self-signed, or with BENCH_CHAIN=1 issued by
# an intermediate CA under a root (the servers then send leaf and intermediate, ~2.5 KB, as real sites do).
if [[ ! -s rsa.crt ]]; then
    if [[ ${BENCH_CHAIN:-0} == 1 ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -days 3650 -subj "/CN=Bench Root CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/O=Bench/CN=Bench Intermediate CA" 2>/dev/null
        printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > inter.ext
        openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -CAcreateserial -out inter.crt -days 1825 \
            -extfile inter.ext 2>/dev/null
        for kind in rsa ec; do
            if [[ $kind == rsa ]]; then key=(-newkey rsa:2048); else key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
            openssl req "${key[@]}" -nodes -keyout $kind.key -out $kind.csr -subj "/O=Bench/CN=bench-$kind.test" 2>/dev/null
            printf 'subjectAltName=DNS:bench-%s.test,DNS:*.bench.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
                $kind > $kind.ext
            openssl x509 -req -in $kind.csr -CA inter.crt -CAkey inter.key -CAcreateserial -out $kind.crt -days 365 \
                -extfile $kind.ext 2>/dev/null
        done
    else
        openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 365 \
            -subj "/CN=bench-rsa.test" -addext "subjectAltName=DNS:bench-rsa.test,DNS:*.bench.test" 2>/dev/null
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.crt -days 365 \
            -subj "/CN=bench-ec.test" -addext "subjectAltName=DNS:bench-ec.test,DNS:*.bench.test" 2>/dev/null
    fi
fi
chain=()
[[ -s inter.crt ]] && chain=(-cert_chain "$PWD/inter.crt")

# Files the -WWW servers hand out (random, so the traffic does not compress).
# BENCH_SIZES_KB overrides the list (make-capture.sh's short profile: 1 KB to 128 KB).
read -r -a sizes_kb <<< "${BENCH_SIZES_KB:-32 64 96 128 192 256 384 512 768 1024 2048}"
for kb in "${sizes_kb[@]}"; do
    [[ -s www/f$kb ]] || head -c $((kb * 1024)) /dev/urandom > "www/f$kb"
done

# Each client worker gets its own four servers (s_server serves one connection at a time):
# base+4w: -WWW with the RSA certificate, +1: -WWW with ECDSA, +2: plain (upload) RSA, +3: plain ECDSA.
jobs=${BENCH_JOBS:-2}
last_port=$((base_port + 4 * jobs - 1))

# The servers read stdin and a plain s_server quits on end of input: hand them a FIFO that this shell holds
# open for writing, so their stdin never ends.
rm -f stdin.fifo && mkfifo stdin.fifo
exec 9<>stdin.fifo

pids=()
tcpdump_pid=
cleanup() {
    local pid
    [[ -n $tcpdump_pid ]] && kill -INT "$tcpdump_pid" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

tcpdump -Z root -i lo -s 0 -B 131072 -w "$seed" "tcp and portrange $base_port-$last_port" 2> tcpdump.err &
tcpdump_pid=$!

common=(-quiet -alpn http/1.1 "${chain[@]}")
for ((w = 0; w < jobs; w++)); do
    p=$((base_port + 4 * w))
    (cd www && exec openssl s_server -accept "$p" -cert ../rsa.crt -key ../rsa.key -WWW "${common[@]}" <&9 >/dev/null 2>>../servers.err) &
    pids+=($!)
    (cd www && exec openssl s_server -accept $((p + 1)) -cert ../ec.crt -key ../ec.key -WWW "${common[@]}" <&9 >/dev/null 2>>../servers.err) &
    pids+=($!)
    openssl s_server -accept $((p + 2)) -cert rsa.crt -key rsa.key "${common[@]}" <&9 >/dev/null 2>>servers.err &
    pids+=($!)
    openssl s_server -accept $((p + 3)) -cert ec.crt -key ec.key "${common[@]}" <&9 >/dev/null 2>>servers.err &
    pids+=($!)
done

# Wait until tcpdump captures and the servers listen (checked in /proc, not by connecting, which would
# put a stray connection in the capture).
listening() {
    local port hex
    for ((port = base_port; port <= last_port; port++)); do
        hex=$(printf '%04X' "$port")
        grep -q ":$hex 00000000:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null || return 1
    done
}
for _ in $(seq 100); do
    grep -q listening tcpdump.err 2>/dev/null && listening && break
    sleep 0.1
done
sleep 0.2

# Client profiles: "server-kind|s_client options". rsa/ec pick the server certificate type.
profiles=(
    "rsa|-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256"
    "rsa|-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384"
    "rsa|-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
    "rsa|-tls1_3 -groups P-256"
    "rsa|-tls1_3 -groups X448:x25519"
    "ec|-tls1_3"
    "ec|-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 -groups P-384"
    "rsa|-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
    "rsa|-tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384"
    "rsa|-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"
    "rsa|-tls1_2 -cipher ECDHE-RSA-AES128-SHA256"
    "rsa|-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"
    "rsa|-tls1_2 -cipher AES128-GCM-SHA256"
    "rsa|-tls1_2 -cipher AES256-SHA -no_etm"
    "ec|-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256"
    "ec|-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"
    "ec|-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305"
)
# BENCH_REAL_MIX=1 weights the mix towards what real traffic carries: most connections TLS 1.3 with x25519.
if [[ ${BENCH_REAL_MIX:-0} == 1 ]]; then
    profiles+=("rsa|-tls1_3" "rsa|-tls1_3" "rsa|-tls1_3" "rsa|-tls1_3" "ec|-tls1_3" "ec|-tls1_3" "ec|-tls1_3"
        "rsa|-tls1_3 -groups x25519" "ec|-tls1_3 -groups x25519" "rsa|-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256")
fi
hosts=(www.bench.test api.bench.test cdn.bench.test mail.bench.test bench-rsa.test bench-ec.test)

# One worker: $2 connections against the servers at port $1, random choices seeded with $3.
run_clients() {
    local port_www_rsa=$1 port_www_ec=$(($1 + 1)) port_up_rsa=$(($1 + 2)) port_up_ec=$(($1 + 3)) count=$2
    local ok=0 failed=0 i profile kind opts kb host sni alpn sess_file sess port
    RANDOM=$3   # seeded here: a subshell does not reliably keep the parent's sequence
    for ((i = 0; i < count; i++)); do
        profile=${profiles[RANDOM % ${#profiles[@]}]}
        kind=${profile%%|*}
        read -r -a opts <<< "${profile#*|}"
        kb=${sizes_kb[RANDOM % ${#sizes_kb[@]}]}
        host=${hosts[RANDOM % ${#hosts[@]}]}
        sni=(-servername "$host")
        (( RANDOM % 20 == 0 )) && sni=(-noservername)
        alpn=()
        (( RANDOM % 2 == 0 )) && alpn=(-alpn "h2,http/1.1")
        # Resume the previous session of this profile now and then (session ID/ticket, or TLS 1.3 PSK).
        sess_file=sess/$1-${profile//[^A-Za-z0-9]/_}.pem
        sess=(-sess_out "$sess_file")
        if (( RANDOM % 8 == 0 )) && [[ -s $sess_file ]]; then sess+=(-sess_in "$sess_file"); fi
        # A few handshakes that fail: an ECDSA-only suite offered to the RSA server.
        if (( RANDOM % 50 == 0 )); then
            kind=rsa; opts=(-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256); sess=()
        fi
        if (( RANDOM % 2 == 0 )); then
            # Download: GET a file from the -WWW server.
            [[ $kind == rsa ]] && port=$port_www_rsa || port=$port_www_ec
            printf 'GET /f%s HTTP/1.0\r\n\r\n' "$kb" |
                timeout 30 openssl s_client -connect "127.0.0.1:$port" "${sni[@]}" "${alpn[@]}" "${sess[@]}" \
                    "${opts[@]}" -quiet -ign_eof >/dev/null 2>>clients.err && ok=$((ok + 1)) || failed=$((failed + 1))
        else
            # Upload: push random bytes to the plain server (-no_ign_eof: close at end of input, which -quiet
            # would otherwise turn off).
            [[ $kind == rsa ]] && port=$port_up_rsa || port=$port_up_ec
            head -c $((kb * 1024)) /dev/urandom |
                timeout 30 openssl s_client -connect "127.0.0.1:$port" "${sni[@]}" "${alpn[@]}" "${sess[@]}" \
                    "${opts[@]}" -quiet -no_ign_eof -nocommands >/dev/null 2>>clients.err && ok=$((ok + 1)) || failed=$((failed + 1))
        fi
    done
    echo "record-seed: worker at port $1: $count connections ($ok exited 0, $failed non-zero)" >&2
}

wpids=()
for ((w = 0; w < jobs; w++)); do
    n=$(( connections / jobs + (w < connections % jobs ? 1 : 0) ))
    run_clients $((base_port + 4 * w)) "$n" $(( ${BENCH_SEED:-4242} + w )) &
    wpids+=($!)
done
for pid in "${wpids[@]}"; do wait "$pid"; done

sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
grep -E "captured|dropped" tcpdump.err >&2 || true
