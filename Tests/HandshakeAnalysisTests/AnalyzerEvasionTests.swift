import HandshakeAnalysis
import PacketDecoding
import Testing

// Issue #9 scenarios through the whole analyzer, each a few hand-built Ethernet frames: IP fragments, VLAN
// tenants with equal 4-tuples, a spoofed RST, a reused 4-tuple.

private func u32(_ value: UInt32) -> [UInt8] { u16(Int(value >> 16)) + u16(Int(value & 0xFFFF)) }
private func tlsRecord(_ body: [UInt8]) -> [UInt8] { [0x16, 0x03, 0x01] + u16(body.count) + body }

/// A ClientHello record with SNI `name`, padded so that it needs several IP fragments.
private func clientHello(_ name: String) -> [UInt8] {
    let sni = u16(0) + lp16(lp16([0] + lp16(Array(name.utf8))))
    let padding = u16(21) + lp16([UInt8](repeating: 0, count: 300))
    let body = u16(0x0303) + [UInt8](repeating: 0x11, count: 32) + lp8([]) + lp16(u16(0xc02f) + u16(0x1301))
        + lp8([0]) + lp16(sni + padding)
    return tlsRecord([0x01] + lp24(body))
}

private let tls12ServerHello: [UInt8] = {
    let body = u16(0x0303) + [UInt8](repeating: 0x22, count: 32) + lp8([]) + u16(0xc02f) + [0] + lp16([])
    return tlsRecord([0x02] + lp24(body))
}()

private let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10

/// One side of a test connection: 10.0.0.1:40000 (client) ↔ 10.0.0.2:443 (server), IPv4 or IPv6.
private struct Side {
    var fromServer: Bool
    var vlan: UInt16? = nil
    var ipv6 = false

    func tcp(_ sequence: UInt32, _ acknowledgment: UInt32, _ flags: UInt8, _ data: [UInt8]) -> [UInt8] {
        u16(fromServer ? 443 : 40000) + u16(fromServer ? 40000 : 443) + u32(sequence) + u32(acknowledgment)
            + [0x50, flags] + u16(65535) + u16(0) + u16(0) + data
    }

    func ethernet(_ etherType: Int) -> [UInt8] {
        var bytes: [UInt8] = [2, 0, 0, 0, 0, fromServer ? 2 : 1, 2, 0, 0, 0, 0, fromServer ? 1 : 2]
        if let vlan { bytes += u16(0x8100) + u16(Int(vlan)) }
        return bytes + u16(etherType)
    }

    /// The IP header of a datagram (or fragment) carrying `length` bytes.
    func ip(_ length: Int, identification: UInt16 = 7, offset: Int = 0, more: Bool = false) -> [UInt8] {
        let source: UInt8 = fromServer ? 2 : 1
        if ipv6 {
            let fragmented = more || offset != 0
            var header = [0x60, 0, 0, 0] + u16(length + (fragmented ? 8 : 0)) + [fragmented ? 44 : 6, 64]
            header += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [source]
            header += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [3 - source]
            if fragmented { header += [6, 0] + u16(offset | (more ? 1 : 0)) + u32(UInt32(identification)) }
            return header
        }
        let flagsFragment = (more ? 0x2000 : 0) | offset / 8
        return [0x45, 0] + u16(20 + length) + u16(Int(identification)) + u16(flagsFragment) + [64, 6, 0, 0]
            + [10, 0, 0, source, 10, 0, 0, 3 - source]
    }

    func frame(_ sequence: UInt32, _ acknowledgment: UInt32, _ flags: UInt8, _ data: [UInt8] = []) -> [UInt8] {
        let segment = tcp(sequence, acknowledgment, flags, data)
        return ethernet(ipv6 ? 0x86DD : 0x0800) + ip(segment.count) + segment
    }

    /// The same segment as IP fragments of at most `size` bytes of data each (a multiple of 8).
    func fragments(_ sequence: UInt32, _ acknowledgment: UInt32, _ flags: UInt8, _ data: [UInt8], size: Int)
        -> [[UInt8]]
    {
        let segment = tcp(sequence, acknowledgment, flags, data)
        return stride(from: 0, to: segment.count, by: size).map { start in
            let end = min(segment.count, start + size)
            return ethernet(ipv6 ? 0x86DD : 0x0800)
                + ip(end - start, offset: start, more: end < segment.count) + Array(segment[start..<end])
        }
    }
}

private func analyze(_ frames: [[UInt8]]) throws -> [HandshakeRecord] {
    try analyzeKeepingCounters(frames).records
}

private func analyzeKeepingCounters(_ frames: [[UInt8]]) throws -> (records: [HandshakeRecord], analyzer: HandshakeAnalyzer) {
    let decoder = try PacketDecoder(linkType: .ethernet)
    var options = AnalysisOptions()
    options.auditPolicy = nil
    var analyzer = HandshakeAnalyzer(options: options)
    var records: [HandshakeRecord] = []
    for (index, frame) in frames.enumerated() {
        frame.withUnsafeBytes {
            analyzer.process(frame: $0, timestamp: Int64(index) * 1000, decoder: decoder) { records.append($0) }
        }
    }
    analyzer.finish { records.append($0) }
    return (records, analyzer)
}

private let client = Side(fromServer: false)
private let server = Side(fromServer: true)

/// SYN, SYN-ACK, the ClientHello (its segment from `hello`: sender, sequence number, bytes), the ServerHello;
/// ISNs `isn` and 4999.
private func handshake(_ client: Side, _ server: Side, name: String, isn: UInt32 = 999,
                       hello: (Side, UInt32, [UInt8]) -> [[UInt8]] = { [$0.frame($1, 5000, 0x18, $2)] }) -> [[UInt8]] {
    let clientHelloBytes = clientHello(name)
    return [client.frame(isn, 0, syn), server.frame(4999, isn + 1, syn | ack)]
        + hello(client, isn + 1, clientHelloBytes)
        + [server.frame(5000, isn + 1 + UInt32(clientHelloBytes.count), psh | ack, tls12ServerHello)]
}

@Test(arguments: [false, true])
func aClientHelloInIPFragmentsIsReassembled(ipv6: Bool) throws {
    var client = client
    var server = server
    client.ipv6 = ipv6
    server.ipv6 = ipv6
    var count = 0
    let frames = handshake(client, server, name: "fragmented.example") { side, sequence, bytes in
        // Fragments of 128 bytes, the last first (as Linux sends them), the first one twice.
        let pieces = side.fragments(sequence, 5000, psh | ack, bytes, size: 128)
        count = pieces.count
        return [pieces[pieces.count - 1], pieces[0], pieces[0]] + pieces[1..<(pieces.count - 1)]
    }
    let (records, analyzer) = try analyzeKeepingCounters(frames)
    #expect(records.count == 1)
    #expect(records.first?.serverName == "fragmented.example")
    #expect(records.first?.serverHello != nil)
    let fragments = analyzer.fragmentStatistics
    #expect(count >= 3)
    #expect(fragments.fragments == count + 1 && fragments.duplicateFragments == 1)
    #expect(fragments.datagramsReassembled == 1)
    #expect(fragments.bufferedBytes == 0 && analyzer.counters.ignoredFrames == 0)
}

@Test func equalFourTuplesOnDifferentVLANsAreDifferentConnections() throws {
    var tenantA = (client, server)
    var tenantB = (client, server)
    tenantA.0.vlan = 10
    tenantA.1.vlan = 10
    tenantB.0.vlan = 20
    tenantB.1.vlan = 20
    let a = handshake(tenantA.0, tenantA.1, name: "a.example")
    let b = handshake(tenantB.0, tenantB.1, name: "b.example", isn: 77_777)
    let interleaved = zip(a, b).flatMap { [$0, $1] }
    let records = try analyze(interleaved)
    #expect(records.map(\.serverName).sorted { ($0 ?? "") < ($1 ?? "") } == ["a.example", "b.example"])
    #expect(records.allSatisfy { $0.serverHello != nil })
}

@Test func aSpoofedResetOutsideTheWindowDoesNotSplitTheConnection() throws {
    var frames = handshake(client, server, name: "evasion.example")
    frames.insert(server.frame(0x9000_0000, 0, rst), at: 3)  // after the ClientHello, before the ServerHello
    let (records, analyzer) = try analyzeKeepingCounters(frames)
    #expect(analyzer.reassemblyStatistics.rstIgnored == 1)
    #expect(records.count == 1)
    #expect(records.first?.serverName == "evasion.example")
    #expect(records.first?.serverHello != nil)
    // The record says an attempt was ignored, and by whom.
    #expect(records.first?.anomalies.map(\.kind) == [.outOfWindow])
    #expect(records.first?.anomalies.first?.from == .server)
}

@Test func aReusedFourTupleGivesTwoConnections() throws {
    // The first connection's FIN is not in the capture; the client reuses its port with a new ISN.
    let first = handshake(client, server, name: "first.example")
    let second = handshake(client, server, name: "second.example", isn: 0x7000_0000)
    let records = try analyze(first + second)
    #expect(records.map(\.serverName) == ["first.example", "second.example"])
    #expect(records.allSatisfy { $0.serverHello != nil })
}

@Test func undecodableFramesAreCountedByReason() throws {
    let whole = client.frame(999, 0, syn)
    let truncatedIP = Array(whole.prefix(14 + 12))
    var badTCP = whole
    badTCP[14 + 20 + 12] = 0x30  // data offset 3 words
    let (_, analyzer) = try analyzeKeepingCounters([truncatedIP, badTCP, badTCP, whole])
    #expect(analyzer.counters.undecodableFrames == 3)
    #expect(analyzer.counters.undecodableFramesByReason == ["ipv4-truncated": 1, "tcp-malformed": 2])
}

@Test func aQuietLiveCaptureStillExpiresPartialDatagrams() throws {
    let decoder = try PacketDecoder(linkType: .ethernet)
    var analyzer = HandshakeAnalyzer()
    let head = client.fragments(1000, 5000, psh | ack, clientHello("quiet.example"), size: 128)[0]
    head.withUnsafeBytes { analyzer.process(frame: $0, timestamp: 0, decoder: decoder, emit: { _ in }) }
    #expect(analyzer.fragmentStatistics.bufferedBytes == 128)
    analyzer.expireIdleFlows(now: 31_000_000_000, emit: { _ in })
    #expect(analyzer.fragmentStatistics.datagramsTimedOut == 1 && analyzer.fragmentStatistics.bufferedBytes == 0)
}
