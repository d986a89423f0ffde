#!/usr/bin/env bash
# Records tlsscope's DTLS and QUIC fixture captures on loopback (127.0.0.1, UDP ports 44401-44499).
# Run from the repository root, as root (tcpdump needs capture rights):  Fixtures/make-udp-fixtures.sh [SCENARIO...]
# With no argument every capture is remade; with names (e.g. quic-retry) only those. CHECK_ONLY=1 records
# nothing and runs the tshark checks on the committed captures.
# Captures contain fresh randoms/keys every run: golden tests pin the committed files, not a re-run.
# The test PKI (Fixtures/certs) is the TCP fixtures' one, generated only when missing.
# DTLS: openssl s_server/s_client and gnutls-serv/gnutls-cli from the system. QUIC: aioquic from PyPI in the
# virtual environment scripts/aioquic-venv creates or reuses (.build-aioquic, or $AIOQUIC_VENV; the version is
# pinned there), driven by tools/quic_peer.py.
# The clients log their secrets (SSLKEYLOGFILE format) to Fixtures/keylog/NAME.keys, so tshark can open every
# record and packet of a fixture (`tshark -o tls.keylog_file:Fixtures/keylog/NAME.keys -r ...`); tlsscope, a
# passive analyzer, never reads them.
# Each capture is checked with tshark after recording (`expect`): if the property the scenario is about is
# missing (a lost or reordered datagram can change the handshake), it is recorded again, up to 3 times.
set -euo pipefail

F=Fixtures
C=$F/certs
P=$F/pcap
T=$F/tools
[ -d "$F" ] || { echo "run from the repository root" >&2; exit 2; }
K=$F/keylog
mkdir -p "$P" "$K"
WORK=$(mktemp -d /tmp/tlsscope-udp-fixtures.XXXXXX)
CAP_PID=""; SRV_PID=""

cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "logs kept in $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

"$T/make-certs.sh" "$C"

# start_capture FILE PORT — returns once tcpdump is listening (options as in make-fixtures.sh).
start_capture() {
  local file=$1 port=$2
  rm -f "$file"
  timeout 60 tcpdump -i lo --immediate-mode -B 65536 -s 0 -U -w "$file" "udp port $port" 2>"$WORK/tcpdump.log" &
  CAP_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/tcpdump.log" 2>/dev/null && return 0; sleep 0.05; done
  echo "tcpdump did not start" >&2; cat "$WORK/tcpdump.log" >&2; exit 1
}
stop_capture() {
  sleep 1
  kill -INT "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
  if grep -qE '^[1-9][0-9]* packets dropped by kernel' "$WORK/tcpdump.log" 2>/dev/null; then
    echo "WARNING: tcpdump reports kernel drops:" >&2; cat "$WORK/tcpdump.log" >&2; DROPS=1
  fi
}
DROPS=0

wait_udp_listen() { # PORT
  for _ in $(seq 200); do ss -lunH "sport = :$1" | grep -q . && return 0; sleep 0.05; done
  echo "server did not start on udp $1" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() {
  kill "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

# expect FILE DESCRIPTION TSHARK-FILTER [MIN-COUNT] — true when at least MIN-COUNT (default 1) frames match.
expect() {
  local file=$1 what=$2 filter=$3 min=${4:-1} n
  n=$(tshark -o "tls.keylog_file:$(keylog_of "$file")" -r "$file" -Y "$filter" 2>/dev/null | wc -l)
  if [ "$n" -ge "$min" ]; then return 0; fi
  echo "$(basename "$file"): expected $what ($filter: $n < $min)" >&2
  return 1
}

keylog_of() { echo "$K/$(basename "$1" .pcap).keys"; }

want() { [ ${#ONLY[@]} -eq 0 ] && return 0; local s; for s in "${ONLY[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
ONLY=("$@")
step() { echo "== $1" >&2; }

# record NAME CHECK-FUNCTION RECORD-FUNCTION — runs RECORD-FUNCTION (which writes $P/NAME.pcap) until
# CHECK-FUNCTION accepts the capture, at most 3 times.
record() {
  local name=$1 check=$2 body=$3 attempt
  want "$name" || return 0
  step "$name"
  if [ -n "${CHECK_ONLY:-}" ]; then "$check" "$P/$name.pcap" || FAILED=1; return 0; fi
  for attempt in 1 2 3; do
    rm -f "$K/$name.keys"
    "$body" "$P/$name.pcap"
    "$check" "$P/$name.pcap" && return 0
    echo "$name: attempt $attempt lacks the scenario's property, recording again" >&2
  done
  echo "$name: giving up" >&2; FAILED=1
}
FAILED=0

# ---------------------------------------------------------------------------------------------------------
# DTLS with OpenSSL. s_server answers a first ClientHello with a HelloVerifyRequest (cookie exchange,
# RFC 6347 §4.2.1), with -listen (DTLSv1_listen) or without. -rev does not exist for DTLS, so the server
# sends lines of its own from its stdin (1 s and 3.3 s after it starts); the client sends its line,
# receives the server's, and on the end of its stdin closes with close_notify. The client logs its keys.

# dtls_server PORT [s_server options...]
dtls_server() {
  local port=$1; shift
  { sleep 1; printf 'hello from the server\n'; sleep 2.3; printf 'hello again from the server\n'; sleep 3; } |
    timeout 20 openssl s_server -accept "127.0.0.1:$port" "$@" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  wait_udp_listen "$port"
}
# dtls_client FILE PORT [s_client options...]
dtls_client() {
  local file=$1 port=$2; shift 2
  { sleep 0.3; printf 'hello from tlsscope fixtures\n'; sleep 1.5; } |
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -keylogfile "$(keylog_of "$file")" "$@" >>"$WORK/client.log" 2>&1 || true
}

SRV=(-cert "$C/leaf.pem" -key "$C/leaf.key" -cert_chain "$C/inter.pem")
CLI=(-CAfile "$C/root.pem" -verify_return_error -servername example.test)

# 1. DTLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, SNI, cookie exchange, leaf + intermediate, data both ways, close.
rec_dtls12_openssl_cookie() {
  start_capture "$1" 44401
  dtls_server 44401 "${SRV[@]}" -listen -dtls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -naccept 1
  dtls_client "$1" 44401 "${CLI[@]}" -dtls1_2
  stop_server; stop_capture
}
chk_dtls12_openssl_cookie() {
  expect "$1" "a HelloVerifyRequest" 'dtls.handshake.type == 3' &&
    expect "$1" "two ClientHellos" 'dtls.handshake.type == 1' 2 &&
    expect "$1" "application data both ways" 'dtls.record.content_type == 23' 2 &&
    expect "$1" "close_notify both ways" 'dtls.alert_message.desc == 0' 2
}
record dtls12-openssl-cookie chk_dtls12_openssl_cookie rec_dtls12_openssl_cookie

# 2. The same with a 400-byte MTU on both sides: the Certificate (leaf + intermediate, ~2.2 KB) goes out
#    in several handshake fragments, each in its own record.
rec_dtls12_openssl_fragmented() {
  start_capture "$1" 44402
  dtls_server 44402 "${SRV[@]}" -listen -dtls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -mtu 400 -naccept 1
  dtls_client "$1" 44402 "${CLI[@]}" -dtls1_2 -mtu 400
  stop_server; stop_capture
}
chk_dtls12_openssl_fragmented() {
  expect "$1" "a Certificate in 3+ fragments" \
    'dtls.handshake.type == 11 && dtls.handshake.fragment_length < dtls.handshake.length' 3 &&
    expect "$1" "application data" 'dtls.record.content_type == 23' 2
}
record dtls12-openssl-fragmented chk_dtls12_openssl_fragmented rec_dtls12_openssl_fragmented

# 3. Session resumption: a full handshake (its session saved with -sess_out), then a second connection from
#    another client port resuming it (-sess_in, session id): no Certificate in the second one. Both have the
#    cookie round. Without -listen: DTLSv1_listen connect()s the server's socket to the first client, so a
#    second client port would never reach it. The unconnected socket cannot tell s_server the path MTU, so it
#    falls back to a small one and the first connection's Certificate goes out in many fragments.
rec_dtls12_openssl_resumption() {
  start_capture "$1" 44403
  dtls_server 44403 "${SRV[@]}" -dtls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -naccept 2
  dtls_client "$1" 44403 "${CLI[@]}" -dtls1_2 -sess_out "$WORK/dtls-sess.pem"
  dtls_client "$1" 44403 "${CLI[@]}" -dtls1_2 -sess_in "$WORK/dtls-sess.pem"
  stop_server; stop_capture
}
chk_dtls12_openssl_resumption() {
  expect "$1" "two ServerHellos" 'dtls.handshake.type == 2' 2 &&
    [ "$(tshark -r "$1" -Y 'dtls.handshake.type == 11' -T fields -e udp.dstport 2>/dev/null | sort -u | wc -l)" -eq 1 ] &&
    [ "$(tshark -r "$1" -Y 'dtls.handshake.type == 1' -T fields -e udp.srcport 2>/dev/null | sort -u | wc -l)" -eq 2 ] ||
    { echo "$(basename "$1"): expected a Certificate to one of two client ports" >&2; return 1; }
}
record dtls12-openssl-resumption chk_dtls12_openssl_resumption rec_dtls12_openssl_resumption

# 4. A failed handshake: the client trusts an unrelated root and rejects the chain with a clear-text fatal
#    unknown_ca alert (48) in epoch 0.
rec_dtls12_openssl_failure() {
  start_capture "$1" 44404
  dtls_server 44404 "${SRV[@]}" -listen -dtls1_2 -naccept 1
  dtls_client "$1" 44404 -CAfile "$C/wrong-root.pem" -verify_return_error -servername example.test -dtls1_2
  stop_server; stop_capture
}
chk_dtls12_openssl_failure() {
  expect "$1" "a fatal unknown_ca alert" 'dtls.alert_message.level == 2 && dtls.alert_message.desc == 48'
}
record dtls12-openssl-failure chk_dtls12_openssl_failure rec_dtls12_openssl_failure

# 5. DTLS 1.0 (record version 0xfeff) with ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1), security level 0 on both
#    sides (OpenSSL 3 refuses DTLS 1.0 above level 0).
rec_dtls10_openssl() {
  start_capture "$1" 44405
  dtls_server 44405 "${SRV[@]}" -listen -dtls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0' -naccept 1
  dtls_client "$1" 44405 "${CLI[@]}" -dtls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
  stop_server; stop_capture
}
chk_dtls10_openssl() {
  expect "$1" "a DTLS 1.0 ServerHello" 'dtls.handshake.type == 2 && dtls.handshake.version == 0xfeff' &&
    expect "$1" "application data" 'dtls.record.content_type == 23' 2
}
record dtls10-openssl chk_dtls10_openssl rec_dtls10_openssl

# ---------------------------------------------------------------------------------------------------------
# DTLS with GnuTLS. gnutls-serv --udp asks for a cookie by default (--nocookie turns it off), so these
# have the HelloVerifyRequest round too; its default MTU (1200 here) splits the Certificate in two
# fragments. --echo sends each line back; the client closes with close_notify at the end of its stdin.
gnutls_dtls() { # FILE PORT PRIORITY
  local file=$1 port=$2 prio=$3
  start_capture "$file" "$port"
  timeout 20 gnutls-serv -p "$port" --udp --echo --disable-client-cert --x509certfile "$C/leaf-chain.pem" \
    --x509keyfile "$C/leaf.key" --priority "$prio" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  wait_udp_listen "$port"
  { sleep 0.3; printf 'hello from tlsscope fixtures\n'; sleep 1; } |
    SSLKEYLOGFILE=$(keylog_of "$file") timeout 10 gnutls-cli --udp 127.0.0.1 -p "$port" --sni-hostname example.test --verify-hostname example.test \
      --x509cafile "$C/root.pem" --priority "$prio" >>"$WORK/client.log" 2>&1 || true
  stop_server; stop_capture
}

# 6. DTLS 1.2, GnuTLS defaults (ECDHE-RSA, AES-256-GCM).
rec_dtls12_gnutls() { gnutls_dtls "$1" 44406 'NORMAL:-VERS-ALL:+VERS-DTLS1.2'; }
chk_dtls12_gnutls() {
  expect "$1" "a HelloVerifyRequest" 'dtls.handshake.type == 3' &&
    expect "$1" "a DTLS 1.2 ServerHello" 'dtls.handshake.type == 2 && dtls.handshake.version == 0xfefd' &&
    expect "$1" "application data both ways" 'dtls.record.content_type == 23' 2
}
record dtls12-gnutls chk_dtls12_gnutls rec_dtls12_gnutls

# 7. DTLS 1.0, GnuTLS, ECDHE-RSA with AES-128-CBC and HMAC-SHA1.
rec_dtls10_gnutls() { gnutls_dtls "$1" 44407 'NORMAL:-VERS-ALL:+VERS-DTLS1.0:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1'; }
chk_dtls10_gnutls() {
  expect "$1" "a HelloVerifyRequest" 'dtls.handshake.type == 3' &&
    expect "$1" "a DTLS 1.0 ServerHello" 'dtls.handshake.type == 2 && dtls.handshake.version == 0xfeff' &&
    expect "$1" "application data both ways" 'dtls.record.content_type == 23' 2
}
record dtls10-gnutls chk_dtls10_gnutls rec_dtls10_gnutls

# ---------------------------------------------------------------------------------------------------------
# QUIC with aioquic (tools/quic_peer.py). tshark derives the Initial keys itself, so the checks see the
# ClientHello and ServerHello inside the Initial packets.
quic_wanted() {
  local s
  for s in quic-v1 quic-v2 quic-retry quic-split-clienthello quic-failure quic-0rtt; do want "$s" && return 0; done
  return 1
}
QPY=python3
if quic_wanted && [ -z "${CHECK_ONLY:-}" ]; then
  QPY=$(scripts/aioquic-venv)
fi

# quic FILE PORT "SERVER OPTIONS" "CLIENT OPTIONS"
quic() {
  local file=$1 port=$2 server_options=$3 client_options=$4
  start_capture "$file" "$port"
  # shellcheck disable=SC2086  # the option strings are word lists
  timeout 30 "$QPY" "$T/quic_peer.py" server 127.0.0.1 "$port" --cert "$C/leaf-chain.pem" --key "$C/leaf.key" \
    $server_options >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  wait_udp_listen "$port"
  # shellcheck disable=SC2086
  timeout 20 "$QPY" "$T/quic_peer.py" client 127.0.0.1 "$port" --ca "$C/root.pem" --sni example.test \
    --keylog "$(keylog_of "$file")" $client_options >>"$WORK/client.log" 2>&1 || true
  wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
  stop_capture
}

# 8. QUIC v1, ALPN h3, SNI example.test, one stream each way, the client closes (application
#    CONNECTION_CLOSE 0x1d, code 0, in a 1-RTT packet: only visible with the key log).
rec_quic_v1() { quic "$1" 44411 "--versions v1" "--versions v1"; }
chk_quic_v1() {
  expect "$1" "a v1 ClientHello" 'quic.version == 1 && tls.handshake.type == 1 && tls.handshake.extensions_server_name == "example.test"' &&
    expect "$1" "a ServerHello" 'tls.handshake.type == 2' &&
    expect "$1" "the client's application CONNECTION_CLOSE, code 0" 'quic.frame_type == 0x1d && quic.cc.error_code.app == 0'
}
record quic-v1 chk_quic_v1 rec_quic_v1

# 9. QUIC version 2 (RFC 9369, 0x6b3343cf) from the first packet: the client starts with v2, the server
#    accepts v2 and v1.
rec_quic_v2() { quic "$1" 44412 "--versions v2,v1" "--versions v2"; }
chk_quic_v2() {
  expect "$1" "a v2 ClientHello" 'quic.version == 0x6b3343cf && tls.handshake.type == 1' &&
    expect "$1" "a v2 ServerHello" 'quic.version == 0x6b3343cf && tls.handshake.type == 2'
}
record quic-v2 chk_quic_v2 rec_quic_v2

# 10. Retry (RFC 9000 §8.1.2): the server answers the first Initial with a Retry carrying a token and a new
#     connection id; the client sends its ClientHello again with the token, to the new id.
rec_quic_retry() { quic "$1" 44413 "--retry" ""; }
chk_quic_retry() {
  # tshark dissects the ClientHello once: the second copy, after the Retry, is the same CRYPTO stream.
  expect "$1" "a Retry" 'quic.long.packet_type == 3 && quic.retry_token' &&
    expect "$1" "two ClientHellos" 'udp.dstport == 44413 && quic.long.packet_type == 0 && quic.crypto.offset == 0' 2 &&
    expect "$1" "an Initial with a token" 'quic.long.packet_type == 0 && quic.token_length > 0' &&
    expect "$1" "a ServerHello" 'tls.handshake.type == 2'
}
record quic-retry chk_quic_retry rec_quic_retry

# 11. A ClientHello too big for one Initial: aioquic's quantum_readiness_test adds a 1,200-byte transport
#     parameter, so the CRYPTO stream of the ClientHello continues in a second Initial packet (offset > 0).
rec_quic_split_clienthello() { quic "$1" 44414 "" "--big-clienthello"; }
chk_quic_split_clienthello() {
  expect "$1" "a client Initial continuing the ClientHello" \
    'udp.dstport == 44414 && quic.long.packet_type == 0 && quic.crypto.offset > 0' &&
    expect "$1" "the ClientHello completed in that packet" 'tls.handshake.type == 1 && quic.crypto.offset > 0' &&
    expect "$1" "a ServerHello" 'tls.handshake.type == 2'
}
record quic-split-clienthello chk_quic_split_clienthello rec_quic_split_clienthello

# 12. A failed handshake: the client offers ALPN h3 only, the server accepts only "tlsscope-other", and
#     closes with CONNECTION_CLOSE CRYPTO_ERROR 0x178 (0x100 + no_application_protocol, 120) in an Initial.
rec_quic_failure() { quic "$1" 44415 "--alpn tlsscope-other" "--alpn h3"; }
chk_quic_failure() {
  expect "$1" "CONNECTION_CLOSE 0x178" 'quic.frame_type == 0x1c && quic.cc.error_code == 0x178'
}
record quic-failure chk_quic_failure rec_quic_failure

# 13. 0-RTT: a first connection gets a session ticket (with early data allowed); a second one, from another
#     client port, resumes with it (pre_shared_key, early_data) and sends its line in a 0-RTT packet.
rec_quic_0rtt() { quic "$1" 44416 "--connections 2" "--connections 2 --early-data"; }
chk_quic_0rtt() {
  expect "$1" "a 0-RTT packet" 'quic.long.packet_type == 1' &&
    expect "$1" "two ServerHellos" 'tls.handshake.type == 2' 2 &&
    expect "$1" "a ClientHello offering early data" 'tls.handshake.type == 1 && tls.handshake.extension.type == 42' &&
    expect "$1" "early data accepted (EncryptedExtensions)" 'tls.handshake.type == 8 && tls.handshake.extension.type == 42'
}
record quic-0rtt chk_quic_0rtt rec_quic_0rtt

for k in "$K"/*.keys; do grep -q '^[A-Z]' "$k" || rm -f "$k"; done  # failed before any secret (or only a header)
chmod 644 "$P"/* "$K"/*
ls -l "$P"/dtls* "$P"/quic-* >&2 || true
[ "$DROPS" = 0 ] || { echo "some captures lost packets (see warnings above): run again" >&2; exit 1; }
[ "$FAILED" = 0 ] || { echo "some scenarios were not captured as intended (see above)" >&2; exit 1; }
