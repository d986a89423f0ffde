#!/usr/bin/env python3
"""TLS client that writes its ClientHello to TCP in several small pieces (stdlib only).

The TLS engine runs on memory BIOs (ssl.MemoryBIO), so this script owns every send() on the
socket: the first flight (the ClientHello) is sent in CHUNK-byte pieces, one send() each with
TCP_NODELAY and a short pause, so each piece is its own TCP segment even on loopback. A long
ALPN list (h2 first, then padding-like protocol names) makes the ClientHello ~2 KB, bigger than
one Ethernet-sized segment. After the handshake it sends one line, reads the reply, and closes
with close_notify.

usage: split_hello_client.py HOST PORT SERVERNAME CAFILE [CHUNK]
"""
import socket
import ssl
import sys
import time

host, port, sni, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
chunk = int(sys.argv[5]) if len(sys.argv) > 5 else 700

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(cafile)
ctx.set_alpn_protocols(['h2'] + ['x-tlsscope-fixture-%02d-' % i + 'p' * 100 for i in range(12)])

inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=sni)
sock = socket.create_connection((host, port), timeout=5)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

first_flight = True


def flush():
    global first_flight
    data = out.read()
    if not data:
        return
    if first_flight:
        first_flight = False
        for i in range(0, len(data), chunk):
            sock.sendall(data[i:i + chunk])
            time.sleep(0.05)
    else:
        sock.sendall(data)


def pump_in():
    data = sock.recv(65536)
    if not data:
        inc.write_eof()
    else:
        inc.write(data)


while True:
    try:
        tls.do_handshake()
        flush()
        break
    except ssl.SSLWantReadError:
        flush()
        pump_in()

print('handshake', tls.version(), tls.cipher()[0], tls.selected_alpn_protocol(), file=sys.stderr)
tls.write(b'hello from the split-hello client\n')
flush()
reply = b''
while not reply.endswith(b'\n'):
    try:
        reply += tls.read(4096)
    except ssl.SSLWantReadError:
        pump_in()
print('reply', reply, file=sys.stderr)
try:
    tls.unwrap()
except ssl.SSLWantReadError:
    pass
flush()
time.sleep(0.1)
sock.close()
