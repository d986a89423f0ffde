#!/usr/bin/env bash
# Records the preamble fixture captures (TLS after FTP / XMPP / PostgreSQL / LDAP / IRC / MySQL / NNTP /
# ManageSieve STARTTLS, through an HTTP CONNECT or SOCKS5 proxy, behind a HAProxy PROXY header, and after RDP's
# X.224 negotiation) on loopback, ports 44340-44345 and 44360-44366, with tools/preamble_server.py as the
# server and tools/preamble_client.py as the client for what openssl and curl do not speak.
# Run from the repository root, as root:  Fixtures/tools/make-preamble-fixtures.sh [NAME...]
# Like Fixtures/make-fixtures.sh: fresh randoms every run, so golden tests pin the committed files.
set -euo pipefail

F=Fixtures
C=$F/certs
P=$F/pcap
T=$F/tools
[ -d "$F" ] || { echo "run from the repository root" >&2; exit 2; }
WORK=$(mktemp -d /tmp/tlsscope-preamble.XXXXXX)
CAP_PID=""; SRV_PID=""
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "logs kept in $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

want() { [ ${#NAMES[@]} -eq 0 ] && return 0; local n; for n in "${NAMES[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
NAMES=("$@")

# capture NAME PORT PROTO CLIENT... — tcpdump, the one-connection server, then the client command.
capture() {
  local name=$1 port=$2 proto=$3; shift 3
  want "$name" || return 0
  echo "== $name" >&2
  rm -f "$P/$name.pcap"
  timeout 60 tcpdump -i lo --immediate-mode -B 65536 -s 0 -U -w "$P/$name.pcap" "tcp port $port" 2>"$WORK/tcpdump.log" &
  CAP_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/tcpdump.log" 2>/dev/null && break; sleep 0.05; done
  timeout 30 python3 "$T/preamble_server.py" "$proto" 127.0.0.1 "$port" "$C/leaf-chain.pem" "$C/leaf.key" >"$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do ss -ltnH "sport = :$port" | grep -q . && break; sleep 0.05; done
  "$@" >>"$WORK/client.log" 2>&1 || true
  wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
  sleep 1
  kill -INT "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true; CAP_PID=""
  if grep -qE '^[1-9][0-9]* packets dropped by kernel' "$WORK/tcpdump.log"; then
    echo "WARNING: tcpdump reports kernel drops" >&2; cat "$WORK/tcpdump.log" >&2
  fi
}

# s_client PORT [options...] — one line up, the reversed line back, then close_notify.
s_client() {
  local port=$1; shift
  { printf 'hello from tlsscope fixtures\n'; sleep 0.6; } |
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$C/root.pem" -verify_return_error \
      -servername example.test "$@"
}
CURL=(timeout 10 curl -sS --cacert "$C/root.pem" https://example.test/)

capture starttls-ftp 44340 ftp s_client 44340 -starttls ftp -tls1_2
capture starttls-xmpp 44341 xmpp s_client 44341 -starttls xmpp -xmpphost example.test -tls1_3
capture starttls-postgres 44342 postgres s_client 44342 -starttls postgres -tls1_3
capture starttls-ldap 44343 ldap s_client 44343 -starttls ldap -tls1_2
capture proxy-http-connect 44344 connect "${CURL[@]}" -x http://127.0.0.1:44344
capture proxy-socks5 44345 socks5 "${CURL[@]}" --socks5-hostname 127.0.0.1:44345
capture starttls-irc 44360 irc s_client 44360 -starttls irc -tls1_3
capture starttls-mysql 44361 mysql s_client 44361 -starttls mysql -tls1_2
capture starttls-nntp 44362 nntp s_client 44362 -starttls nntp -tls1_3
capture starttls-sieve 44363 sieve s_client 44363 -starttls sieve -tls1_3
capture proxy-protocol-v1 44364 proxy1 timeout 10 python3 "$T/preamble_client.py" proxy1 127.0.0.1 44364 "$C/root.pem"
capture proxy-protocol-v2-smtp 44365 proxy2smtp timeout 10 python3 "$T/preamble_client.py" proxy2smtp 127.0.0.1 44365 "$C/root.pem"
capture starttls-rdp 44366 rdp timeout 10 python3 "$T/preamble_client.py" rdp 127.0.0.1 44366 "$C/root.pem"
