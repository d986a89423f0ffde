import PacketDecoding
import FlowTracking
@testable import TCPReassembly
import Testing

// Spoofed resets and reused 4-tuples (issue #9): hand-built connections of a few segments.
// Client ISN 999 (data from 1000), server ISN 4999 (data from 5000).
private let syn = c(999, "", [.syn])
private let synAck = s(4999, "", [.syn, .ack])
private let started = Event.start(port: 40000, initiatorIsClient: true, sawSYN: true)
private func out(_ text: String) -> Event { .data(.fromInitiator, text) }
private func back(_ text: String) -> Event { .data(.fromResponder, text) }
private func ended(_ reason: FlowEndReason, _ packets: Int) -> Event { .end(port: 40000, reason, packets: packets) }

@Test func aResetFarOutsideTheWindowDoesNotEndTheFlow() {
    // The classic evasion: a RST whose sequence number the receiver would reject, injected after the ClientHello.
    let result = Harness.run([
        syn, synAck, c(1000, "hello"), s(0x8000_1388, "", [.rst, .ack]), s(5000, "world"), c(1005, "again"),
    ])
    #expect(result.events == [
        started, out("hello"), .resetIgnored(.fromResponder), back("world"), out("again"), ended(.endOfInput, 6),
    ])
    #expect(result.statistics.rstIgnored == 1)
    #expect(result.statistics.flowsCreated == 1)
}

@Test func aResetInTheWindowEndsTheFlow() {
    // At the sender's next sequence number, and a little off it (within the tolerance either way).
    for sequence: UInt32 in [5000, 5000 + 60_000, 5000 &- 60_000] {
        let result = Harness.run([syn, synAck, c(1000, "hello"), s(sequence, "", [.rst]), s(5000, "late")])
        #expect(result.events.prefix(3) == [started, out("hello"), ended(.rst, 4)], "seq \(sequence)")
        #expect(result.statistics.rstIgnored == 0)
    }
}

@Test func aResetNearTheReceiversAcknowledgmentCounts() {
    // The capture missed the server's data; the client's ACKs say where the server's stream is.
    let result = Harness.run([
        syn, synAck, c(1000, "hello"), c(1005, "", [.ack], ack: 905_000), s(905_000, "", [.rst]),
    ])
    #expect(result.events == [started, out("hello"), ended(.rst, 5)])
}

@Test func aResetFromASideThatSentNothingYetIsTaken() {
    // A closed port answers the SYN with RST/ACK: nothing to check its sequence number against.
    let result = Harness.run([syn, s(0, "", [.rst, .ack], ack: 1000)])
    #expect(result.events == [started, ended(.rst, 2)])
}

@Test func aResetOutsideTheWindowOfAStoppedFlowIsStillIgnored() {
    var harness = Harness(stopAfter: 1)
    harness.feed([syn, synAck, c(1000, "hello"), s(5000, "world"), c(1005, "more"), s(1_000_000, "", [.rst])])
    #expect(harness.reassembler.flowCount == 1)
    harness.feed(c(1009, "", [.rst]))
    #expect(harness.reassembler.flowCount == 0)
    #expect(harness.log.events == [started, out("hello"), .resetIgnored(.fromResponder), ended(.rst, 7)])
    #expect(harness.reassembler.statistics.rstIgnored == 1)
}

@Test func aNewSYNWithANewISNOnALiveTupleStartsANewFlow() {
    // The old connection's FIN was not captured; the client reuses its port with a fresh ISN.
    let result = Harness.run([
        syn, synAck, c(1000, "old"), s(5000, "OLD"),
        c(0x4000_0000, "", [.syn]), s(0x6000_0000, "", [.syn, .ack]), c(0x4000_0001, "new"), s(0x6000_0001, "NEW"),
    ])
    #expect(result.events == [
        started, out("old"), back("OLD"), ended(.reused, 4),
        started, out("new"), back("NEW"), ended(.endOfInput, 4),
    ])
    #expect(result.statistics.flowsReused == 1)
    #expect(result.statistics.flowsCreated == 2)
}

@Test func aRetransmittedOrNearbySYNDoesNotSplitTheFlow() {
    // Same ISN (a retransmission), and the other side's SYN in a simultaneous open.
    let result = Harness.run([syn, c(1000, "abc"), syn, s(4999, "", [.syn]), c(1003, "def")])
    #expect(result.events == [started, out("abc"), out("def"), ended(.endOfInput, 5)])
    #expect(result.statistics.flowsReused == 0)
}

@Test func equalFourTuplesOnDifferentSegmentsAreDifferentFlows() {
    let vlan10 = NetworkSegment.adding(.vlan, 10, to: 0)
    let vlan20 = NetworkSegment.adding(.vlan, 20, to: 0)
    var harness = Harness()
    harness.feed([
        c(999, "", [.syn], segment: vlan10), c(999, "", [.syn], segment: vlan20),
        c(1000, "ten", segment: vlan10), c(1000, "twenty", segment: vlan20),
    ])
    #expect(harness.reassembler.flowCount == 2)
    harness.finish()
    #expect(harness.log.events == [started, started, out("ten"), out("twenty"), ended(.endOfInput, 2),
                                   ended(.endOfInput, 2)])
    let key = FlowKey(c(1, segment: vlan10).packet)
    #expect(key.segment == vlan10 && key != FlowKey(c(1, segment: vlan20).packet))
}

@Test func gapsCarryTheirStreamOffset() {
    var harness = Harness()
    harness.feed([syn, c(1000, "abc"), c(1006, "ghi"), c(1012, "mno", missing: 4), c(1020, "u")])
    harness.finish()
    #expect(harness.log.events.filter { if case .gap = $0 { true } else { false } }
            == [.gap(.fromInitiator, 3), .gap(.fromInitiator, 3), .gap(.fromInitiator, 4), .gap(.fromInitiator, 1)])
    #expect(harness.log.gapOffsets == [3, 9, 15, 19])
}

@Test func bufferedSegmentsAreCappedOverAllFlows() {
    // One-byte out-of-order segments far under the byte caps: the segment cap is what holds them back.
    var limits = ReassemblyLimits()
    limits.maxBufferedSegmentsTotal = 3
    var harness = Harness(limits: limits)
    for port: UInt16 in 1...4 { harness.feed([c(999, "", [.syn], port: port), c(1005, "x", port: port)]) }
    #expect(harness.reassembler.statistics.bufferedSegments == 3)
    #expect(harness.reassembler.statistics.gaps == 1)  // the fourth flow skipped its hole instead
    harness.finish()
    #expect(harness.reassembler.statistics.bufferedSegments == 0)
}

@Test func theFlowTableStaysWithinMaxFlows() {
    var limits = ReassemblyLimits()
    limits.maxFlows = 100
    var harness = Harness(limits: limits)
    for port in 1...5000 { harness.feed(c(1000, "x", t: Int64(port), port: UInt16(port))) }
    #expect(harness.reassembler.flowCount == 100)
    #expect(harness.reassembler.slots.count <= 100)
    #expect(harness.reassembler.freeSlots.count <= 100)
    #expect(harness.reassembler.index.capacity <= max(FlowIndex.initialCapacity, 4 * 100))
}
