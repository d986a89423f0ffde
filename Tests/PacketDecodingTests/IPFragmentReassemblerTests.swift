import PacketDecoding
import Testing
import WireCursor

// IP fragment reassembly: hand-built fragments of one datagram (payload bytes 0, 1, 2, ... so a misplaced
// byte shows), fed to an `IPFragmentReassembler` in various orders and shapes.

private let datagram: [UInt8] = (0..<40).map { UInt8($0) }

/// An IPv4 (or IPv6) fragment frame carrying `datagram[range]` (raw IP link type).
private func fragment(_ range: Range<Int>, more: Bool, id: UInt16 = 0x1234, ipv6: Bool = false,
                      data: [UInt8]? = nil) -> [UInt8] {
    let body = data ?? Array(datagram[range])
    if ipv6 {
        let header = Frame.ipv6Fragment(next: 6, offset: UInt16(range.lowerBound / 8), more: more)
        return Frame.ipv6(nextHeader: 44, payloadLength: header.count + body.count) + header + body
    }
    var frame = Frame.ipv4(payloadLength: body.count, flagsFragment: (more ? 0x2000 : 0) | UInt16(range.lowerBound / 8))
    frame[4] = UInt8(id >> 8)
    frame[5] = UInt8(id & 0xFF)
    return frame + body
}

/// Feeds frames (raw IPv4/IPv6) at the given times; returns each completed datagram's payload.
private func reassemble(_ frames: [[UInt8]], times: [Int64]? = nil, limits: IPFragmentLimits = IPFragmentLimits())
    throws -> (datagrams: [[UInt8]], statistics: IPFragmentStatistics, inFlight: Int)
{
    var reassembler = IPFragmentReassembler(limits: limits)
    var completed: [[UInt8]] = []
    for (index, frame) in frames.enumerated() {
        let piece = try #require(decodeFrame(.raw, frame).fragment, "frame \(index)")
        let time = times?[index] ?? 0
        if let whole = frame.withUnsafeBytes({ reassembler.add(piece, frame: $0, timestamp: time) }) {
            #expect(whole.fragment.offset == 0)
            completed.append(whole.payload)
        }
    }
    return (completed, reassembler.statistics, reassembler.datagramsInFlight)
}

@Test(arguments: [false, true])
func fragmentsInAnyOrderMakeTheDatagram(ipv6: Bool) throws {
    let pieces = [fragment(0..<16, more: true, ipv6: ipv6), fragment(16..<32, more: true, ipv6: ipv6),
                  fragment(32..<40, more: false, ipv6: ipv6)]
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let result = try reassemble(order.map { pieces[$0] })
        #expect(result.datagrams == [datagram], "order \(order)")
        #expect(result.statistics.datagramsReassembled == 1 && result.statistics.bufferedBytes == 0)
        #expect(result.inFlight == 0)
    }
}

@Test(arguments: [false, true])
func anExactDuplicateIsIgnored(ipv6: Bool) throws {
    let result = try reassemble([fragment(0..<16, more: true, ipv6: ipv6), fragment(0..<16, more: true, ipv6: ipv6),
                                 fragment(16..<40, more: false, ipv6: ipv6)])
    #expect(result.datagrams == [datagram])
    #expect(result.statistics.duplicateFragments == 1)
}

@Test func overlappingIPv4FragmentsKeepTheBytesThatCameFirst() throws {
    let forged = [UInt8](repeating: 0xEE, count: 16)
    let result = try reassemble([
        fragment(0..<16, more: true), fragment(8..<24, more: true, data: forged), fragment(24..<40, more: false),
    ])
    #expect(result.datagrams == [Array(datagram[0..<16]) + Array(forged[8...]) + Array(datagram[24...])])
    #expect(result.statistics.datagramsDroppedForOverlap == 0)
}

@Test func overlappingIPv6FragmentsDropTheDatagram() throws {
    // RFC 5722.
    let result = try reassemble([
        fragment(0..<16, more: true, ipv6: true), fragment(24..<40, more: false, ipv6: true),
        fragment(8..<24, more: true, ipv6: true),
    ])
    #expect(result.datagrams.isEmpty)
    #expect(result.statistics.datagramsDroppedForOverlap == 1)
    #expect(result.statistics.bufferedBytes == 0 && result.inFlight == 0)
}

@Test func anIncompleteDatagramTimesOut() throws {
    var limits = IPFragmentLimits()
    limits.timeoutNanoseconds = 100
    let late = try reassemble([fragment(0..<16, more: true), fragment(16..<40, more: false)], times: [0, 101],
                              limits: limits)
    #expect(late.datagrams.isEmpty)
    #expect(late.statistics.datagramsTimedOut == 1)
    #expect(late.inFlight == 1)  // the late fragment starts a datagram of its own
    let inTime = try reassemble([fragment(0..<16, more: true), fragment(16..<40, more: false)], times: [0, 100],
                                limits: limits)
    #expect(inTime.datagrams == [datagram])
}

@Test func datagramsInFlightAreCapped() throws {
    var limits = IPFragmentLimits()
    limits.maxDatagrams = 2
    let result = try reassemble([
        fragment(0..<16, more: true, id: 1), fragment(0..<16, more: true, id: 2),
        fragment(0..<16, more: true, id: 3),  // 1, the oldest, is dropped to make room
        fragment(16..<40, more: false, id: 3),
    ], limits: limits)
    #expect(result.datagrams == [datagram])
    #expect(result.statistics.datagramsDroppedForCaps == 1)
    #expect(result.inFlight == 1)  // 2
}

@Test func bufferedBytesAreCapped() throws {
    var limits = IPFragmentLimits()
    limits.maxBytesTotal = 40
    let result = try reassemble([
        fragment(0..<16, more: true, id: 1), fragment(0..<32, more: true, id: 2),  // 16 + 32 bytes > 40: 1 goes
        fragment(32..<40, more: false, id: 2),
        fragment(16..<40, more: false, id: 1),  // a new datagram, holding its 24 bytes (nothing for the hole)
    ], limits: limits)
    #expect(result.datagrams == [datagram])
    #expect(result.statistics.datagramsDroppedForCaps == 1)
    #expect(result.statistics.peakBufferedBytes == 40)
    #expect(result.statistics.bufferedBytes == 24 && result.inFlight == 1)
}

@Test func fragmentsPerDatagramAreCapped() throws {
    var limits = IPFragmentLimits()
    limits.maxFragmentsPerDatagram = 4
    let pieces = stride(from: 0, to: 40, by: 8).map { fragment($0..<($0 + 8), more: $0 + 8 < 40) }
    let result = try reassemble(pieces, limits: limits)
    #expect(result.datagrams.isEmpty)
    #expect(result.statistics.datagramsDroppedForCaps == 1)
}

@Test func contradictoryOrTruncatedFragmentsDropTheDatagram() throws {
    // Two different ends.
    let twoEnds = try reassemble([fragment(16..<40, more: false), fragment(16..<32, more: false), fragment(0..<16, more: true)])
    #expect(twoEnds.datagrams.isEmpty && twoEnds.statistics.datagramsDroppedMalformed == 1)
    // A middle fragment whose length is not a multiple of 8.
    let odd = try reassemble([fragment(0..<12, more: true)])
    #expect(odd.statistics.datagramsDroppedMalformed == 1 && odd.inFlight == 0)
    // Cut by the snaplen: the IP header says more than the frame holds.
    var cut = fragment(0..<16, more: true)
    cut.removeLast(4)
    let truncated = try reassemble([cut, fragment(16..<40, more: false)])
    #expect(truncated.datagrams.isEmpty && truncated.statistics.datagramsDroppedMalformed == 1)
    // Past 65,535 bytes.
    let huge = Frame.ipv4(payloadLength: 16, flagsFragment: 0x1FFF) + [UInt8](repeating: 0, count: 16)
    let tooLong = try reassemble([huge])
    #expect(tooLong.statistics.datagramsDroppedMalformed == 1)
}

@Test func fragmentsOfDifferentSegmentsAreDifferentDatagrams() throws {
    // The same fragment key on two VLANs: neither half completes the other.
    let head = Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 10)]) + fragment(0..<16, more: true)
    let tail = Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 20)]) + fragment(16..<40, more: false)
    var reassembler = IPFragmentReassembler()
    for frame in [head, tail] {
        let piece = try #require(decodeFrame(.ethernet, frame).fragment)
        #expect(frame.withUnsafeBytes { reassembler.add(piece, frame: $0, timestamp: 0) } == nil)
    }
    #expect(reassembler.datagramsInFlight == 2)
}

@Test(arguments: [false, true])
func randomFragmentationReassemblesTheDatagram(ipv6: Bool) throws {
    var generator = SeededGenerator(seed: ipv6 ? 6 : 4)
    for round in 0..<100 {
        let length = Int.random(in: 1...3000, using: &generator)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var frames: [[UInt8]] = []
        var start = 0
        while start < length {
            let end = min(length, start + 8 * Int.random(in: 1...40, using: &generator))
            frames.append(fragment(start..<end, more: end < length, ipv6: ipv6, data: Array(bytes[start..<end])))
            start = end
        }
        guard frames.count >= 2 else { continue }  // one piece is no fragment
        frames += (0..<Int.random(in: 0...2, using: &generator)).compactMap { _ in frames.randomElement(using: &generator) }
        frames.shuffle(using: &generator)
        var reassembler = IPFragmentReassembler()
        var completed: [[UInt8]] = []
        for frame in frames {
            let piece = try #require(decodeFrame(.raw, frame).fragment)
            if let whole = frame.withUnsafeBytes({ reassembler.add(piece, frame: $0, timestamp: 0) }) {
                completed.append(whole.payload)
            }
        }
        // A duplicate arriving after the last piece starts a datagram of its own; the first one is whole.
        #expect(completed.first == bytes, "round \(round)")
        #expect(reassembler.statistics.datagramsDroppedForOverlap == 0, "round \(round)")
    }
}

@Test func garbageFragmentsNeverTrapAndStayWithinTheCaps() {
    var generator = SeededGenerator(seed: 0xF4A6)
    var limits = IPFragmentLimits()
    limits.maxBytesTotal = 200_000
    limits.maxDatagrams = 16
    var reassembler = IPFragmentReassembler(limits: limits)
    for step in 0..<3000 {
        let ipv6 = Bool.random(using: &generator)
        let offset = Int.random(in: 0...8191, using: &generator) * 8
        let count = Int.random(in: 0...200, using: &generator)
        let id = UInt16.random(in: 0...20, using: &generator)
        let more = Bool.random(using: &generator)
        var frame: [UInt8]
        if ipv6 {
            let header = Frame.ipv6Fragment(next: 6, offset: UInt16(offset / 8), more: more)
            frame = Frame.ipv6(nextHeader: 44, payloadLength: header.count + count) + header
        } else {
            frame = Frame.ipv4(payloadLength: count, flagsFragment: (more ? 0x2000 : 0) | UInt16(offset / 8))
            frame[5] = UInt8(id)
        }
        frame += [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: count)
        if Bool.random(using: &generator) { frame.removeLast(Int.random(in: 0...min(count, 8), using: &generator)) }
        guard case .success(.fragment(let piece)) = decodeFrame(.raw, frame) else { continue }
        _ = frame.withUnsafeBytes { reassembler.add(piece, frame: $0, timestamp: Int64(step)) }
        #expect(reassembler.statistics.bufferedBytes <= limits.maxBytesTotal)
        #expect(reassembler.datagramsInFlight <= limits.maxDatagrams)
    }
    reassembler.expire(now: Int64.max)
    #expect(reassembler.datagramsInFlight == 0 && reassembler.statistics.bufferedBytes == 0)
}
