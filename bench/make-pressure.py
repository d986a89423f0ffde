#!/usr/bin/env python3
"""Builds the hostile-pressure captures of issue #9: each case attacks one thing an analyzer keeps in memory
or one rule whose cost grows faster than its input.

    make-pressure.py CASE [-n N] [-o FILE]      (prints a JSON summary on stdout, also written to FILE.json)
    make-pressure.py --list

Cases (N is the number of flows; the default is the issue's figure):

  unfinished-certificates  N=2,000 concurrent flows, each: ClientHello, then a ServerHello and a Certificate
                           message declaring ~250 KB whose bytes stop ~5 KB short; no flow closes.
  huge-hellos              N=2,000 flows, each a distinct ClientHello offering 32,000 cipher suites and ~600
                           groups (a 64 KB message in four records), then a full TLS 1.2 handshake; closed.
  quadratic-groups         N=20 flows, each a ~62 KB ClientHello with 15,500 supported_groups and 6,200
                           key_share entries (no group in both lists), then a full TLS 1.2 handshake; closed.
  many-flows               N=200,000 flows, each: SYN, SYN-ACK, ACK, ClientHello; no flow closes.
  distinct-certificates    N=2,000 flows, each a full TLS 1.2 handshake with its own ~4 KB chain (leaf and two
                           intermediates, every certificate distinct); closed.
  alpn-sni-spread          N=100,000 flows, each with its own server name and ALPN protocol (the server
                           selects it), full TLS 1.2 handshake; closed.

Framing is real: Ethernet/IPv4/TCP with correct IPv4 and TCP checksums, SYN/SYN-ACK/ACK, sequence and
acknowledgement numbers that follow the bytes sent, 1460-byte segments, FIN/ACK closes. TLS records are
at most 16 KB; handshake messages are framed exactly (the certificates are well-formed DER built here,
with random RSA moduli: nothing verifies a signature, so none is real). Everything comes from fixed seeds:
the same command writes the same bytes, and flow k sends the same segments (addresses, ports, sequence
numbers, payloads; only the IPv4 identification, a running counter, may differ) at N flows and at 2N.
Packets are 20 us apart: where flows stay open, 2N of them span at most 40 s, inside any idle timeout.
Standard library only.
"""
import argparse
import json
import os
import random
import struct
import sys
import zlib
from collections import deque

# --- pcap, Ethernet, IPv4, TCP ----------------------------------------------------------------------------

START_SECONDS = 1_780_272_000  # 2026-06-01T00:00:00Z
STEP_MICROSECONDS = 20
MSS = 1460
SERVER_PORT = 443

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ETHERNET_HEADER = bytes.fromhex("020000000002" "020000000001" "0800")  # locally administered MACs, IPv4


def ones_complement_checksum(data):
    """RFC 1071 checksum. The 16-bit one's complement sum of the words equals the bytes read as one big
    integer modulo 0xffff (2^16 = 1 mod 0xffff), which Python computes in C."""
    if len(data) & 1:
        data += b"\0"
    remainder = int.from_bytes(data, "big") % 0xFFFF
    return 0xFFFF - remainder if remainder else 0


class PcapWriter:
    """Classic pcap (microseconds, Ethernet), one timestamp step per packet."""

    def __init__(self, path):
        self.file = open(path, "wb", buffering=1 << 20)
        self.file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.packets = 0
        self.bytes = 24
        self.ip_id = 0

    def write(self, frame):
        micros = self.packets * STEP_MICROSECONDS
        self.file.write(struct.pack("<IIII", START_SECONDS + micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
        self.file.write(frame)
        self.packets += 1
        self.bytes += 16 + len(frame)

    def close(self):
        self.file.close()


def tcp_frame(writer, src, dst, sport, dport, seq, ack, flags, payload=b""):
    """One Ethernet/IPv4/TCP frame with both checksums right (DF set, TTL 64, no options)."""
    writer.ip_id = (writer.ip_id + 1) & 0xFFFF
    tcp_length = 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_length, writer.ip_id, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ones_complement_checksum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, tcp_length)
    checksum = ones_complement_checksum(pseudo + tcp + payload)
    return ETHERNET_HEADER + ip + tcp[:16] + struct.pack("!H", checksum) + tcp[18:] + payload


class Connection:
    """One TCP connection seen from the wire: client 10.x.y.z (from the flow index), server 192.0.2.1:443
    unless told otherwise. Each method is a generator of frames, so flows can be interleaved."""

    def __init__(self, writer, index, rng, server=bytes([192, 0, 2, 1])):
        self.writer = writer
        number = index + 1
        self.client = bytes([10, (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF])
        self.server = server
        self.client_port = rng.randrange(1024, 65536)
        self.client_next = rng.getrandbits(32)  # ISN; the SYN takes one number
        self.server_next = rng.getrandbits(32)

    def _frame(self, from_client, flags, payload=b""):
        if from_client:
            frame = tcp_frame(self.writer, self.client, self.server, self.client_port, SERVER_PORT,
                              self.client_next, self.server_next, flags, payload)
            self.client_next += len(payload) + (1 if flags & (SYN | FIN) else 0)
        else:
            frame = tcp_frame(self.writer, self.server, self.client, SERVER_PORT, self.client_port,
                              self.server_next, self.client_next, flags, payload)
            self.server_next += len(payload) + (1 if flags & (SYN | FIN) else 0)
        return frame

    def open(self):
        frame = tcp_frame(self.writer, self.client, self.server, self.client_port, SERVER_PORT,
                          self.client_next, 0, SYN)
        self.client_next += 1
        yield frame
        yield self._frame(False, SYN | ACK)
        yield self._frame(True, ACK)

    def send(self, from_client, data, ack_every=4):
        """Data in MSS-sized segments, PSH on the last; the peer acknowledges every `ack_every` segments
        and the last one (delayed-ACK style)."""
        view = memoryview(data)
        count = (len(data) + MSS - 1) // MSS
        for number in range(count):
            last = number == count - 1
            yield self._frame(from_client, ACK | (PSH if last else 0), bytes(view[number * MSS:(number + 1) * MSS]))
            if last or (number + 1) % ack_every == 0:
                yield self._frame(not from_client, ACK)

    def close(self):
        yield self._frame(True, FIN | ACK)
        yield self._frame(False, FIN | ACK)
        yield self._frame(True, ACK)


def interleave(writer, flows, concurrency):
    """Writes the frames of `flows` (an iterator of frame generators) round-robin, one frame per flow in turn,
    with at most `concurrency` flows under way; a finished flow's place goes to the next."""
    active = deque()
    flows = iter(flows)
    for flow in flows:
        active.append(flow)
        if len(active) == concurrency:
            break
    while active:
        flow = active.popleft()
        frame = next(flow, None)
        if frame is None:
            following = next(flows, None)
            if following is not None:
                active.append(following)
            continue
        writer.write(frame)
        active.append(flow)


# --- DER certificates ----------------------------------------------------------------------------------------

def der(tag, content):
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def der_sequence(*parts):
    return der(0x30, b"".join(parts))


def der_integer(value):
    octets = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")  # a leading 0 keeps it positive
    return der(0x02, octets)


def der_oid(dotted):
    numbers = [int(part) for part in dotted.split(".")]
    body = bytearray([numbers[0] * 40 + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, bytes(body))


def der_name(common_name, organization):
    def attribute(oid, tag, text):
        return der(0x31, der_sequence(der_oid(oid), der(tag, text.encode())))
    return der_sequence(attribute("2.5.4.6", 0x13, "XX"), attribute("2.5.4.10", 0x0C, organization),
                        attribute("2.5.4.3", 0x0C, common_name))


SHA256_WITH_RSA = der_sequence(der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
RSA_ENCRYPTION = der_sequence(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00")


def certificate(rng, subject, issuer, serial, key_bits, signer_bits, dns_names, ca):
    """A well-formed X.509 v3 certificate (RFC 5280 §4.1): RSA key with a random odd modulus of exactly
    key_bits, SHA-256 with RSA, SAN dNSNames, basicConstraints; the signature is random bytes."""
    modulus = rng.getrandbits(key_bits) | (1 << (key_bits - 1)) | 1
    public_key = der_sequence(der_integer(modulus), der_integer(65537))
    spki = der_sequence(RSA_ENCRYPTION, der(0x03, b"\x00" + public_key))
    extensions = [der_sequence(der_oid("2.5.29.19"), der(0x01, b"\xff"),
                               der(0x04, der_sequence(der(0x01, b"\xff")) if ca else der_sequence()))]
    if dns_names:
        general_names = der_sequence(*(der(0x82, name.encode()) for name in dns_names))
        extensions.append(der_sequence(der_oid("2.5.29.17"), der(0x04, general_names)))
    tbs = der_sequence(
        der(0xA0, der_integer(2)),
        der_integer(serial),
        SHA256_WITH_RSA,
        der_name(issuer, "Pressure Test CA"),
        der_sequence(der(0x17, b"260101000000Z"), der(0x17, b"270101000000Z")),
        der_name(subject, "Pressure Test" if not ca else "Pressure Test CA"),
        spki,
        der(0xA3, der_sequence(*extensions)),
    )
    return der_sequence(tbs, SHA256_WITH_RSA, der(0x03, b"\x00" + rng.randbytes(signer_bits // 8)))


def chain(rng, tag, leaf_names):
    """Leaf (RSA 2048, signed by RSA 3072) and two intermediates (RSA 3072 and 4096): about 4 KB."""
    serial = rng.getrandbits(64) | 1
    leaf = certificate(rng, leaf_names[0], f"Pressure Issuing CA {tag}", serial, 2048, 3072, leaf_names, False)
    issuing = certificate(rng, f"Pressure Issuing CA {tag}", f"Pressure Root-Signed CA {tag}", serial + 2, 3072, 4096,
                          [], True)
    middle = certificate(rng, f"Pressure Root-Signed CA {tag}", "Pressure Root CA", serial + 4, 4096, 4096, [], True)
    return [leaf, issuing, middle]


# --- TLS ----------------------------------------------------------------------------------------------------

TLS12 = 0x0303
HANDSHAKE, CHANGE_CIPHER_SPEC, APPLICATION_DATA = 22, 20, 23
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE = 1, 2, 11, 12, 14, 16
MAX_FRAGMENT = 16384  # RFC 8446 §5.1

# A current browser's offer (TLS 1.3 and 1.2 suites), signature schemes and groups.
USUAL_SUITES = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C,
                0x009D, 0x002F, 0x0035]
USUAL_SCHEMES = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
USUAL_GROUPS = [0x001D, 0x0017, 0x0018]
SERVER_SUITE = 0xC02F  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


def u8(value): return struct.pack("!B", value)
def u16(value): return struct.pack("!H", value)
def u24(value): return struct.pack("!I", value)[1:]
def vector8(data): return u8(len(data)) + data
def vector16(data): return u16(len(data)) + data
def vector24(data): return u24(len(data)) + data
def u16s(values): return struct.pack(f"!{len(values)}H", *values)
def extension(kind, body): return u16(kind) + vector16(body)
def handshake(kind, body): return u8(kind) + vector24(body)


def records(content_type, data):
    """Splits `data` into records of at most 16 KB (handshake messages may span records, RFC 8446 §5.1)."""
    return b"".join(u8(content_type) + u16(TLS12) + vector16(data[start:start + MAX_FRAGMENT])
                    for start in range(0, len(data), MAX_FRAGMENT))


def client_hello(rng, server_name, alpn=(b"h2", b"http/1.1"), suites=None, groups=None, key_shares=None):
    """RFC 8446 §4.1.2 ClientHello (legacy_version TLS 1.2, supported_versions 1.3 and 1.2).
    `suites` and `groups` are lists of code points or already packed bytes; `key_shares` packed entries."""
    suites = USUAL_SUITES if suites is None else suites
    groups = USUAL_GROUPS if groups is None else groups
    if key_shares is None:
        key_shares = u16(0x001D) + vector16(rng.randbytes(32))
    suite_bytes = suites if isinstance(suites, bytes) else u16s(suites)
    group_bytes = groups if isinstance(groups, bytes) else u16s(groups)
    extensions = [
        extension(0x0000, vector16(u8(0) + vector16(server_name))),  # server_name
        extension(0x0017, b""),  # extended_master_secret
        extension(0xFF01, b"\x00"),  # renegotiation_info
        extension(0x000A, vector16(group_bytes)),  # supported_groups
        extension(0x000B, vector8(b"\x00")),  # ec_point_formats
        extension(0x0023, b""),  # session_ticket
    ]
    if alpn:
        extensions.append(extension(0x0010, vector16(b"".join(vector8(name) for name in alpn))))
    extensions += [
        extension(0x000D, vector16(u16s(USUAL_SCHEMES))),  # signature_algorithms
        extension(0x0033, vector16(key_shares)),  # key_share
        extension(0x002D, vector8(b"\x01")),  # psk_key_exchange_modes: psk_dhe_ke
        extension(0x002B, vector8(u16s([0x0304, 0x0303]))),  # supported_versions
    ]
    body = u16(TLS12) + rng.randbytes(32) + vector8(rng.randbytes(32)) + vector16(suite_bytes) + vector8(b"\x00") \
        + vector16(b"".join(extensions))
    return handshake(CLIENT_HELLO, body)


def server_hello(rng, alpn=None):
    """RFC 5246 §7.4.1.3 ServerHello choosing ECDHE-RSA AES-128-GCM."""
    extensions = [extension(0xFF01, b"\x00"), extension(0x000B, vector8(b"\x00")), extension(0x0017, b"")]
    if alpn:
        extensions.append(extension(0x0010, vector16(vector8(alpn))))
    body = u16(TLS12) + rng.randbytes(32) + vector8(rng.randbytes(32)) + u16(SERVER_SUITE) + u8(0) \
        + vector16(b"".join(extensions))
    return handshake(SERVER_HELLO, body)


def certificate_message(certificates):
    """RFC 5246 §7.4.2: opaque ASN.1Cert<1..2^24-1>; ASN.1Cert certificate_list<0..2^24-1>;"""
    return handshake(CERTIFICATE, vector24(b"".join(vector24(cert) for cert in certificates)))


def server_key_exchange(rng):
    """RFC 8422 §5.4 ECDHE params for x25519, signed with rsa_pss_rsae_sha256 (2048-bit signature)."""
    params = u8(3) + u16(0x001D) + vector8(rng.randbytes(32))
    return handshake(SERVER_KEY_EXCHANGE, params + u16(0x0804) + vector16(rng.randbytes(256)))


def tls12_handshake(connection, rng, hello, chain_der, alpn=None):
    """A full TLS 1.2 ECDHE handshake after `hello`: the server's flight in one go, the client's key
    exchange, ChangeCipherSpec and (encrypted) Finished, the server's ChangeCipherSpec and Finished."""
    yield from connection.send(True, records(HANDSHAKE, hello))
    flight = server_hello(rng, alpn) + certificate_message(chain_der) + server_key_exchange(rng) \
        + handshake(SERVER_HELLO_DONE, b"")
    yield from connection.send(False, records(HANDSHAKE, flight))
    client_finish = records(HANDSHAKE, handshake(CLIENT_KEY_EXCHANGE, vector8(rng.randbytes(32)))) \
        + records(CHANGE_CIPHER_SPEC, b"\x01") + records(HANDSHAKE, rng.randbytes(40))
    yield from connection.send(True, client_finish)
    yield from connection.send(False, records(CHANGE_CIPHER_SPEC, b"\x01") + records(HANDSHAKE, rng.randbytes(40)))


# --- the cases ------------------------------------------------------------------------------------------------

def flow_rng(case, index):
    return random.Random(zlib.crc32(case.encode()) * 1_000_003 + index)


def shared_chain(case):
    return chain(flow_rng(case, -1), "shared", ["www.example.com", "example.com"])


def unfinished_certificates(writer, flows):
    rng = flow_rng("unfinished-certificates", -1)
    # Fifteen RSA 4096 certificates with ~450 SAN names each, ~16.6 KB apiece: a ~250 KB chain.
    big = [certificate(rng, f"big{k}.example.com", "Pressure Issuing CA", 1000 + k, 4096, 4096,
                       [f"host{n:04d}.shard{k:02d}.big.example.com" for n in range(450)], False)
           for k in range(15)]
    message = certificate_message(big)
    cut = len(message) - 5 * 1024  # the last ~5 KB never come

    def flow(index):
        rng = flow_rng("unfinished-certificates", index)
        connection = Connection(writer, index, rng)
        yield from connection.open()
        yield from connection.send(True, records(HANDSHAKE, client_hello(rng, b"www.example.com")))
        stream = records(HANDSHAKE, server_hello(rng) + message)
        yield from connection.send(False, stream[:len(stream) - (len(message) - cut)])
    interleave(writer, (flow(index) for index in range(flows)), concurrency=flows)
    return {"certificate_message_bytes": len(message), "sent_bytes_per_flow": cut}


def huge_hellos(writer, flows):
    shared = shared_chain("huge-hellos")
    permutation = list(range(65536))
    random.Random(9).shuffle(permutation)
    table = u16s(permutation) * 2  # rotations of one shuffle: every flow's lists differ

    def flow(index):
        rng = flow_rng("huge-hellos", index)
        connection = Connection(writer, index, rng)
        start = (index * 7919) % 65536 * 2  # 7919 is prime, so the 65,536 offsets are all distinct
        suites = table[start:start + 2 * 32000]
        # ~600 groups: what is left under the 64 KiB handshake-message cap with the usual extensions.
        groups = table[start + 2 * 32000:start + 2 * 32000 + 2 * 610]
        hello = client_hello(rng, b"www.example.com", suites=suites, groups=groups)
        yield from connection.open()
        yield from tls12_handshake(connection, rng, hello, shared)
        yield from connection.close()
    interleave(writer, (flow(index) for index in range(flows)), concurrency=8)
    return {"client_hello_bytes": len(client_hello(flow_rng("huge-hellos", 0), b"www.example.com",
                                                   suites=table[:64000], groups=table[:1220]))}


def quadratic_groups(writer, flows):
    shared = shared_chain("quadratic-groups")

    def hello_for(rng):
        values = list(range(65536))
        rng.shuffle(values)
        groups = values[:15500]
        shares = b"".join(u16(group) + vector16(rng.randbytes(1)) for group in values[15500:15500 + 6200])
        return client_hello(rng, b"www.example.com", groups=groups, key_shares=shares)

    def flow(index):
        rng = flow_rng("quadratic-groups", index)
        connection = Connection(writer, index, rng)
        hello = hello_for(rng)
        yield from connection.open()
        yield from tls12_handshake(connection, rng, hello, shared)
        yield from connection.close()
    interleave(writer, (flow(index) for index in range(flows)), concurrency=1)
    return {"client_hello_bytes": len(hello_for(flow_rng("quadratic-groups", 0)))}


def many_flows(writer, flows):
    def flow(index):
        rng = flow_rng("many-flows", index)
        connection = Connection(writer, index, rng)
        yield from connection.open()
        yield from connection.send(True, records(HANDSHAKE, client_hello(rng, b"www.example.com")))
    interleave(writer, (flow(index) for index in range(flows)), concurrency=64)
    return {}


def distinct_certificates(writer, flows):
    def flow(index):
        rng = flow_rng("distinct-certificates", index)
        connection = Connection(writer, index, rng)
        names = [f"site{index:06d}.example.net", f"www.site{index:06d}.example.net"] \
            + [f"h{n}.site{index:06d}.example.net" for n in range(8)]
        certificates = chain(rng, f"{index:06d}", names)
        yield from connection.open()
        yield from tls12_handshake(connection, rng, client_hello(rng, names[0].encode()), certificates)
        yield from connection.close()
    interleave(writer, (flow(index) for index in range(flows)), concurrency=8)
    sizes = [len(cert) for cert in chain(flow_rng("distinct-certificates", 0), "000000",
                                          ["site000000.example.net"] * 10)]
    return {"chain_bytes": sum(sizes)}


def alpn_sni_spread(writer, flows):
    shared = shared_chain("alpn-sni-spread")

    def flow(index):
        rng = flow_rng("alpn-sni-spread", index)
        connection = Connection(writer, index, rng)
        name = f"tenant{index:07d}.saas.example.com".encode()
        protocol = f"x-app-{index:07d}".encode()
        hello = client_hello(rng, name, alpn=(protocol, b"h2", b"http/1.1"))
        yield from connection.open()
        yield from tls12_handshake(connection, rng, hello, shared, alpn=protocol)
        yield from connection.close()
    interleave(writer, (flow(index) for index in range(flows)), concurrency=64)
    return {}


CASES = {
    "unfinished-certificates": (unfinished_certificates, 2_000),
    "huge-hellos": (huge_hellos, 2_000),
    "quadratic-groups": (quadratic_groups, 20),
    "many-flows": (many_flows, 200_000),
    "distinct-certificates": (distinct_certificates, 2_000),
    "alpn-sni-spread": (alpn_sni_spread, 100_000),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", nargs="?", choices=sorted(CASES))
    parser.add_argument("-n", "--flows", type=int, help="number of flows (default: the case's own)")
    parser.add_argument("-o", "--output", help="pcap to write (default: bench/out/pressure/CASE-N.pcap)")
    parser.add_argument("--list", action="store_true", help="print each case and its default N")
    arguments = parser.parse_args()
    if arguments.list:
        for name, (_, flows) in CASES.items():
            print(f"{name} {flows}")
        return
    if arguments.case is None:
        parser.error("a case is needed (or --list)")
    build, default_flows = CASES[arguments.case]
    flows = arguments.flows or default_flows
    if not 1 <= flows <= 10_000_000:
        parser.error("--flows takes 1 to 10,000,000")
    output = arguments.output or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "pressure",
                                              f"{arguments.case}-{flows}.pcap")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    writer = PcapWriter(output + ".part")
    details = build(writer, flows)
    writer.close()
    os.replace(output + ".part", output)
    summary = {"case": arguments.case, "flows": flows, "packets": writer.packets, "bytes": writer.bytes,
               "capture_seconds": writer.packets * STEP_MICROSECONDS / 1e6, **details}
    with open(output + ".json", "w") as file:
        json.dump(summary, file, indent=1)
        file.write("\n")
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
