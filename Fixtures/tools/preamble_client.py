#!/usr/bin/env python3
"""Client for the preamble fixtures no stock tool speaks (stdlib only): a HAProxy PROXY header (v1, or
v2 with TLVs followed by an SMTP STARTTLS dialogue) or RDP's X.224 Connection Request with RDP_NEG_REQ,
then TLS (python ssl, SNI example.test, verified against CAFILE): one line up, the reversed line back,
close_notify.

usage: preamble_client.py proxy1|proxy2smtp|rdp HOST PORT CAFILE
"""
import socket
import ssl
import sys

proto, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
conn = socket.create_connection((host, port), timeout=10)


def recv_line():
    data = b''
    while not data.endswith(b'\n'):
        chunk = conn.recv(1)
        if not chunk:
            sys.exit('peer closed during preamble')
        data += chunk
    return data.decode(errors='replace').rstrip('\r\n')


if proto == 'proxy1':
    # The original client 192.0.2.1:51000 connected to 198.51.100.2:443.
    conn.sendall(b'PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\r\n')
elif proto == 'proxy2smtp':
    # v2, PROXY, TCP over IPv6: 2001:db8::7 port 40000 to 2001:db8::25 port 25; TLVs ALPN and AUTHORITY.
    addresses = (bytes.fromhex('20010db8000000000000000000000007') + bytes.fromhex('20010db8000000000000000000000025')
                 + (40000).to_bytes(2, 'big') + (25).to_bytes(2, 'big'))
    tlvs = b''
    for kind, value in ((0x01, b'smtp'), (0x02, b'mail.example.test')):
        tlvs += bytes([kind]) + len(value).to_bytes(2, 'big') + value
    block = addresses + tlvs
    conn.sendall(bytes.fromhex('0d0a0d0a000d0a515549540a') + b'\x21\x21' + len(block).to_bytes(2, 'big') + block)
    recv_line()  # 220 banner
    conn.sendall(b'EHLO relay.example.test\r\n')
    while not recv_line().startswith('250 '):
        pass
    conn.sendall(b'STARTTLS\r\n')
    if not recv_line().startswith('220'):
        sys.exit('STARTTLS refused')
elif proto == 'rdp':
    # mstsc's shape: cookie line, then RDP_NEG_REQ asking for TLS | CredSSP.
    tpdu = bytes([0xe0, 0, 0, 0, 0, 0]) + b'Cookie: mstshash=alice\r\n' + bytes([1, 0, 8, 0, 3, 0, 0, 0])
    conn.sendall(bytes([3, 0]) + (5 + len(tpdu)).to_bytes(2, 'big') + bytes([len(tpdu)]) + tpdu)
    head = conn.recv(4)
    conn.recv(int.from_bytes(head[2:4], 'big') - 4)
else:
    sys.exit('unknown protocol ' + proto)

tls = ctx.wrap_socket(conn, server_hostname='example.test')
tls.sendall(b'hello from tlsscope fixtures\n')
tls.recv(4096)
try:
    tls.unwrap()
except (ssl.SSLError, OSError):
    pass
conn.close()
