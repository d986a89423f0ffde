#!/usr/bin/env python3
"""QUIC server and client for tlsscope's UDP fixtures (aioquic's asyncio API; see make-udp-fixtures.sh).

  quic_peer.py server HOST PORT --cert CHAIN.pem --key KEY.pem [--alpn P ...] [--versions v1,v2]
                                [--retry] [--connections N] [--timeout S]
      Serves N connections (default 1), then exits. Every bidirectional stream is answered with its
      bytes reversed line by line (like `openssl s_server -rev`); session tickets are issued and kept
      in memory, so a later connection of the same run can resume, with 0-RTT.
  quic_peer.py client HOST PORT --ca ROOT.pem [--sni NAME] [--alpn P ...] [--versions v1,v2]
                                [--big-clienthello] [--connections N] [--early-data] [--keylog FILE]
      Opens N connections one after another (default 1). Each sends one line on a bidirectional stream,
      waits for the answer, and closes the connection with NO_ERROR. With --early-data, connection k+1
      resumes with connection k's session ticket and sends its line before the handshake completes
      (0-RTT). A handshake failure (the server's CONNECTION_CLOSE) is reported, not raised.

The first version of --versions is the one the client starts with; the server accepts all those listed.
--big-clienthello sets aioquic's quantum_readiness_test: a 1,200-byte dummy transport parameter (0x0c37),
so the ClientHello no longer fits in one Initial packet.
"""
import argparse
import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted
from aioquic.quic.packet import QuicProtocolVersion

VERSIONS = {"v1": QuicProtocolVersion.VERSION_1, "v2": QuicProtocolVersion.VERSION_2}
LINE = b"hello from tlsscope fixtures\n"


def parse_versions(text):
    return [VERSIONS[name] for name in text.split(",")]


class ServerProtocol(QuicConnectionProtocol):
    """Reports each connection's end (and its error code) to run_server, which counts them."""

    done = None  # asyncio.Queue, set by run_server

    def quic_event_received(self, event):
        super().quic_event_received(event)
        if isinstance(event, ConnectionTerminated):
            print(f"server: connection closed, error 0x{event.error_code:x} {event.reason_phrase!r}", file=sys.stderr)
            ServerProtocol.done.put_nowait(event.error_code)


def answer_stream(reader, writer):
    """Answers a stream with its line reversed (like `openssl s_server -rev`), then ends it."""
    async def answer():
        data = await reader.read()
        writer.write(data.rstrip(b"\n")[::-1] + b"\n")
        writer.write_eof()
    asyncio.ensure_future(answer())


async def run_server(a):
    config = QuicConfiguration(is_client=False, alpn_protocols=a.alpn, supported_versions=parse_versions(a.versions))
    config.load_cert_chain(a.cert, a.key)
    tickets = {}
    ServerProtocol.done = asyncio.Queue()
    server = await serve(a.host, a.port, configuration=config, create_protocol=ServerProtocol, retry=a.retry,
                         stream_handler=answer_stream,
                         session_ticket_fetcher=lambda label: tickets.pop(label, None),  # single use
                         session_ticket_handler=lambda ticket: tickets.__setitem__(ticket.ticket, ticket))
    print("server: listening", file=sys.stderr, flush=True)
    try:
        for _ in range(a.connections):
            await ServerProtocol.done.get()
        await asyncio.sleep(0.3)  # let the last packets out
    finally:
        server.close()


class ClientProtocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.terminated = None

    def quic_event_received(self, event):
        super().quic_event_received(event)
        if isinstance(event, HandshakeCompleted):
            print(f"client: handshake done, alpn {event.alpn_protocol!r}, resumed {event.session_resumed}, "
                  f"early data accepted {event.early_data_accepted}", file=sys.stderr)
        if isinstance(event, ConnectionTerminated):
            self.terminated = event


async def one_client(a, ticket, on_ticket):
    config = QuicConfiguration(is_client=True, alpn_protocols=a.alpn, server_name=a.sni,
                               supported_versions=parse_versions(a.versions),
                               quantum_readiness_test=a.big_clienthello,
                               secrets_log_file=open(a.keylog, "a") if a.keylog else None)
    config.load_verify_locations(a.ca)
    if ticket is not None:
        config.session_ticket = ticket
    try:
        async with connect(a.host, a.port, configuration=config, create_protocol=ClientProtocol,
                           session_ticket_handler=on_ticket, wait_connected=ticket is None) as client:
            # With a ticket and wait_connected=False the line goes out in 0-RTT packets.
            reader, writer = await client.create_stream()
            writer.write(LINE)
            writer.write_eof()
            answer = await asyncio.wait_for(reader.read(), 5)
            print(f"client: got {answer!r}", file=sys.stderr)
            await client.ping()  # the server's NEW_TOKEN / session ticket has arrived by now
            client.close()
            await client.wait_closed()
    except ConnectionError as error:
        print(f"client: handshake failed: {error!r}", file=sys.stderr)


async def run_client(a):
    tickets = []
    for number in range(a.connections):
        ticket = tickets[-1] if a.early_data and tickets else None
        await one_client(a, ticket, tickets.append)
        await asyncio.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca")
    ap.add_argument("--sni", default="example.test")
    ap.add_argument("--alpn", action="append")
    ap.add_argument("--versions", default="v1")
    ap.add_argument("--retry", action="store_true")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--early-data", action="store_true")
    ap.add_argument("--big-clienthello", action="store_true")
    ap.add_argument("--keylog", help="append the TLS secrets (SSLKEYLOGFILE format) to this file")
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    if a.alpn is None:
        a.alpn = ["h3"]
    run = run_server(a) if a.mode == "server" else run_client(a)

    async def bounded():
        await asyncio.wait_for(run, a.timeout)

    try:
        asyncio.run(bounded())
    except asyncio.TimeoutError:
        sys.exit(f"{a.mode}: timed out")


if __name__ == "__main__":
    main()
