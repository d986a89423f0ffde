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
    var isFragment: Bool
    /// Declared payload bytes that were not captured.
    var missingPayloadLength: Int
}

extension PacketDecoder {
    /// Decodes an IP header and what it carries. `depth` counts enclosing tunnels: an encapsulation layer
    /// (GRE, VXLAN, IP-in-IP) calls back into this with `depth + 1`, bounded by `DecodingLimits.maxTunnelDepth`.
    /// Every path from one IP header to another passes through here, so the check bounds the recursion.
    @inline(__always)
    func decodeIP(_ cursor: inout ByteCursor, network: NetworkLayer, depth: Int) throws(DecodeError) -> DecodedPacket? {
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
        case .ipv4, .ipAnyVersion: return try decodeIPv4(&cursor, depth: depth)
        case .ipv6: return try decodeIPv6(&cursor, depth: depth)
        }
    }

    /// `decodeIP` for an IP header inside a tunnel: a call, where the outermost one is inlined into
    /// `decode` (the common frame decodes in one function; the recursion through tunnels stays bounded).
    @inline(never)
    func decodeTunnelledIP(_ cursor: inout ByteCursor, network: NetworkLayer, depth: Int) throws(DecodeError) -> DecodedPacket? {
        try decodeIP(&cursor, network: network, depth: depth)
    }

    /// Dispatches on the IP protocol number once the IP headers are done. `payload` spans exactly the
    /// IP payload that was captured.
    @inline(__always)
    func decodeTransport(
        _ payload: inout ByteCursor, protocolNumber: UInt8, network: NetworkHeader, depth: Int
    ) throws(DecodeError) -> DecodedPacket? {
        do {
            switch protocolNumber {
            case IPProtocolNumber.tcp: return try decodeTCP(&payload, network: network)
            case IPProtocolNumber.udp: return try decodeUDP(&payload, network: network, depth: depth)
            case IPProtocolNumber.gre:
                return Self.tunnelled(try decodeGRE(&payload, depth: depth), outer: network)
            case IPProtocolNumber.ipv4Encapsulation:
                return Self.tunnelled(try decodeTunnelledIP(&payload, network: .ipv4, depth: depth + 1), outer: network)
            case IPProtocolNumber.ipv6Encapsulation:
                return Self.tunnelled(try decodeTunnelledIP(&payload, network: .ipv6, depth: depth + 1), outer: network)
            default: return nil
            }
        } catch {
            // A first fragment too short for the transport header (RFC 1858's tiny fragments) is not a
            // damaged capture: the header went into the next fragment, which we do not reassemble.
            if network.isFragment, network.missingPayloadLength == 0, error.code == .truncated { return nil }
            throw error
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
    // Fragments: a non-first fragment (offset != 0) has no transport header → nil. A first fragment with MF
    // set is decoded: its TCP header is complete, and the payload it carries is delivered; the bytes in the
    // later fragments become a hole the reassembler reports as a gap. `isFragment` says so.
    @inline(__always)
    func decodeIPv4(_ cursor: inout ByteCursor, depth: Int) throws(DecodeError) -> DecodedPacket? {
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
        if flagsFragment & 0x1FFF != 0 { return nil }
        let isFragment = flagsFragment & 0x2000 != 0
        let captured = min(declaredPayload, cursor.remaining)
        var payload = try cursor.readCursor(count: captured, "IPv4.payload")
        let network = NetworkHeader(
            source: source, destination: destination, isFragment: isFragment,
            missingPayloadLength: declaredPayload - captured)
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
    func decodeIPv6(_ cursor: inout ByteCursor, depth: Int) throws(DecodeError) -> DecodedPacket? {
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
        var isFragment = false
        var extensionHeaders = 0
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
                    try payload.skip(4, "IPv6.fragment.identification")
                    if offsetFlags >> 3 != 0 { return nil }
                    if offsetFlags & 1 != 0 { isFragment = true }
                case IPProtocolNumber.authenticationHeader:
                    try payload.skip((lengthField + 2) * 4 - 2, "IPv6.ah")
                default:
                    try payload.skip((lengthField + 1) * 8 - 2, "IPv6.extension")
                }
                nextHeader = following
            case IPProtocolNumber.noNextHeader:
                return nil
            default:
                let network = NetworkHeader(
                    source: source, destination: destination, isFragment: isFragment,
                    missingPayloadLength: declaredPayload - captured)
                return try decodeTransport(&payload, protocolNumber: nextHeader, network: network, depth: depth)
            }
        }
    }
}
