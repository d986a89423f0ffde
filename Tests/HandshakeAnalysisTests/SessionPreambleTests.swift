import PacketDecoding
import Testing
import TLSWire

@testable import HandshakeAnalysis
@testable import TCPReassembly

// MARK: - Builders

private func u16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
private func lp8(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count)] + body }
private func lp16(_ body: [UInt8]) -> [UInt8] { u16(body.count) + body }
private func lp24(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count >> 16)] + u16(body.count) + body }
private func tlsRecord(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type, 0x03, 0x03] + u16(body.count) + body }

/// A ClientHello record with SNI `name`.
private func clientHello(name: String) -> [UInt8] {
    let sni = u16(0) + lp16(lp16([0] + lp16(Array(name.utf8))))
    let body = u16(0x0303) + [UInt8](repeating: 0x11, count: 32) + lp8([]) + lp16(u16(0xc02f) + u16(0x1301)) + lp8([0])
        + lp16(sni)
    return tlsRecord(0x16, [0x01] + lp24(body))
}

/// A TLS 1.2 ServerHello record choosing 0xc02f.
private let serverHello: [UInt8] = {
    let body = u16(0x0303) + [UInt8](repeating: 0x22, count: 32) + lp8([]) + u16(0xc02f) + [0] + lp16([])
    return tlsRecord(0x16, [0x02] + lp24(body))
}()

private func session(sawSYN: Bool = true) -> TLSSession {
    let client = IPAddress(ipv4: 0x0a00_0001)
    let server = IPAddress(ipv4: 0x0a00_0002)
    let packet = DecodedPacket(
        source: client, destination: server, sourcePort: 40000, destinationPort: 2525, transport: .tcp,
        payloadOffset: 0, payloadLength: 0)
    let start = FlowStart(
        key: FlowKey(packet), initiatorAddress: client, initiatorPort: 40000, responderAddress: server,
        responderPort: 2525, sawSYN: sawSYN, timestamp: 0)
    return TLSSession(start: start, limits: TLSLimits())
}

extension TLSSession {
    mutating func send(_ bytes: [UInt8], _ direction: FlowDirection) -> StreamVerdict {
        bytes.withUnsafeBytes { receive($0, direction: direction, timestamp: 0) }
    }
    mutating func send(_ text: String, _ direction: FlowDirection) -> StreamVerdict {
        send(Array(text.utf8), direction)
    }
}

private func isStop(_ verdict: StreamVerdict) -> Bool {
    if case .stopCollecting = verdict { return true }
    return false
}

// MARK: - Tests

@Suite struct SessionPreambleTests {
    @Test func tlsFromTheFirstByteNeedsNoPreamble() {
        var flow = session()
        _ = flow.send(clientHello(name: "a.example"), .fromInitiator)
        _ = flow.send(serverHello, .fromResponder)
        #expect(flow.preamble == nil)
        #expect(flow.initiatorStage == .tls && flow.responderStage == .tls)
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == nil)
        #expect(flow.record.serverName == "a.example")
    }

    @Test func plaintextAnswerToAClientHelloIsStillAParserAnomaly() {
        // A TLS client on an HTTP port: the server's "HTTP/1.1 400" is no preamble.
        var flow = session()
        _ = flow.send(clientHello(name: "a.example"), .fromInitiator)
        _ = flow.send("HTTP/1.1 400 Bad Request\r\n\r\n", .fromResponder)
        #expect(flow.preamble == nil)
        #expect(flow.isTLS)
        #expect(flow.fromResponder.isStopped)
        #expect(flow.record.anomalies.count == 1)
    }

    @Test func smtpUpgradeIsReportedWithItsProtocol() {
        var flow = session()
        let steps: [(String, FlowDirection)] = [
            ("220 mx.example ESMTP\r\n", .fromResponder), ("EHLO c\r\n", .fromInitiator),
            ("250-mx.example\r\n250 STARTTLS\r\n", .fromResponder), ("STARTTLS\r\n", .fromInitiator),
            ("220 Ready\r\n", .fromResponder),
        ]
        for (text, direction) in steps { #expect(!isStop(flow.send(text, direction))) }
        #expect(!flow.isTLS)
        #expect(!isStop(flow.send(clientHello(name: "mx.example"), .fromInitiator)))
        #expect(!isStop(flow.send(serverHello, .fromResponder)))
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == "smtp")
        #expect(flow.record.serverName == "mx.example")
        #expect(flow.record.serverHello?.cipherSuite == CipherSuite(rawValue: 0xc02f))
        #expect(flow.clientDirection == .fromInitiator)
        #expect(flow.record.anomalies.isEmpty)
    }

    @Test func socks4TunnelIsTLSWithoutStartTLSName() {
        var flow = session()
        _ = flow.send([0x04, 0x01, 0x01, 0xbb, 1, 2, 3, 4, 0x00] + clientHello(name: "in.example"), .fromInitiator)
        _ = flow.send([0x00, 0x5a, 0, 0, 0, 0, 0, 0] + serverHello, .fromResponder)
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == nil)
        #expect(flow.record.serverName == "in.example")
        #expect(flow.preamble?.detected == .socks4)
    }

    @Test func plaintextStopsTheFlowAtOnce() {
        var flow = session()
        #expect(isStop(flow.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n", .fromInitiator)))
        #expect(flow.done && !flow.isTLS)
        // A refused STARTTLS: stops when the client goes on in clear.
        var smtp = session()
        _ = smtp.send("220 mx ESMTP\r\n", .fromResponder)
        _ = smtp.send("STARTTLS\r\n", .fromInitiator)
        _ = smtp.send("454 not now\r\n", .fromResponder)
        #expect(isStop(smtp.send("MAIL FROM:<a@b>\r\n", .fromInitiator)))
        #expect(!smtp.isTLS)
    }

    @Test func aGapInTheCleartextEndsTheSearch() {
        var flow = session()
        _ = flow.send("220 mx ESMTP\r\n", .fromResponder)
        flow.gap(direction: .fromResponder, offset: 0, length: 100, timestamp: 0)
        #expect(flow.responderStage == .off)
        #expect(!isStop(flow.send("EHLO a\r\n", .fromInitiator)))
        #expect(isStop(flow.send("MAIL FROM:<a@b>\r\n", .fromInitiator)))
    }
}
