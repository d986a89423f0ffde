import WireCursor

extension PacketDecoder {
    /// Reads the link-layer header; nil when the frame does not carry IPv4/IPv6.
    /// VLAN ids are folded into `segment`.
    func decodeLinkLayer(_ cursor: inout ByteCursor, segment: inout UInt64) throws(DecodeError) -> NetworkLayer? {
        switch framing {
        case .ethernet: try decodeEthernet(&cursor, segment: &segment)
        case .linuxSLL: try decodeLinuxSLL(&cursor, segment: &segment)
        case .linuxSLL2: try decodeLinuxSLL2(&cursor, segment: &segment)
        case .bsdLoopback: try decodeBSDLoopback(&cursor)
        case .rawAnyIP: .ipAnyVersion
        case .rawIPv4: .ipv4
        case .rawIPv6: .ipv6
        case .ppp: try decodePPP(&cursor)
        case .pppHDLC: try decodePPPOrCiscoHDLC(&cursor, segment: &segment)
        case .pppWithDirection: try decodePPPWithDirection(&cursor)
        }
    }

    // Ethernet II (IEEE 802.3 clause 3.1.1):
    //   destination MAC (6) | source MAC (6) | ethertype (2) | payload
    // An ethertype below 0x0600 is an 802.3 length (LLC follows): not IP for our purposes.
    func decodeEthernet(_ cursor: inout ByteCursor, segment: inout UInt64) throws(DecodeError) -> NetworkLayer? {
        let etherType = try cursor.readHeader(14, "Ethernet.header").uint16(at: 12)
        return try decodeEtherType(etherType, &cursor, segment: &segment)
    }

    /// Follows stacked VLAN tags (802.1Q, 802.1ad QinQ and the legacy 0x9100), then maps the ethertype.
    //   tag: TCI (PCP 3 | DEI 1 | VID 12) (2) | inner ethertype (2)
    // Each VLAN id but 0 (a priority tag) is folded into `segment`.
    func decodeEtherType(
        _ first: UInt16, _ cursor: inout ByteCursor, segment: inout UInt64
    ) throws(DecodeError) -> NetworkLayer? {
        var etherType = first
        var tags = 0
        while etherType == EtherType.vlan || etherType == EtherType.qinq || etherType == EtherType.qinqLegacy {
            tags += 1
            guard tags <= DecodingLimits.maxVLANTags else {
                throw DecodeError(.tooLarge, at: cursor.position, "802.1Q tags")
            }
            let vlan = try cursor.readUInt16("802.1Q.tci") & 0x0FFF
            if vlan != 0 { segment = NetworkSegment.adding(.vlan, UInt32(vlan), to: segment) }
            etherType = try cursor.readUInt16("802.1Q.ethertype")
        }
        switch etherType {
        case EtherType.ipv4: return .ipv4
        case EtherType.ipv6: return .ipv6
        case EtherType.mplsUnicast, EtherType.mplsMulticast: return try decodeMPLS(&cursor)
        case EtherType.pppoeSession: return try decodePPPoESession(&cursor)
        default: return nil
        }
    }

    // MPLS label stack entry (RFC 3032 §2.1):
    //   |                Label                  | TC  |S|       TTL     |
    // Entries repeat until the bottom-of-stack bit S. The stack does not say what it carries; like Wireshark,
    // the first nibble after it decides: 4 → IPv4, 6 → IPv6 (`.ipAnyVersion`), anything else (a pseudowire
    // control word, an Ethernet pseudowire) → not followed (nil, from `decodeIP`).
    func decodeMPLS(_ cursor: inout ByteCursor) throws(DecodeError) -> NetworkLayer? {
        var labels = 0
        while true {
            labels += 1
            guard labels <= DecodingLimits.maxMPLSLabels else {
                throw DecodeError(.tooLarge, at: cursor.position, "MPLS.label_stack")
            }
            let entry = try cursor.readUInt32("MPLS.label_stack_entry")
            if entry & 0x100 != 0 { return .ipAnyVersion }
        }
    }

    // PPPoE session stage (RFC 2516 §4), then the PPP protocol field (RFC 1661 §2):
    //   | VER (4) = 1 | TYPE (4) = 1 |  CODE (8) = 0  |           SESSION_ID          |
    //   |            LENGTH             |     PPP protocol (2)  | payload
    // PPP protocol 0x0021 is IPv4 (RFC 1332), 0x0057 IPv6 (RFC 5072). A protocol field compressed to one
    // byte (RFC 1661 §6.5: odd first byte), which RFC 2516 discourages but peers may negotiate, is accepted.
    // The LENGTH is not needed: the IP length bounds the packet.
    func decodePPPoESession(_ cursor: inout ByteCursor) throws(DecodeError) -> NetworkLayer? {
        let versionType = try cursor.readUInt8("PPPoE.version_type")
        let code = try cursor.readUInt8("PPPoE.code")
        try cursor.skip(4, "PPPoE.session_length")
        guard versionType == 0x11, code == 0 else { return nil }
        return try Self.network(forPPPProtocol: try cursor.readPPPProtocol("PPP.protocol"))
    }

    // PPP link types (LINKTYPE_PPP 9, LINKTYPE_PPP_HDLC 50): the frame starts with RFC 1662's HDLC-like
    // header or, when Address-and-Control-Field-Compression was negotiated, with the PPP protocol field:
    //   [ address 0xFF (1) | control 0x03 (1) ] | protocol (1 or 2) | payload
    // RFC 1661 §6.6: "If they contain the values 0xff and 0x03, they are assumed to be the Address and Control
    // fields. If not, it is assumed that the fields were compressed and were not transmitted." No FCS follows
    // (libpcap's link types carry none), and the data is not byte-stuffed.
    func decodePPP(_ cursor: inout ByteCursor) throws(DecodeError) -> NetworkLayer? {
        var peek = cursor
        if try peek.readUInt8("PPP link.address") == 0xFF, try peek.readUInt8("PPP link.control") == 0x03 {
            cursor = peek
        }
        return try Self.network(forPPPProtocol: try cursor.readPPPProtocol("PPP link.protocol"))
    }

    // LINKTYPE_PPP_HDLC (50) also carries Cisco HDLC (RFC 1547 §4.3.1), told apart by its address byte, as
    // libpcap and Wireshark do:
    //   address 0x0F unicast / 0x8F broadcast (1) | control 0x00 (1) | ethertype (2) | payload
    func decodePPPOrCiscoHDLC(_ cursor: inout ByteCursor, segment: inout UInt64) throws(DecodeError)
        -> NetworkLayer?
    {
        var peek = cursor
        let address = try peek.readUInt8("PPP link.address")
        guard address == 0x0F || address == 0x8F else { return try decodePPP(&cursor) }
        let etherType = try cursor.readHeader(4, "Cisco HDLC.header").uint16(at: 2)
        return try decodeEtherType(etherType, &cursor, segment: &segment)
    }

    // LINKTYPE_PPP_WITH_DIR (204): a direction byte (0 received by the capturing host, else sent), then PPP
    // as for LINKTYPE_PPP. The direction is not needed: the IP addresses say who sent the packet.
    func decodePPPWithDirection(_ cursor: inout ByteCursor) throws(DecodeError) -> NetworkLayer? {
        try cursor.skip(1, "PPP link.direction")
        return try decodePPP(&cursor)
    }

    /// What a PPP protocol number carries: 0x0021 IPv4 (RFC 1332), 0x0057 IPv6 (RFC 5072); anything else
    /// (LCP, IPCP, compressed or encrypted data...) is not IP.
    static func network(forPPPProtocol pppProtocol: UInt16) -> NetworkLayer? {
        switch pppProtocol {
        case 0x0021: .ipv4
        case 0x0057: .ipv6
        default: nil
        }
    }
    // Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes):
    //   packet type (2) | ARPHRD type (2) | link-layer address length (2) | address (8, padded) | protocol (2)
    // The address length is not trusted: the address field is always 8 bytes.
    func decodeLinuxSLL(_ cursor: inout ByteCursor, segment: inout UInt64) throws(DecodeError) -> NetworkLayer? {
        try cursor.skip(14, "SLL.header")
        let proto = try cursor.readUInt16("SLL.protocol")
        return try decodeEtherType(proto, &cursor, segment: &segment)
    }

    // Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes):
    //   protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) | packet type (1) |
    //   link-layer address length (1) | address (8, padded)
    func decodeLinuxSLL2(_ cursor: inout ByteCursor, segment: inout UInt64) throws(DecodeError) -> NetworkLayer? {
        let proto = try cursor.readUInt16("SLL2.protocol")
        try cursor.skip(18, "SLL2.header")
        return try decodeEtherType(proto, &cursor, segment: &segment)
    }

    // BSD loopback: NULL (0) has a 4-byte address family in the writer's byte order, LOOP (108) in network
    // order; writers get this wrong both ways, so both orders are accepted for both. AF_INET is 2 everywhere;
    // AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD, also what NIO writes), 28 (FreeBSD), 30 (Darwin).
    // No value is ambiguous: a family read in the wrong order is >= 2^24.
    func decodeBSDLoopback(_ cursor: inout ByteCursor) throws(DecodeError) -> NetworkLayer? {
        var peek = cursor
        let littleEndian = try peek.readUInt32LE("loopback.family")
        let bigEndian = try cursor.readUInt32("loopback.family")
        return Self.network(forAddressFamily: littleEndian) ?? Self.network(forAddressFamily: bigEndian)
    }

    static func network(forAddressFamily family: UInt32) -> NetworkLayer? {
        switch family {
        case 2: .ipv4
        case 10, 24, 28, 30: .ipv6
        default: nil
        }
    }
}

extension ByteCursor {
    /// The PPP protocol field (RFC 1661 §2): two bytes, or one when Protocol-Field-Compression was negotiated
    /// (§6.5). Valid protocol numbers have an even high byte and an odd low byte, so an odd first byte is a
    /// compressed field on its own.
    mutating func readPPPProtocol(_ context: StaticString) throws(DecodeError) -> UInt16 {
        let first = UInt16(try readUInt8(context))
        guard first & 1 == 0 else { return first }
        return first << 8 | UInt16(try readUInt8(context))
    }
}
