#!/usr/bin/env python3
"""Minimal one-connection STARTTLS server for the fixtures (stdlib only): just enough SMTP, IMAP or
POP3 for `openssl s_client -starttls PROTO` to upgrade, then TLS (python ssl), one line echoed reversed,
and close_notify.

usage: starttls_server.py smtp|imap|pop3 HOST PORT CERTCHAIN KEY
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
f = conn.makefile('rb')


def send(text):
    conn.sendall(text.encode())


def line():
    return f.readline().decode(errors='replace').rstrip('\r\n')


if proto == 'smtp':
    send('220 mail.example.test ESMTP tlsscope fixture\r\n')
    while True:
        cmd = line().upper()
        if cmd.startswith('EHLO') or cmd.startswith('HELO'):
            send('250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n')
        elif cmd == 'STARTTLS':
            send('220 2.0.0 Ready to start TLS\r\n')
            break
        else:
            send('500 5.5.1 unrecognized\r\n')
elif proto == 'imap':
    send('* OK [CAPABILITY IMAP4rev1 STARTTLS] tlsscope fixture ready\r\n')
    while True:
        tag, _, cmd = line().partition(' ')
        if cmd.upper() == 'CAPABILITY':
            send('* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n%s OK CAPABILITY completed\r\n' % tag)
        elif cmd.upper() == 'STARTTLS':
            send('%s OK Begin TLS negotiation now\r\n' % tag)
            break
        else:
            send('%s BAD unrecognized\r\n' % tag)
elif proto == 'pop3':
    send('+OK tlsscope fixture POP3 ready\r\n')
    while True:
        cmd = line().upper()
        if cmd == 'CAPA':
            send('+OK\r\nSTLS\r\n.\r\n')
        elif cmd == 'STLS':
            send('+OK Begin TLS negotiation\r\n')
            break
        else:
            send('-ERR unrecognized\r\n')
else:
    sys.exit('unknown protocol ' + proto)

# No buffered plaintext can be pending: the client waits for our reply before its ClientHello.
tls = ctx.wrap_socket(conn, server_side=True)
data = b''
while not data.endswith(b'\n'):
    chunk = tls.recv(4096)
    if not chunk:
        break
    data += chunk
if data:
    tls.sendall(data.rstrip(b'\r\n')[::-1] + b'\n')
try:
    tls.recv(4096)  # the client's close_notify (or EOF)
    tls.unwrap()
except (ssl.SSLError, OSError):
    pass
conn.close()
srv.close()
