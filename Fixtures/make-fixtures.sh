#!/usr/bin/env bash
# Records tlsscope's TLS fixture captures on loopback (127.0.0.1 / ::1, ports 44301-44399).
# Run from the repository root, as root (tcpdump needs capture rights):  Fixtures/make-fixtures.sh [SCENARIO...]
# With no argument every capture is remade; with names (e.g. tls13-hrr) only those.
# Captures contain fresh randoms/keys every run: golden tests pin the committed files, not a re-run.
# Test PKI (Fixtures/certs) is generated only when missing, so certificates stay stable across runs.
set -euo pipefail

F=Fixtures
C=$F/certs
P=$F/pcap
T=$F/tools
[ -d "$F" ] || { echo "run from the repository root" >&2; exit 2; }
mkdir -p "$P"
WORK=$(mktemp -d /tmp/tlsscope-fixtures.XXXXXX)
CAP_PID=""; SRV_PID=""

cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "logs kept in $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

"$T/make-certs.sh" "$C"

# start_capture FILE PORT [tcpdump options...] — returns once tcpdump is listening.
# --immediate-mode makes libpcap use fixed-size ring frames as big as the snapshot length (256 KiB
# with -s 0 on "any"), so the default 2 MiB buffer holds only a few packets and the kernel drops
# some: -B 65536 (64 MiB) avoids that. stop_capture checks tcpdump's drop count anyway.
start_capture() {
  local file=$1 port=$2; shift 2
  local opts=("$@"); [ ${#opts[@]} -eq 0 ] && opts=(-i lo)
  rm -f "$file"
  timeout 60 tcpdump "${opts[@]}" --immediate-mode -B 65536 -s 0 -U -w "$file" "tcp port $port" 2>"$WORK/tcpdump.log" &
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

# start_server PORT [s_server options...] — an openssl s_server in -rev mode (echoes each line
# reversed, so application data flows both ways), bounded by timeout; returns once it listens.
start_server() {
  local port=$1; shift
  local addr=127.0.0.1
  case " $* " in *" -6 "*) addr='[::1]';; esac
  timeout 30 openssl s_server -accept "$addr:$port" -rev "$@" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :$port" | grep -q . && return 0; sleep 0.05; done
  echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() {
  kill "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

# client PORT [s_client options...] — sends one line, waits for the reply, closes (close_notify).
# A failing handshake is expected in the alert scenarios, so the exit status is ignored.
client() {
  local port=$1; shift
  local addr=127.0.0.1
  case " $* " in *" -6 "*) addr='[::1]';; esac
  { printf 'hello from tlsscope fixtures\n'; sleep 0.6; } |
    timeout 10 openssl s_client -connect "$addr:$port" "$@" >>"$WORK/client.log" 2>&1 || true
}

SRV=(-cert "$C/leaf.pem" -key "$C/leaf.key" -cert_chain "$C/inter.pem")
CLI=(-CAfile "$C/root.pem" -verify_return_error -servername example.test)

want() { [ ${#ONLY[@]} -eq 0 ] && return 0; local s; for s in "${ONLY[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
ONLY=("$@")
step() { echo "== $1" >&2; }

# 1. TLS 1.3, X25519, SNI, ALPN h2, data both ways, clean close.
#    The kernel sometimes sends a tail-loss-probe retransmission of the client's data record (the
#    server delays its ACK); this basic fixture should be clean, so it is recorded again (up to 5 times).
if want tls13-x25519; then step tls13-x25519
  for attempt in 1 2 3 4 5; do
    start_capture "$P/tls13-x25519.pcap" 44301
    start_server 44301 "${SRV[@]}" -tls1_3 -groups X25519 -alpn h2 -naccept 1
    client 44301 "${CLI[@]}" -tls1_3 -groups X25519 -alpn h2
    stop_server; stop_capture
    [ -z "$(tshark -r "$P/tls13-x25519.pcap" -Y tcp.analysis.flags 2>/dev/null)" ] && break
    echo "tls13-x25519: TCP anomaly in attempt $attempt, recording again" >&2
  done
fi

# 2. TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, leaf + intermediate chain, SNI, ALPN http/1.1.
if want tls12-ecdhe-rsa-chain; then step tls12-ecdhe-rsa-chain
  start_capture "$P/tls12-ecdhe-rsa-chain.pcap" 44302
  start_server 44302 "${SRV[@]}" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -alpn http/1.1 -naccept 1
  client 44302 "${CLI[@]}" -tls1_2 -alpn http/1.1
  stop_server; stop_capture
fi

# 3. TLS 1.2 DHE-RSA-AES256-GCM-SHA384 with a fresh 2048-bit prime.
if want tls12-dhe; then step tls12-dhe
  start_capture "$P/tls12-dhe.pcap" 44303
  start_server 44303 "${SRV[@]}" -tls1_2 -cipher DHE-RSA-AES256-GCM-SHA384 -dhparam "$C/dh2048.pem" -naccept 1
  client 44303 "${CLI[@]}" -tls1_2 -cipher DHE-RSA-AES256-GCM-SHA384
  stop_server; stop_capture
fi

# 3b. TLS 1.2 DHE with a 1024-bit prime and a CBC-SHA1 suite (security level 0 on both sides).
#     (This libssl is built without 3DES suites, so DHE-RSA-AES128-SHA stands in for a 3DES one.)
if want tls12-dhe1024-cbc-sha; then step tls12-dhe1024-cbc-sha
  start_capture "$P/tls12-dhe1024-cbc-sha.pcap" 44304
  start_server 44304 "${SRV[@]}" -tls1_2 -cipher 'DHE-RSA-AES128-SHA:@SECLEVEL=0' -dhparam "$C/dh1024.pem" -naccept 1
  client 44304 "${CLI[@]}" -tls1_2 -cipher 'DHE-RSA-AES128-SHA:@SECLEVEL=0'
  stop_server; stop_capture
fi

# 3c. The same weak 1024-bit prime with a real 3DES suite, TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA.
#     openssl's libssl here has no 3DES suites, so both ends are GnuTLS (gnutls-serv --echo / gnutls-cli).
#     The FFDHE groups are removed from the priority so that the server uses the custom dh1024 prime
#     instead of RFC 7919 ffdhe2048; gnutls-serv asks for a client certificate unless told not to.
if want tls12-dhe1024-3des; then step tls12-dhe1024-3des
  PRIO='NORMAL:-KX-ALL:+DHE-RSA:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:+SHA1:-VERS-ALL:+VERS-TLS1.2:-GROUP-FFDHE2048:-GROUP-FFDHE3072:-GROUP-FFDHE4096:-GROUP-FFDHE6144:-GROUP-FFDHE8192'
  start_capture "$P/tls12-dhe1024-3des.pcap" 44319
  timeout 30 gnutls-serv -p 44319 --echo --disable-client-cert --x509certfile "$C/leaf-chain.pem" --x509keyfile "$C/leaf.key" \
    --dhparams "$C/dh1024.pem" --priority "$PRIO" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :44319" | grep -q . && break; sleep 0.05; done
  { printf 'hello from tlsscope fixtures\n'; sleep 0.6; } |
    timeout 10 gnutls-cli 127.0.0.1 -p 44319 --sni-hostname example.test --verify-hostname example.test \
      --x509cafile "$C/root.pem" --priority "$PRIO" >>"$WORK/client.log" 2>&1 || true
  stop_server; stop_capture
fi

# 4. TLS 1.0, static RSA key exchange, AES128-SHA (security level 0).
if want tls10-rsa; then step tls10-rsa
  start_capture "$P/tls10-rsa.pcap" 44305
  start_server 44305 "${SRV[@]}" -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' -naccept 1
  client 44305 "${CLI[@]}" -tls1 -cipher 'AES128-SHA:@SECLEVEL=0'
  stop_server; stop_capture
fi

# 5. Resumption: two connections per capture, the second one abbreviated.
if want tls12-resumption-id; then step tls12-resumption-id
  start_capture "$P/tls12-resumption-id.pcap" 44306
  start_server 44306 "${SRV[@]}" -tls1_2 -no_ticket -naccept 2
  client 44306 "${CLI[@]}" -tls1_2 -sess_out "$WORK/sess-id.pem"
  client 44306 "${CLI[@]}" -tls1_2 -sess_in "$WORK/sess-id.pem"
  stop_server; stop_capture
fi
if want tls12-resumption-ticket; then step tls12-resumption-ticket
  start_capture "$P/tls12-resumption-ticket.pcap" 44307
  start_server 44307 "${SRV[@]}" -tls1_2 -naccept 2
  client 44307 "${CLI[@]}" -tls1_2 -sess_out "$WORK/sess-ticket.pem"
  client 44307 "${CLI[@]}" -tls1_2 -sess_in "$WORK/sess-ticket.pem"
  stop_server; stop_capture
fi
if want tls13-resumption-psk; then step tls13-resumption-psk
  start_capture "$P/tls13-resumption-psk.pcap" 44308
  start_server 44308 "${SRV[@]}" -tls1_3 -num_tickets 1 -naccept 2
  client 44308 "${CLI[@]}" -tls1_3 -sess_out "$WORK/sess-psk.pem"
  client 44308 "${CLI[@]}" -tls1_3 -sess_in "$WORK/sess-psk.pem"
  stop_server; stop_capture
fi

# 6. Failed handshakes ending in a fatal alert.
if want tls12-alert-handshake-failure; then step tls12-alert-handshake-failure
  # The client offers only AES256-SHA; the server has only ECDHE-RSA-AES128-GCM-SHA256.
  start_capture "$P/tls12-alert-handshake-failure.pcap" 44309
  start_server 44309 "${SRV[@]}" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -naccept 1
  client 44309 "${CLI[@]}" -tls1_2 -cipher AES256-SHA
  stop_server; stop_capture
fi
if want tls12-alert-unknown-ca; then step tls12-alert-unknown-ca
  # The client trusts an unrelated root: it rejects the chain with a clear-text unknown_ca alert.
  start_capture "$P/tls12-alert-unknown-ca.pcap" 44310
  start_server 44310 "${SRV[@]}" -tls1_2 -naccept 1
  client 44310 -CAfile "$C/wrong-root.pem" -verify_return_error -servername example.test -tls1_2
  stop_server; stop_capture
fi
if want tls13-alert-unknown-ca; then step tls13-alert-unknown-ca
  # Same in TLS 1.3 with a GnuTLS client: it sends the alert under its handshake keys, so the
  # alert is an encrypted record (outer type application_data) followed by the TCP close.
  start_capture "$P/tls13-alert-unknown-ca.pcap" 44311
  start_server 44311 "${SRV[@]}" -tls1_3 -naccept 1
  { printf 'hello from tlsscope fixtures\n'; sleep 0.6; } |
    timeout 10 gnutls-cli 127.0.0.1 -p 44311 --sni-hostname example.test --verify-hostname example.test \
      --x509cafile "$C/wrong-root.pem" >>"$WORK/client.log" 2>&1 || true
  stop_server; stop_capture
fi
if want tls13-alert-unknown-ca-openssl; then step tls13-alert-unknown-ca-openssl
  # The OpenSSL 3.0 client in the same situation: it has not switched its write side to the
  # handshake keys yet (it does so when it sends its own CCS/Finished), so its unknown_ca alert
  # goes out as a clear-text alert record in the middle of a TLS 1.3 handshake.
  start_capture "$P/tls13-alert-unknown-ca-openssl.pcap" 44323
  start_server 44323 "${SRV[@]}" -tls1_3 -naccept 1
  client 44323 -CAfile "$C/wrong-root.pem" -verify_return_error -servername example.test -tls1_3
  stop_server; stop_capture
fi

# 7. TLS 1.3 HelloRetryRequest: the client's only key share is X25519, the server takes only P-256.
if want tls13-hrr; then step tls13-hrr
  start_capture "$P/tls13-hrr.pcap" 44312
  start_server 44312 "${SRV[@]}" -tls1_3 -groups P-256 -naccept 1
  client 44312 "${CLI[@]}" -tls1_3 -groups X25519:P-256
  stop_server; stop_capture
fi

# 8. TLS 1.3 ClientHello split over 3+ TCP segments (python client, see tools/split_hello_client.py),
#    then rewritten: 2nd and 3rd segments swapped, a retransmission of the 1st inserted after them.
if want tls13-split-clienthello-ooo; then step tls13-split-clienthello-ooo
  start_capture "$WORK/split.pcap" 44313
  start_server 44313 "${SRV[@]}" -tls1_3 -alpn h2 -naccept 1
  timeout 10 python3 "$T/split_hello_client.py" 127.0.0.1 44313 example.test "$C/root.pem" 700 2>>"$WORK/client.log" || true
  stop_server; stop_capture
  cp "$WORK/split.pcap" "$P/tls13-split-clienthello.pcap"
  python3 "$T/pcaptool.py" reorder-hello "$WORK/split.pcap" "$P/tls13-split-clienthello-ooo.pcap"
fi

# 9. TLS 1.2 picked up mid-stream: the three-way handshake removed (file starts at the ClientHello).
if want tls12-no-syn; then step tls12-no-syn
  start_capture "$WORK/nosyn.pcap" 44314
  start_server 44314 "${SRV[@]}" -tls1_2 -naccept 1
  client 44314 "${CLI[@]}" -tls1_2
  stop_server; stop_capture
  python3 "$T/pcaptool.py" drop "$WORK/nosyn.pcap" "$P/tls12-no-syn.pcap" --first 3
fi

# 10. Other link layers: Linux cooked v2 (tcpdump -i any), 802.1Q VLAN and 802.1ad QinQ (rewritten).
if want tls13-sll2; then step tls13-sll2
  start_capture "$P/tls13-sll2.pcap" 44315 -i any -y LINUX_SLL2
  start_server 44315 "${SRV[@]}" -tls1_3 -naccept 1
  client 44315 "${CLI[@]}" -tls1_3
  stop_server; stop_capture
fi
if want tls12-vlan || want tls12-qinq; then step tls12-vlan
  start_capture "$WORK/vlan.pcap" 44316
  start_server 44316 "${SRV[@]}" -tls1_2 -naccept 1
  client 44316 "${CLI[@]}" -tls1_2
  stop_server; stop_capture
  python3 "$T/pcaptool.py" vlan "$WORK/vlan.pcap" "$P/tls12-vlan.pcap" --vid 100
  python3 "$T/pcaptool.py" vlan "$WORK/vlan.pcap" "$P/tls12-qinq.pcap" --vid 100 --outer-vid 200
fi

# 11. truncated.pcap: tls13-x25519.pcap cut in the middle of the client's application-data record
#     (the 1st client segment that starts with content type 23: its Finished went out with the CCS).
if want truncated; then step truncated
  off=$(python3 "$T/pcaptool.py" appdata-offset "$P/tls13-x25519.pcap" --from client --nth 1)
  python3 "$T/pcaptool.py" cut "$P/tls13-x25519.pcap" "$P/truncated.pcap" --offset "$off"
  echo "truncated.pcap: cut at byte offset $off" >&2
fi

# 11b. tls12-ppp.pcap: tls12-ecdhe-rsa-chain.pcap rewritten to LINKTYPE_PPP (9): each Ethernet header replaced
#      by PPP's 0xFF 0x03 address/control and protocol 0x0021 (IPv4). Same connection, other link layer.
if want tls12-ppp; then step tls12-ppp
  python3 "$T/pcaptool.py" ppp "$P/tls12-ecdhe-rsa-chain.pcap" "$P/tls12-ppp.pcap"
fi

# 12. TLS 1.2 over IPv6 loopback.
if want tls12-ipv6; then step tls12-ipv6
  start_capture "$P/tls12-ipv6.pcap" 44317
  start_server 44317 "${SRV[@]}" -6 -tls1_2 -naccept 1
  client 44317 "${CLI[@]}" -6 -tls1_2
  stop_server; stop_capture
fi

# 13. Mutual TLS 1.2: the server demands a client certificate (chain: client + intermediate).
if want tls12-client-cert; then step tls12-client-cert
  start_capture "$P/tls12-client-cert.pcap" 44318
  start_server 44318 "${SRV[@]}" -tls1_2 -Verify 1 -CAfile "$C/root.pem" -verify_return_error -naccept 1
  client 44318 "${CLI[@]}" -tls1_2 -cert "$C/client.pem" -key "$C/client.key" -cert_chain "$C/inter.pem"
  stop_server; stop_capture
fi

# 13b. Nanosecond-resolution classic pcap (magic a1b23c4d), TLS 1.2.
if want tls12-nanosec; then step tls12-nanosec
  start_capture "$P/tls12-nanosec.pcap" 44324 -i lo --time-stamp-precision nano
  start_server 44324 "${SRV[@]}" -tls1_2 -naccept 1
  client 44324 "${CLI[@]}" -tls1_2
  stop_server; stop_capture
fi

# 15. Certificate variety (all TLS 1.2, so the certificates are in clear).
if want tls12-ecdhe-ecdsa; then step tls12-ecdhe-ecdsa
  # ECDSA P-256 leaf signed by the (RSA) intermediate.
  start_capture "$P/tls12-ecdhe-ecdsa.pcap" 44325
  start_server 44325 -cert "$C/ecdsa.pem" -key "$C/ecdsa.key" -cert_chain "$C/inter.pem" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -naccept 1
  client 44325 -CAfile "$C/root.pem" -verify_return_error -servername ecdsa.example.test -tls1_2
  stop_server; stop_capture
fi
if want tls12-weak-rsa1024-sha1; then step tls12-weak-rsa1024-sha1
  # RSA-1024 leaf signed with sha1WithRSAEncryption; both ends at security level 0 to accept it.
  start_capture "$P/tls12-weak-rsa1024-sha1.pcap" 44326
  start_server 44326 -cert "$C/weak.pem" -key "$C/weak.key" -cert_chain "$C/inter.pem" -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -naccept 1
  client 44326 -CAfile "$C/root.pem" -verify_return_error -servername weak.example.test -tls1_2 -cipher 'ALL:@SECLEVEL=0'
  stop_server; stop_capture
fi
if want tls12-self-signed; then step tls12-self-signed
  # A lone self-signed end-entity certificate (the client trusts exactly that certificate).
  start_capture "$P/tls12-self-signed.pcap" 44327
  start_server 44327 -cert "$C/selfsigned.pem" -key "$C/selfsigned.key" -tls1_2 -naccept 1
  client 44327 -CAfile "$C/selfsigned.pem" -verify_return_error -servername selfsigned.example.test -tls1_2
  stop_server; stop_capture
fi

# 16. TLS 1.1 (security level 0), ECDHE-RSA-AES128-SHA.
if want tls11-ecdhe-rsa; then step tls11-ecdhe-rsa
  start_capture "$P/tls11-ecdhe-rsa.pcap" 44328
  start_server 44328 "${SRV[@]}" -tls1_1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0' -naccept 1
  client 44328 "${CLI[@]}" -tls1_1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
  stop_server; stop_capture
fi

# 17. STARTTLS: a cleartext SMTP / IMAP / POP3 dialogue upgraded to TLS (tools/starttls_server.py,
#     client `openssl s_client -starttls PROTO`). High ports, so a detector must go by content, not port.
starttls_capture() { # NAME PORT PROTO [s_client options...]
  local name=$1 port=$2 proto=$3; shift 3
  want "$name" || return 0
  step "$name"
  start_capture "$P/$name.pcap" "$port"
  timeout 30 python3 "$T/starttls_server.py" "$proto" 127.0.0.1 "$port" "$C/leaf-chain.pem" "$C/leaf.key" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :$port" | grep -q . && break; sleep 0.05; done
  client "$port" "${CLI[@]}" -starttls "$proto" "$@"
  wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
  stop_capture
}
starttls_capture starttls-smtp 44329 smtp -tls1_2
starttls_capture starttls-imap 44330 imap -tls1_3
starttls_capture starttls-pop3 44331 pop3 -tls1_2

# 18. A browser-like ClientHello with GREASE values (tools/grease_hello.py, hand-built bytes), answered by
#     s_server -tls1_3 -alpn h2; the client closes after the server's flight (never established).
if want tls13-grease-clienthello; then step tls13-grease-clienthello
  start_capture "$P/tls13-grease-clienthello.pcap" 44332
  start_server 44332 "${SRV[@]}" -tls1_3 -alpn h2 -naccept 1
  timeout 10 python3 "$T/grease_hello.py" 127.0.0.1 44332 example.test 2>>"$WORK/client.log" || true
  sleep 0.3; stop_server; stop_capture
fi

# 19. Certificate validity dates (leaves from tools/make-certs.sh `dated`, signed by the intermediate) and a
#     client offering broken suites. The clients verify against root.pem but without -verify_return_error,
#     so OpenSSL logs the verify error (expired / not yet valid) and the handshake still completes.
dated_capture() { # NAME PORT CERT SERVERNAME
  local name=$1 port=$2 cert=$3 sni=$4
  want "$name" || return 0
  step "$name"
  start_capture "$P/$name.pcap" "$port"
  start_server "$port" -cert "$C/$cert.pem" -key "$C/$cert.key" -cert_chain "$C/inter.pem" -tls1_2 \
    -cipher ECDHE-RSA-AES128-GCM-SHA256 -naccept 1
  client "$port" -CAfile "$C/root.pem" -servername "$sni" -tls1_2
  stop_server; stop_capture
}
dated_capture tls12-expired-cert  44350 expired  expired.example.test
dated_capture tls12-expiring-cert 44351 expiring expiring.example.test
dated_capture tls12-not-yet-valid 44352 notyet   notyet.example.test
if want tls12-client-offers-weak; then step tls12-client-offers-weak
  # The client offers every suite this libssl has at security level 0 (NULL, anonymous DH/ECDH, PSK, CBC,
  # SHA-1...; no RC4, DES or 3DES are compiled in); the server has only ECDHE-RSA-AES128-GCM-SHA256.
  start_capture "$P/tls12-client-offers-weak.pcap" 44353
  start_server 44353 "${SRV[@]}" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -naccept 1
  client 44353 "${CLI[@]}" -tls1_2 -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'
  stop_server; stop_capture
fi

# 14. pcapng (written by tshark) with three connections: TLS 1.3, TLS 1.2, TLS 1.0.
if want multi-connection; then step multi-connection
  rm -f "$P/multi-connection.pcapng"
  timeout 60 tshark -i lo -f 'tcp portrange 44320-44322' -w "$WORK/multi.pcapng" >"$WORK/tshark.log" 2>&1 &
  CAP_PID=$!
  for _ in $(seq 200); do grep -q "Capturing on" "$WORK/tshark.log" 2>/dev/null && break; sleep 0.05; done
  sleep 0.5
  start_server 44320 "${SRV[@]}" -tls1_3 -naccept 1;                       client 44320 "${CLI[@]}" -tls1_3; stop_server
  start_server 44321 "${SRV[@]}" -tls1_2 -naccept 1;                       client 44321 "${CLI[@]}" -tls1_2; stop_server
  start_server 44322 "${SRV[@]}" -tls1 -cipher 'ALL:@SECLEVEL=0' -naccept 1; client 44322 "${CLI[@]}" -tls1 -cipher 'ALL:@SECLEVEL=0'; stop_server
  stop_capture
  cp "$WORK/multi.pcapng" "$P/multi-connection.pcapng"
fi

# 15. With key logs (issue #14): the client writes its secrets (NSS key log format) to Fixtures/keylog/NAME.keys,
#     so that the handshake can be opened and its Finished proven. One per AEAD suite of TLS 1.3 and 1.2.
keylog_capture() { # NAME PORT VERSION-OPTIONS...
  local name=$1 port=$2; shift 2
  if want "$name"; then step "$name"
    rm -f "$F/keylog/$name.keys"
    start_capture "$P/$name.pcap" "$port"
    start_server "$port" "${SRV[@]}" "$@" -naccept 1
    client "$port" "${CLI[@]}" "$@" -keylogfile "$F/keylog/$name.keys"
    stop_server; stop_capture
  fi
}
keylog_capture keylog-tls13-aes128gcm 44360 -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
keylog_capture keylog-tls13-aes256gcm 44361 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
keylog_capture keylog-tls13-chacha20  44362 -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
keylog_capture keylog-tls12-aes128gcm 44363 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
keylog_capture keylog-tls12-aes256gcm 44364 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
keylog_capture keylog-tls12-chacha20  44365 -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
# CBC with HMAC: encrypt-then-MAC (RFC 7366, negotiated by default), MAC-then-encrypt (-no_etm), and TLS 1.0's
# implicit IV and MD5/SHA-1 PRF.
keylog_capture keylog-tls12-cbc-etm   44366 -tls1_2 -cipher ECDHE-RSA-AES128-SHA256
keylog_capture keylog-tls12-cbc       44367 -tls1_2 -cipher ECDHE-RSA-AES256-SHA384 -no_etm
keylog_capture keylog-tls10-cbc       44368 -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0' -no_etm
# HelloRetryRequest with keys (the transcript's message_hash rule): as scenario 7.
if want keylog-tls13-hrr; then step keylog-tls13-hrr
  rm -f "$F/keylog/keylog-tls13-hrr.keys"
  start_capture "$P/keylog-tls13-hrr.pcap" 44369
  start_server 44369 "${SRV[@]}" -tls1_3 -groups P-256 -naccept 1
  client 44369 "${CLI[@]}" -tls1_3 -groups X25519:P-256 -keylogfile "$F/keylog/keylog-tls13-hrr.keys"
  stop_server; stop_capture
fi

# Client certificates under TLS 1.3 (encrypted: only the keys show them), with ALPN chosen in EncryptedExtensions.
if want keylog-tls13-client-cert; then step keylog-tls13-client-cert
  rm -f "$F/keylog/keylog-tls13-client-cert.keys"
  start_capture "$P/keylog-tls13-client-cert.pcap" 44370
  start_server 44370 "${SRV[@]}" -tls1_3 -alpn h2 -Verify 1 -CAfile "$C/root.pem" -verify_return_error -naccept 1
  client 44370 "${CLI[@]}" -tls1_3 -alpn h2,http/1.1 -cert "$C/client.pem" -key "$C/client.key" -cert_chain "$C/inter.pem" \
    -keylogfile "$F/keylog/keylog-tls13-client-cert.keys"
  stop_server; stop_capture
fi
# Resumption with keys: a TLS 1.3 PSK (ticket) and a TLS 1.2 session id, two connections each, one key log
# (openssl appends to it).
if want keylog-tls13-resumption; then step keylog-tls13-resumption
  rm -f "$F/keylog/keylog-tls13-resumption.keys"
  start_capture "$P/keylog-tls13-resumption.pcap" 44371
  start_server 44371 "${SRV[@]}" -tls1_3 -num_tickets 1 -naccept 2
  client 44371 "${CLI[@]}" -tls1_3 -sess_out "$WORK/sess-keylog13.pem" -keylogfile "$F/keylog/keylog-tls13-resumption.keys"
  client 44371 "${CLI[@]}" -tls1_3 -sess_in "$WORK/sess-keylog13.pem" -keylogfile "$F/keylog/keylog-tls13-resumption.keys"
  stop_server; stop_capture
fi
if want keylog-tls12-resumption; then step keylog-tls12-resumption
  rm -f "$F/keylog/keylog-tls12-resumption.keys"
  start_capture "$P/keylog-tls12-resumption.pcap" 44372
  start_server 44372 "${SRV[@]}" -tls1_2 -no_ticket -naccept 2
  client 44372 "${CLI[@]}" -tls1_2 -sess_out "$WORK/sess-keylog12.pem" -keylogfile "$F/keylog/keylog-tls12-resumption.keys"
  client 44372 "${CLI[@]}" -tls1_2 -sess_in "$WORK/sess-keylog12.pem" -keylogfile "$F/keylog/keylog-tls12-resumption.keys"
  stop_server; stop_capture
fi
# 0-RTT: the second connection resumes with early data (the key log gains CLIENT_EARLY_TRAFFIC_SECRET); its
# EndOfEarlyData goes under the early keys, before the client's handshake flight.
if want keylog-tls13-0rtt; then step keylog-tls13-0rtt
  rm -f "$F/keylog/keylog-tls13-0rtt.keys"
  printf 'early data from tlsscope fixtures\n' >"$WORK/early.txt"
  start_capture "$P/keylog-tls13-0rtt.pcap" 44376
  # s_server refuses -early_data with -rev: a plain s_server (it prints what it receives) instead.
  # (its standard input stays open: at end of input it would stop serving)
  sleep 30 | timeout 30 openssl s_server -accept 127.0.0.1:44376 "${SRV[@]}" -tls1_3 -early_data -num_tickets 1 -naccept 2 \
    >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :44376" | grep -q . && break; sleep 0.05; done
  client 44376 "${CLI[@]}" -tls1_3 -sess_out "$WORK/sess-0rtt.pem" -keylogfile "$F/keylog/keylog-tls13-0rtt.keys"
  client 44376 "${CLI[@]}" -tls1_3 -sess_in "$WORK/sess-0rtt.pem" -early_data "$WORK/early.txt" -keylogfile "$F/keylog/keylog-tls13-0rtt.keys"
  stop_server; stop_capture
fi
# Other clients' key logs: curl (SSLKEYLOGFILE; HTTP/1.1 over ALPN against s_server -www) and GnuTLS's
# gnutls-cli (SSLKEYLOGFILE too), TLS 1.3 and TLS 1.2.
if want keylog-curl-tls13; then step keylog-curl-tls13
  rm -f "$F/keylog/keylog-curl-tls13.keys"
  start_capture "$P/keylog-curl-tls13.pcap" 44373
  timeout 30 openssl s_server -accept 127.0.0.1:44373 -www -alpn http/1.1 "${SRV[@]}" -naccept 1 >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :44373" | grep -q . && break; sleep 0.05; done
  SSLKEYLOGFILE="$F/keylog/keylog-curl-tls13.keys" timeout 10 curl -sS --tlsv1.3 --cacert "$C/root.pem" \
    --resolve example.test:44373:127.0.0.1 https://example.test:44373/ -o /dev/null || true
  stop_server; stop_capture
fi
gnutls_keylog_capture() { # NAME PORT PRIORITY
  local name=$1 port=$2 priority=$3
  if want "$name"; then step "$name"
    rm -f "$F/keylog/$name.keys"
    start_capture "$P/$name.pcap" "$port"
    start_server "$port" "${SRV[@]}" -naccept 1
    { printf 'hello from tlsscope fixtures\n'; sleep 0.6; } |
      SSLKEYLOGFILE="$F/keylog/$name.keys" timeout 10 gnutls-cli --x509cafile "$C/root.pem" --sni-hostname example.test \
        --verify-hostname example.test --priority "$priority" -p "$port" 127.0.0.1 >>"$WORK/client.log" 2>&1 || true
    stop_server; stop_capture
  fi
}
gnutls_keylog_capture keylog-gnutls-tls13 44374 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
gnutls_keylog_capture keylog-gnutls-tls12 44375 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM'
# A TLS 1.3 connection with its key log inside the file: a pcapng Decryption Secrets Block (editcap
# --inject-secrets), which tlsscope reads without --keylog (keys.source "pcapng"). A connection of its own (the
# run's secrets are matched by client random, so a copy of another fixture's connection would open that one too).
if want keylog-tls13-dsb; then step keylog-tls13-dsb
  start_capture "$WORK/dsb.pcap" 44377
  start_server 44377 "${SRV[@]}" -tls1_3 -naccept 1
  client 44377 "${CLI[@]}" -tls1_3 -keylogfile "$WORK/dsb.keys"
  stop_server; stop_capture
  editcap --inject-secrets "tls,$WORK/dsb.keys" "$WORK/dsb.pcap" "$P/keylog-tls13-dsb.pcapng"
fi

chmod 644 "$P"/*
ls -l "$P" >&2
[ "$DROPS" = 0 ] || { echo "some captures lost packets (see warnings above): run again" >&2; exit 1; }
