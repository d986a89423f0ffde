import PacketDecoding
import FlowTracking
import TCPReassembly
import Testing

// Client ISN 999 (data from 1000), server ISN 4999 (data from 5000).
private let syn = c(999, "", [.syn])
private let synAck = s(4999, "", [.syn, .ack])
private let started = Event.start(port: 40000, initiatorIsClient: true, sawSYN: true)
private func out(_ text: String) -> Event { .data(.fromInitiator, text) }
private func back(_ text: String) -> Event { .data(.fromResponder, text) }
private func gapOut(_ length: Int) -> Event { .gap(.fromInitiator, length) }
private func ended(_ reason: FlowEndReason, _ packets: Int, port: UInt16 = 40000) -> Event {
    .end(port: port, reason, packets: packets)
}

/// gopacket-style table: segments in, consumer events out (after `finishAll`).
struct ReassemblyCase: CustomTestStringConvertible, Sendable {
    let name: String
    let segments: @Sendable () -> [Segment]
    let want: @Sendable () -> [Event]
    var testDescription: String { name }
}

private let cases: [ReassemblyCase] = [
    .init(name: "in order", segments: { [syn, synAck, c(1000, "abc"), s(5000, "xyz"), c(1003, "def")] },
          want: { [started, out("abc"), back("xyz"), out("def"), ended(.endOfInput, 5)] }),
    .init(name: "reordered", segments: { [syn, c(1003, "def"), c(1006, "ghi"), c(1000, "abc")] },
          want: { [started, out("abc"), out("def"), out("ghi"), ended(.endOfInput, 4)] }),
    .init(name: "retransmitted",
          segments: { [syn, c(1000, "abc"), c(1000, "abc"), c(1003, "def"), c(1000, "abcdef"), c(1001, "b")] },
          want: { [started, out("abc"), out("def"), ended(.endOfInput, 6)] }),
    .init(name: "overlap with delivered bytes", segments: { [syn, c(1000, "abcd"), c(1002, "cdef")] },
          want: { [started, out("abcd"), out("ef"), ended(.endOfInput, 3)] }),
    .init(name: "overlap with buffered bytes: first arrival wins",
          segments: { [syn, c(1002, "XYef"), c(1000, "abcdZZ")] },
          want: { [started, out("ab"), out("XYef"), ended(.endOfInput, 3)] }),
    .init(name: "segment spanning buffered pieces",
          segments: { [syn, c(1002, "c"), c(1004, "e"), c(1000, "abXdYfg")] },
          want: { [started, out("ab"), out("c"), out("d"), out("e"), out("fg"), ended(.endOfInput, 4)] }),
    .init(name: "buffered overlapping buffered", segments: { [syn, c(1004, "ef"), c(1002, "cdXYgh"), c(1000, "ab")] },
          want: { [started, out("ab"), out("cd"), out("ef"), out("gh"), ended(.endOfInput, 4)] }),
    .init(name: "sequence wraparound",
          segments: { [c(0xFFFF_FFFD, "", [.syn]), c(0xFFFF_FFFE, "ab"), c(0, "cd"), c(2, "ef")] },
          want: { [started, out("ab"), out("cd"), out("ef"), ended(.endOfInput, 4)] }),
    .init(name: "wraparound reordered",
          segments: { [c(0xFFFF_FFFD, "", [.syn]), c(2, "ef"), c(0, "cd"), c(0xFFFF_FFFE, "ab"), c(0xFFFF_FFFF, "b")] },
          want: { [started, out("ab"), out("cd"), out("ef"), ended(.endOfInput, 5)] }),
    .init(name: "no SYN: the first sender with data is the initiator",
          segments: { [s(5000, "xyz"), c(1000, "abc"), s(5003, "uvw")] },
          want: { [.start(port: 40000, initiatorIsClient: false, sawSYN: false),
                   out("xyz"), back("abc"), out("uvw"), ended(.endOfInput, 3)] }),
    .init(name: "SYN-ACK starts the flow with the receiver as initiator",
          segments: { [synAck, s(5000, "xyz"), c(1000, "abc")] },
          want: { [started, back("xyz"), out("abc"), ended(.endOfInput, 3)] }),
    .init(name: "pure ACK, FIN and RST of unknown flows create nothing",
          segments: { [c(1000, "", [.ack]), s(5000, "", [.fin, .ack]), c(1000, "", [.rst]), c(1000, "abc", [.rst])] },
          want: { [] }),
    .init(name: "SYN with data (fast open)", segments: { [c(999, "abc", [.syn]), c(1003, "def")] },
          want: { [started, out("abc"), out("def"), ended(.endOfInput, 2)] }),
    .init(name: "repeated SYN does not reset", segments: { [syn, c(1000, "abc"), syn, c(1003, "def")] },
          want: { [started, out("abc"), out("def"), ended(.endOfInput, 4)] }),
    .init(name: "FIN from both sides closes; the last ACK creates nothing",
          segments: { [syn, synAck, c(1000, "abc"), c(1003, "", [.fin, .ack]), s(5000, "", [.fin, .ack]),
                       c(1004, "", [.ack])] },
          want: { [started, out("abc"), ended(.fin, 5)] }),
    .init(name: "FIN from one side keeps the flow",
          segments: { [syn, c(1000, "abc", [.fin, .ack]), s(5000, "xyz")] },
          want: { [started, out("abc"), back("xyz"), ended(.endOfInput, 3)] }),
    .init(name: "FIN with a hole: gap at close",
          segments: { [syn, c(1000, "abc"), c(1006, "ghi", [.fin, .ack]), s(5000, "", [.fin, .ack])] },
          want: { [started, out("abc"), gapOut(3), out("ghi"), ended(.fin, 4)] }),
    .init(name: "bare FIN after missing data: gap up to the FIN",
          segments: { [syn, c(1000, "abc"), c(1006, "", [.fin, .ack]), s(5000, "", [.fin, .ack])] },
          want: { [started, out("abc"), gapOut(3), ended(.fin, 4)] }),
    .init(name: "hole before a FIN filled late",
          segments: { [syn, c(1006, "ghi", [.fin, .ack]), c(1000, "abc"), c(1003, "def")] },
          want: { [started, out("abc"), out("def"), out("ghi"), ended(.endOfInput, 4)] }),
    .init(name: "RST closes, holes reported first",
          segments: { [syn, c(1000, "abc"), c(1006, "ghi"), s(5000, "", [.rst])] },
          want: { [started, out("abc"), gapOut(3), out("ghi"), ended(.rst, 4)] }),
    .init(name: "holes at end of input",
          segments: { [syn, c(1000, "abc"), c(1006, "ghi"), c(1012, "mno")] },
          want: { [started, out("abc"), gapOut(3), out("ghi"), gapOut(3), out("mno"), ended(.endOfInput, 4)] }),
    .init(name: "snaplen-truncated segment",
          segments: { [syn, c(1000, "abc", missing: 2), c(1005, "fgh")] },
          want: { [started, out("abc"), gapOut(2), out("fgh"), ended(.endOfInput, 3)] }),
    .init(name: "snaplen-truncated segment arriving late",
          segments: { [syn, c(1005, "fgh"), c(1000, "abc", missing: 2)] },
          want: { [started, out("abc"), gapOut(2), out("fgh"), ended(.endOfInput, 3)] }),
    .init(name: "snaplen-truncated segment buffered",
          segments: { [syn, c(1003, "def", missing: 2), c(1008, "k"), c(1000, "abc")] },
          want: { [started, out("abc"), out("def"), gapOut(2), out("k"), ended(.endOfInput, 4)] }),
]

@Test(arguments: cases)
func reassembly(_ testCase: ReassemblyCase) {
    let result = Harness.run(testCase.segments())
    #expect(result.events == testCase.want(), "\(testCase.name)")
}

@Test func statisticsCountPacketsFlowsAndGaps() {
    let result = Harness.run([syn, c(1000, "abc"), c(1006, "ghi"), c(1012, "mno"), c(1, "", [.ack], port: 7)])
    #expect(result.statistics.packets == 5)
    #expect(result.statistics.flowsCreated == 1)
    #expect(result.statistics.gaps == 2 && result.statistics.gapBytes == 6)
    #expect(result.statistics.peakBufferedBytes == 6)
    #expect(result.statistics.bufferedBytes == 0)
}

// MARK: Flow table

@Test func idleFlowsAreClosed() {
    var limits = ReassemblyLimits()
    limits.idleTimeoutNanoseconds = 10
    let result = Harness.run([
        c(999, "", [.syn], t: 0, port: 1),
        c(999, "", [.syn], t: 5, port: 2),
        c(1000, "a", t: 10, port: 2),  // flow 1 idle for exactly the timeout: kept
        c(1001, "b", t: 11, port: 2),  // now past it
        c(1002, "c", t: 30, port: 1),  // flow 2 idle too; flow 1's tuple comes back as a new flow
    ], limits: limits)
    #expect(result.events == [
        .start(port: 1, initiatorIsClient: true, sawSYN: true),
        .start(port: 2, initiatorIsClient: true, sawSYN: true),
        out("a"), ended(.idle, 1, port: 1), out("b"), ended(.idle, 3, port: 2),
        .start(port: 1, initiatorIsClient: true, sawSYN: false), out("c"), ended(.endOfInput, 1, port: 1),
    ])
    #expect(result.statistics.flowsTimedOut == 2)
}

/// Idle time is measured on the capture's clock, the latest timestamp seen: a packet stamped earlier (a
/// second file from an earlier day, reordered timestamps) neither ages the other flows nor its own, and a
/// flow seen at such a packet is as recent as any, so it times out with the clock, not with its stamp.
@Test func idleTimeRunsOnTheLatestTimestampSeen() {
    var limits = ReassemblyLimits()
    limits.idleTimeoutNanoseconds = 10
    let result = Harness.run([
        c(999, "", [.syn], t: 100, port: 1),
        c(999, "", [.syn], t: 50, port: 2),  // stamped earlier: seen at clock 100
        c(1000, "a", t: 101, port: 1),
        c(1001, "b", t: 105, port: 1),  // 105 - 50 > 10, but flow 2 is idle since clock 100 only: kept
        c(1000, "c", t: 106, port: 2),  // so this continues flow 2
        c(1002, "d", t: 117, port: 1),  // clock 117: flow 1 (since 105) and flow 2 (since 106) idle, oldest first
    ], limits: limits)
    #expect(result.events == [
        .start(port: 1, initiatorIsClient: true, sawSYN: true),
        .start(port: 2, initiatorIsClient: true, sawSYN: true),
        out("a"), out("b"), out("c"), ended(.idle, 3, port: 1), ended(.idle, 2, port: 2),
        .start(port: 1, initiatorIsClient: true, sawSYN: false), out("d"), ended(.endOfInput, 1, port: 1),
    ])
    #expect(result.statistics.flowsTimedOut == 2)
}

@Test func fullTableEvictsTheLeastRecentlySeenFlow() {
    var limits = ReassemblyLimits()
    limits.maxFlows = 2
    var harness = Harness(limits: limits)
    harness.feed([c(999, "", [.syn], t: 0, port: 1), c(999, "", [.syn], t: 1, port: 2), c(1000, "a", t: 2, port: 1)])
    #expect(harness.reassembler.flowCount == 2)
    harness.feed(c(999, "", [.syn], t: 3, port: 3))
    #expect(harness.reassembler.flowCount == 2)
    harness.feed(c(1000, "b", t: 4, port: 3))
    harness.finish()
    #expect(harness.log.events == [
        .start(port: 1, initiatorIsClient: true, sawSYN: true),
        .start(port: 2, initiatorIsClient: true, sawSYN: true),
        out("a"), ended(.evicted, 1, port: 2),
        .start(port: 3, initiatorIsClient: true, sawSYN: true), out("b"),
        ended(.endOfInput, 2, port: 1), ended(.endOfInput, 2, port: 3),
    ])
    #expect(harness.reassembler.statistics.flowsEvicted == 1)
    #expect(harness.reassembler.statistics.flowsCreated == 3)
}

@Test func evictionAtScaleKeepsTheTableBounded() {
    var limits = ReassemblyLimits()
    limits.maxFlows = 100
    var harness = Harness(limits: limits)
    for port in 1...1000 { harness.feed(c(1000, "x", t: Int64(port), port: UInt16(port))) }
    #expect(harness.reassembler.flowCount == 100)
    #expect(harness.reassembler.statistics.flowsEvicted == 900)
    harness.finish()
    let ends = harness.log.events.compactMap { event -> UInt16? in
        if case .end(let port, _, _) = event { port } else { nil }
    }
    #expect(ends == (1...1000).map { UInt16($0) })  // evicted oldest first, then the rest in creation order
}

/// One budget over all flows: consumers that each hold ~1 MiB cannot take more than `maxMemoryBytes`;
/// the idlest flows are ended instead (evicted, oldest first), and what they held is given back.
@Test func memoryBudgetEndsTheIdlestFlows() {
    var limits = ReassemblyLimits()
    limits.maxMemoryBytes = 8 * 1024 * 1024
    var harness = Harness(limits: limits)
    harness.retainFactor = 1024  // each 1,000-byte segment "keeps" ~1 MiB
    let payload = String(repeating: "x", count: 1000)
    for port in 1...40 {
        harness.feed(c(1000, payload, t: Int64(port), port: UInt16(port)))
        #expect(harness.reassembler.memoryInUse <= limits.maxMemoryBytes)
    }
    let statistics = harness.reassembler.statistics
    #expect(statistics.flowsEvictedForMemory > 0)
    #expect(statistics.flowsEvicted == statistics.flowsEvictedForMemory)
    #expect(harness.reassembler.flowCount + statistics.flowsEvictedForMemory == 40)
    let evicted = harness.log.events.compactMap { event -> UInt16? in
        if case .end(let port, .evicted, _) = event { port } else { nil }
    }
    #expect(evicted == (1...UInt16(statistics.flowsEvictedForMemory)).map { $0 })  // oldest first
    harness.finish()
    #expect(harness.reassembler.statistics.consumerBytes == 0)
}

@Test func ignoredFlowsCostNothingAndEndQuietly() {
    var harness = Harness()
    harness.ignoredPorts = [40000]
    harness.feed([syn, c(1000, "abc"), c(1006, "ghi"), s(5000, "xyz")])
    #expect(harness.reassembler.flowCount == 1)
    #expect(harness.reassembler.statistics.bufferedBytes == 0)
    harness.feed([c(1009, "", [.fin, .ack]), s(5003, "", [.fin, .ack])])
    #expect(harness.reassembler.flowCount == 0)
    #expect(harness.log.events == [started])  // asked once; no data, no end (no consumer)
    #expect(harness.reassembler.statistics.flowsIgnored == 1)
}

@Test func stopCollectingDropsBuffersAndKeepsCounting() {
    var harness = Harness(stopAfter: 1)
    harness.feed([syn, c(1006, "ghi"), c(1009, "jkl")])
    #expect(harness.reassembler.statistics.bufferedBytes == 6)
    harness.feed(c(1000, "abc"))  // delivered, then the consumer stops: "ghi"/"jkl" are dropped, not delivered
    #expect(harness.reassembler.statistics.bufferedBytes == 0)
    harness.feed([c(1003, "def"), c(1020, "zzz"), s(5000, "xyz"), c(1023, "", [.fin, .ack])])
    #expect(harness.reassembler.statistics.bufferedBytes == 0)
    harness.feed(s(5003, "", [.fin, .ack]))
    #expect(harness.log.events == [started, out("abc"), ended(.fin, 9)])
    #expect(harness.reassembler.flowCount == 0)
}

// MARK: Buffer caps (per direction and global), each just at and just over

private func capLimits(perDirection: Int, total: Int = 1 << 20) -> ReassemblyLimits {
    var limits = ReassemblyLimits()
    limits.maxBufferedBytesPerDirection = perDirection
    limits.maxBufferedBytesTotal = total
    return limits
}

@Test func perDirectionCapExactlyFull() {
    let result = Harness.run([syn, c(1003, "0123456789"), c(1000, "abc")], limits: capLimits(perDirection: 10))
    #expect(result.events == [started, out("abc"), out("0123456789"), ended(.endOfInput, 3)])
    #expect(result.statistics.peakBufferedBytes == 10 && result.statistics.gaps == 0)
}

@Test func perDirectionCapOneOver() {
    let result = Harness.run([syn, c(1003, "0123456789X"), c(1000, "abc")], limits: capLimits(perDirection: 10))
    #expect(result.events == [started, gapOut(3), out("0123456789X"), ended(.endOfInput, 3)])
    #expect(result.statistics.peakBufferedBytes == 0 && result.statistics.gaps == 1)
}

@Test func perDirectionCapAccumulated() {
    let under = Harness.run([syn, c(1003, "012345"), c(1010, "abcd"), c(1000, "xyz"), c(1009, "!")],
                            limits: capLimits(perDirection: 10))
    #expect(under.events == [started, out("xyz"), out("012345"), out("!"), out("abcd"), ended(.endOfInput, 5)])
    let over = Harness.run([syn, c(1003, "012345"), c(1010, "abcde"), c(1000, "xyz")],
                           limits: capLimits(perDirection: 10))
    #expect(over.events == [started, gapOut(3), out("012345"), gapOut(1), out("abcde"), ended(.endOfInput, 4)])
}

@Test func perDirectionCapIsPerDirection() {
    // 10 bytes buffered each way under a 10-byte cap: no gap.
    let result = Harness.run([syn, synAck, c(1003, "0123456789"), s(5003, "9876543210"), c(1000, "abc"),
                              s(5000, "xyz")], limits: capLimits(perDirection: 10))
    #expect(result.statistics.gaps == 0 && result.statistics.peakBufferedBytes == 20)
}

@Test func globalCapExactlyFull() {
    let result = Harness.run([
        c(999, "", [.syn], port: 1), c(999, "", [.syn], port: 2),
        c(1003, "012345", port: 1), c(1003, "6789", port: 2), c(1000, "abc", port: 1), c(1000, "def", port: 2),
    ], limits: capLimits(perDirection: 100, total: 10))
    #expect(result.statistics.gaps == 0 && result.statistics.peakBufferedBytes == 10)
    #expect(result.events.filter { if case .data = $0 { true } else { false } }
            == [out("abc"), out("012345"), out("def"), out("6789")])
}

@Test func globalCapOneOver() {
    let result = Harness.run([
        c(999, "", [.syn], port: 1), c(999, "", [.syn], port: 2),
        c(1003, "012345", port: 1), c(1003, "6789X", port: 2), c(1000, "abc", port: 1),
    ], limits: capLimits(perDirection: 100, total: 10))
    #expect(result.events == [
        .start(port: 1, initiatorIsClient: true, sawSYN: true), .start(port: 2, initiatorIsClient: true, sawSYN: true),
        gapOut(3), out("6789X"), out("abc"), out("012345"),
        ended(.endOfInput, 3, port: 1), ended(.endOfInput, 2, port: 2),
    ])
    #expect(result.statistics.peakBufferedBytes == 6)
}

// MARK: Property: any segmentation, reordering and duplication reassembles to the original

@Test(arguments: 0..<4)
func randomSegmentationReassemblesTheStream(_ batch: Int) {
    for round in 0..<50 {
        var generator = SeededGenerator(seed: UInt64(batch * 1000 + round) &* 0x2545_F491_4F6C_DD1D)
        let clientBytes = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in
            UInt8.random(in: 0...255, using: &generator)
        }
        let serverBytes = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in
            UInt8.random(in: 0...255, using: &generator)
        }
        // Half the streams start just before the sequence space wraps.
        func isn() -> UInt32 {
            Bool.random(using: &generator)
                ? UInt32.max - UInt32.random(in: 0...2000, using: &generator)
                : UInt32.random(in: 0...UInt32.max, using: &generator)
        }
        let clientISN = isn()
        let serverISN = isn()
        func segments(_ bytes: [UInt8], isn: UInt32, fromServer: Bool) -> [Segment] {
            var result: [Segment] = []
            var start = 0
            while start < bytes.count {  // a covering segmentation...
                let end = min(bytes.count, start + Int.random(in: 1...300, using: &generator))
                result.append(segment(bytes, start, end, isn: isn, fromServer: fromServer))
                start = end
            }
            for _ in 0..<(bytes.count / 300) {  // ...plus retransmissions of arbitrary ranges
                let a = Int.random(in: 0..<bytes.count, using: &generator)
                let b = min(bytes.count, a + Int.random(in: 1...500, using: &generator))
                result.append(segment(bytes, a, b, isn: isn, fromServer: fromServer))
            }
            return result
        }
        func segment(_ bytes: [UInt8], _ a: Int, _ b: Int, isn: UInt32, fromServer: Bool) -> Segment {
            Segment(fromServer: fromServer, sequence: isn &+ 1 &+ UInt32(a), data: Array(bytes[a..<b]),
                    flags: [.ack], time: 0, missing: 0, port: 40000)
        }
        var all = segments(clientBytes, isn: clientISN, fromServer: false)
            + segments(serverBytes, isn: serverISN, fromServer: true)
        all.shuffle(using: &generator)
        var harness = Harness()
        harness.bytesOnly = true
        harness.feed(c(clientISN, "", [.syn]))
        harness.feed(Segment(fromServer: true, sequence: serverISN, data: [], flags: [.syn, .ack], time: 0,
                             missing: 0, port: 40000))
        harness.feed(all)
        harness.finish()
        let gaps = harness.log.events.filter { if case .gap = $0 { true } else { false } }
        #expect(gaps.isEmpty, "seed \(batch)/\(round)")
        #expect(harness.log.bytes[.fromInitiator, default: []] == clientBytes, "seed \(batch)/\(round)")
        #expect(harness.log.bytes[.fromResponder, default: []] == serverBytes, "seed \(batch)/\(round)")
        #expect(harness.reassembler.statistics.bufferedBytes == 0)
    }
}

/// Without a SYN, a stream picked up at its first segment (delivered first) still reassembles.
@Test func randomSegmentationWithoutSYN() {
    var generator = SeededGenerator(seed: 42)
    for _ in 0..<50 {
        let bytes = (0..<Int.random(in: 1...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let isn = UInt32.random(in: 0...UInt32.max, using: &generator)
        var pieces: [Segment] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...200, using: &generator))
            pieces.append(Segment(fromServer: false, sequence: isn &+ UInt32(start), data: Array(bytes[start..<end]),
                                  flags: [.ack], time: 0, missing: 0, port: 40000))
            start = end
        }
        let first = pieces.removeFirst()
        pieces.shuffle(using: &generator)
        var harness = Harness()
        harness.bytesOnly = true
        harness.feed([first] + pieces)
        harness.finish()
        #expect(harness.log.bytes[.fromInitiator, default: []] == bytes)
        #expect(harness.log.events.first == .start(port: 40000, initiatorIsClient: true, sawSYN: false))
    }
}

@Test func segmentCountCap() {
    var limits = ReassemblyLimits()
    limits.maxBufferedSegmentsPerDirection = 2
    let atCap = Harness.run([syn, c(1002, "c"), c(1004, "e"), c(1000, "abXd")], limits: limits)
    #expect(atCap.events == [started, out("ab"), out("c"), out("d"), out("e"), ended(.endOfInput, 4)])
    let overCap = Harness.run([syn, c(1002, "c"), c(1004, "e"), c(1006, "g"), c(1000, "ab")], limits: limits)
    #expect(overCap.events == [started, gapOut(2), out("c"), gapOut(1), out("e"), gapOut(1), out("g"),
                               ended(.endOfInput, 5)])
}

@Test func extremeTimestampsDoNotTrap() {
    let result = Harness.run([
        c(1000, "a", t: Int64.min, port: 1), c(1000, "b", t: Int64.max, port: 2), c(1001, "c", t: Int64.min, port: 2),
    ])
    #expect(result.events == [
        .start(port: 1, initiatorIsClient: true, sawSYN: false), out("a"),
        ended(.idle, 1, port: 1),
        .start(port: 2, initiatorIsClient: true, sawSYN: false), out("b"), out("c"),
        ended(.endOfInput, 2, port: 2),
    ])
}
