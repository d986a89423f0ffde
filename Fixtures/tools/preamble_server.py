#!/usr/bin/env python3
"""Minimal one-connection server for the preamble fixtures (stdlib only): just enough FTP, XMPP,
PostgreSQL, LDAP, IRC, MySQL, NNTP or ManageSieve for `openssl s_client -starttls PROTO` to upgrade, of
an HTTP CONNECT / SOCKS5 proxy for curl (`-x http://...` / `--socks5-hostname ...`), or of a backend
behind a HAProxy PROXY header (v1; v2 then SMTP STARTTLS) or of RDP's X.224 negotiation for
tools/preamble_client.py; the "proxy" then terminates TLS itself (python ssl). After TLS: one line (or
one HTTP request) answered, then close_notify.

usage: preamble_server.py ftp|xmpp|postgres|ldap|irc|mysql|nntp|sieve|connect|socks5|proxy1|proxy2smtp|rdp
                          HOST PORT CERTCHAIN KEY
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
elif proto == 'irc':
    # s_client sends STARTTLS at once and reads numerics (IRCv3 tls: 670 RPL_STARTTLS).
    while recv_line().upper() != 'STARTTLS':
        send(':irc.example.test 421 * :Unknown command\r\n')
    send(':irc.example.test 670 * :STARTTLS successful, proceed with TLS handshake\r\n')
elif proto == 'mysql':
    # Initial Handshake v10 offering CLIENT_SSL (0x0800); s_client answers with the 32-byte SSLRequest.
    payload = (b'\x0a' + b'8.0.36-tlsscope-fixture\x00' + (7).to_bytes(4, 'little') + b'A' * 8 + b'\x00'
               + (0xffff).to_bytes(2, 'little') + b'\xff' + (2).to_bytes(2, 'little') + (0xdfff).to_bytes(2, 'little')
               + bytes([21]) + b'\x00' * 10 + b'B' * 12 + b'\x00' + b'caching_sha2_password\x00')
    send(len(payload).to_bytes(3, 'little') + b'\x00' + payload)
    request = recv_exact(36)
    if request[:4] != b'\x20\x00\x00\x01' or not (request[4] | request[5] << 8) & 0x0800:
        sys.exit('not an SSLRequest: ' + request.hex())
elif proto == 'nntp':
    send('200 news.example.test tlsscope fixture NNTP server ready (posting ok)\r\n')
    while recv_line().upper() != 'STARTTLS':
        send('500 Unknown command\r\n')
    send('382 Continue with TLS negotiation\r\n')
elif proto == 'sieve':
    send('"IMPLEMENTATION" "tlsscope fixture"\r\n"SIEVE" "fileinto reject"\r\n"STARTTLS"\r\n'
         '"VERSION" "1.0"\r\nOK "ready"\r\n')
    while recv_line().upper() != 'STARTTLS':
        send('NO "unknown command"\r\n')
    send('OK "Begin TLS negotiation now"\r\n')
elif proto == 'proxy1':
    header = recv_line()
    if not header.startswith('PROXY '):
        sys.exit('not a PROXY v1 header: %r' % header)
elif proto == 'proxy2smtp':
    head = recv_exact(16)
    if head[:12] != bytes.fromhex('0d0a0d0a000d0a515549540a'):
        sys.exit('not a PROXY v2 header: ' + head.hex())
    recv_exact(int.from_bytes(head[14:16], 'big'))
    send('220 mail.example.test ESMTP tlsscope fixture\r\n')
    while True:
        cmd = recv_line().upper()
        if cmd.startswith('EHLO'):
            send('250-mail.example.test\r\n250 STARTTLS\r\n')
        elif cmd == 'STARTTLS':
            send('220 2.0.0 Ready to start TLS\r\n')
            break
        else:
            send('502 5.5.2 Error: command not recognized\r\n')
elif proto == 'rdp':
    head = recv_exact(4)
    request = recv_exact(int.from_bytes(head[2:4], 'big') - 4)
    if head[0] != 3 or request[1] & 0xf0 != 0xe0:
        sys.exit('not an X.224 Connection Request: ' + (head + request).hex())
    # Connection Confirm with RDP_NEG_RSP selecting PROTOCOL_SSL (1).
    tpdu = bytes([0xd0, 0, 0, 0x12, 0x34, 0, 0x02, 0x1f, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00])
    send(bytes([3, 0]) + (5 + len(tpdu)).to_bytes(2, 'big') + bytes([len(tpdu)]) + tpdu)
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
