import FlowTracking
import PacketDecoding
import Testing
import UDPFlows

/// A consumer that logs datagrams; "start" payloads make flows, anything else does not.
private struct LoggingConsumer: DatagramConsumer {
    let log: EventLog
    let port: UInt16
    var stopAfter: Int?
    var receives = 0
    var retainedBytes = 0
    /// Pretend to keep this many heap bytes per datagram byte (memory budget tests).
    var retainFactor = 0

    mutating func receive(_ datagram: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        receives += 1
        retainedBytes += datagram.count * retainFactor
        log.events.append(.data(direction, String(decoding: datagram, as: UTF8.self)))
        if let stopAfter, receives >= stopAfter { return .stopCollecting }
        return .keepCollecting
    }

    /// "start..." on a finished flow is another connection.
    func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool { datagram.starts(with: "start".utf8) }
}

private struct UDPHarness {
    var table: UDPFlowTable<LoggingConsumer>
    let log = EventLog()
    var stopAfter: Int?
    var retainFactor = 0
    var stopped: [UInt16] = []

    init(limits: UDPFlowLimits = UDPFlowLimits()) {
        table = UDPFlowTable(limits: limits)
    }

    /// A datagram from client port `clientPort` (to 443) or back; payload text.
    mutating func send(_ text: String, clientPort: UInt16, fromClient: Bool = true, at seconds: Int64 = 0) {
        let client = IPAddress(ipv4: 0x0A00_0001)
        let server = IPAddress(ipv4: 0x0A00_0002)
        let packet = DecodedPacket(
            source: fromClient ? client : server, destination: fromClient ? server : client,
            sourcePort: fromClient ? clientPort : 443, destinationPort: fromClient ? 443 : clientPort, transport: .udp,
            payloadOffset: 0, payloadLength: text.utf8.count)
        let log = self.log
        let stopAfter = self.stopAfter
        let retainFactor = self.retainFactor
        var stoppedNow: [UInt16] = []
        Array(text.utf8).withUnsafeBytes { payload in
            table.process(
                packet, payload: payload, timestamp: seconds * 1_000_000_000,
                makeConsumer: { start, first in
                    guard first.starts(with: "start".utf8) else { return nil }
                    log.events.append(.start(port: start.initiatorPort, initiatorIsClient: start.initiatorPort != 443, sawSYN: start.sawSYN))
                    return LoggingConsumer(log: log, port: start.initiatorPort == 443 ? start.responderPort : start.initiatorPort,
                                           stopAfter: stopAfter, retainFactor: retainFactor)
                },
                stoppedCollecting: { consumer, _ in stoppedNow.append(consumer.port) },
                finished: { consumer, end in log.events.append(.end(port: consumer.port, end.reason, packets: end.packets)) })
        }
        stopped += stoppedNow
    }

    mutating func finish() {
        let log = self.log
        table.finishAll { consumer, end in log.events.append(.end(port: consumer.port, end.reason, packets: end.packets)) }
    }
}

@Suite struct UDPFlowTableTests {
    @Test func datagramsThatStartNothingCreateNoFlow() {
        var harness = UDPHarness()
        harness.send("dns query", clientPort: 5353)
        harness.send("more", clientPort: 5353, fromClient: false)
        #expect(harness.table.flowCount == 0)
        #expect(harness.table.statistics.datagrams == 2)
        #expect(harness.log.events.isEmpty)
    }

    @Test func bothDirectionsReachOneConsumerInOrder() {
        var harness = UDPHarness()
        harness.send("start:hello", clientPort: 40000)
        harness.send("answer", clientPort: 40000, fromClient: false)
        harness.send("again", clientPort: 40000)
        harness.finish()
        #expect(harness.log.events == [
            .start(port: 40000, initiatorIsClient: true, sawSYN: false),
            .data(.fromInitiator, "start:hello"), .data(.fromResponder, "answer"), .data(.fromInitiator, "again"),
            .end(port: 40000, .endOfInput, packets: 3),
        ])
    }

    @Test func theFirstSenderIsTheInitiatorEvenWhenItIsTheServerPort() {
        var harness = UDPHarness()
        harness.send("start:from server", clientPort: 40001, fromClient: false)
        harness.send("reply", clientPort: 40001)
        #expect(harness.log.events.prefix(3) == [
            .start(port: 443, initiatorIsClient: false, sawSYN: false),
            .data(.fromInitiator, "start:from server"), .data(.fromResponder, "reply"),
        ])
    }

    @Test func aStoppedConsumerIsNotCalledButItsFlowStillCountsPackets() {
        var harness = UDPHarness()
        harness.stopAfter = 2
        harness.send("start", clientPort: 40002)
        harness.send("second", clientPort: 40002, fromClient: false)
        harness.send("bulk", clientPort: 40002)
        harness.send("bulk", clientPort: 40002, fromClient: false)
        harness.finish()
        #expect(harness.stopped == [40002])
        #expect(harness.log.events.filter { if case .data = $0 { true } else { false } }.count == 2)
        #expect(harness.log.events.last == .end(port: 40002, .endOfInput, packets: 4))
        #expect(harness.table.statistics.flowsCreated == 1)
    }

    @Test func anotherConnectionOnAFinishedFlowEndsItAsReused() {
        var harness = UDPHarness()
        harness.stopAfter = 1
        harness.send("start", clientPort: 40010, at: 0)
        harness.send("start again", clientPort: 40010, fromClient: false, at: 1)
        harness.send("data", clientPort: 40010, at: 2)
        harness.finish()
        #expect(harness.log.events == [
            .start(port: 40010, initiatorIsClient: true, sawSYN: false), .data(.fromInitiator, "start"),
            .end(port: 40010, .reused, packets: 1),
            // The new connection's initiator is the sender of the datagram that started it.
            .start(port: 443, initiatorIsClient: false, sawSYN: false), .data(.fromInitiator, "start again"),
            .end(port: 40010, .endOfInput, packets: 2),
        ])
        #expect(harness.table.statistics.flowsReused == 1 && harness.table.statistics.flowsCreated == 2)

        // A consumer still collecting is not asked: the datagram is its own.
        var collecting = UDPHarness()
        collecting.send("start", clientPort: 40011)
        collecting.send("start again", clientPort: 40011)
        #expect(collecting.table.statistics.flowsReused == 0 && collecting.table.flowCount == 1)
    }

    @Test func idleFlowsEndAfterTheTimeout() {
        var limits = UDPFlowLimits()
        limits.idleTimeoutNanoseconds = 30 * 1_000_000_000
        var harness = UDPHarness(limits: limits)
        harness.send("start", clientPort: 40003, at: 0)
        harness.send("start", clientPort: 40004, at: 20)
        harness.send("unrelated", clientPort: 9, at: 31)
        #expect(harness.log.events.last == .end(port: 40003, .idle, packets: 1))
        #expect(harness.table.flowCount == 1)
        #expect(harness.table.statistics.flowsTimedOut == 1)
    }

    @Test func aFullTableEndsItsIdlestFlow() {
        var limits = UDPFlowLimits()
        limits.maxFlows = 2
        var harness = UDPHarness(limits: limits)
        harness.send("start", clientPort: 40005, at: 0)
        harness.send("start", clientPort: 40006, at: 1)
        harness.send("x", clientPort: 40005, at: 2)  // 40006 is now the idlest
        harness.send("start", clientPort: 40007, at: 3)
        #expect(harness.log.events.contains(.end(port: 40006, .evicted, packets: 1)))
        #expect(harness.table.flowCount == 2)
        #expect(harness.table.statistics.flowsEvicted == 1)
    }

    @Test func theMemoryBudgetCountsTheOtherTableToo() {
        var limits = UDPFlowLimits()
        limits.maxMemoryBytes = 1_000_000
        var harness = UDPHarness(limits: limits)
        harness.retainFactor = 1000
        harness.send("start:" + String(repeating: "a", count: 194), clientPort: 40008, at: 0)  // holds 200,000
        harness.send("start:" + String(repeating: "b", count: 194), clientPort: 40009, at: 1)
        #expect(harness.table.flowCount == 2)
        // The TCP table now holds 700,000 bytes of the same budget: the idlest UDP flow must go.
        harness.table.otherMemoryBytes = 700_000
        harness.send("start:c", clientPort: 40010, at: 2)
        #expect(harness.log.events.contains(.end(port: 40008, .evicted, packets: 1)))
        #expect(!harness.log.events.contains(.end(port: 40009, .evicted, packets: 1)))
        #expect(harness.table.statistics.flowsEvictedForMemory == 1)
        #expect(harness.table.memoryInUse + harness.table.otherMemoryBytes <= limits.maxMemoryBytes)
    }
}
