import WireCursor

// Encapsulations followed down to the tunnelled connection. Each one ends in `decodeTunnelledIP(depth: depth + 1)`
// (directly, or through an inner Ethernet header), so `DecodingLimits.maxTunnelDepth` bounds the nesting.
// Like the JA4 reference implementations (which see what Wireshark dissects), the decoder reports the
// innermost IP + TCP/UDP; the outer headers are not kept.

/// A UDP port that announces a tunnel (IANA "Service Name and Transport Protocol Port Number Registry").
enum UDPTunnel {
    case vxlan  // 4789, RFC 7348
    case vxlanGPE  // 4790, draft-ietf-nvo3-vxlan-gpe
    case geneve  // 6081, RFC 8926

    /// Like Wireshark's UDP dissector, the lower port is tried first, then the higher one: the captures of
    /// the reference suite have VXLAN from port 4789 to port 4790.
    init?(sourcePort: UInt16, destinationPort: UInt16) {
        let low = min(sourcePort, destinationPort)
        let high = max(sourcePort, destinationPort)
        guard let tunnel = Self(port: low) ?? Self(port: high) else { return nil }
        self = tunnel
    }

    init?(port: UInt16) {
        switch port {
        case 4789: self = .vxlan
        case 4790: self = .vxlanGPE
        case 6081: self = .geneve
        default: return nil
        }
    }
}

/// What a UDP tunnel header said.
enum UDPTunnelResult {
    /// The header is what the port announced; the packet is whatever is inside (nil: not IP TCP/UDP).
    case decoded(DecodedPacket?)
    /// The header contradicts the port (a flag or version that the tunnel requires is wrong): the datagram
    /// is ordinary UDP that happens to use the port, and is reported as such.
    case notATunnel
}

/// What follows a tunnel header.
enum TunnelPayload {
    case ethernet
    case network(NetworkLayer)
}

/// What a UDP tunnel header announces.
enum UDPTunnelHeader {
    /// The payload, and the segment with the tunnel's network id folded in.
    case carries(TunnelPayload, segment: UInt64)
    /// A payload the decoder does not follow (NSH, ARP over GENEVE...): no packet.
    case unfollowed
    case notATunnel
}

extension PacketDecoder {
    /// Decodes what follows a tunnel header, one tunnel level deeper.
    func decodeTunnelPayload(
        _ payload: TunnelPayload, _ cursor: inout ByteCursor, depth: Int, segment outer: UInt64
    ) throws(DecodeError) -> DecodedPacket? {
        var segment = outer
        let network: NetworkLayer
        switch payload {
        case .ethernet:
            guard let inner = try decodeEthernet(&cursor, segment: &segment) else { return nil }
            network = inner
        case .network(let inner):
            network = inner
        }
        return try decodeTunnelledIP(&cursor, network: network, depth: depth + 1, segment: segment)
    }

    // GRE header (RFC 2784 §2.1, with RFC 2890 §2's key and sequence number; bit 1 is RFC 1701's routing):
    //    0                   1                   2                   3
    //    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    //   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //   |C|R|K|S| Reserved0       | Ver |         Protocol Type         |
    //   |      Checksum (optional)      |       Reserved1 (Optional)    |
    //   |                         Key (optional)                        |
    //   |                 Sequence Number (Optional)                    |
    // Checksum + Reserved1 are present when C (or RFC 1701's R) is set, the key when K is, the sequence number
    // when S is. Not followed (nil): version 1 (PPTP's enhanced GRE, RFC 2637, whose PPP payload is compressed
    // and encrypted in practice) and RFC 1701 source routing (R), obsolete since RFC 2784.
    //
    // The protocol type is an ethertype: 0x0800 IPv4, 0x86DD IPv6, MPLS, ... (via `decodeEtherType`);
    // 0x6558 transparent Ethernet bridging (an Ethernet frame); 0x88BE and 0x22EB ERSPAN.
    // The key (RFC 2890: it tells flows of different contexts apart) is folded into the segment; with an
    // Ethernet payload it is NVGRE's (RFC 7637 §3.2): a 24-bit virtual subnet id and an 8-bit FlowID for
    // entropy, which may differ by direction, so only the subnet id is folded.
    func decodeGRE(_ cursor: inout ByteCursor, depth: Int, segment outer: UInt64) throws(DecodeError) -> DecodedPacket? {
        var segment = outer
        let flagsVersion = try cursor.readUInt16("GRE.flags_version")
        let protocolType = try cursor.readUInt16("GRE.protocol_type")
        let checksumPresent: UInt16 = 0x8000
        let routingPresent: UInt16 = 0x4000
        let keyPresent: UInt16 = 0x2000
        let sequencePresent: UInt16 = 0x1000
        guard flagsVersion & 0x0007 == 0, flagsVersion & routingPresent == 0 else { return nil }
        if flagsVersion & checksumPresent != 0 { try cursor.skip(4, "GRE.checksum") }
        if flagsVersion & keyPresent != 0 {
            let key = try cursor.readUInt32("GRE.key")
            let context = protocolType == EtherType.transparentEthernetBridging ? key >> 8 : key
            segment = NetworkSegment.adding(.greKey, context, to: segment)
        }
        if flagsVersion & sequencePresent != 0 { try cursor.skip(4, "GRE.sequence_number") }
        switch protocolType {
        case EtherType.transparentEthernetBridging:
            return try decodeTunnelPayload(.ethernet, &cursor, depth: depth, segment: segment)
        case EtherType.erspan where flagsVersion & sequencePresent == 0:
            // ERSPAN type I (e.g. Broadcom Trident 2): no sequence number and no ERSPAN header, the mirrored
            // frame follows the GRE header (Wireshark's packet-erspan.c makes the same distinction).
            return try decodeTunnelPayload(.ethernet, &cursor, depth: depth, segment: segment)
        case EtherType.erspan, EtherType.erspanTypeIII:
            return try decodeERSPAN(&cursor, depth: depth, segment: segment)
        default:
            guard let network = try decodeEtherType(protocolType, &cursor, segment: &segment) else { return nil }
            return try decodeTunnelPayload(.network(network), &cursor, depth: depth, segment: segment)
        }
    }

    // ERSPAN (draft-foschiano-erspan-03). Type II (§4.1, version 1), 8 bytes:
    //   |  Ver  |          VLAN         | COS | En|T|    Session ID     |
    //   |      Reserved         |                  Index                |
    // Type III (§4.2, version 2), 12 bytes, then an 8-byte platform-specific subheader when O is set:
    //   |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
    //   |                          Timestamp                            |
    //   |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
    // The mirrored Ethernet frame (without FCS) follows. As in Wireshark, the version field decides which
    // header this is whatever the GRE protocol type (0x88BE or 0x22EB) said; an unknown version is not
    // followed (nil).
    // The session id is not folded into the segment (see `NetworkSegment`).
    func decodeERSPAN(_ cursor: inout ByteCursor, depth: Int, segment: UInt64) throws(DecodeError) -> DecodedPacket? {
        let versionVLAN = try cursor.readUInt16("ERSPAN.version_vlan")
        switch versionVLAN >> 12 {
        case 1:
            try cursor.skip(6, "ERSPAN.type_II")
        case 2:
            try cursor.skip(8, "ERSPAN.type_III")
            let flags = try cursor.readUInt16("ERSPAN.type_III.flags")
            if flags & 1 != 0 { try cursor.skip(8, "ERSPAN.platform_subheader") }
        default:
            return nil
        }
        return try decodeTunnelPayload(.ethernet, &cursor, depth: depth, segment: segment)
    }

    /// Reads the header of the tunnel the UDP port announced, then what it carries. `cursor` spans the UDP
    /// payload. A header cut short throws `.truncated` (the port is taken at its word, as Wireshark does);
    /// a header that contradicts the port gives `.notATunnel`.
    func decodeUDPTunnel(
        _ tunnel: UDPTunnel, _ cursor: inout ByteCursor, depth: Int, segment: UInt64
    ) throws(DecodeError) -> UDPTunnelResult {
        let header: UDPTunnelHeader = switch tunnel {
        case .vxlan: try readVXLAN(&cursor, segment: segment)
        case .vxlanGPE: try readVXLANGPE(&cursor, segment: segment)
        case .geneve: try readGENEVE(&cursor, segment: segment)
        }
        switch header {
        case .notATunnel: return .notATunnel
        case .unfollowed: return .decoded(nil)
        case .carries(let payload, let inner):
            return .decoded(try decodeTunnelPayload(payload, &cursor, depth: depth, segment: inner))
        }
    }

    // VXLAN header (RFC 7348 §5):
    //   |R|R|R|R|I|R|R|R|            Reserved                           |
    //   |                VXLAN Network Identifier (VNI) |   Reserved    |
    // then an Ethernet frame. The I flag must be set (a valid VNI); the other bits are left to extensions
    // (GBP, GPE) and not checked.
    func readVXLAN(_ cursor: inout ByteCursor, segment: UInt64) throws(DecodeError) -> UDPTunnelHeader {
        let flags = try cursor.readUInt8("VXLAN.flags")
        try cursor.skip(3, "VXLAN.reserved")
        let network = try cursor.readUInt32("VXLAN.vni") >> 8
        guard flags & 0x08 != 0 else { return .notATunnel }
        return .carries(.ethernet, segment: NetworkSegment.adding(.vxlanNetwork, network, to: segment))
    }

    // VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe-12 §3.3):
    //   |R|R|Ver|I|P|B|O|       Reserved                |Next Protocol  |
    //   |                VXLAN Network Identifier (VNI) |   Reserved    |
    // Next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS are followed (4 NSH and others are not). Without the
    // P bit the payload is Ethernet, as in plain VXLAN. A version other than 0 is not VXLAN-GPE.
    func readVXLANGPE(_ cursor: inout ByteCursor, segment outer: UInt64) throws(DecodeError) -> UDPTunnelHeader {
        let flags = try cursor.readUInt8("VXLAN-GPE.flags")
        try cursor.skip(2, "VXLAN-GPE.reserved")
        let nextProtocol = try cursor.readUInt8("VXLAN-GPE.next_protocol")
        let network = try cursor.readUInt32("VXLAN-GPE.vni") >> 8
        guard flags & 0x30 == 0 else { return .notATunnel }
        let segment = NetworkSegment.adding(.vxlanNetwork, network, to: outer)
        guard flags & 0x04 != 0 else { return .carries(.ethernet, segment: segment) }
        switch nextProtocol {
        case 1: return .carries(.network(.ipv4), segment: segment)
        case 2: return .carries(.network(.ipv6), segment: segment)
        case 3: return .carries(.ethernet, segment: segment)
        case 5:
            guard let inner = try decodeMPLS(&cursor) else { return .unfollowed }
            return .carries(.network(inner), segment: segment)
        default: return .unfollowed
        }
    }

    // GENEVE header (RFC 8926 §3.4):
    //   |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
    //   |        Virtual Network Identifier (VNI)       |    Reserved   |
    //   |                    Variable-Length Options                    |
    // Opt Len counts 4-byte words of options. The protocol type is an ethertype; 0x6558 (transparent Ethernet
    // bridging) means an Ethernet frame. A version other than 0 is not GENEVE.
    func readGENEVE(_ cursor: inout ByteCursor, segment outer: UInt64) throws(DecodeError) -> UDPTunnelHeader {
        let versionLength = try cursor.readUInt8("GENEVE.version_opt_len")
        try cursor.skip(1, "GENEVE.flags")
        let protocolType = try cursor.readUInt16("GENEVE.protocol_type")
        let network = try cursor.readUInt32("GENEVE.vni") >> 8
        guard versionLength >> 6 == 0 else { return .notATunnel }
        try cursor.skip(Int(versionLength & 0x3F) * 4, "GENEVE.options")
        var segment = NetworkSegment.adding(.geneveNetwork, network, to: outer)
        if protocolType == EtherType.transparentEthernetBridging { return .carries(.ethernet, segment: segment) }
        guard let inner = try decodeEtherType(protocolType, &cursor, segment: &segment) else { return .unfollowed }
        return .carries(.network(inner), segment: segment)
    }
}
