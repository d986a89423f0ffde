import PacketDecoding

/// Which way bytes travel, relative to the side that opened the connection (the SYN sender, or
/// when no SYN was captured, the sender of the first packet seen).
public enum FlowDirection: Sendable, Hashable {
    case fromInitiator
    case fromResponder
    public var reversed: FlowDirection { self == .fromInitiator ? .fromResponder : .fromInitiator }
}

/// A connection's identity regardless of direction: endpoints in canonical order.
public struct FlowKey: Hashable, Sendable {
    public var lowAddress: IPAddress
    public var highAddress: IPAddress
    public var lowPort: UInt16
    public var highPort: UInt16
    public var transport: TransportProtocol
    public init(_ packet: DecodedPacket) {
        if (packet.source, packet.sourcePort) <= (packet.destination, packet.destinationPort) {
            lowAddress = packet.source; lowPort = packet.sourcePort
            highAddress = packet.destination; highPort = packet.destinationPort
        } else {
            lowAddress = packet.destination; lowPort = packet.destinationPort
            highAddress = packet.source; highPort = packet.sourcePort
        }
        transport = packet.transport
    }
}

/// Caps on the flow table and buffers, one value for all of them.
public struct ReassemblyLimits: Sendable, Hashable {
    /// Flows tracked at once; the idlest are evicted beyond it.
    public var maxFlows: Int = 100_000
    /// Out-of-order bytes buffered per direction.
    public var maxBufferedBytesPerDirection: Int = 256 * 1024
    /// Out-of-order bytes buffered over all flows.
    public var maxBufferedBytesTotal: Int = 32 * 1024 * 1024
    /// A flow with no packet for this long (capture time, nanoseconds) is closed.
    public var idleTimeoutNanoseconds: Int64 = 300 * 1_000_000_000
    public init() {}
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
}

/// Why a flow ended.
public enum FlowEndReason: Sendable, Hashable {
    case fin, rst, idle, evicted, endOfInput
}

/// What the flow table knew of a connection when it ended.
public struct FlowEnd: Sendable, Hashable {
    public var reason: FlowEndReason
    public var firstTimestamp: Int64
    public var lastTimestamp: Int64
    public var packets: Int
    public var bytes: Int
}

/// What a stream consumer wants after some bytes.
public enum StreamVerdict: Sendable {
    case keepCollecting
    /// Stop reassembling this flow: later packets cost a table lookup and a counter update.
    case stopCollecting
}

/// A per-connection consumer of ordered bytes (gopacket's Stream).
public protocol TCPStreamConsumer {
    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict
    /// `length` bytes were lost in that direction (nil when unknown).
    mutating func gap(direction: FlowDirection, length: Int?, timestamp: Int64)
}

/// Bidirectional flow table with per-direction in-order delivery.
public struct TCPReassembler<Consumer: TCPStreamConsumer> {
    public let limits: ReassemblyLimits

    public init(limits: ReassemblyLimits = ReassemblyLimits()) {
        self.limits = limits
    }

    /// Feeds one TCP segment. `makeConsumer` is asked for a consumer when a new flow starts (nil: ignore
    /// the flow, cheaply); `finished` receives each consumer whose flow ended (FIN/RST, idle, eviction).
    public mutating func process(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64,
        makeConsumer: (FlowStart) -> Consumer?, finished: (Consumer, FlowEnd) -> Void
    ) {
        // PLACEHOLDER
    }

    /// Ends every flow (end of input), oldest first.
    public mutating func finishAll(_ finished: (Consumer, FlowEnd) -> Void) {}

    /// Number of flows in the table.
    public var flowCount: Int { 0 }
}
