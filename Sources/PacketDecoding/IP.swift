import WireCursor

/// IP protocol / IPv6 next-header numbers the decoder follows (IANA "Assigned Internet Protocol Numbers").
enum IPProtocolNumber {
    static let hopByHop: UInt8 = 0
    static let ipv4Encapsulation: UInt8 = 4  // IP-in-IP (RFC 2003)
    static let tcp: UInt8 = 6
    static let udp: UInt8 = 17
    static let ipv6Encapsulation: UInt8 = 41  // IPv6-in-IPv4 (RFC 4213), IPv6-in-IPv6 (RFC 2473)
    static let routing: UInt8 = 43
    static let fragment: UInt8 = 44
    static let gre: UInt8 = 47  // RFC 2784
    static let authenticationHeader: UInt8 = 51
    static let noNextHeader: UInt8 = 59
    static let destinationOptions: UInt8 = 60
}

/// The network-layer facts the transport decoder needs.
struct NetworkHeader {
    var source: IPAddress
    var destination: IPAddress
    /// `DecodedPacket.segment` so far (VLANs and tunnel ids outside this header).
    var segment: UInt64
    /// Declared payload bytes that were not captured.
    var missingPayloadLength: Int
}

/// What an IP header says about the fragment it heads (kept in `DecodedPacket.fragmentHeader`).
@usableFromInline struct FragmentHeader: Sendable, Hashable {
    var identification: UInt32
    /// Of this fragment's data in the datagram's payload, in bytes (a multiple of 8).
    var offset: Int
    var moreFragments: Bool
    /// What the datagram's payload is: the IPv4 protocol, or the next header after the IPv6 fragment header.
    var protocolNumber: UInt8
    var isIPv6: Bool
    var depth: UInt8

    /// Protocols the decoder follows, hence worth reassembling; other fragments are nil like other
    /// unfollowed packets. IPv6 also lists the extension headers that may follow a fragment header.
    static func isFollowed(_ protocolNumber: UInt8, isIPv6: Bool) -> Bool {
        switch protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.gre, IPProtocolNumber.ipv4Encapsulation,
            IPProtocolNumber.ipv6Encapsulation:
            true
        case IPProtocolNumber.routing, IPProtocolNumber.destinationOptions, IPProtocolNumber.authenticationHeader:
            isIPv6
        default:
            false
        }
    }

    /// The packet `decodeFrame` hands out as `.fragment`: addresses, segment, and where the fragment's data lies.
    func packet(_ network: NetworkHeader, _ payload: ByteCursor) -> DecodedPacket {
        var packet = DecodedPacket(
            source: network.source, destination: network.destination, sourcePort: 0, destinationPort: 0,
            transport: .tcp, payloadOffset: payload.position, payloadLength: payload.remaining,
            missingPayloadLength: network.missingPayloadLength, segment: network.segment)
        packet.fragmentHeader = self
        return packet
    }
}

extension PacketDecoder {
    /// Decodes an IP header and what it carries. `depth` counts enclosing tunnels: an encapsulation layer
    /// (GRE, VXLAN, IP-in-IP) calls back into this with `depth + 1`, bounded by `DecodingLimits.maxTunnelDepth`.
    /// Every path from one IP header to another passes through here, so the check bounds the recursion.
    @inline(__always)
    func decodeIP(
        _ cursor: inout ByteCursor, network: NetworkLayer, depth: Int, segment: UInt64
    ) throws(DecodeError) -> DecodedPacket? {
        guard depth <= DecodingLimits.maxTunnelDepth else {
            throw DecodeError(.tooLarge, at: cursor.position, "tunnel depth")
        }
        var version = network
        if case .ipAnyVersion = network {
            guard let first = cursor.peekUInt8() else {
                throw DecodeError(.truncated, at: cursor.position, "IP.version")
            }
            switch first >> 4 {
            case 4: version = .ipv4
            case 6: version = .ipv6
            default: return nil
            }
        }
        switch version {
        case .ipv4, .ipAnyVersion: return try decodeIPv4(&cursor, depth: depth, segment: segment)
        case .ipv6: return try decodeIPv6(&cursor, depth: depth, segment: segment)
        }
    }

    /// `decodeIP` for an IP header inside a tunnel: a call, where the outermost one is inlined into
    /// `decode` (the common frame decodes in one function; the recursion through tunnels stays bounded).
    @inline(never)
    func decodeTunnelledIP(
        _ cursor: inout ByteCursor, network: NetworkLayer, depth: Int, segment: UInt64
    ) throws(DecodeError) -> DecodedPacket? {
        try decodeIP(&cursor, network: network, depth: depth, segment: segment)
    }

    /// Dispatches on the IP protocol number once the IP headers are done. `payload` spans exactly the
    /// IP payload that was captured.
    @inline(__always)
    func decodeTransport(
        _ payload: inout ByteCursor, protocolNumber: UInt8, network: NetworkHeader, depth: Int
    ) throws(DecodeError) -> DecodedPacket? {
        switch protocolNumber {
        case IPProtocolNumber.tcp: return try decodeTCP(&payload, network: network)
        case IPProtocolNumber.udp: return try decodeUDP(&payload, network: network, depth: depth)
        case IPProtocolNumber.gre: return try decodeGRE(&payload, depth: depth, segment: network.segment)
        case IPProtocolNumber.ipv4Encapsulation:
            return try decodeTunnelledIP(&payload, network: .ipv4, depth: depth + 1, segment: network.segment)
        case IPProtocolNumber.ipv6Encapsulation:
            return try decodeTunnelledIP(&payload, network: .ipv6, depth: depth + 1, segment: network.segment)
        default: return nil
        }
    }

    // IPv4 header (RFC 791 §3.1):
    //    0                   1                   2                   3
    //    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    //   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //   |Version|  IHL  |Type of Service|          Total Length         |
    //   |         Identification        |Flags|      Fragment Offset    |
    //   |  Time to Live |    Protocol   |         Header Checksum       |
    //   |                       Source Address                          |
    //   |                    Destination Address                        |
    //   |                    Options                    |    Padding    |
    //
    // Fragments (MF set, or a non-zero offset) of a datagram carrying what the decoder follows are handed out
    // whole (`fragmentHeader`), the payload being the fragment's data; others are nil. Identification is 16 bits.
    @inline(__always)
    func decodeIPv4(_ cursor: inout ByteCursor, depth: Int, segment: UInt64) throws(DecodeError) -> DecodedPacket? {
        let start = cursor.position
        let header = try cursor.readHeader(20, "IPv4.header")
        let versionIHL = header.uint8(at: 0)
        guard versionIHL >> 4 == 4 else { throw DecodeError(.malformed, at: start, "IPv4.version") }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= 20 else { throw DecodeError(.malformed, at: start, "IPv4.ihl") }
        let totalLength = Int(header.uint16(at: 2))
        let flagsFragment = header.uint16(at: 6)
        let protocolNumber = header.uint8(at: 9)
        let source = IPAddress(ipv4: header.uint32(at: 12))
        let destination = IPAddress(ipv4: header.uint32(at: 16))
        if headerLength > 20 { try cursor.skip(headerLength - 20, "IPv4.options") }

        // Total length 0 is what TCP segmentation offload leaves in captures of outgoing packets
        // (Wireshark treats it the same way): take what was captured.
        let declaredPayload: Int
        if totalLength == 0 {
            declaredPayload = cursor.remaining
        } else {
            guard totalLength >= headerLength else { throw DecodeError(.malformed, at: start, "IPv4.total_length") }
            declaredPayload = totalLength - headerLength
        }
        let captured = min(declaredPayload, cursor.remaining)
        var payload = try cursor.readCursor(count: captured, "IPv4.payload")
        let network = NetworkHeader(
            source: source, destination: destination, segment: segment,
            missingPayloadLength: declaredPayload - captured)
        if flagsFragment & 0x3FFF != 0 {
            guard FragmentHeader.isFollowed(protocolNumber, isIPv6: false) else { return nil }
            let fragment = FragmentHeader(
                identification: UInt32(header.uint16(at: 4)), offset: Int(flagsFragment & 0x1FFF) * 8,
                moreFragments: flagsFragment & 0x2000 != 0, protocolNumber: protocolNumber, isIPv6: false,
                depth: UInt8(truncatingIfNeeded: depth))
            return fragment.packet(network, payload)
        }
        return try decodeTransport(&payload, protocolNumber: protocolNumber, network: network, depth: depth)
    }

    // IPv6 header (RFC 8200 §3):
    //   |Version| Traffic Class |           Flow Label                  |
    //   |         Payload Length        |  Next Header  |   Hop Limit   |
    //   |                 Source Address (128 bits)                     |
    //   |              Destination Address (128 bits)                   |
    // Extension headers (RFC 8200 §4) followed: hop-by-hop (0), routing (43), destination options (60) —
    //   Next Header (1) | Hdr Ext Len (1, 8-octet units beyond the first 8) | ...
    // fragment (44) — Next Header (1) | Reserved (1) | Fragment Offset (13 bits) Res (2) M (1) | Identification (4)
    // AH (51, RFC 4302 §2) — Next Header (1) | Payload Len (1, 4-octet units minus 2) | ...
    func decodeIPv6(_ cursor: inout ByteCursor, depth: Int, segment: UInt64) throws(DecodeError) -> DecodedPacket? {
        let start = cursor.position
        let header = try cursor.readHeader(40, "IPv6.header")
        guard header.uint8(at: 0) >> 4 == 6 else { throw DecodeError(.malformed, at: start, "IPv6.version") }
        let payloadLength = Int(header.uint16(at: 4))
        var nextHeader = header.uint8(at: 6)
        let source = IPAddress(high: header.uint64(at: 8), low: header.uint64(at: 16), isIPv6: true)
        let destination = IPAddress(high: header.uint64(at: 24), low: header.uint64(at: 32), isIPv6: true)

        // Payload length 0: a jumbogram (RFC 2675) or a TSO capture; take what was captured.
        let declaredPayload = payloadLength == 0 ? cursor.remaining : payloadLength
        let captured = min(declaredPayload, cursor.remaining)
        var payload = try cursor.readCursor(count: captured, "IPv6.payload")
        let network = NetworkHeader(
            source: source, destination: destination, segment: segment,
            missingPayloadLength: declaredPayload - captured)
        return try decodeIPv6Payload(&payload, nextHeader: nextHeader, network: network, depth: depth,
                                     extensionHeaders: 0)
    }

    /// The extension headers and what follows them, from `nextHeader` on: the rest of `decodeIPv6`, and the
    /// transport step of a reassembled IPv6 datagram (whose fragment header counts as one extension header).
    /// A fragment header with a non-zero offset or M set makes the rest a fragment (`fragmentHeader`);
    /// an atomic fragment (RFC 6946: offset 0, M clear) is read through.
    func decodeIPv6Payload(
        _ payload: inout ByteCursor, nextHeader first: UInt8, network: NetworkHeader, depth: Int,
        extensionHeaders alreadySeen: Int
    ) throws(DecodeError) -> DecodedPacket? {
        var nextHeader = first
        var extensionHeaders = alreadySeen
        // Extension headers are counted into the declared payload, so the missing part stays the same.
        while true {
            switch nextHeader {
            case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.destinationOptions,
                IPProtocolNumber.fragment, IPProtocolNumber.authenticationHeader:
                extensionHeaders += 1
                guard extensionHeaders <= DecodingLimits.maxIPv6ExtensionHeaders else {
                    throw DecodeError(.tooLarge, at: payload.position, "IPv6.extension_headers")
                }
                let following = try payload.readUInt8("IPv6.extension.next_header")
                let lengthField = Int(try payload.readUInt8("IPv6.extension.length"))
                switch nextHeader {
                case IPProtocolNumber.fragment:
                    let offsetFlags = try payload.readUInt16("IPv6.fragment.offset")
                    let identification = try payload.readUInt32("IPv6.fragment.identification")
                    if offsetFlags & 0xFFF9 != 0 {
                        guard FragmentHeader.isFollowed(following, isIPv6: true) else { return nil }
                        let fragment = FragmentHeader(
                            identification: identification, offset: Int(offsetFlags >> 3) * 8,
                            moreFragments: offsetFlags & 1 != 0, protocolNumber: following, isIPv6: true,
                            depth: UInt8(truncatingIfNeeded: depth))
                        return fragment.packet(network, payload)
                    }
                case IPProtocolNumber.authenticationHeader:
                    try payload.skip((lengthField + 2) * 4 - 2, "IPv6.ah")
                default:
                    try payload.skip((lengthField + 1) * 8 - 2, "IPv6.extension")
                }
                nextHeader = following
            case IPProtocolNumber.noNextHeader:
                return nil
            default:
                return try decodeTransport(&payload, protocolNumber: nextHeader, network: network, depth: depth)
            }
        }
    }
}
