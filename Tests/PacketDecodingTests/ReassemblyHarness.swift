import PacketDecoding
import FlowTracking
import TCPReassembly
import Testing

/// What a test consumer saw, in order.
enum Event: Equatable, CustomStringConvertible {
    case start(port: UInt16, initiatorIsClient: Bool, sawSYN: Bool)
    case data(FlowDirection, String)
    case gap(FlowDirection, Int?)
    case resetIgnored(FlowDirection)
    case end(port: UInt16, FlowEndReason, packets: Int)

    var description: String {
        switch self {
        case .start(let port, let client, let syn): "start(\(port), client:\(client), syn:\(syn))"
        case .data(let direction, let text): "\(direction == .fromInitiator ? "→" : "←")\"\(text)\""
        case .gap(let direction, let length): "\(direction == .fromInitiator ? "→" : "←")gap(\(length.map(String.init) ?? "?"))"
        case .end(let port, let reason, let packets): "end(\(port), \(reason), \(packets) pkts)"
        case .resetIgnored(let direction): "\(direction == .fromInitiator ? "→" : "←")rst-ignored"
        }
    }
}

final class EventLog {
    var events: [Event] = []
    var bytes: [FlowDirection: [UInt8]] = [:]
    /// Stream offset of each gap, in order.
    var gapOffsets: [Int64] = []
}

struct RecordingConsumer: TCPStreamConsumer {
    let log: EventLog
    let port: UInt16
    /// Return `.stopCollecting` from the n-th `receive`.
    var stopAfter: Int?
    var receives = 0
    /// Keep raw bytes instead of events (property tests).
    var bytesOnly = false
    /// Pretend to keep this many heap bytes per byte received (the memory budget's tests).
    var retainFactor = 0
    var retainedBytes = 0

    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        receives += 1
        retainedBytes += bytes.count * retainFactor
        if bytesOnly {
            log.bytes[direction, default: []] += bytes
        } else {
            log.events.append(.data(direction, String(decoding: bytes, as: UTF8.self)))
        }
        if let stopAfter, receives >= stopAfter { return .stopCollecting }
        return .keepCollecting
    }

    mutating func gap(direction: FlowDirection, offset: Int64, length: Int?, timestamp: Int64) {
        log.events.append(.gap(direction, length))
        log.gapOffsets.append(offset)
    }

    mutating func resetIgnored(direction: FlowDirection, timestamp: Int64) {
        log.events.append(.resetIgnored(direction))
    }
}

/// One segment of a test connection between 10.0.0.1:port (the client) and 10.0.0.2:443.
struct Segment {
    var fromServer = false
    var sequence: UInt32
    var data: [UInt8]
    var flags: TCPFlags
    var time: Int64
    var missing: Int
    var port: UInt16
    var acknowledgment: UInt32 = 0
    /// `DecodedPacket.segment` (VLAN / tunnel ids).
    var segment: UInt64 = 0

    var packet: DecodedPacket {
        let client = IPAddress(ipv4: 0x0A00_0001)
        let server = IPAddress(ipv4: 0x0A00_0002)
        return DecodedPacket(
            source: fromServer ? server : client, destination: fromServer ? client : server,
            sourcePort: fromServer ? 443 : port, destinationPort: fromServer ? port : 443, transport: .tcp,
            sequenceNumber: sequence, acknowledgmentNumber: acknowledgment, flags: flags, payloadOffset: 0,
            payloadLength: data.count, missingPayloadLength: missing, segment: segment)
    }
}

/// Client segment.
func c(_ sequence: UInt32, _ data: String = "", _ flags: TCPFlags = [.ack], t: Int64 = 0, missing: Int = 0,
       port: UInt16 = 40000, ack: UInt32 = 0, segment: UInt64 = 0) -> Segment {
    Segment(fromServer: false, sequence: sequence, data: Array(data.utf8), flags: flags, time: t, missing: missing,
            port: port, acknowledgment: ack, segment: segment)
}

/// Server segment.
func s(_ sequence: UInt32, _ data: String = "", _ flags: TCPFlags = [.ack], t: Int64 = 0, port: UInt16 = 40000,
       ack: UInt32 = 0, segment: UInt64 = 0) -> Segment
{
    Segment(fromServer: true, sequence: sequence, data: Array(data.utf8), flags: flags, time: t, missing: 0, port: port,
            acknowledgment: ack, segment: segment)
}

/// Feeds segments through a reassembler whose consumers record into one log.
struct Harness {
    var reassembler: TCPReassembler<RecordingConsumer>
    let log = EventLog()
    var stopAfter: Int?
    var bytesOnly = false
    var retainFactor = 0
    /// Ports whose flows `makeConsumer` refuses.
    var ignoredPorts: Set<UInt16> = []

    init(limits: ReassemblyLimits = ReassemblyLimits(), stopAfter: Int? = nil) {
        reassembler = TCPReassembler(limits: limits)
        self.stopAfter = stopAfter
    }

    mutating func feed(_ segments: [Segment]) {
        for segment in segments { feed(segment) }
    }

    mutating func feed(_ segment: Segment) {
        let log = self.log
        let stopAfter = self.stopAfter
        let bytesOnly = self.bytesOnly
        let retainFactor = self.retainFactor
        let ignored = ignoredPorts
        segment.data.withUnsafeBytes { payload in
            reassembler.process(
                segment.packet, payload: payload, timestamp: segment.time,
                makeConsumer: { start in
                    let port = start.initiatorPort == 443 ? start.responderPort : start.initiatorPort
                    log.events.append(.start(port: port, initiatorIsClient: start.initiatorPort != 443,
                                             sawSYN: start.sawSYN))
                    if ignored.contains(port) { return nil }
                    return RecordingConsumer(
                        log: log, port: port, stopAfter: stopAfter, bytesOnly: bytesOnly, retainFactor: retainFactor)
                },
                finished: { consumer, end in
                    log.events.append(.end(port: consumer.port, end.reason, packets: end.packets))
                })
        }
    }

    mutating func finish() {
        let log = self.log
        reassembler.finishAll { consumer, end in
            log.events.append(.end(port: consumer.port, end.reason, packets: end.packets))
        }
    }

    /// Feeds, finishes, and returns the log.
    static func run(_ segments: [Segment], limits: ReassemblyLimits = ReassemblyLimits(), stopAfter: Int? = nil)
        -> (events: [Event], statistics: ReassemblyStatistics)
    {
        var harness = Harness(limits: limits, stopAfter: stopAfter)
        harness.feed(segments)
        harness.finish()
        #expect(harness.reassembler.flowCount == 0)
        #expect(harness.reassembler.statistics.bufferedBytes == 0)
        return (harness.log.events, harness.reassembler.statistics)
    }
}
