#!/usr/bin/env bash
# Prints what tshark sees in each fixture capture (used to write and check Fixtures/SOURCES.md).
# Columns: frame|tcp stream|src port|record types|opaque types|hs types|hs version|supported_versions|
#          cipher suites|SNI|ALPN|session_id length|key_share groups|alert|extension types
# usage: Fixtures/tools/summarize.sh [FILE...]   (default: every file in Fixtures/pcap)
set -uo pipefail
files=("$@"); [ ${#files[@]} -eq 0 ] && files=(Fixtures/pcap/*)
for f in "${files[@]}"; do
  echo "### $(basename "$f")  ($(stat -c %s "$f") bytes, $(capinfos -T -r -t -E "$f" 2>/dev/null | awk -F'\t' '{print $2", "$3}'), $(tshark -r "$f" 2>/dev/null | wc -l) packets)"
  tshark -r "$f" -d tcp.port==44300-44399,tls -Y 'tls.handshake or tls.alert_message or tls.app_data' -T fields -E separator='|' \
    -e frame.number -e tcp.stream -e tcp.srcport \
    -e tls.record.content_type -e tls.record.opaque_type -e tls.handshake.type -e tls.handshake.version \
    -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite \
    -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str \
    -e tls.handshake.session_id_length -e tls.handshake.extensions_key_share_group \
    -e tls.alert_message.desc -e tls.handshake.extension.type 2>&1 | grep -v "Running as user"
done
