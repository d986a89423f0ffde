import PacketDecoding

// The vocabulary every flow table shares (TCP reassembly, UDP flows) and the consumers they feed.

/// Which way bytes travel, relative to the side that opened the connection (the SYN sender, or
/// when no SYN was captured, the sender of the first packet seen).
public enum FlowDirection: Sendable, Hashable {
    case fromInitiator
    case fromResponder
    public var reversed: FlowDirection { self == .fromInitiator ? .fromResponder : .fromInitiator }
}

/// A connection's identity regardless of direction: endpoints in canonical order, and the network segment
/// (VLANs, tunnel ids: `DecodedPacket.segment`) they were seen on, so overlapping tenant 4-tuples stay apart.
public struct FlowKey: Hashable, Sendable {
    public var lowAddress: IPAddress
    public var highAddress: IPAddress
    public var lowPort: UInt16
    public var highPort: UInt16
    public var transport: TransportProtocol
    /// `DecodedPacket.segment`: 0 for a frame without VLAN tags or tunnel ids.
    public var segment: UInt64
    public init(_ packet: DecodedPacket) {
        self = Self.canonical(packet).key
    }

    // Written out and inlinable, field by field as the synthesized one: the flow index compares keys for
    // every packet in the flow tables' modules, where the synthesized `==` is a call (~40 instructions).
    @inlinable
    public static func == (lhs: FlowKey, rhs: FlowKey) -> Bool {
        lhs.lowPort == rhs.lowPort && lhs.highPort == rhs.highPort && lhs.segment == rhs.segment
            && lhs.transport.rawValue == rhs.transport.rawValue
            && lhs.lowAddress.low == rhs.lowAddress.low && lhs.lowAddress.high == rhs.lowAddress.high
            && lhs.lowAddress.isIPv6 == rhs.lowAddress.isIPv6
            && lhs.highAddress.low == rhs.highAddress.low && lhs.highAddress.high == rhs.highAddress.high
            && lhs.highAddress.isIPv6 == rhs.highAddress.isIPv6
    }

    /// The key of a packet, and whether its sender is the key's low endpoint.
    @inlinable @inline(__always)
    public static func canonical(_ packet: DecodedPacket) -> (key: FlowKey, senderIsLow: Bool) {
        let source = packet.source
        let destination = packet.destination
        let senderIsLow =
            source == destination ? packet.sourcePort <= packet.destinationPort : source < destination
        return senderIsLow
            ? (FlowKey(low: source, packet.sourcePort, high: destination, packet.destinationPort, packet.transport,
                       segment: packet.segment), true)
            : (FlowKey(low: destination, packet.destinationPort, high: source, packet.sourcePort, packet.transport,
                       segment: packet.segment), false)
    }

    @inlinable @inline(__always)
    public init(
        low: IPAddress, _ lowPort: UInt16, high: IPAddress, _ highPort: UInt16, _ transport: TransportProtocol,
        segment: UInt64
    ) {
        lowAddress = low
        self.lowPort = lowPort
        highAddress = high
        self.highPort = highPort
        self.transport = transport
        self.segment = segment
    }
}

/// How a new flow began.
public struct FlowStart: Sendable, Hashable {
    public var key: FlowKey
    public var initiatorAddress: IPAddress
    public var initiatorPort: UInt16
    public var responderAddress: IPAddress
    public var responderPort: UInt16
    /// The initiator is known from a SYN (not guessed from the first packet).
    public var sawSYN: Bool
    public var timestamp: Int64
    /// The network segment (VLANs, tunnel ids) the flow was seen on: `key.segment`.
    public var segment: UInt64 { key.segment }

    public init(
        key: FlowKey, initiatorAddress: IPAddress, initiatorPort: UInt16, responderAddress: IPAddress,
        responderPort: UInt16, sawSYN: Bool, timestamp: Int64
    ) {
        self.key = key
        self.initiatorAddress = initiatorAddress
        self.initiatorPort = initiatorPort
        self.responderAddress = responderAddress
        self.responderPort = responderPort
        self.sawSYN = sawSYN
        self.timestamp = timestamp
    }
}

/// Why a flow ended.
public enum FlowEndReason: Sendable, Hashable {
    case fin, rst, idle, evicted, endOfInput
    /// A SYN with a new ISN came on the flow's 4-tuple (the old connection's end was not captured): a new
    /// flow starts with that SYN.
    case reused
}

/// What the flow table knew of a connection when it ended.
public struct FlowEnd: Sendable, Hashable {
    public var reason: FlowEndReason
    public var firstTimestamp: Int64
    public var lastTimestamp: Int64
    /// TCP segments seen in either direction.
    public var packets: Int
    /// TCP payload bytes seen in either direction, retransmissions included.
    public var bytes: Int
    /// The table's `packetSequence` at the flow's first and last packet: where the flow stands in the
    /// capture's packet order, so ends from several tables (one per worker thread) can be put in the order
    /// one table would have given them (last packet: the idle order; first: the creation order).
    public var firstSequence: UInt64 = 0
    public var lastSequence: UInt64 = 0

    /// `now - last > timeout`: a flow last seen at `last` is idle at `now`. Without trapping on extreme
    /// (capture-supplied) timestamps. Both flow tables end their idle flows by it.
    @inlinable
    public static func isIdle(last: Int64, now: Int64, timeout: Int64) -> Bool {
        let (elapsed, overflow) = now.subtractingReportingOverflow(last)
        return overflow ? now > last : elapsed > timeout
    }

    public init(
        reason: FlowEndReason, firstTimestamp: Int64, lastTimestamp: Int64, packets: Int, bytes: Int,
        firstSequence: UInt64 = 0, lastSequence: UInt64 = 0
    ) {
        self.reason = reason
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.packets = packets
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }
}

/// How far a flow still in the table has got (the `FlowEnd` figures, read before the flow ends).
public struct FlowExtent: Sendable, Hashable {
    public var firstTimestamp: Int64
    public var lastTimestamp: Int64
    /// TCP segments seen in either direction so far.
    public var packets: Int
    /// TCP payload bytes seen in either direction so far, retransmissions included.
    public var bytes: Int
    /// The table's `packetSequence` at the flow's first and latest packet (as in `FlowEnd`).
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public init(
        firstTimestamp: Int64, lastTimestamp: Int64, packets: Int, bytes: Int, firstSequence: UInt64 = 0,
        lastSequence: UInt64 = 0
    ) {
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.packets = packets
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }

    /// What a flow's end said of it.
    public init(_ end: FlowEnd) {
        self.init(
            firstTimestamp: end.firstTimestamp, lastTimestamp: end.lastTimestamp, packets: end.packets,
            bytes: end.bytes, firstSequence: end.firstSequence, lastSequence: end.lastSequence)
    }
}

/// What a stream consumer wants after some bytes.
public enum StreamVerdict: Sendable {
    case keepCollecting
    /// Stop reassembling this flow: later packets cost a table lookup and a counter update.
    case stopCollecting
}

