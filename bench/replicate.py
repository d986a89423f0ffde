#!/usr/bin/env python3
"""Replicates a seed pcap into a large capture: each copy gets its own IPv4 addresses, so every copy is a
distinct set of connections, and its timestamps follow the previous copy's.

Per copy k (numbered from 1), the endpoint that received the SYN (the server) becomes 10.H.L.1 and the
other (the client) 10.H.L.2, with H.L = k as two bytes. Nothing else changes: IP and TCP checksums are
left stale on purpose (analyzers must not drop packets over checksums; loopback checksums are partial
anyway). When the remaining room is smaller than a whole seed, the last copy takes whole connections in
order of their first packet until the target is reached, so no connection is cut mid-stream.

Usage: replicate.py SEED OUT TARGET_BYTES   (prints a JSON summary on stdout)
"""
import json
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


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    seed_path, out_path, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    started = time.monotonic()
    with open(seed_path, "rb") as f:
        data = f.read()
    endian, units, linktype = parse_header(data)
    packets, seed_end, conn_bytes, first_ts, last_ts = scan(data, endian, units, linktype)
    seed_body = seed_end - 24
    if seed_body <= 0 or not packets:
        sys.exit("replicate: the seed holds no packets")
    ts_struct = struct.Struct(endian + "II")
    # Copies follow each other: each is shifted by the seed's span plus one second.
    span = last_ts - first_ts + units

    def rewrite(buf, base, k, shift, selected=None):
        """Patches addresses and timestamps of one copy held in buf (seed offsets minus base)."""
        server = bytes((10, (k >> 8) & 0xFF, k & 0xFF, 1))
        client = bytes((10, (k >> 8) & 0xFF, k & 0xFF, 2))
        s_c, c_s = server + client, client + server
        for rec_off, ip, src_is_server, conn in packets:
            if selected is not None and conn not in selected:
                continue
            off = rec_off - base(rec_off)
            sec, frac = ts_struct.unpack_from(buf, off)
            ts = sec * units + frac + shift
            ts_struct.pack_into(buf, off, ts // units, ts % units)
            if ip >= 0:
                ipo = ip - base(rec_off)
                buf[ipo + 12:ipo + 20] = s_c if src_is_server else c_s

    total_bytes, total_packets, total_conns, copies = 24, 0, 0, 0
    with open(out_path, "wb", buffering=0) as out:
        out.write(data[:24])
        while total_bytes < target:
            k = copies + 1
            if k > 0xFFFF:
                sys.exit("replicate: more than 65535 copies; record a bigger seed")
            shift = copies * span
            remaining = target - total_bytes
            if remaining >= seed_body:
                buf = bytearray(data[24:seed_end])
                rewrite(buf, lambda _: 24, k, shift)
                out.write(buf)
                total_bytes += len(buf)
                total_packets += len(packets)
                total_conns += len(conn_bytes)
            else:
                # Whole connections, in order of first packet, until the target is reached.
                selected, acc = set(), 0
                for conn, size in enumerate(conn_bytes):
                    if acc >= remaining:
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
                rewrite(buf, lambda rec_off: new_offsets[rec_off], k, shift, selected)
                out.write(buf)
                total_bytes += len(buf)
                total_packets += len(chosen)
                total_conns += len(selected)
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
        "seconds": round(time.monotonic() - started, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
