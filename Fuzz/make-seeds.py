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
keys: the fixtures' key logs, a hand-built protected flight and a captured-handshake layout.
quic: QUIC datagrams of both directions: the RFC 9001 / RFC 9369 sample packets, and scenarios sealed
with their keys (Retry, Version Negotiation, a ClientHello over two Initials, CONNECTION_CLOSE).
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
# quic: RFC 9001 Appendix A (v1) and RFC 9369 Appendix A (v2) packets for the DCID 8394c8f03e515708:
# the protected client Initial (a ClientHello for example.com), the server Initial (ServerHello) and
# the Retry answering the client.
QUIC_V1_CLIENT_INITIAL = bytes.fromhex(
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c"
    "0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89"
    "eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e"
    "610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7"
    "961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7"
    "fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf"
    "330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff2"
    "8f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accd"
    "d5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a07"
    "1b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499d"
    "bd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723"
    "c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905dd"
    "f3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934"
)
QUIC_V1_SERVER_INITIAL = bytes.fromhex(
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb3"
    "8cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee"
)
QUIC_V1_RETRY = bytes.fromhex(
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"
)
QUIC_V2_CLIENT_INITIAL = bytes.fromhex(
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071bf03dceebfa162e75d6c"
    "96058bdbfb127cdfcbf903388e99ad049f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a12834e3f249a78d395e0d18f4d766004"
    "f1a2674802a747eaa901c3f10cda5500cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff3312ae50b187c1433c0f028edcc4c2838b"
    "6a9bfc226ca4b4530e7a4ccee1bfa2a3d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520bcfb7966fc49b393f0061d974a2706df"
    "8c4a9449f11d7f3d2dcbb90c6b877045636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c1216ccce2d0193f958bb3850a833f7ae43"
    "2b65bc5a53975c155aa4bcb4f7b2c4e54df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b8017c25ca9052ca1079d8b78aebd4787"
    "6d330a30f6a8c6d61dd1ab5589329de714d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91abfe43960977c87471cf9ad4074d30e1"
    "0d6a7f03c63bd5d4317f68ff325ba3bd80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18d703dd84045a274ae8bfa73379661388"
    "d6991fe39b0d93debb41700b41f90a15c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61f6b5b984d4d3dfa033c1bb7e4f0037fe"
    "bf406d91c0dccf32acf423cfa1e7071010d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e06ebfde206bfb0fcbc0edc4ebec30966"
    "1bdd908d532eb0c6adc38b7ca7331dce8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1e86215c2d54e6670e07383a27bbffb5a"
    "ddf47d66aa85a0c6f9f32e59d85a44dd5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89d5974ee12e5cf7d5da4d6a31123041f3"
    "3e61407e76cffcdcfd7e19ba58cf4b536f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96ba18b2faa745b6fe189cf772a9f84cbfc"
)
QUIC_V2_SERVER_INITIAL = bytes.fromhex(
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698baeea26b91eb761d9b89237bbf872630"
    "17915358230035f7fd3945d88965cf17f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca84bed8521e2e140"
)
QUIC_V2_RETRY = bytes.fromhex(
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"
)
QUIC_DCID = bytes.fromhex("8394c8f03e515708")
# The hellos those packets carry (RFC 9001 A.2 and A.3, without their frame headers).
QUIC_CLIENT_HELLO = bytes.fromhex(
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000"
    "c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c70"
    "6e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994"
    "ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c000240010039003204"
    "08ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ff"
    "ff"
)
QUIC_SERVER_HELLO = bytes.fromhex(
    "020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100002e00330024"
    "001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304"
)
# initial_salt, label prefix and long-header type bits (Initial, Handshake, Retry) per version.
QUIC_VERSIONS = {
    1: (bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), b"quic ", (0, 2, 3)),
    0x6B3343CF: (bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), b"quicv2 ", (1, 3, 0)),
}
QUIC_RETRY_KEYS = {
    1: (bytes.fromhex("be0c690b9f66575a1d766b54e368c84e"), bytes.fromhex("461599d35d632bf2239825bb")),
    0x6B3343CF: (bytes.fromhex("8fb4b01b56ac48e260fbcbcead7ccc92"), bytes.fromhex("d86969bc2d7c6d9990efb04a")),
}


def quic_datagrams(mode, datagrams):
    """The quic target's input: [mode] then [direction] [length: 2] datagram, direction 0 the initiator."""
    data = bytearray([mode])
    for from_initiator, datagram in datagrams:
        data += bytes([0 if from_initiator else 1]) + struct.pack(">H", len(datagram)) + datagram
    return bytes(data)


def quic_varint(value):
    if value < 64:
        return bytes([value])
    if value < 16384:
        return struct.pack(">H", 0x4000 | value)
    return struct.pack(">I", 0x80000000 | value)


def quic_generated_seeds():
    """Scenarios sealed here with the Initial keys (needs python3-cryptography; [] without it):
    a ClientHello over two Initials sent in reverse order, a coalesced Initial+Handshake+1-RTT,
    a CONNECTION_CLOSE with CRYPTO_ERROR 0x128, a Retry and the client's restart, Version Negotiation
    and a restart in v2."""
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        print("make-seeds: python3 cryptography not installed: only the RFC QUIC packets are seeds", file=sys.stderr)
        return []
    import hmac

    def expand_label(secret, label, length):
        full = b"tls13 " + label
        info = struct.pack(">HB", length, len(full)) + full + b"\x00"
        out, block, counter = b"", b"", 1
        while len(out) < length:
            block = hmac.new(secret, block + info + bytes([counter]), "sha256").digest()
            out, counter = out + block, counter + 1
        return out[:length]

    def keys(version, dcid, side):
        salt, prefix, _ = QUIC_VERSIONS[version]
        secret = expand_label(hmac.new(salt, dcid, "sha256").digest(), side + b" in", 32)
        return [expand_label(secret, prefix + name, size) for name, size in ((b"key", 16), (b"iv", 12), (b"hp", 16))]

    def initial(version, dcid, scid, pn, frames, key_dcid, side, pad=0):
        key, iv, hp = keys(version, key_dcid, side)
        payload = frames + bytes(max(0, pad - len(frames), 2 - len(frames)))
        header = bytes([0xC1 | QUIC_VERSIONS[version][2][0] << 4]) + struct.pack(">I", version)
        header += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + b"\x00"
        header += struct.pack(">H", 0x4000 | (2 + len(payload) + 16))
        pn_offset = len(header)
        header += struct.pack(">H", pn)
        nonce = bytes(a ^ b for a, b in zip(iv, bytes(4) + struct.pack(">Q", pn)))
        packet = bytearray(header + AESGCM(key).encrypt(nonce, payload, header))
        encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
        mask = encryptor.update(bytes(packet[pn_offset + 4:pn_offset + 20])) + encryptor.finalize()
        packet[0] ^= mask[0] & 0x0F
        for index in range(2):
            packet[pn_offset + index] ^= mask[1 + index]
        return bytes(packet)

    def opaque(version, type_index, dcid, scid, length=40):
        header = bytes([0xC1 | QUIC_VERSIONS[version][2][type_index] << 4]) + struct.pack(">I", version)
        return header + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + struct.pack(">H", 0x4000 | length) + bytes(i % 251 for i in range(length))

    def retry(version, dcid, scid, token, original_dcid):
        packet = bytes([0xC0 | QUIC_VERSIONS[version][2][2] << 4]) + struct.pack(">I", version)
        packet += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + token
        key, nonce = QUIC_RETRY_KEYS[version]
        return packet + AESGCM(key).encrypt(nonce, b"", bytes([len(original_dcid)]) + original_dcid + packet)

    def crypto(offset, data):
        return b"\x06" + quic_varint(offset) + quic_varint(len(data)) + data

    # The RFC's hellos, and its ClientHello grown past one packet by a padding extension (RFC 7685).
    client_hello = QUIC_CLIENT_HELLO
    server_hello = QUIC_SERVER_HELLO
    body = client_hello[4:]
    extensions_at = 2 + 32 + 1 + 2 + 4 + 2  # version, random, empty session id, 2 suites, compression
    extensions = body[extensions_at + 2:] + b"\x00\x15" + struct.pack(">H", 1600) + bytes(1600)
    big_body = body[:extensions_at] + struct.pack(">H", len(extensions)) + extensions
    big_hello = b"\x01" + struct.pack(">I", len(big_body))[1:] + big_body

    v1, v2 = 1, 0x6B3343CF
    cid, server_cid, retry_cid, new_dcid = bytes([0xC1] * 4), bytes([0x5E] * 6), bytes(range(8)), bytes(range(9, 18))
    seeds = []
    first = initial(v1, QUIC_DCID, cid, 0, crypto(0, big_hello[:1000]), QUIC_DCID, b"client", 1162)
    second = initial(v1, QUIC_DCID, cid, 1, crypto(1000, big_hello[1000:]), QUIC_DCID, b"client", 1162)
    server = (initial(v1, cid, server_cid, 0, b"\x02\x00\x00\x00\x00" + crypto(0, server_hello), QUIC_DCID, b"server")
              + opaque(v1, 1, cid, server_cid, 300) + b"\x41" + cid + bytes(30))
    client_done = opaque(v1, 1, server_cid, cid) + b"\x41" + server_cid + bytes(30)
    seeds.append(quic_datagrams(0, [(True, second), (True, first), (False, server), (True, client_done)]))
    hello_initial = initial(v1, QUIC_DCID, cid, 0, crypto(0, client_hello), QUIC_DCID, b"client", 1162)
    close = b"\x1c" + quic_varint(0x128) + quic_varint(6) + quic_varint(17) + b"handshake failure"
    seeds.append(quic_datagrams(0, [(True, hello_initial), (False, initial(v1, cid, server_cid, 0, close, QUIC_DCID, b"server"))]))
    seeds.append(quic_datagrams(1, [(True, hello_initial), (False, initial(v1, cid, server_cid, 0, close, QUIC_DCID, b"server"))]))
    seeds.append(quic_datagrams(0, [
        (True, hello_initial), (False, retry(v1, cid, retry_cid, b"token", QUIC_DCID)),
        (True, initial(v1, retry_cid, cid, 1, crypto(0, client_hello), retry_cid, b"client", 1162)),
        (False, initial(v1, cid, server_cid, 0, crypto(0, server_hello), retry_cid, b"server")),
    ]))
    negotiation = b"\xaa" + bytes(4) + bytes([len(cid)]) + cid + bytes([len(QUIC_DCID)]) + QUIC_DCID + struct.pack(">II", v2, 0x1A2A3A4A)
    seeds.append(quic_datagrams(0, [
        (True, hello_initial), (False, negotiation),
        (True, initial(v2, new_dcid, cid, 0, crypto(0, client_hello), new_dcid, b"client", 1162)),
        (False, initial(v2, cid, server_cid, 0, crypto(0, server_hello), new_dcid, b"server")),
    ]))
    return seeds


def quic_seeds():
    seeds = [
        quic_datagrams(0, [(True, QUIC_V1_CLIENT_INITIAL), (False, QUIC_V1_SERVER_INITIAL)]),
        quic_datagrams(1, [(True, QUIC_V1_CLIENT_INITIAL), (False, QUIC_V1_SERVER_INITIAL)]),
        quic_datagrams(0, [(True, QUIC_V2_CLIENT_INITIAL), (False, QUIC_V2_SERVER_INITIAL)]),
        quic_datagrams(0, [(True, QUIC_V1_CLIENT_INITIAL), (False, QUIC_V1_RETRY)]),
        quic_datagrams(0, [(True, QUIC_V2_CLIENT_INITIAL), (False, QUIC_V2_RETRY)]),
        quic_datagrams(0, [(True, QUIC_V1_CLIENT_INITIAL + QUIC_V1_SERVER_INITIAL)]),
    ]
    return seeds + quic_generated_seeds()


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
    # keys: [mode] then a key log (0), protected handshake bytes (1) or a length-prefixed capture (2).
    for path in sorted(glob.glob(os.path.join(ROOT, "Fixtures/keylog/*.keys"))):
        write(os.path.join(out, "keys"), bytes([0]) + open(path, "rb").read())
    write(os.path.join(out, "keys"), bytes([1]) + bytes([8, 0, 0, 2, 0, 0, 20, 0, 0, 32]) + bytes(32))
    write(os.path.join(out, "keys"), bytes([2]) + bytes([10]) + bytes([1, 0, 0, 36]) + bytes(36))
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
    for seed in quic_seeds():
        write(os.path.join(out, "quic"), seed)


if __name__ == "__main__":
    main()
