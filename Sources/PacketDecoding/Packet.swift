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
    /// DLT_RAW as some platforms number it (12 or 14) rather than LINKTYPE_RAW.
    public static let rawAlt12 = LinkType(rawValue: 12)
    public static let rawAlt14 = LinkType(rawValue: 14)
}

/// An IPv4 or IPv6 address as two words, hashable without allocating (gopacket's fixed-array Endpoint).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// For IPv4, `high` is 0 and the address is the low 32 bits of `low`.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }
    public init(ipv4: UInt32) { self.init(high: 0, low: UInt64(ipv4), isIPv6: false) }

    /// Dotted quad, or RFC 5952 text for IPv6.
    public var description: String { "" /* PLACEHOLDER */ }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.isIPv6 ? 1 : 0, lhs.high, lhs.low) < (rhs.isIPv6 ? 1 : 0, rhs.high, rhs.low)
    }
}

public enum TransportProtocol: UInt8, Sendable, Hashable {
    case tcp = 6
    case udp = 17
}

/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
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

    public init(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
        transport: TransportProtocol, sequenceNumber: UInt32 = 0, acknowledgmentNumber: UInt32 = 0,
        flags: TCPFlags = [], payloadOffset: Int, payloadLength: Int
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
    }
}

/// Decodes frames of one link type down to TCP/UDP.
public struct PacketDecoder: Sendable {
    public let linkType: LinkType

    /// Throws `.unsupported` for a link type this decoder does not handle.
    public init(linkType: LinkType) throws(DecodeError) {
        self.linkType = linkType
    }

    /// nil when the frame carries no IPv4/IPv6 TCP or UDP (ARP, ICMP, a non-first IP fragment...);
    /// throws when a header is truncated or malformed.
    public func decode(_ frame: UnsafeRawBufferPointer) throws(DecodeError) -> DecodedPacket? {
        nil /* PLACEHOLDER */
    }
}
