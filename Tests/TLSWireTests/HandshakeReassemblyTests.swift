import Testing
import WireCursor

@testable import TLSWire

@Suite struct HandshakeReassemblyTests {
    let helloMessage = handshake(1, clientHelloBody(extensions: [ext(0, lp16([0] + lp16(Array("a.example".utf8))))]))

    @Test func messageSpanningThreeRecords() {
        let m = helloMessage
        let input = record(22, Array(m[0..<2])) + record(22, Array(m[2..<30])) + record(22, Array(m[30...]))
        let got = streamEvents(input)
        #expect(got.count == 1)
        #expect(got.first?.clientHello?.serverName == "a.example")
        #expect(got == streamEvents(record(22, m)))
    }

    @Test func severalMessagesInOneRecord() {
        let input = record(22, handshake(2, serverHelloBody(suite: 0xc02f, extensions: nil)) + handshake(14, []) + handshake(4, [1, 2, 3]))
            + record(20, [1]) + record(22, [UInt8](repeating: 0, count: 40))
        let got = streamEvents(input)
        #expect(got.count == 5)
        #expect(got[0].serverHello?.cipherSuite == CipherSuite(rawValue: 0xc02f))
        #expect(got[1] == .handshake(.other(.serverHelloDone, length: 0)))
        #expect(got[2] == .handshake(.other(.newSessionTicket, length: 3)))
        #expect(got[3] == .changeCipherSpec)
        #expect(got[4] == .encryptedHandshake(length: 40))
    }

    @Test func messagesAndRecordBoundariesInterleaved() {
        // Second message starts in the middle of the first record and ends in the next.
        let a = handshake(14, [])
        let b = handshake(16, [UInt8](repeating: 3, count: 70))
        let both = a + b
        let input = record(22, Array(both[0..<10])) + record(22, Array(both[10...]))
        let got = streamEvents(input)
        #expect(got == [.handshake(.other(.serverHelloDone, length: 0)), .handshake(.other(.clientKeyExchange, length: 70))])
    }

    @Test func handshakeSpanningChangeCipherSpecIsMalformed() {
        let m = helloMessage
        let got = streamEvents(record(22, Array(m[0..<10])) + record(20, [1]) + record(22, Array(m[10...])))
        #expect(got.map(\.stopCode) == [.malformed])
    }

    @Test func handshakeCapJustUnderAndOver() {
        var limits = TLSLimits()
        limits.maxHandshakeMessage = 300
        limits.maxRecordLength = 100  // so the message must span records
        func input(_ bodyLength: Int) -> [UInt8] {
            let message = handshake(16, [UInt8](repeating: 1, count: bodyLength))
            return stride(from: 0, to: message.count, by: 100).flatMap { record(22, Array(message[$0..<min(message.count, $0 + 100)])) }
        }
        let under = streamEvents(input(300), limits: limits)
        #expect(under.last == .handshake(.other(.clientKeyExchange, length: 300)))
        // Over the cap: skipped by its length, announced when its header is read.
        let over = streamEvents(input(301), limits: limits)
        #expect(over == [.skippedHandshake(type: .clientKeyExchange, length: 301)])
    }

    @Test func certificateCapIsSeparate() {
        var limits = TLSLimits()
        limits.maxHandshakeMessage = 50
        limits.maxCertificateMessage = 200
        let cert = [UInt8](repeating: 0x30, count: 194)
        let chain = handshake(11, lp24(lp24(cert)))  // body = 3 + 3 + 194 = 200
        let got = streamEvents(record(22, chain), limits: limits)
        #expect(got == [.handshake(.certificate(CertificateChain(certificates: [cert])))])
        let tooBig = handshake(11, lp24(lp24(cert + [0])))  // 201
        #expect(streamEvents(record(22, tooBig), limits: limits) == [.skippedHandshake(type: .certificate, length: 201)])
        // The same 200-byte body under another type is over maxHandshakeMessage.
        #expect(streamEvents(record(22, handshake(16, [UInt8](repeating: 0, count: 51))), limits: limits)
            == [.skippedHandshake(type: .clientKeyExchange, length: 51)])
        #expect(streamEvents(record(22, handshake(16, [UInt8](repeating: 0, count: 50))), limits: limits).count == 1)
    }

    @Test func absurdHandshakeLengthIsSkippedWithoutBuffering() {
        // 16 MiB declared in a 4-byte record: skipped from its header on, nothing buffered.
        let (got, parser) = events(record(22, [16, 0xff, 0xff, 0xff]) + record(22, [UInt8](repeating: 0, count: 1000)), pieces: [7, 300])
        #expect(got == [.skippedHandshake(type: .clientKeyExchange, length: 0xffffff)])
        #expect(parser.bufferedBytes == 0)
        #expect(!parser.isStopped)
    }

    @Test func trailingBytesInsideAHandshakeMessageAreMalformed() {
        let got = streamEvents(record(22, handshake(1, clientHelloBody() + [0])))
        #expect(got.map(\.stopCode) == [.malformed])
    }

    @Test func tls13ServerSwitchesItselfAfterServerHello() {
        let sh = handshake(2, serverHelloBody(sessionID: [1, 2], extensions: [ext(43, u16(0x0304)), ext(51, u16(29) + lp16([UInt8](repeating: 5, count: 32)))]))
        let input = record(22, sh) + record(20, [1]) + record(23, [UInt8](repeating: 0, count: 30)) + record(22, [1, 2, 3])
        let got = streamEvents(input)
        #expect(got.count == 4)
        #expect(got[0].serverHello?.selectedVersion == .tls13)
        #expect(got[0].serverHello?.selectedGroup == NamedGroup(rawValue: 29))
        #expect(Array(got[1...]) == [.changeCipherSpec, .applicationData(length: 30), .encryptedHandshake(length: 3)])
    }

    @Test func helloRetryRequestThenDummyCCSThenClearServerHello() {
        let hrr = handshake(2, serverHelloBody(random: ServerHello.helloRetryRequestRandom, extensions: [ext(43, u16(0x0304)), ext(51, u16(0x11ec))]))
        let sh = handshake(2, serverHelloBody(extensions: [ext(43, u16(0x0304)), ext(51, u16(0x11ec) + lp16([9]))]))
        let got = streamEvents(record(22, hrr) + record(20, [1]) + record(22, sh) + record(23, [0]))
        #expect(got.count == 4)
        #expect(got[0].serverHello?.isHelloRetryRequest == true)
        #expect(got[0].serverHello?.selectedGroup == NamedGroup(rawValue: 0x11ec))
        #expect(got[1] == .changeCipherSpec)
        #expect(got[2].serverHello?.isHelloRetryRequest == false)
        #expect(got[3] == .applicationData(length: 1))
    }

    @Test func clientDirectionAfterHelloRetryRequest() throws {
        // Client: ClientHello, (server sends HRR), dummy CCS, second ClientHello in clear, then encrypted data.
        let hrr = try parseServerHello(serverHelloBody(random: ServerHello.helloRetryRequestRandom, extensions: [ext(43, u16(0x0304))]))
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        record(22, helloMessage).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        parser.notePeerServerHello(hrr)
        (record(20, [1]) + record(22, helloMessage)).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got.count == 3)
        #expect(got[1] == .changeCipherSpec)
        #expect(got[2].clientHello != nil)
        // The real ServerHello selects TLS 1.3: from then on this side is encrypted.
        let sh = try parseServerHello(serverHelloBody(extensions: [ext(43, u16(0x0304))]))
        parser.notePeerServerHello(sh)
        record(22, [1, 2]).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got.last == .encryptedHandshake(length: 2))
    }

    @Test func tls12ServerHelloLeavesCCSEncrypting() throws {
        var parser = TLSStreamParser()
        parser.notePeerServerHello(try parseServerHello(serverHelloBody(suite: 0xc02f, extensions: nil)))
        var got: [TLSEvent] = []
        (record(22, handshake(16, [0])) + record(20, [1]) + record(22, [7, 7])).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got == [.handshake(.other(.clientKeyExchange, length: 1)), .changeCipherSpec, .encryptedHandshake(length: 2)])
    }

    @Test func malformedMessageInsideStreamStopsOnce() {
        // ClientHello whose cipher_suites length overruns the message (confused deputy).
        var body = clientHelloBody()
        body[35] = 0x7f  // cipher_suites length high byte (2 + 32 + 1 = 35)
        let got = streamEvents(record(22, handshake(1, body)) + record(23, [1]))
        #expect(got.map(\.stopCode) == [.truncated])
    }
}
