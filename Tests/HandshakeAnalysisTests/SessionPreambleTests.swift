import Preambles
import Testing
import TLSWire

@testable import HandshakeAnalysis
import FlowTracking
@testable import TCPReassembly

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
        #expect(flow.recorder.anomalies.count == 1 && flow.recorder.anomalies.first?.kind == .parseError)
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
        #expect(flow.recorder.clientDirection == .fromInitiator)
        #expect(flow.recorder.anomalies.isEmpty)
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
