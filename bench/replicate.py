#!/usr/bin/env python3
"""Replicates a seed pcap into a large capture: each copy gets its own IPv4 addresses, so every copy is a
distinct set of connections, and its timestamps follow the previous copy's.

Per copy k (numbered from 1), the endpoint that received the SYN (the server) becomes 10.H.L.1 and the
other (the client) 10.H.L.2, with H.L = k as two bytes. Nothing else changes: IP and TCP checksums are
left stale on purpose (analyzers must not drop packets over checksums; loopback checksums are partial
anyway). When the remaining room is smaller than a whole seed, the last copy takes whole connections in
order of their first packet until the target is reached, so no connection is cut mid-stream.

With --udp (bench/make-udp-capture.sh), UDP captures (the DTLS and QUIC fixtures) are mixed into every
copy: instances of the whole set of them, each instance with its own addresses (server 10.64-127.x.y,
client 10.128-255.x.y: instance n as three bytes), its packets' relative timing kept and its start spread
over the copy's time span, so that they make --udp-share of the copy's packets; plus DNS-like
query/response pairs (--noise-share of the packets; 100.64.x.y to 100.127.255.53, random ids and names
from a fixed seed) that no TLS analyzer should keep. Nothing inside a UDP payload changes (QUIC Initial
keys depend only on the connection ID, so rewritten addresses leave them decryptable); UDP checksums are
stale like TCP's. Records are merged in timestamp order. A UDP capture with another link type than the
seed's is re-framed (its IPv4 packet under the seed's link header; Ethernet and raw IPv4 outputs). SEED
may be '-' for a UDP-only capture (copies of 100 sets over 10 s each).

Usage: replicate.py SEED OUT TARGET_BYTES [--udp PCAP ...] [--udp-share F] [--noise-share F] (JSON summary on stdout)
"""
import argparse
import json
import random
import struct
import sys
import time

ETHERTYPE_IPV4 = 0x0800
VLAN_TYPES = (0x8100, 0x88A8)


def parse_header(data):
    if len(data) < 24:
        sys.exit("replicate: seed is too short to be a pcap file")
    magic_le = struct.unpack_from("<I", data, 0)[0]
    for endian in ("<", ">"):
        magic = struct.unpack_from(endian + "I", data, 0)[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            units = 1_000_000 if magic == 0xA1B2C3D4 else 1_000_000_000
            linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
            return endian, units, linktype
    sys.exit(f"replicate: not a classic pcap file (magic 0x{magic_le:08x}); pcapng is not supported")


def ipv4_offset(data, start, caplen, linktype, endian):
    """Offset of the IPv4 header inside a packet, or None when the packet is not IPv4."""
    if linktype == 1:  # Ethernet
        off, ethertype = 12, None
        while off + 2 <= caplen:
            ethertype = struct.unpack_from(">H", data, start + off)[0]
            if ethertype in VLAN_TYPES:
                off += 4
                continue
            break
        return off + 2 if ethertype == ETHERTYPE_IPV4 else None
    if linktype == 113:  # Linux cooked v1
        return 16 if caplen >= 16 and struct.unpack_from(">H", data, start + 14)[0] == ETHERTYPE_IPV4 else None
    if linktype == 276:  # Linux cooked v2
        return 20 if caplen >= 20 and struct.unpack_from(">H", data, start)[0] == ETHERTYPE_IPV4 else None
    if linktype in (12, 14, 101, 228):  # raw IP / raw IPv4
        return 0
    if linktype == 0:  # BSD loopback: address family in host order
        return 4 if caplen >= 4 and struct.unpack_from(endian + "I", data, start)[0] == 2 else None
    return None


def scan(data, endian, units, linktype):
    """One pass over the seed: per packet (record offset, IPv4 offset or -1, source-is-server, connection)."""
    rec = struct.Struct(endian + "IIII")
    packets = []
    servers = set()
    conns = {}
    conn_bytes = []
    pos, end = 24, len(data)
    first_ts = last_ts = None
    while pos + 16 <= end:
        sec, frac, caplen, _ = rec.unpack_from(data, pos)
        start = pos + 16
        if start + caplen > end:
            print(f"replicate: seed truncated at byte {pos}; dropping the partial record", file=sys.stderr)
            break
        ts = sec * units + frac
        first_ts = ts if first_ts is None else first_ts
        last_ts = ts
        ip, src_is_server, conn = -1, False, -1
        l3 = ipv4_offset(data, start, caplen, linktype, endian)
        if l3 is not None and caplen >= l3 + 20 and data[start + l3] >> 4 == 4:
            ip = start + l3
            ihl = (data[ip] & 0x0F) * 4
            if data[ip + 9] == 6 and caplen >= l3 + ihl + 14:  # TCP
                src, dst = data[ip + 12:ip + 16], data[ip + 16:ip + 20]
                sport, dport = struct.unpack_from(">HH", data, ip + ihl)
                flags = data[ip + ihl + 13]
                if flags & 0x02 and not flags & 0x10:  # SYN without ACK: dst is the server
                    servers.add((dst, dport))
                src_is_server = (src, sport) in servers or ((dst, dport) not in servers and sport < dport)
                key = (src, sport, dst, dport) if not src_is_server else (dst, dport, src, sport)
                conn = conns.setdefault(key, len(conns))
                if conn == len(conn_bytes):
                    conn_bytes.append(0)
                conn_bytes[conn] += 16 + caplen
        packets.append((pos, ip, src_is_server, conn))
        pos = start + caplen
    return packets, pos, conn_bytes, first_ts or 0, last_ts or 0


UDP_NOISE_SEED = 0x75647030  # the DNS noise and the instances' start times: the same bytes every run
UDP_ONLY_SETS_PER_COPY = 100
UDP_ONLY_SPAN_SECONDS = 10


def output_frame_header(linktype):
    """The link header put in front of a re-framed IPv4 packet, for the output's link type."""
    if linktype == 1:
        return b"\x00" * 12 + b"\x08\x00"
    if linktype in (12, 14, 101, 228):
        return b""
    sys.exit(f"replicate: cannot re-frame UDP packets for link type {linktype}")


def load_udp(path, out_endian, out_units, out_linktype):
    """A UDP capture as (packets, duration, connections, bytes): packets are (relative time in output units,
    frame bytes in the output's link type, IPv4 offset in the frame, source-is-server); the server of each
    UDP flow is the receiver of its first datagram. Packets that are not IPv4 UDP are left out."""
    with open(path, "rb") as f:
        data = f.read()
    endian, units, linktype = parse_header(data)
    rec = struct.Struct(endian + "IIII")
    header = None if linktype == out_linktype else output_frame_header(out_linktype)
    packets, servers, flows = [], set(), set()
    pos, first_ts, skipped = 24, None, 0
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = rec.unpack_from(data, pos)
        start = pos + 16
        if start + caplen > len(data):
            break
        pos = start + caplen
        ts = (sec * units + frac) * out_units // units
        l3 = ipv4_offset(data, start, caplen, linktype, endian)
        if l3 is None or caplen < l3 + 28 or data[start + l3] >> 4 != 4 or data[start + l3 + 9] != 17:
            skipped += 1
            continue
        ip = start + l3
        ihl = (data[ip] & 0x0F) * 4
        if caplen < l3 + ihl + 8:
            skipped += 1
            continue
        src, dst = data[ip + 12:ip + 16], data[ip + 16:ip + 20]
        sport, dport = struct.unpack_from(">HH", data, ip + ihl)
        flow = frozenset(((src, sport), (dst, dport)))
        if flow not in flows:
            flows.add(flow)
            servers.add((dst, dport))
        first_ts = ts if first_ts is None else first_ts
        if header is None:
            frame, ip_in_frame = data[start:pos], l3
        else:
            frame, ip_in_frame = header + data[ip:pos], len(header)
        packets.append((ts - first_ts, frame, ip_in_frame, (src, sport) in servers))
    if skipped:
        print(f"replicate: {path}: {skipped} packets that are not IPv4 UDP left out", file=sys.stderr)
    if not packets:
        sys.exit(f"replicate: {path} holds no IPv4 UDP packet")
    return packets, packets[-1][0], len(flows), sum(16 + len(p[1]) for p in packets)


def ipv4_checksum(header):
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def dns_packet(frame_header, src, dst, sport, dport, payload, ident):
    """An IPv4/UDP datagram with a correct IPv4 checksum and no UDP checksum (0: allowed over IPv4)."""
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0x4000, 64, 17, 0, src, dst))
    struct.pack_into(">H", ip, 10, ipv4_checksum(bytes(ip)))
    return frame_header + bytes(ip) + udp


class UDPMixer:
    """Makes the UDP records of one copy: instances of the UDP captures and DNS-like noise, in time order."""

    def __init__(self, paths, endian, units, linktype, udp_share, noise_share):
        self.sets = [load_udp(p, endian, units, linktype) for p in paths]
        self.set_packets = sum(len(s[0]) for s in self.sets)
        self.set_bytes = sum(s[3] for s in self.sets)
        self.set_connections = sum(s[2] for s in self.sets)
        self.units, self.udp_share, self.noise_share = units, udp_share, noise_share
        self.frame_header = output_frame_header(linktype) if linktype == 1 else b""
        self.rec = struct.Struct(endian + "IIII")
        self.rng = random.Random(UDP_NOISE_SEED)
        self.instances = self.sets_made = self.udp_packets = self.udp_connections = 0
        self.dns_pairs = self.noise_packets = 0

    def counts(self, tcp_packets):
        """(sets, DNS pairs) for a copy with tcp_packets TCP packets; the shares are of all its packets."""
        if tcp_packets:
            total = tcp_packets / max(1e-9, 1 - self.udp_share - self.noise_share)
            sets = round(total * self.udp_share / self.set_packets)
        else:
            sets = UDP_ONLY_SETS_PER_COPY
            total = sets * self.set_packets / max(1e-9, self.udp_share)
        return sets, round(total * self.noise_share / 2)

    def copy_bytes(self, tcp_packets):
        sets, pairs = self.counts(tcp_packets)
        return sets * self.set_bytes + pairs * 2 * 100  # a DNS pair is about 200 bytes with its record headers

    def record(self, ts, frame):
        return self.rec.pack(ts // self.units, ts % self.units, len(frame), len(frame)) + frame

    def events(self, tcp_packets, start, span):
        """The copy's UDP records as (timestamp, bytes), sorted, spread over [start, start + span)."""
        sets, pairs = self.counts(tcp_packets)
        rng, out = self.rng, []
        for i in range(sets):
            for packets, duration, connections, _ in self.sets:
                n = self.instances
                self.instances += 1
                if n >= 1 << 22:
                    sys.exit("replicate: more than 4M UDP instances; out of addresses")
                server = bytes((10, 64 + (n >> 16), (n >> 8) & 0xFF, n & 0xFF))
                client = bytes((10, 128 + (n >> 16), (n >> 8) & 0xFF, n & 0xFF))
                s_c, c_s = server + client, client + server
                room = max(0, span - duration)
                base = start + int((i + rng.random()) / sets * room)
                for rel, frame, ip, src_is_server in packets:
                    buf = bytearray(frame)
                    buf[ip + 12:ip + 20] = s_c if src_is_server else c_s
                    out.append((base + rel, self.record(base + rel, bytes(buf))))
                self.udp_packets += len(packets)
                self.udp_connections += connections
            self.sets_made += 1
        resolver = bytes((100, 127, 255, 53))
        for _ in range(pairs):
            n = self.dns_pairs
            self.dns_pairs += 1
            client = bytes((100, 64 + ((n >> 16) & 0x3F), (n >> 8) & 0xFF, n & 0xFF))
            ident, sport = rng.getrandbits(16), rng.randrange(1024, 65536)
            name = b"".join(bytes((len(label),)) + label for label in (
                f"host{rng.randrange(100000)}".encode(), rng.choice((b"example", b"cdn", b"api", b"mail")),
                rng.choice((b"com", b"net", b"org", b"test")))) + b"\x00"
            qtype = rng.choice((1, 28, 65))
            question = name + struct.pack(">HH", qtype, 1)
            query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question
            answer = struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4) + bytes((192, 0, 2, rng.randrange(1, 255)))
            response = struct.pack(">HHHHHH", ident, 0x8180, 1, 1, 0, 0) + question + answer
            t = start + int(rng.random() * span)
            rtt = self.units * rng.randrange(200, 20000) // 1_000_000
            out.append((t, self.record(t, dns_packet(self.frame_header, client, resolver, sport, 53, query, n & 0xFFFF))))
            out.append((t + rtt, self.record(t + rtt, dns_packet(self.frame_header, resolver, client, 53, sport, response, n & 0xFFFF))))
            self.noise_packets += 2
        out.sort(key=lambda e: e[0])
        return out


def write_merged(out, buf, tcp_records, events):
    """Writes the copy's TCP records (contiguous in buf, (offset, timestamp) each) with the UDP events merged
    in by timestamp; runs of TCP records between two events are written in one call."""
    view, ei, n, run = memoryview(buf), 0, len(events), 0
    for off, ts in tcp_records:
        if ei < n and events[ei][0] <= ts:
            out.write(view[run:off])
            while ei < n and events[ei][0] <= ts:
                out.write(events[ei][1])
                ei += 1
            run = off
    out.write(view[run:])
    for _, record in events[ei:]:
        out.write(record)


def main():
    parser = argparse.ArgumentParser(usage=__doc__.strip().splitlines()[-1])
    parser.add_argument("seed")
    parser.add_argument("out")
    parser.add_argument("target", type=int)
    parser.add_argument("--udp", nargs="+", default=[], metavar="PCAP")
    parser.add_argument("--udp-share", type=float, default=0.25)
    parser.add_argument("--noise-share", type=float, default=0.05)
    args = parser.parse_args()
    seed_path, out_path, target = args.seed, args.out, args.target
    started = time.monotonic()
    if seed_path == "-":
        if not args.udp:
            sys.exit("replicate: without a seed, --udp is needed")
        data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # empty Ethernet capture, µs
    else:
        with open(seed_path, "rb") as f:
            data = f.read()
    endian, units, linktype = parse_header(data)
    packets, seed_end, conn_bytes, first_ts, last_ts = scan(data, endian, units, linktype)
    seed_body = seed_end - 24
    if seed_path != "-" and (seed_body <= 0 or not packets):
        sys.exit("replicate: the seed holds no packets")
    mixer = UDPMixer(args.udp, endian, units, linktype, args.udp_share, args.noise_share) if args.udp else None
    ts_struct = struct.Struct(endian + "II")
    if not packets:
        first_ts, last_ts = 1_800_000_000 * units, (1_800_000_000 + UDP_ONLY_SPAN_SECONDS) * units
    # Copies follow each other: each is shifted by the seed's span plus one second.
    span = last_ts - first_ts + units

    def rewrite(buf, base, k, shift, selected=None):
        """Patches addresses and timestamps of one copy held in buf (seed offsets minus base); returns the
        (offset in buf, new timestamp) of each record."""
        server = bytes((10, (k >> 8) & 0xFF, k & 0xFF, 1))
        client = bytes((10, (k >> 8) & 0xFF, k & 0xFF, 2))
        s_c, c_s = server + client, client + server
        records = []
        for rec_off, ip, src_is_server, conn in packets:
            if selected is not None and conn not in selected:
                continue
            off = rec_off - base(rec_off)
            sec, frac = ts_struct.unpack_from(buf, off)
            ts = sec * units + frac + shift
            ts_struct.pack_into(buf, off, ts // units, ts % units)
            records.append((off, ts))
            if ip >= 0:
                ipo = ip - base(rec_off)
                buf[ipo + 12:ipo + 20] = s_c if src_is_server else c_s
        return records

    total_bytes, total_packets, total_conns, copies = 24, 0, 0, 0
    with open(out_path, "wb", buffering=1 << 22) as out:
        out.write(data[:24])
        while total_bytes < target:
            k = copies + 1
            if k > 0xFFFF:
                sys.exit("replicate: more than 65535 copies; record a bigger seed")
            shift = copies * span
            remaining = target - total_bytes
            whole = seed_body + (mixer.copy_bytes(len(packets)) if mixer else 0)
            if remaining >= whole or not packets:
                buf = bytearray(data[24:seed_end])
                records = rewrite(buf, lambda _: 24, k, shift)
                total_conns += len(conn_bytes)
            else:
                # Whole connections, in order of first packet, until the target is reached (the UDP mix
                # scaled with them).
                tcp_room = remaining * seed_body // whole
                selected, acc = set(), 0
                for conn, size in enumerate(conn_bytes):
                    if acc >= tcp_room:
                        break
                    selected.add(conn)
                    acc += size
                chosen = [(p[0], p[1], p[2], p[3]) for p in packets if p[3] in selected]
                parts, new_offsets, cursor = [], {}, 0
                for rec_off, _, _, _ in chosen:
                    caplen = struct.unpack_from(endian + "I", data, rec_off + 8)[0]
                    new_offsets[rec_off] = rec_off - cursor
                    parts.append(data[rec_off:rec_off + 16 + caplen])
                    cursor += 16 + caplen
                buf = bytearray(b"".join(parts))
                records = rewrite(buf, lambda rec_off: new_offsets[rec_off], k, shift, selected)
                total_conns += len(selected)
            if mixer:
                events = mixer.events(len(records), first_ts + shift, last_ts - first_ts)
                write_merged(out, buf, records, events)
                total_bytes += len(buf) + sum(len(e[1]) for e in events)
                total_packets += len(records) + len(events)
                del events
            else:
                out.write(buf)
                total_bytes += len(buf)
                total_packets += len(records)
            copies += 1
            del buf
    summary = {
        "capture": out_path,
        "bytes": total_bytes,
        "packets": total_packets,
        "tcp_connections": total_conns,
        "copies": copies,
        "seed": seed_path,
        "seed_bytes": seed_end,
        "seed_packets": len(packets),
        "seed_tcp_connections": len(conn_bytes),
        "linktype": linktype,
    }
    if mixer:
        summary.update({
            "udp_captures": args.udp,
            "udp_sets": mixer.sets_made,
            "udp_instances": mixer.instances,
            "dtls_quic_packets": mixer.udp_packets,
            "dtls_quic_connections": mixer.udp_connections,
            "dns_noise_packets": mixer.noise_packets,
            "dtls_quic_packet_share": round(mixer.udp_packets / max(1, total_packets), 3),
            "dns_noise_packet_share": round(mixer.noise_packets / max(1, total_packets), 3),
        })
    summary["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
