#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from Fixtures/ into OUT/<target>/ (one file per input).

    Fuzz/make-seeds.py OUT

packet-decoder: every fixture frame, behind the byte that picks its link type.
tcp-reassembler: a few synthetic connections in the target's segment format.
tls-stream: both directions of every fixture TCP connection, behind the target's header.
dtls: hand-built DTLS 1.0/1.2/1.3 flights (there are no DTLS fixture captures yet), as datagrams.
preambles: the first cleartext-and-TLS bytes of every connection, in capture order, as chunks.
certificate: Fixtures/der/*.der and Fixtures/certs/*.pem as DER.
capture: the fixture captures themselves.
Each input's format is described at the top of its target's source (Fuzz/<target>/).
"""
import base64
import glob
import hashlib
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The order of Fuzz/packet-decoder's `linkTypes`.
LINK_TYPES = [1, 113, 276, 0, 108, 101, 228, 229, 12, 14, 9, 50, 204]


def frames(path):
    """(link type, frame bytes) of a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = "<" if magic[0] in (0xD4, 0x4D) else ">"
        link = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
        offset = 24
        while offset + 16 <= len(data):
            caplen = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
            yield link, data[offset + 16:offset + 16 + caplen]
            offset += 16 + caplen
        return
    # pcapng: section header, interface descriptions, enhanced and simple packet blocks.
    endian, links, offset = "<", [], 0
    while offset + 12 <= len(data):
        block_type = struct.unpack(endian + "I", data[offset:offset + 4])[0]
        if block_type == 0x0A0D0D0A:
            endian = "<" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        length = struct.unpack(endian + "I", data[offset + 4:offset + 8])[0]
        if length < 12:
            return
        body = data[offset + 8:offset + length - 4]
        if block_type == 1:
            links.append(struct.unpack(endian + "H", body[:2])[0])
        elif block_type == 6:
            interface, _, _, caplen = struct.unpack(endian + "IIII", body[:16])
            yield links[interface], body[20:20 + caplen]
        elif block_type == 3 and links:
            yield links[0], body[4:]
        offset += length


def tcp_segment(link, frame):
    """(src, sport, dst, dport, seq, flags, payload) of a plain TCP frame, or None."""
    if link == 1:
        offset, ethertype = 12, None
        while True:
            ethertype = struct.unpack(">H", frame[offset:offset + 2])[0]
            if ethertype in (0x8100, 0x88A8, 0x9100):
                offset += 4
                continue
            offset += 2
            break
    elif link == 113:
        offset, ethertype = 16, struct.unpack(">H", frame[14:16])[0]
    elif link == 276:
        offset, ethertype = 20, struct.unpack(">H", frame[0:2])[0]
    elif link in (0, 108):
        offset, ethertype = 4, 0x0800 if frame[4] >> 4 == 4 else 0x86DD
    elif link in (101, 228, 229, 12, 14):
        offset, ethertype = 0, 0x0800 if frame[0] >> 4 == 4 else 0x86DD
    else:
        return None
    if ethertype == 0x0800:
        header = (frame[offset] & 0x0F) * 4
        total = struct.unpack(">H", frame[offset + 2:offset + 4])[0]
        if frame[offset + 9] != 6:
            return None
        src, dst = frame[offset + 12:offset + 16], frame[offset + 16:offset + 20]
        tcp, end = offset + header, offset + total
    elif ethertype == 0x86DD:
        if frame[offset + 6] != 6:
            return None
        src, dst = frame[offset + 8:offset + 24], frame[offset + 24:offset + 40]
        tcp, end = offset + 40, offset + 40 + struct.unpack(">H", frame[offset + 4:offset + 6])[0]
    else:
        return None
    sport, dport, seq = struct.unpack(">HHI", frame[tcp:tcp + 8])
    data_offset = (frame[tcp + 12] >> 4) * 4
    return src, sport, dst, dport, seq, frame[tcp + 13], frame[tcp + data_offset:end]


def connections(path):
    """Per TCP connection: the (is_client, payload) segments in capture order, retransmissions dropped."""
    flows, order = {}, []
    for link, frame in frames(path):
        try:
            segment = tcp_segment(link, frame)
        except (IndexError, struct.error):
            continue
        if segment is None:
            continue
        src, sport, dst, dport, seq, flags, payload = segment
        key = tuple(sorted([(src, sport), (dst, dport)]))
        if key not in flows:
            flows[key] = {"client": (src, sport), "next": {}, "segments": []}
            order.append(key)
        flow = flows[key]
        side = (src, sport)
        if flags & 0x02:
            flow["next"][side] = seq + 1
            if not flags & 0x10:
                flow["client"] = side
        if not payload:
            continue
        expected = flow["next"].get(side, seq)
        if seq != expected:
            continue  # a retransmission or a reordered segment: the seeds keep the stream in order
        flow["next"][side] = seq + len(payload)
        flow["segments"].append((side == flow["client"], payload))
    return [flows[key]["segments"] for key in order]


def write(directory, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


# dtls: hand-built flights (RFC 6347 §4.1 records, §4.2.2 handshake fragments, RFC 9147 §4 unified headers,
# RFC 9146 tls12_cid records). Input format: [mode] then datagrams [length: 2] [direction: 1 = server] bytes.
def dtls_record(content_type, body, epoch=0, seq=0, version=0xFEFD):
    return struct.pack(">BHH", content_type, version, epoch) + seq.to_bytes(6, "big") + struct.pack(">H", len(body)) + body


def dtls_fragment(msg_type, message_seq, body, start=0, end=None):
    end = len(body) if end is None else end
    return (bytes([msg_type]) + len(body).to_bytes(3, "big") + struct.pack(">H", message_seq)
            + start.to_bytes(3, "big") + (end - start).to_bytes(3, "big") + body[start:end])


def dtls_ext(ext_type, body):
    return struct.pack(">HH", ext_type, len(body)) + body


def dtls_client_hello(version=0xFEFD, cookie=b"", suites=(0xC02B, 0xC02F), extensions=b""):
    suite_bytes = b"".join(struct.pack(">H", s) for s in suites)
    return (struct.pack(">H", version) + bytes(32) + b"\x00" + bytes([len(cookie)]) + cookie
            + struct.pack(">H", len(suite_bytes)) + suite_bytes + b"\x01\x00" + struct.pack(">H", len(extensions)) + extensions)


def dtls_server_hello(version=0xFEFD, suite=0xC02F, extensions=b""):
    return struct.pack(">H", version) + bytes(32) + b"\x00" + struct.pack(">HB", suite, 0) + struct.pack(">H", len(extensions)) + extensions


def dtls_seeds():
    """Lists of (from_server, datagram) for the dtls target."""
    cookie = bytes(range(16))
    certificate = bytes([0x30]) * 600
    chain = (len(certificate) + 3).to_bytes(3, "big") + len(certificate).to_bytes(3, "big") + certificate
    ske = bytes([3, 0, 29, 32]) + bytes(32) + struct.pack(">HH", 0x0804, 2) + b"\x01\x02"
    finished = bytes([0xEE]) * 40
    full = [
        (False, dtls_record(22, dtls_fragment(1, 0, dtls_client_hello()))),
        (True, dtls_record(22, dtls_fragment(3, 0, struct.pack(">HB", 0xFEFF, len(cookie)) + cookie))),
        (False, dtls_record(22, dtls_fragment(1, 1, dtls_client_hello(cookie=cookie)), seq=1)),
        (True, dtls_record(22, dtls_fragment(2, 1, dtls_server_hello()), seq=1)
         + dtls_record(22, dtls_fragment(11, 2, chain, 300, len(chain)), seq=2)),
        (True, dtls_record(22, dtls_fragment(11, 2, chain, 0, 300), seq=3)
         + dtls_record(22, dtls_fragment(12, 3, ske), seq=4) + dtls_record(22, dtls_fragment(14, 4, b""), seq=5)),
        (False, dtls_record(22, dtls_fragment(16, 2, bytes([32]) + bytes(32)), seq=2)
         + dtls_record(20, b"\x01", seq=3) + dtls_record(22, finished, epoch=1)),
        (True, dtls_record(20, b"\x01", seq=6) + dtls_record(22, finished, epoch=1)),
        (False, dtls_record(23, bytes(64), epoch=1, seq=1)),
        (True, dtls_record(21, bytes(26), epoch=1, seq=1)),
    ]
    dtls10 = [
        (False, dtls_record(22, dtls_fragment(1, 0, dtls_client_hello(version=0xFEFF)), version=0xFEFF)),
        (True, dtls_record(22, dtls_fragment(2, 0, dtls_server_hello(version=0xFEFF, suite=0xC013)), version=0xFEFF)
         + dtls_record(22, dtls_fragment(14, 1, b""), seq=1, version=0xFEFF)),
        (True, dtls_record(21, b"\x02\x28", seq=2, version=0xFEFF)),
    ]
    versions = dtls_ext(43, bytes([4]) + struct.pack(">HH", 0xFEFC, 0xFEFD))
    share = dtls_ext(51, struct.pack(">HHH", 36, 29, 32) + bytes(32))
    dtls13 = [
        (False, dtls_record(22, dtls_fragment(1, 0, dtls_client_hello(suites=(0x1301,), extensions=versions + share)))),
        (True, dtls_record(22, dtls_fragment(2, 0, dtls_server_hello(suite=0x1301, extensions=dtls_ext(43, struct.pack(">H", 0xFEFC))
                                                                      + dtls_ext(51, struct.pack(">HH", 29, 32) + bytes(32)))))
         + bytes([0x2E, 0, 0]) + struct.pack(">H", 200) + bytes(200)),
        (True, bytes([0x2E, 0, 1]) + struct.pack(">H", 100) + bytes(100)),
        (False, bytes([0x3E, 1, 2, 3, 4, 0, 0]) + struct.pack(">H", 40) + bytes(40)),
        (False, bytes([0x23, 5]) + bytes(30)),
        (True, dtls_record(26, struct.pack(">H", 0))),
    ]
    cid = [
        (True, dtls_record(22, dtls_fragment(2, 0, dtls_server_hello(extensions=dtls_ext(54, b"\x04\x01\x02\x03\x04"))))),
        (True, dtls_record(20, b"\x01", seq=1) + bytes([25]) + struct.pack(">HH", 0xFEFD, 1) + bytes(6) + b"\x01\x02\x03\x04"
         + struct.pack(">H", 40) + bytes(40)),
    ]
    stun = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12)
    rtp = b"\x80\x60\x00\x01" + bytes(40)
    webrtc = [(False, stun), (True, stun)] + full[:1] + [(True, rtp)] + full[1:4] + [(False, rtp)] + full[4:]
    return [full, dtls10, dtls13, cid, webrtc]


def main():
    out = sys.argv[1]
    captures = sorted(glob.glob(os.path.join(ROOT, "Fixtures/pcap/*.pcap*")))
    for path in captures:
        write(os.path.join(out, "capture"), open(path, "rb").read())
        for link, frame in frames(path):
            if link in LINK_TYPES:
                write(os.path.join(out, "packet-decoder"), bytes([LINK_TYPES.index(link)]) + frame)
        for segments in connections(path):
            client = b"".join(p for is_client, p in segments if is_client)
            server = b"".join(p for is_client, p in segments if not is_client)
            for mode, seed in ((0, 1), (0, 0), (1, 77)):
                header = struct.pack(">BHHH", mode, min(len(client), 0xFFFF), 0, seed)
                write(os.path.join(out, "tls-stream"), header + client[:0xFFFF] + server)
            chunks = bytearray([5])
            for is_client, payload in segments:
                for start in range(0, min(len(payload), 4096), 128):
                    piece = payload[start:start + 128]
                    chunks += bytes([(0 if is_client else 0x80) | (len(piece) - 1)]) + piece
                if len(chunks) > 8192:
                    break
            write(os.path.join(out, "preambles"), bytes(chunks))
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures/der/*.der"))):
        write(os.path.join(out, "certificate"), open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures/certs/*.pem"))):
        text = open(path).read()
        for block in text.split("-----BEGIN CERTIFICATE-----")[1:]:
            body = block.split("-----END CERTIFICATE-----")[0]
            write(os.path.join(out, "certificate"), base64.b64decode("".join(body.split())))
    for flights in dtls_seeds():
        for mode in (0, 1, 4):
            data = bytearray([mode])
            for from_server, datagram in flights:
                data += struct.pack(">HB", len(datagram), 1 if from_server else 0) + datagram
            write(os.path.join(out, "dtls"), bytes(data))
    # tcp-reassembler: [setup] [16 ISN bytes] then segments [selector, flags, seq: 2, length, (missing)].
    generator = random.Random(9)
    for setup in (0x01, 0x00, 0x26, 0x31):
        for _ in range(4):
            data = bytearray([setup]) + bytes(generator.randrange(256) for _ in range(16))
            client_next, server_next = 1, 1
            for index in range(generator.randrange(4, 24)):
                from_server = generator.random() < 0.4
                flags = 0x02 if index == 0 else (0x12 if index == 1 else generator.choice([0x10, 0x18, 0x18, 0x11, 0x14]))
                length = 0 if index < 2 else generator.randrange(0, 200)
                sequence = (server_next if from_server else client_next) + generator.choice([0, 0, 0, -20, 40, 300])
                if index < 2:
                    sequence = 0
                selector = (4 if from_server else 0) | (generator.randrange(2) << 5)
                data += bytes([selector, flags]) + struct.pack(">H", sequence & 0xFFFF) + bytes([length])
                if from_server:
                    server_next = max(server_next, sequence + length)
                else:
                    client_next = max(client_next, sequence + length)
            write(os.path.join(out, "tcp-reassembler"), bytes(data))


if __name__ == "__main__":
    main()
