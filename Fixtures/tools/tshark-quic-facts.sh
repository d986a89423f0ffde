#!/usr/bin/env bash
# tshark-quic-facts.sh FILE [KEYLOG] — what tshark sees of each QUIC connection's handshake, as an oracle for
# tlsscope's QUIC records. tshark derives the Initial keys from the client's first Destination Connection ID
# itself, so the ClientHello and ServerHello are visible without keys; with a key log (Fixtures/keylog/*.keys)
# the EncryptedExtensions are too, and with them the selected ALPN.
#
# One line per QUIC connection (tshark's quic.connection.number, which follows a Retry's new connection id),
# in order of first packet, tab-separated:
#   1 client_dcid      the Destination Connection ID of the client's first Initial (lowercase hex), the
#                      contract's quic.client_dcid
#   2 version          "1", "2", "draft-29" or 0x%08x (the contract's quic.version), of the packet carrying
#                      the ServerHello, or of the ClientHello's when no ServerHello was seen
#   3 sni              server_name of the first ClientHello
#   4 cipher_suites    offered, wire order, 0x%04x, comma separated (GREASE values kept)
#   5 groups           supported_groups offered, same form
#   6 key_share        the group of the ServerHello's key_share (0x%04x), empty without a ServerHello
#   7 alpn_offered     ALPN protocols of the ClientHello, comma separated
#   8 alpn_selected    ALPN in the server's EncryptedExtensions, empty when not visible (no key log)
# The first ClientHello counts (a second one, after a Retry, is the same CRYPTO stream: tshark dissects it
# once); the last ServerHello counts (after a HelloRetryRequest, the real one).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 FILE [KEYLOG]" >&2; exit 2; }
file=$1
options=()
[ $# -ge 2 ] && options=(-o "tls.keylog_file:$2")

tshark "${options[@]}" -r "$file" -Y quic -T fields -E separator=/t -E aggregator=, -E occurrence=a \
  -e quic.connection.number -e ip.src -e ipv6.src -e udp.srcport -e quic.header_form -e quic.dcid \
  -e quic.version -e tls.handshake.type -e tls.handshake.extensions_server_name -e tls.handshake.ciphersuite \
  -e tls.handshake.extensions_supported_group -e tls.handshake.extensions_key_share_group \
  -e tls.handshake.extensions_alpn_str 2>/dev/null |
awk -F'\t' '
function first(list) { sub(/,.*/, "", list); return list }
function has(list, value,   parts, n, i) {
  n = split(list, parts, ",")
  for (i = 1; i <= n; i++) if (parts[i] == value) return 1
  return 0
}
function version_name(v) {
  v = tolower(v)
  if (v == "0x00000001") return "1"
  if (v == "0x6b3343cf") return "2"
  if (v == "0xff00001d") return "draft-29"
  return v
}
function hex16(list,   parts, n, i, out) {  # tshark prints key_share groups in decimal
  n = split(list, parts, ",")
  out = ""
  for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") sprintf("0x%04x", parts[i] + 0)
  return out
}
{
  conn = $1; sender = ($2 != "" ? $2 : $3) ":" $4
  if (!(conn in seen)) { seen[conn] = 1; order[++count] = conn }
  # The client: the sender of the first long-header packet of the connection (its first Initial).
  if (!(conn in client) && first($5) == 1) { client[conn] = sender; dcid[conn] = first($6) }
  if (has($8, 1) && !(conn in sni)) {
    sni[conn] = $9; suites[conn] = $10; groups[conn] = $11; alpn_offered[conn] = $13
    client_version[conn] = first($7)
  }
  if (has($8, 2)) {
    key_share[conn] = hex16($12); server_version[conn] = first($7)
  }
  if (has($8, 8) && sender != client[conn]) alpn_selected[conn] = $13
}
END {
  for (i = 1; i <= count; i++) {
    c = order[i]
    v = (c in server_version) ? server_version[c] : client_version[c]
    if (v == "" && !(c in sni)) continue  # no handshake seen for this connection
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dcid[c], version_name(v), sni[c], suites[c], groups[c], key_share[c],
      alpn_offered[c], alpn_selected[c]
  }
}'
