#!/usr/bin/env python3
"""Minimal one-connection server for the preamble fixtures (stdlib only): just enough FTP, XMPP,
PostgreSQL or LDAP for `openssl s_client -starttls PROTO` to upgrade, or of an HTTP CONNECT / SOCKS5
proxy for curl (`-x http://...` / `--socks5-hostname ...`); the "proxy" then terminates TLS itself
(python ssl). After TLS: one line (or one HTTP request) answered, then close_notify.

usage: preamble_server.py ftp|xmpp|postgres|ldap|connect|socks5 HOST PORT CERTCHAIN KEY
"""
import socket
import ssl
import sys

proto, host, port, chain, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(chain, key)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(1)
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(10)


def send(data):
    conn.sendall(data if isinstance(data, bytes) else data.encode())


def recv_exact(n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            sys.exit('peer closed during preamble')
        data += chunk
    return data


def recv_line():
    # Byte at a time: nothing after the line may be consumed (the ClientHello follows the last one).
    data = b''
    while not data.endswith(b'\n'):
        data += recv_exact(1)
    return data.decode(errors='replace').rstrip('\r\n')


def recv_until(marker):
    data = b''
    while marker not in data:
        data += recv_exact(1)
    return data


def ber_message():
    head = recv_exact(2)
    length = head[1]
    if length & 0x80:
        length = int.from_bytes(recv_exact(length & 0x7f), 'big')
    return head + recv_exact(length)


http = False
if proto == 'ftp':
    send('220 tlsscope fixture FTP server ready\r\n')
    while True:
        cmd = recv_line().upper()
        if cmd in ('AUTH TLS', 'AUTH SSL'):
            send('234 Proceed with negotiation.\r\n')
            break
        send('502 Command not implemented.\r\n')
elif proto == 'xmpp':
    recv_until(b'>')  # the client's <stream:stream ...>
    send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' id='tlsscope1' from='example.test' version='1.0'>")
    send("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
         "</stream:features>")
    recv_until(b'/>')  # <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
    send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
elif proto == 'postgres':
    request = recv_exact(8)
    if request != bytes.fromhex('0000000804d2162f'):
        sys.exit('not an SSLRequest: ' + request.hex())
    send(b'S')
elif proto == 'ldap':
    request = ber_message()
    if b'1.3.6.1.4.1.1466.20037' not in request:
        sys.exit('not a StartTLS request: ' + request.hex())
    message_id = request[2:2 + 2 + request[3]]  # the INTEGER element, as sent
    oid = b'1.3.6.1.4.1.1466.20037'
    body = b'\x0a\x01\x00\x04\x00\x04\x00' + b'\x8a' + bytes([len(oid)]) + oid
    op = b'\x78' + bytes([len(body)]) + body
    send(b'\x30' + bytes([len(message_id) + len(op)]) + message_id + op)
elif proto == 'connect':
    request = recv_until(b'\r\n\r\n')
    if not request.startswith(b'CONNECT '):
        sys.exit('not CONNECT: %r' % request)
    send('HTTP/1.1 200 Connection established\r\n\r\n')
    http = True
elif proto == 'socks5':
    greeting = recv_exact(2)
    recv_exact(greeting[1])
    send(b'\x05\x00')
    head = recv_exact(4)
    if head[3] == 1:
        recv_exact(4 + 2)
    elif head[3] == 4:
        recv_exact(16 + 2)
    else:
        recv_exact(recv_exact(1)[0] + 2)
    send(b'\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40')
    http = True
else:
    sys.exit('unknown protocol ' + proto)

# No buffered plaintext can be pending: the client waits for our reply before its ClientHello.
tls = ctx.wrap_socket(conn, server_side=True)
data = b''
end = b'\r\n\r\n' if http else b'\n'
while end not in data:
    chunk = tls.recv(4096)
    if not chunk:
        break
    data += chunk
if data:
    if http:
        tls.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n')
    else:
        tls.sendall(data.rstrip(b'\r\n')[::-1] + b'\n')
try:
    if not http:
        tls.recv(4096)  # the client's close_notify (or EOF)
    tls.unwrap()
except (ssl.SSLError, OSError):
    pass
conn.close()
srv.close()
