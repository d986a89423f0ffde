import Testing
import WireCursor

@testable import TLSWire

// Issue #9: scenarios the parser used to lose or misreport, each built from a few bytes.
@Suite struct BlindSpotTests {
    /// A TLS 1.3-offering ClientHello (supported_versions 1.3, 1.2; key_share x25519).
    static func tls13ClientHello(_ keyShareGroup: Int = 29) -> [UInt8] {
        handshake(1, clientHelloBody(extensions: [ext(43, lp8(u16s([0x0304, 0x0303]))), ext(51, lp16(u16(keyShareGroup) + lp16([7, 7])))]))
    }

    // MARK: - Dummy ChangeCipherSpec from the client (RFC 8446 D.4)

    @Test func dummyChangeCipherSpecBeforeHelloRetryRequestKeepsTheClientInClear() throws {
        let input = record(22, Self.tls13ClientHello(29)) + record(20, [1]) + record(22, Self.tls13ClientHello(23))
        let got = streamEvents(input)
        #expect(got.count == 3)
        #expect(got.first?.clientHello != nil)
        #expect(got.dropFirst().first == .changeCipherSpec)
        #expect(got.last?.clientHello?.keyShareGroups == [NamedGroup(rawValue: 23)])
    }

    /// Feeds `parts` to one parser, calling `between` after the first part.
    private func feed(_ first: [UInt8], then second: [UInt8], between: (inout TLSStreamParser) -> Void) -> [TLSEvent] {
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        first.withUnsafeBytes { parser.feed($0) { got.append($0) } }
        between(&parser)
        second.withUnsafeBytes { parser.feed($0) { got.append($0) } }
        return got
    }

    @Test func changeCipherSpecIsRealOnceTheServerChoseTLS12() throws {
        let tls12Hello = try parseServerHello(serverHelloBody(suite: 0xc02f, extensions: nil))
        let finished = record(22, [UInt8](repeating: 0x42, count: 40))
        let got = feed(record(22, Self.tls13ClientHello()), then: record(22, handshake(16, [1, 2])) + record(20, [1]) + finished) {
            $0.notePeerServerHello(tls12Hello)
        }
        #expect(Array(got.dropFirst()) == [.handshake(.other(.clientKeyExchange, length: 2)), .changeCipherSpec, .encryptedHandshake(length: 40)])
        // A client that never offered TLS 1.3: its CCS is real at once.
        let tls12Client = record(22, handshake(1, clientHelloBody(extensions: [])))
        let plain = streamEvents(tls12Client + record(20, [1]) + finished)
        #expect(Array(plain.dropFirst()) == [.changeCipherSpec, .encryptedHandshake(length: 40)])
        // After a TLS 1.3 ServerHello the client is encrypted (no CCS needed), and a dummy CCS stays a dummy.
        let tls13Hello = try parseServerHello(serverHelloBody(extensions: [ext(43, u16(0x0304)), ext(51, u16(29) + lp16([1]))]))
        let after13 = feed(record(22, Self.tls13ClientHello()), then: record(20, [1]) + finished) { $0.notePeerServerHello(tls13Hello) }
        #expect(Array(after13.dropFirst()) == [.changeCipherSpec, .encryptedHandshake(length: 40)])
    }

    // MARK: - TLS 1.3 drafts

    @Test func draftServerHelloKeyShareGivesTheGroup() throws {
        // Draft 18: version 0x7f12, random, cipher_suite, extensions; key_share was extension 40 then.
        let draft18 = u16(0x7f12) + randomA + u16(0x1301) + lp16(ext(40, u16(29) + lp16([1, 2, 3])))
        #expect(try parseServerHello(draft18).selectedGroup == NamedGroup(rawValue: 29))
        // Draft 22: the TLS 1.2-shaped layout, the draft in supported_versions, key_share still 40.
        let draft22 = serverHelloBody(extensions: [ext(40, u16(23) + lp16([4])), ext(43, u16(0x7f16))])
        #expect(try parseServerHello(draft22).selectedGroup == NamedGroup(rawValue: 23))
    }

    @Test func draft14ServerHelloWithFinalVersionNumberParsesByLayout() throws {
        // Draft 14 and earlier: server_version 0x0304, no session id and no compression method.
        let body = u16(0x0304) + randomA + u16(0x1301) + lp16(ext(40, u16(29) + lp16([9, 9])))
        let hello = try parseServerHello(body)
        #expect(hello.version == .tls13)
        #expect(hello.cipherSuite == CipherSuite(rawValue: 0x1301))
        #expect(hello.sessionID.isEmpty)
        #expect(hello.selectedGroup == NamedGroup(rawValue: 29))
        #expect(hello.selectsTLS13)
        // Through the stream, in any split.
        let got = streamEvents(record(22, handshake(2, body)))
        #expect(got.first?.serverHello?.cipherSuite == CipherSuite(rawValue: 0x1301))
    }

    // MARK: - Oversized messages

    @Test func oversizedMessageIsSkippedAndTheStreamFollowed() {
        var limits = TLSLimits()
        limits.maxHandshakeMessage = 50
        limits.maxRecordLength = 40  // the skipped message spans records
        let big = handshake(16, [UInt8](repeating: 7, count: 90))
        let input = stride(from: 0, to: big.count, by: 40).flatMap { record(22, Array(big[$0..<min(big.count, $0 + 40)])) }
            + record(22, handshake(14, []))
        let got = streamEvents(input, limits: limits)
        #expect(got.last == .handshake(.other(.serverHelloDone, length: 0)))
        #expect(!got.contains { $0.stopCode != nil })
        #expect(got == [.skippedHandshake(type: .clientKeyExchange, length: 90), .handshake(.other(.serverHelloDone, length: 0))])
    }

    @Test func bufferGrowsWithTheBytesNotWithTheLengthField() {
        // A Certificate declaring 1 MiB, of which 100 body bytes arrived.
        let header = [11] + u24(1024 * 1024)
        let (got, parser) = events(record(22, header + [UInt8](repeating: 1, count: 100), version: 0x0303), pieces: [1000])
        #expect(got.isEmpty)
        #expect(parser.bufferedBytes == 104)
        #expect(parser.bufferedCapacity < 4096)
    }

    @Test func abandonedMessageIsSkippedAndTheStreamFollowed() throws {
        let certs = [[UInt8](repeating: 0x30, count: 5000)]
        let message = handshake(11, lp24(certs.flatMap(lp24)))
        let first = record(22, Array(message[0..<3000]))
        let rest = record(22, Array(message[3000...])) + record(22, handshake(14, []))
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        first.withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got.isEmpty)
        #expect(parser.bufferedBytes == 3000)
        let skipped = parser.abandonBufferedMessage()
        #expect(skipped == .skippedHandshake(type: .certificate, length: message.count - 4))
        #expect(parser.bufferedBytes == 0)
        #expect(parser.abandonBufferedMessage() == nil)  // nothing buffered any more
        // The rest of the message is skipped as it arrives, in any split; the next message is read.
        for split in [1, 7, rest.count] {
            var copy = parser
            var after: [TLSEvent] = []
            var start = 0
            while start < rest.count {
                let end = min(rest.count, start + split)
                rest[start..<end].withUnsafeBytes { copy.feed($0) { after.append($0) } }
                start = end
            }
            #expect(after == [.handshake(.other(.serverHelloDone, length: 0))], "split \(split)")
            #expect(copy.bufferedBytes == 0)
        }
        // A partial header (under 4 bytes) is not worth abandoning.
        var tiny = TLSStreamParser()
        record(22, [11, 0]).withUnsafeBytes { tiny.feed($0) { _ in } }
        #expect(tiny.bufferedBytes == 2)
        #expect(tiny.abandonBufferedMessage() == nil)
    }

    @Test func certificateOf300KilobytesIsParsed() throws {
        let certs = (0..<3).map { [UInt8](repeating: UInt8($0 + 1), count: 100_000) }
        let message = handshake(11, lp24(certs.flatMap(lp24)))
        let input = stride(from: 0, to: message.count, by: 16384).flatMap {
            record(22, Array(message[$0..<min(message.count, $0 + 16384)]))
        }
        let got = streamEvents(input, randomSplits: 2)
        guard case .handshake(.certificate(let chain)) = got.first else {
            Issue.record("no certificate: \(got.map(\.stopCode))")
            return
        }
        #expect(chain.certificates == certs)
    }

    // MARK: - SSL 2.0 ServerHello

    /// SSL 2.0 SERVER-HELLO (draft-hickman-netscape-ssl-00): 2-byte header, msg_type 4, session-id-hit,
    /// certificate type, version, three lengths, certificate, cipher specs, connection id.
    static func sslv2ServerHello(certificate: [UInt8], specs: [[UInt8]], connectionID: [UInt8]) -> [UInt8] {
        let message = [4, 0, 1] + u16(0x0002) + u16(certificate.count) + u16(specs.count * 3) + u16(connectionID.count)
            + certificate + specs.flatMap { $0 } + connectionID
        return [UInt8(0x80 | message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
    }

    @Test func sslv2ServerHelloIsReported() throws {
        let cert: [UInt8] = [0x30, 0x03, 1, 2, 3]
        let input = Self.sslv2ServerHello(certificate: cert, specs: [[1, 0, 0x80], [7, 0, 0xc0]], connectionID: [5, 6, 7, 8])
        let got = streamEvents(input + [0x80, 0x20, 5, 5, 5])  // then an (encrypted) SSL 2.0 record: ignored
        let hello = try #require(got.first?.serverHello)
        #expect(hello.version == .ssl2)
        #expect(hello.negotiatedVersion == .ssl2)
        #expect(hello.isSSLv2Format)
        #expect(hello.sslv2CipherSpecs == [0x010080, 0x0700c0])
        #expect(hello.sessionID == [5, 6, 7, 8])
        #expect(!hello.sslv2SessionIDHit)
        #expect(got.count == 2)
        #expect(got.last == .handshake(.certificate(CertificateChain(certificates: [cert]))))
        // The parser stops quietly: the rest of an SSL 2.0 session is not parsed, and is no error.
        let (_, parser) = events(input, pieces: [input.count])
        #expect(parser.isStopped)
        #expect(parser.looksLikeTLS)
        // The client side: an SSL 2.0 ClientHello, then (after the server's hello is noted) CLIENT-MASTER-KEY.
        var client = TLSStreamParser()
        var clientEvents: [TLSEvent] = []
        ClientHelloTests.sslv2Hello(version: 0x0002, specs: [[1, 0, 0x80]], challenge: [UInt8](repeating: 1, count: 16))
            .withUnsafeBytes { client.feed($0) { clientEvents.append($0) } }
        client.notePeerServerHello(hello)
        [0x80, 0x0a, 2, 1, 0, 0x80, 0, 0, 0, 0, 0, 0].withUnsafeBytes { client.feed($0) { clientEvents.append($0) } }
        #expect(clientEvents.count == 1)
        #expect(clientEvents.first?.clientHello?.isSSLv2Format == true)
        #expect(client.isStopped)
    }

    @Test func sslv2ServerHelloOnASessionHitHasNoCertificate() throws {
        var input = Self.sslv2ServerHello(certificate: [], specs: [], connectionID: [1, 2, 3, 4])
        input[3] = 1  // SESSION-ID-HIT
        let got = streamEvents(input)
        #expect(got.count == 1)
        #expect(got.first?.serverHello?.sslv2SessionIDHit == true)
    }

    // MARK: - ServerKeyExchange by the negotiated suite

    /// The server's flight: a TLS 1.2 ServerHello selecting `suite`, then a ServerKeyExchange with `body`.
    static func serverFlight(suite: Int, _ body: [UInt8]) -> [UInt8] {
        record(22, handshake(2, serverHelloBody(suite: suite, extensions: nil)) + handshake(12, body) + handshake(14, []))
    }
    static func serverDHParams(primeBytes: Int) -> [UInt8] {
        lp16([0xff] + [UInt8](repeating: 0xc3, count: primeBytes - 1)) + lp16([2]) + lp16([UInt8](repeating: 9, count: primeBytes))
    }
    static let signature12 = u16(0x0804) + lp16([UInt8](repeating: 0x5a, count: 64))

    static func serverKeyExchange(_ events: [TLSEvent]) -> ServerKeyExchange? {
        for event in events { if case .handshake(.serverKeyExchange(let ske)) = event { return ske } }
        return nil
    }

    @Test func dhePSKHintIsNotTakenForThePrime() throws {
        // RFC 4279 §3: psk_identity_hint, then ServerDHParams; no signature. TLS_DHE_PSK_WITH_AES_128_CBC_SHA256.
        let body = lp16(Array("hint".utf8)) + Self.serverDHParams(primeBytes: 256)
        let ske = try #require(Self.serverKeyExchange(streamEvents(Self.serverFlight(suite: 0x00b2, body))))
        #expect(ske.dhPrimeBits == 2048)
        #expect(ske.ecdheNamedGroup == nil)
    }

    @Test func dhe6144BitPrimeIsNotACurve() throws {
        // A 768-byte prime: its length's first byte (3) looks like ECParameters.curve_type named_curve.
        let body = Self.serverDHParams(primeBytes: 768) + Self.signature12
        let ske = try #require(Self.serverKeyExchange(streamEvents(Self.serverFlight(suite: 0x009e, body), randomSplits: 2)))
        #expect(ske.ecdheNamedGroup == nil)
        #expect(ske.dhPrimeBits == 6144)
    }

    @Test func serverKeyExchangeProblemsAreReportedAndParsingGoesOn() throws {
        // Static RSA sends no ServerKeyExchange: one that comes anyway is reported, not guessed at.
        let got = streamEvents(Self.serverFlight(suite: 0x002f, [3] + u16(29) + lp8([1]) + Self.signature12))
        let ske = try #require(Self.serverKeyExchange(got))
        #expect(ske.parameters == .failure(.unexpected(.rsa)))
        #expect(ske.ecdheNamedGroup == nil)
        #expect(got.last == .handshake(.other(.serverHelloDone, length: 0)))
        // A body that does not fit the suite: malformed, with the field.
        let short = try #require(Self.serverKeyExchange(streamEvents(Self.serverFlight(suite: 0xc02f, [3] + u16(29)))))
        guard case .failure(.malformed(let error)) = short.parameters else {
            Issue.record("\(short.parameters)")
            return
        }
        #expect(error.code == .truncated)
        // Sent by the client (no ServerHello in its direction).
        let fromClient = streamEvents(record(22, handshake(1, clientHelloBody()) + handshake(12, [3] + u16(29) + lp8([1]))))
        #expect(Self.serverKeyExchange(fromClient)?.parameters == .failure(.noServerHello))
    }

    @Test func ecdhePSKGivesTheGroup() throws {
        // RFC 5489 §2: psk_identity_hint, then ServerECDHParams. TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256.
        let body = lp16(Array("id".utf8)) + [3] + u16(29) + lp8([UInt8](repeating: 4, count: 32))
        let ske = try #require(Self.serverKeyExchange(streamEvents(Self.serverFlight(suite: 0xc037, body))))
        #expect(ske.ecdheNamedGroup == NamedGroup(rawValue: 29))
        #expect(ske.dhPrimeBits == nil)
    }

    // MARK: - Lists capped

    @Test func cipherSuiteListIsCapped() throws {
        let suites = (0..<600).map { 0x1000 + $0 }
        let hello = try parseClientHello(clientHelloBody(suites: suites))
        #expect(hello.cipherSuites.count == 512)
        #expect(hello.cipherSuites.last == CipherSuite(rawValue: 0x1000 + 511))
        #expect(hello.truncatedLists == .cipherSuites)
        #expect(try parseClientHello(clientHelloBody(suites: Array(suites.prefix(512)))).truncatedLists.isEmpty)
        // 32,000 suites (the attack in issue #9): one pass, 512 kept.
        let attack = try parseClientHello(clientHelloBody(suites: (0..<32_000).map { $0 }))
        #expect(attack.cipherSuites.count == 512)
    }

    @Test func everyHelloListIsCappedAndFlagged() throws {
        var limits = TLSLimits()
        limits.maxListEntries = 3
        let four = [0x0a0a, 0x001d, 0x0017, 0x0018]
        let body = clientHelloBody(suites: four, extensions: [
            ext(10, lp16(u16s(four))),  // supported_groups
            ext(13, lp16(u16s([0x0403, 0x0804, 0x0401, 0x0503]))),  // signature_algorithms
            ext(51, lp16(four.flatMap { u16($0) + lp16([1]) })),  // key_share
            ext(16, lp16(["a", "b", "c", "d"].flatMap { lp8(Array($0.utf8)) })),  // ALPN
            ext(43, lp8(u16s([0x0304, 0x0303, 0x0302, 0x0301]))),  // supported_versions
        ])
        let hello = try parseClientHello(body, limits: limits)
        #expect(hello.truncatedLists == [.cipherSuites, .supportedGroups, .signatureAlgorithms, .keyShares, .alpn, .supportedVersions])
        #expect(hello.cipherSuites.map(\.rawValue) == [0x0a0a, 0x001d, 0x0017])  // GREASE kept, wire order
        #expect(hello.supportedGroups.count == 3)
        #expect(hello.signatureAlgorithms.count == 3)
        #expect(hello.keyShareGroups.count == 3)
        #expect(hello.alpn == [[0x61], [0x62], [0x63]])
        #expect(hello.supportedVersions == [.tls13, .tls12, .tls11])
        // The SSL 2.0 form's cipher specs too.
        let v2 = ClientHelloTests.sslv2Hello(specs: [[0, 0, 1], [0, 0, 2], [0, 0, 3], [0, 0, 4]], challenge: [UInt8](repeating: 1, count: 16))
        let v2Hello = try #require(streamEvents(v2, limits: limits).first?.clientHello)
        #expect(v2Hello.sslv2CipherSpecs == [1, 2, 3])
        #expect(v2Hello.truncatedLists == .sslv2CipherSpecs)
    }

    @Test func extensionsOverTheCapAreTruncatedNotFatal() throws {
        let many = (0..<300).map { ext($0 + 0x3000, []) }
        let hello = try parseClientHello(clientHelloBody(extensions: many))
        #expect(hello.extensions.count == 256)
    }

    // MARK: - Alerts

    @Test func alertWithUnknownLevelIsFatalUnlessItIsAClosure() {
        #expect(Alert(level: 2, description: AlertDescription(rawValue: 0)).isFatal)
        #expect(!Alert(level: 1, description: AlertDescription(rawValue: 40)).isFatal)
        #expect(Alert(level: 3, description: AlertDescription(rawValue: 40)).isFatal)
        #expect(Alert(level: 0, description: AlertDescription(rawValue: 80)).isFatal)
        for closure: UInt8 in [0, 90, 100] {
            #expect(!Alert(level: 3, description: AlertDescription(rawValue: closure)).isFatal)
        }
    }
}
