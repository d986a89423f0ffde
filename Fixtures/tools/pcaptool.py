#!/usr/bin/env python3
"""Small pcap rewriting tool for the tlsscope fixtures (stdlib only).

Works on classic pcap files (microsecond or nanosecond magic, either byte order).
Packet parsing (for the TCP-aware commands) handles DLT_EN10MB (1) carrying IPv4/IPv6,
which is what `tcpdump -i lo` writes on Linux.

Commands:
  drop IN OUT --first N          drop the first N packets (e.g. the TCP three-way handshake)
  vlan IN OUT --vid V [--outer-vid W]
                                 insert an 802.1Q tag (0x8100, VID V) after the MAC addresses;
                                 with --outer-vid also an outer 802.1ad tag (0x88a8, VID W) before it
  ppp IN OUT [--compressed]     rewrite DLT_EN10MB to LINKTYPE_PPP (9): each IPv4/IPv6 frame's Ethernet header
                                 becomes PPP's 0xFF 0x03 address/control + protocol 0x0021 / 0x0057 (RFC 1661/1662);
                                 with --compressed, no address/control and a 1-byte protocol (ACFC + PFC);
                                 other frames (ARP...) are dropped
  reorder-hello IN OUT           the ClientHello must span >= 3 client data segments: swap the 2nd
                                 and 3rd client->server data segments (delivered out of order) and
                                 insert a copy of the 1st right after them (a retransmission)
  appdata-offset IN --from client|server --nth K
                                 print the byte offset, in the file, of the middle of the TCP payload
                                 of the K-th (1-based) data segment from that side whose payload starts
                                 with an application_data record (content type 23)
  cut IN OUT --offset N          copy only the first N bytes of IN (a file damaged part-way)
  list IN                        one line per packet: index, file offset, direction, seq, payload length
"""
import argparse
import struct
import sys


def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        endian = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        endian = '>'
    else:
        sys.exit(f'{path}: not a classic pcap file')
    header = data[:24]
    linktype = struct.unpack(endian + 'I', header[20:24])[0]
    packets = []  # (ts_sec, ts_frac, orig_len, data, file_offset)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + 'IIII', data[off:off + 16])
        body = data[off + 16:off + 16 + incl]
        packets.append([sec, frac, orig, body, off])
        off += 16 + incl
    return endian, header, linktype, packets


def write_pcap(path, endian, header, packets, linktype=None):
    if linktype is not None:
        header = header[:20] + struct.pack(endian + 'I', linktype)
    with open(path, 'wb') as f:
        f.write(header)
        for sec, frac, orig, body, _ in packets:
            f.write(struct.pack(endian + 'IIII', sec, frac, len(body), max(orig, len(body))))
            f.write(body)


def tcp_info(linktype, body):
    """Return (src, sport, dst, dport, seq, payload_offset_in_body, payload_len) or None."""
    if linktype != 1 or len(body) < 14:
        return None
    etype = struct.unpack('>H', body[12:14])[0]
    off = 14
    while etype in (0x8100, 0x88a8) and len(body) >= off + 4:
        etype = struct.unpack('>H', body[off + 2:off + 4])[0]
        off += 4
    if etype == 0x0800:
        ihl = (body[off] & 0x0f) * 4
        total = struct.unpack('>H', body[off + 2:off + 4])[0]
        if body[off + 9] != 6:
            return None
        src, dst = body[off + 12:off + 16], body[off + 16:off + 20]
        l4, end = off + ihl, off + total
    elif etype == 0x86dd:
        plen = struct.unpack('>H', body[off + 4:off + 6])[0]
        if body[off + 6] != 6:
            return None  # extension headers are not used by these captures
        src, dst = body[off + 8:off + 24], body[off + 24:off + 40]
        l4, end = off + 40, off + 40 + plen
    else:
        return None
    sport, dport, seq = struct.unpack('>HHI', body[l4:l4 + 8])
    doff = (body[l4 + 12] >> 4) * 4
    p = l4 + doff
    return (src, sport, dst, dport, seq, p, max(0, min(end, len(body)) - p))


def client_key(linktype, packets):
    """The client is the side that sent the first SYN, else the sender of the first packet."""
    for pkt in packets:
        t = tcp_info(linktype, pkt[3])
        if t:
            return (t[0], t[1])
    sys.exit('no TCP packets')


def cmd_drop(a):
    e, h, lt, pk = read_pcap(a.inp)
    write_pcap(a.out, e, h, pk[a.first:])


def cmd_vlan(a):
    e, h, lt, pk = read_pcap(a.inp)
    if lt != 1:
        sys.exit('vlan: input must be DLT_EN10MB')
    for p in pk:
        body = p[3]
        tag = struct.pack('>HH', 0x8100, a.vid & 0x0fff)
        if a.outer_vid is not None:
            tag = struct.pack('>HH', 0x88a8, a.outer_vid & 0x0fff) + tag
        p[3] = body[:12] + tag + body[12:]
        p[2] += len(tag)
    write_pcap(a.out, e, h, pk)


def cmd_ppp(a):
    e, h, lt, pk = read_pcap(a.inp)
    if lt != 1:
        sys.exit('ppp: input must be DLT_EN10MB')
    protocols = {0x0800: 0x21, 0x86dd: 0x57}
    out = []
    for p in pk:
        body = p[3]
        etype = struct.unpack('>H', body[12:14])[0] if len(body) >= 14 else None
        if etype not in protocols:
            continue
        header = bytes([protocols[etype]]) if a.compressed else b'\xff\x03' + struct.pack('>H', protocols[etype])
        p[3] = header + body[14:]
        p[2] += len(header) - 14
        out.append(p)
    write_pcap(a.out, e, h, out, linktype=9)


def cmd_reorder_hello(a):
    e, h, lt, pk = read_pcap(a.inp)
    ck = client_key(lt, pk)
    data_idx = []
    for i, p in enumerate(pk):
        t = tcp_info(lt, p[3])
        if not t or t[6] == 0:
            continue
        if (t[0], t[1]) != ck:
            break  # first server data: the ClientHello is complete
        data_idx.append(i)
    if len(data_idx) < 3:
        sys.exit(f'reorder-hello: ClientHello spans only {len(data_idx)} segments')
    i1, i2, i3 = data_idx[0], data_idx[1], data_idx[2]
    # Swap contents only: timestamps stay with their slot, so the file stays in time order.
    pk[i2][3], pk[i3][3] = pk[i3][3], pk[i2][3]
    pk[i2][2], pk[i3][2] = pk[i3][2], pk[i2][2]
    dup = list(pk[i1])
    # Timestamp of the retransmission: 1 unit (us or ns) after the packet it follows.
    per_sec = 10**9 if h[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d') else 10**6
    dup[0], dup[1] = pk[i3][0], pk[i3][1] + 1
    if dup[1] >= per_sec:
        dup[0], dup[1] = dup[0] + 1, 0
    pk.insert(i3 + 1, dup)
    write_pcap(a.out, e, h, pk)
    print(f'swapped packets #{i2 + 1} and #{i3 + 1}, retransmission of #{i1 + 1} inserted as #{i3 + 2}')


def cmd_appdata_offset(a):
    e, h, lt, pk = read_pcap(a.inp)
    ck = client_key(lt, pk)
    n = 0
    for p in pk:
        t = tcp_info(lt, p[3])
        if not t or t[6] == 0:
            continue
        is_client = (t[0], t[1]) == ck
        if is_client != (a.side == 'client'):
            continue
        if p[3][t[5]] != 23:
            continue
        n += 1
        if n == a.nth:
            print(p[4] + 16 + t[5] + t[6] // 2)
            return
    sys.exit('appdata-offset: not found')


def cmd_cut(a):
    with open(a.inp, 'rb') as f:
        data = f.read()
    with open(a.out, 'wb') as f:
        f.write(data[:a.offset])


def cmd_list(a):
    e, h, lt, pk = read_pcap(a.inp)
    ck = client_key(lt, pk)
    for i, p in enumerate(pk):
        t = tcp_info(lt, p[3])
        if t:
            d = 'c->s' if (t[0], t[1]) == ck else 's->c'
            first = p[3][t[5]] if t[6] else None
            print(i + 1, p[4], d, t[4], t[6], first)
        else:
            print(i + 1, p[4], '?')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('drop'); s.add_argument('inp'); s.add_argument('out'); s.add_argument('--first', type=int, required=True); s.set_defaults(f=cmd_drop)
    s = sub.add_parser('vlan'); s.add_argument('inp'); s.add_argument('out'); s.add_argument('--vid', type=int, required=True); s.add_argument('--outer-vid', type=int); s.set_defaults(f=cmd_vlan)
    s = sub.add_parser('ppp'); s.add_argument('inp'); s.add_argument('out'); s.add_argument('--compressed', action='store_true'); s.set_defaults(f=cmd_ppp)
    s = sub.add_parser('reorder-hello'); s.add_argument('inp'); s.add_argument('out'); s.set_defaults(f=cmd_reorder_hello)
    s = sub.add_parser('appdata-offset'); s.add_argument('inp'); s.add_argument('--from', dest='side', choices=['client', 'server'], required=True); s.add_argument('--nth', type=int, required=True); s.set_defaults(f=cmd_appdata_offset)
    s = sub.add_parser('cut'); s.add_argument('inp'); s.add_argument('out'); s.add_argument('--offset', type=int, required=True); s.set_defaults(f=cmd_cut)
    s = sub.add_parser('list'); s.add_argument('inp'); s.set_defaults(f=cmd_list)
    a = ap.parse_args()
    a.f(a)


if __name__ == '__main__':
    main()
