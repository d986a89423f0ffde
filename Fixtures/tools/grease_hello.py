#!/usr/bin/env python3
"""Sends a hand-built, browser-like TLS 1.3 ClientHello with GREASE values (RFC 8701) and closes
after the server's first flight (stdlib only; no TLS library involved, so the handshake is never
finished). For JA3/JA4 tests: GREASE in cipher suites, extensions, supported_groups, key_share and
supported_versions, ALPN h2 + http/1.1, SNI, a real x25519 key share (32 random bytes) so the server
answers with a ServerHello.

Fixed GREASE values (a browser picks them at random): cipher 0x0a0a, first extension 0x1a1a,
group / key share 0x2a2a, supported_versions 0x3a3a, last extension 0x4a4a.

usage: grease_hello.py HOST PORT SERVERNAME
"""
import os
import socket
import struct
import sys
import time

host, port, sni = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()


def u8(b):
    return struct.pack('>B', len(b)) + b


def u16(b):
    return struct.pack('>H', len(b)) + b


def ext(kind, body):
    return struct.pack('>H', kind) + u16(body)


def h16(*values):
    return b''.join(struct.pack('>H', v) for v in values)


suites = h16(0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
             0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035)
extensions = b''.join([
    ext(0x1a1a, b''),                                               # GREASE
    ext(0, u16(b'\x00' + u16(sni))),                                # server_name
    ext(23, b''),                                                   # extended_master_secret
    ext(65281, b'\x00'),                                            # renegotiation_info
    ext(10, u16(h16(0x2a2a, 0x001d, 0x0017, 0x0018))),              # supported_groups
    ext(11, u8(b'\x00')),                                           # ec_point_formats
    ext(35, b''),                                                   # session_ticket
    ext(16, u16(u8(b'h2') + u8(b'http/1.1'))),                      # ALPN
    ext(5, b'\x01\x00\x00\x00\x00'),                                # status_request (OCSP)
    ext(13, u16(h16(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601))),  # signature_algorithms
    ext(18, b''),                                                   # signed_certificate_timestamp
    ext(51, u16(h16(0x2a2a) + u16(b'\x00') + h16(0x001d) + u16(os.urandom(32)))),     # key_share
    ext(45, u8(b'\x01')),                                           # psk_key_exchange_modes: psk_dhe_ke
    ext(43, u8(h16(0x3a3a, 0x0304, 0x0303))),                       # supported_versions
    ext(27, u8(h16(0x0002))),                                       # compress_certificate: brotli
    ext(0x4a4a, b'\x00'),                                           # GREASE
])
body = b'\x03\x03' + os.urandom(32) + u8(os.urandom(32)) + u16(suites) + u8(b'\x00') + u16(extensions)
handshake = b'\x01' + struct.pack('>I', len(body))[1:] + body
record = b'\x16\x03\x01' + u16(handshake)

sock = socket.create_connection((host, port), timeout=5)
sock.sendall(record)
received = b''
deadline = time.time() + 3
try:
    while time.time() < deadline and len(received) < 5:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    time.sleep(0.2)  # let the rest of the server's flight arrive
except socket.timeout:
    pass
print('server sent %d+ bytes, first record type %s' % (len(received), received[:1].hex()), file=sys.stderr)
sock.close()
