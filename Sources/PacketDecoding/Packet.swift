import WireCursor

/// A libpcap link-layer type (DLT/LINKTYPE number), an open set.
public struct LinkType: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    public static let raw = LinkType(rawValue: 101)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let loop = LinkType(rawValue: 108)
    public static let rawIPv4 = LinkType(rawValue: 228)
    public static let rawIPv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)
    /// PPP (RFC 1661), with or without RFC 1662's 0xFF 0x03 address and control bytes.
    public static let ppp = LinkType(rawValue: 9)
    /// PPP in HDLC-like framing (RFC 1662), or Cisco HDLC (RFC 1547 §4.3.1).
    public static let pppHDLC = LinkType(rawValue: 50)
    /// PPP after a one-byte direction pseudo-header (0 received, else sent).
    public static let pppWithDirection = LinkType(rawValue: 204)
    /// DLT_RAW as some platforms number it (12 or 14) rather than LINKTYPE_RAW.
    public static let rawAlt12 = LinkType(rawValue: 12)
    public static let rawAlt14 = LinkType(rawValue: 14)
}

public enum TransportProtocol: UInt8, Sendable, Hashable {
    case tcp = 6
    case udp = 17
}

/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)
}

/// The innermost IP + TCP/UDP headers of one frame. The payload is given as a range of the frame,
/// so the packet owns nothing and copies nothing.
public struct DecodedPacket: Sendable, Hashable {
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var transport: TransportProtocol
    /// TCP only (zero for UDP).
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    /// Where the transport payload lies in the frame (trimmed to the IP length, so Ethernet padding is excluded).
    public var payloadOffset: Int
    public var payloadLength: Int
    /// Payload bytes the IP header declares but the capture does not hold (snaplen truncation); 0 normally.
    /// The reassembler reports them as a gap right after the captured part.
    public var missingPayloadLength: Int
    /// The network segment the packet was seen on: its VLAN ids and tunnel ids (VXLAN / VXLAN-GPE VNI, GENEVE
    /// VNI, GRE key) folded into one value, 0 when there are none, so that equal 4-tuples of different
    /// tenants are different flows. See `NetworkSegment`.
    public var segment: UInt64
    /// Set (by the decoder only) when the frame holds an IP fragment rather than a whole datagram:
    /// `decodeFrame` hands it out as `.fragment`, `decode` as nil.
    @usableFromInline var fragmentHeader: FragmentHeader?

    @inlinable
    public init(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
        transport: TransportProtocol, sequenceNumber: UInt32 = 0, acknowledgmentNumber: UInt32 = 0,
        flags: TCPFlags = [], payloadOffset: Int, payloadLength: Int,
        missingPayloadLength: Int = 0, segment: UInt64 = 0
    ) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.transport = transport
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.payloadOffset = payloadOffset
        self.payloadLength = payloadLength
        self.missingPayloadLength = missingPayloadLength
        self.segment = segment
        self.fragmentHeader = nil
    }
}

/// What one frame holds, as `PacketDecoder.decodeFrame` tells it.
public enum DecodedFrame: Sendable, Hashable {
    /// A whole TCP/UDP packet (its payload lies in the frame).
    case packet(DecodedPacket)
    /// A piece of a fragmented IP datagram, for an `IPFragmentReassembler`.
    case fragment(IPFragment)
}

/// Decodes frames of one link type down to TCP/UDP.
///
/// The decoder is a chain of functions over one `ByteCursor` (gopacket's DecodingLayer idea without the
/// preallocated layer structs): link layer → `decodeIP` → transport. Encapsulations are followed down to the
/// innermost IP + TCP/UDP (the tunnelled connection): VLAN tags, MPLS, PPPoE sessions at the link layer;
/// GRE (with TEB and ERSPAN I/II/III), IP-in-IP and IPv6-in-IP at the IP layer; VXLAN (UDP 4789),
/// VXLAN-GPE (4790) and GENEVE (6081) over UDP. See `Tunnels.swift`. Nothing is allocated or copied; the
/// result points into the frame by offset. Checksums are never verified: captures taken on the sending host
/// carry offloaded (wrong) checksums.
public struct PacketDecoder: Sendable {
    public let linkType: LinkType
    @usableFromInline let framing: Framing

    /// How the link layer of `linkType` is taken apart.
    @usableFromInline enum Framing: Sendable {
        case ethernet, linuxSLL, linuxSLL2, bsdLoopback, rawAnyIP, rawIPv4, rawIPv6
        case ppp, pppHDLC, pppWithDirection
    }

    /// Throws `.unsupported` for a link type this decoder does not handle.
    public init(linkType: LinkType) throws(DecodeError) {
        guard let framing = Self.framing(for: linkType) else {
            throw DecodeError(.unsupported, at: 0, "link type")
        }
        self.linkType = linkType
        self.framing = framing
    }

    /// Whether `init(linkType:)` accepts this link type.
    public static func isSupported(_ linkType: LinkType) -> Bool { framing(for: linkType) != nil }

    static func framing(for linkType: LinkType) -> Framing? {
        switch linkType {
        case .ethernet: .ethernet
        case .linuxSLL: .linuxSLL
        case .linuxSLL2: .linuxSLL2
        case .null, .loop: .bsdLoopback
        case .raw, .rawAlt12, .rawAlt14: .rawAnyIP
        case .rawIPv4: .rawIPv4
        case .rawIPv6: .rawIPv6
        case .ppp: .ppp
        case .pppHDLC: .pppHDLC
        case .pppWithDirection: .pppWithDirection
        default: nil
        }
    }

    /// nil when the frame carries no whole IPv4/IPv6 TCP or UDP packet (ARP, ICMP, an IP fragment...);
    /// throws when a header is truncated or malformed. `decodeFrame` also hands out fragments.
    public func decode(_ frame: UnsafeRawBufferPointer) throws(DecodeError) -> DecodedPacket? {
        if let packet = decodePlainIPv4TCP(frame) { return packet }
        guard let packet = try decodeLayers(frame), packet.fragmentHeader == nil else { return nil }
        return packet
    }

    /// `decode`, but an IP fragment (of a datagram carrying something the decoder follows: TCP, UDP or a
    /// tunnel) comes out as `.fragment`, to be put back together by an `IPFragmentReassembler` and the
    /// whole datagram decoded by `decodeDatagram`. Unfragmented frames cost what `decode` costs.
    @inline(__always)
    public func decodeFrame(_ frame: UnsafeRawBufferPointer) throws(DecodeError) -> DecodedFrame? {
        if let packet = decodePlainIPv4TCP(frame) { return .packet(packet) }
        return Self.frame(try decodeLayers(frame))
    }

    /// The transport step for a reassembled datagram: decodes what `datagram` (the IP payload put back
    /// together from `fragment` and its siblings) carries, as the IP header said. The packet's payload
    /// offset is into `datagram`. A tunnel inside may hold a fragment of its own (`.fragment`, with offsets
    /// into `datagram`).
    public func decodeDatagram(_ datagram: UnsafeRawBufferPointer, of fragment: IPFragment) throws(DecodeError)
        -> DecodedFrame?
    {
        var cursor = ByteCursor(datagram)
        let network = NetworkHeader(
            source: fragment.source, destination: fragment.destination, segment: fragment.segment,
            missingPayloadLength: 0)
        let depth = Int(fragment.depth)
        if fragment.isIPv6 {
            return Self.frame(
                try decodeIPv6Payload(&cursor, nextHeader: fragment.protocolNumber, network: network, depth: depth,
                                      extensionHeaders: 1))
        }
        return Self.frame(
            try decodeTransport(&cursor, protocolNumber: fragment.protocolNumber, network: network, depth: depth))
    }

    static func frame(_ packet: DecodedPacket?) -> DecodedFrame? {
        guard let packet else { return nil }
        guard let header = packet.fragmentHeader else { return .packet(packet) }
        return .fragment(IPFragment(packet, header))
    }

    /// The general decoder: every link layer, tunnel, IPv6 extension header and defect.
    func decodeLayers(_ frame: UnsafeRawBufferPointer) throws(DecodeError) -> DecodedPacket? {
        var cursor = ByteCursor(frame)
        var segment: UInt64 = 0
        guard let network = try decodeLinkLayer(&cursor, segment: &segment) else { return nil }
        return try decodeIP(&cursor, network: network, depth: 0, segment: segment)
    }

    /// The shape of nearly every frame on a wire, decoded with one bounds check: a plain link header, an
    /// IPv4 header without options carrying a whole, unfragmented TCP segment, captured in full. Anything
    /// else (and anything odd about these) is nil here and goes to `decodeLayers`, which gives the same
    /// result for the frames this accepts (tests compare the two over every fixture frame).
    ///
    /// Inlinable: the flow tables' caller decodes such a frame in its own body, the packet built where it is
    /// used (through `decodeFrame`, a call, it went out in a `DecodedFrame` and was copied twice more).
    /// The payload it describes always lies within `frame`.
    @inlinable @inline(__always)
    public func decodePlainIPv4TCP(_ frame: UnsafeRawBufferPointer) -> DecodedPacket? {
        let linkLength: Int
        switch framing {
        case .ethernet: linkLength = 14
        case .rawIPv4, .rawAnyIP: linkLength = 0
        case .linuxSLL: linkLength = 16
        case .linuxSLL2: linkLength = 20
        case .bsdLoopback, .rawIPv6, .ppp, .pppHDLC, .pppWithDirection: return nil
        }
        var cursor = ByteCursor(frame)
        guard let header = try? cursor.readHeader(linkLength + 40, "plain IPv4/TCP") else { return nil }
        switch framing {
        case .ethernet: guard header.uint16(at: 12) == 0x0800 /* EtherType.ipv4 */ else { return nil }
        case .linuxSLL: guard header.uint16(at: 14) == 0x0800 /* EtherType.ipv4 */ else { return nil }
        case .linuxSLL2: guard header.uint16(at: 0) == 0x0800 /* EtherType.ipv4 */ else { return nil }
        default: break
        }
        let ip = linkLength
        // Version 4, IHL 5; protocol TCP; no fragment offset and no MF flag.
        guard header.uint8(at: ip) == 0x45, header.uint8(at: ip + 9) == 6 /* IPProtocolNumber.tcp */,
            header.uint16(at: ip + 6) & 0x3FFF == 0
        else { return nil }
        let totalLength = Int(header.uint16(at: ip + 2))
        guard totalLength >= 40, totalLength <= frame.count - ip else { return nil }
        let tcp = ip + 20
        let tcpHeaderLength = Int(header.uint8(at: tcp + 12) >> 4) * 4
        guard tcpHeaderLength >= 20, tcpHeaderLength <= totalLength - 20 else { return nil }
        let payloadOffset = tcp + tcpHeaderLength
        return DecodedPacket(
            source: IPAddress(ipv4: header.uint32(at: ip + 12)),
            destination: IPAddress(ipv4: header.uint32(at: ip + 16)),
            sourcePort: header.uint16(at: tcp), destinationPort: header.uint16(at: tcp + 2), transport: .tcp,
            sequenceNumber: header.uint32(at: tcp + 4), acknowledgmentNumber: header.uint32(at: tcp + 8),
            flags: TCPFlags(rawValue: header.uint8(at: tcp + 13)),
            payloadOffset: payloadOffset, payloadLength: ip + totalLength - payloadOffset)
    }
}

/// What the link layer says follows it.
enum NetworkLayer {
    case ipv4, ipv6
    /// Raw IP framing: the version nibble decides.
    case ipAnyVersion
}

/// Ethertypes the decoder follows.
enum EtherType {
    static let ipv4: UInt16 = 0x0800
    static let ipv6: UInt16 = 0x86DD
    static let vlan: UInt16 = 0x8100  // IEEE 802.1Q
    static let qinq: UInt16 = 0x88A8  // IEEE 802.1ad service tag
    static let qinqLegacy: UInt16 = 0x9100  // pre-802.1ad QinQ
    static let mplsUnicast: UInt16 = 0x8847  // RFC 3032
    static let mplsMulticast: UInt16 = 0x8848  // RFC 5332
    static let pppoeSession: UInt16 = 0x8864  // RFC 2516
    static let transparentEthernetBridging: UInt16 = 0x6558  // GRE/GENEVE: an Ethernet frame follows
    static let erspan: UInt16 = 0x88BE  // ERSPAN types I and II (GRE protocol type)
    static let erspanTypeIII: UInt16 = 0x22EB
}

/// Caps on nesting in hostile frames.
public enum DecodingLimits {
    /// Stacked 802.1Q/802.1ad tags followed before giving up (`.tooLarge`).
    public static let maxVLANTags = 8
    /// IPv6 extension headers followed before giving up (`.tooLarge`).
    public static let maxIPv6ExtensionHeaders = 8
    /// Tunnels (GRE, ERSPAN, VXLAN, GENEVE, IP-in-IP, IPv6-in-IP) nested inside the outermost IP header
    /// before giving up (`.tooLarge`): the outer IP header plus four tunnelled ones decode, a fifth throws.
    public static let maxTunnelDepth = 4
    /// MPLS label stack entries followed before giving up (`.tooLarge`).
    public static let maxMPLSLabels = 8
}

/// Folds VLAN ids and tunnel ids into `DecodedPacket.segment`, outermost first:
/// `segment = segment × K + (kind << 32 | id)`, so one VLAN 100 alone is `1 << 32 | 100` and a different
/// stack of ids gives a different value except by a 64-bit accident.
///
/// Only ids both directions of a connection share are folded: 802.1Q/802.1ad VLAN ids (0, a priority tag,
/// is skipped: one side may tag and the other not), VXLAN and VXLAN-GPE VNIs, GENEVE VNIs and GRE keys
/// (NVGRE's: the virtual subnet id without the FlowID byte).
/// Not MPLS labels (each direction has its own label switched path, with its own labels) and not ERSPAN
/// session ids (switches commonly mirror a port's received and sent traffic in separate sessions): both
/// would split a connection into two one-way flows.
public enum NetworkSegment {
    public enum Kind: UInt64, Sendable {
        case vlan = 1, vxlanNetwork = 2, geneveNetwork = 3, greKey = 4
    }

    @inline(__always)
    public static func adding(_ kind: Kind, _ id: UInt32, to segment: UInt64) -> UInt64 {
        segment &* 0x9E37_79B9_7F4A_7C15 &+ (kind.rawValue << 32 | UInt64(id))
    }
}
