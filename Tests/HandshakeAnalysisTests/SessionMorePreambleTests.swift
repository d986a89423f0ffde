import PacketDecoding
import Preambles
import Testing
import TLSWire

@testable import HandshakeAnalysis
import FlowTracking
@testable import TCPReassembly

// The new preambles through a whole TLSSession: the record must come out with its hello and the
// right `starttls`.

private func le16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }
private func le32(_ value: Int) -> [UInt8] { le16(value) + le16(value >> 16) }
private func mysqlPacket(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
    le16(payload.count) + [UInt8(truncatingIfNeeded: payload.count >> 16), sequence] + payload
}

/// A MariaDB greeting (protocol 10, CLIENT_SSL offered) longer than 127 bytes, so its first byte
/// has the high bit an SSL 2.0 record header has.
private let mariadbGreeting: [UInt8] = mysqlPacket(
    0,
    [0x0a] + Array("5.5.5-10.11.6-MariaDB-0+deb12u1-log-with-a-long-build-suffix".utf8) + [0] + le32(7)
        + [UInt8](repeating: 0x2a, count: 8) + [0] + le16(0xfffe) + [0x2d] + le16(2) + le16(0x81bf) + [21]
        + [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 0x2b, count: 12) + [0]
        + Array("mysql_native_password".utf8) + [0])
private let mysqlSSLRequest = mysqlPacket(1, le32(0x01ff_ae8f) + le32(0x0100_0000) + [0x2d] + [UInt8](repeating: 0, count: 23))

private let proxyV2Header: [UInt8] =
    [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11] + u16(12)
    + [192, 0, 2, 1, 198, 51, 100, 2] + u16(51000) + u16(25)

private func tpkt(_ tpdu: [UInt8]) -> [UInt8] { [0x03, 0x00] + u16(5 + tpdu.count) + [UInt8(tpdu.count)] + tpdu }

@Suite struct SessionMorePreambleTests {
    /// Runs a dialogue of cleartext steps, then the hellos; returns the session.
    private func dialogue(_ steps: [([UInt8], FlowDirection)], helloName: String) -> TLSSession {
        var flow = session()
        for (bytes, direction) in steps { _ = flow.send(bytes, direction) }
        _ = flow.send(clientHello(name: helloName), .fromInitiator)
        _ = flow.send(serverHello, .fromResponder)
        return flow
    }

    private func text(_ line: String, _ direction: FlowDirection) -> ([UInt8], FlowDirection) {
        (Array(line.utf8), direction)
    }

    @Test func proxyV1HeaderBeforeTheClientHello() {
        var flow = session()
        _ = flow.send(Array("PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\r\n".utf8) + clientHello(name: "lb.example"), .fromInitiator)
        _ = flow.send(serverHello, .fromResponder)
        #expect(flow.isTLS)
        #expect(flow.record.serverName == "lb.example")
        #expect(flow.record.startTLS == nil)
        #expect(flow.record.serverHello?.cipherSuite == CipherSuite(rawValue: 0xc02f))
        #expect(flow.record.anomalies.isEmpty)
        // The original client behind the load balancer, in the flow table's address type.
        let original = flow.preamble?.proxyHeader?.source
        #expect(original.map { IPAddress($0.address).description } == "192.0.2.1")
        #expect(original?.port == 51000)
    }

    @Test func proxyV2HeaderThenSMTPSTARTTLS() {
        let flow = dialogue(
            [
                (proxyV2Header, .fromInitiator), text("220 mx.example ESMTP\r\n", .fromResponder),
                text("EHLO lb\r\n", .fromInitiator), text("250 STARTTLS\r\n", .fromResponder),
                text("STARTTLS\r\n", .fromInitiator), text("220 go ahead\r\n", .fromResponder),
            ], helloName: "mx.example")
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == "smtp")
        #expect(flow.record.serverName == "mx.example")
    }

    @Test func ircSTARTTLS() {
        let flow = dialogue(
            [
                text(":irc.example NOTICE * :*** Looking up your hostname\r\n", .fromResponder),
                text("CAP LS 302\r\n", .fromInitiator), text(":irc.example CAP * LS :tls\r\n", .fromResponder),
                text("STARTTLS\r\n", .fromInitiator),
                text(":irc.example 670 * :STARTTLS successful, proceed with TLS handshake\r\n", .fromResponder),
            ], helloName: "irc.example")
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == "irc")
        #expect(flow.record.serverName == "irc.example")
    }

    @Test func nntpSTARTTLS() {
        let flow = dialogue(
            [
                text("200 news.example ready\r\n", .fromResponder), text("STARTTLS\r\n", .fromInitiator),
                text("382 Continue with TLS negotiation\r\n", .fromResponder),
            ], helloName: "news.example")
        #expect(flow.record.startTLS == "nntp")
        #expect(flow.record.serverName == "news.example")
    }

    @Test func mysqlSSLRequestAfterALongGreeting() {
        #expect(mariadbGreeting[0] >= 0x80)
        let flow = dialogue([(mariadbGreeting, .fromResponder), (mysqlSSLRequest, .fromInitiator)], helloName: "db.example")
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == "mysql")
        #expect(flow.record.serverName == "db.example")
        #expect(flow.record.anomalies.isEmpty)
    }

    @Test func rdpNegotiatingCredSSP() {
        let request = tpkt([0xe0, 0, 0, 0, 0, 0] + Array("Cookie: mstshash=alice\r\n".utf8) + [1, 0] + le16(8) + le32(3))
        let confirm = tpkt([0xd0, 0, 0, 0x12, 0x34, 0] + [2, 0x1f] + le16(8) + le32(2))
        let flow = dialogue([(request, .fromInitiator), (confirm, .fromResponder)], helloName: "rdp.example")
        #expect(flow.isTLS)
        #expect(flow.record.startTLS == "rdp")
        #expect(flow.record.serverName == "rdp.example")
    }
}
