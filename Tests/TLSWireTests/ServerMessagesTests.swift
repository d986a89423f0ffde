import Testing
import WireCursor

@testable import TLSWire

@Suite struct ServerMessagesTests {
    // MARK: - ServerHello

    @Test func tls12ServerHello() throws {
        let sh = try parseServerHello(serverHelloBody(sessionID: [9, 9], suite: 0xc030, extensions: [ext(0xff01, [0]), ext(16, lp16(lp8(Array("h2".utf8)))), ext(23, [])]))
        #expect(sh.version == .tls12)
        #expect(sh.sessionID == [9, 9])
        #expect(sh.cipherSuite.rawValue == 0xc030)
        #expect(sh.compressionMethod == 0)
        #expect(sh.extensions.map(\.type.rawValue) == [0xff01, 16, 23])
        #expect(sh.alpn == Array("h2".utf8))
        #expect(sh.selectedVersion == nil)
        #expect(sh.negotiatedVersion == .tls12)
        #expect(!sh.selectsTLS13)
        #expect(!sh.isHelloRetryRequest)
    }

    @Test func serverHelloWithoutExtensions() throws {
        let sh = try parseServerHello(serverHelloBody(version: 0x0300, suite: 0x000a, compression: 1, extensions: nil))
        #expect(sh.version == .ssl3)
        #expect(sh.compressionMethod == 1)
        #expect(sh.extensions.isEmpty)
    }

    @Test func tls13ServerHello() throws {
        let sh = try parseServerHello(serverHelloBody(sessionID: [UInt8](repeating: 3, count: 32), extensions: [
            ext(51, u16(0x11ec) + lp16([UInt8](repeating: 1, count: 1120))), ext(43, u16(0x0304)),
        ]))
        #expect(sh.selectedVersion == .tls13)
        #expect(sh.negotiatedVersion == .tls13)
        #expect(sh.selectsTLS13)
        #expect(sh.selectedGroup?.rawValue == 0x11ec)
    }

    @Test func helloRetryRequest() throws {
        let hrr = try parseServerHello(serverHelloBody(random: ServerHello.helloRetryRequestRandom, extensions: [ext(43, u16(0x0304)), ext(51, u16(23)), ext(44, lp16([1, 2]))]))
        #expect(hrr.isHelloRetryRequest)
        #expect(hrr.selectedGroup?.rawValue == 23)
        // The same key_share form in a normal ServerHello is malformed: kept raw, not decoded.
        let sh = try parseServerHello(serverHelloBody(extensions: [ext(51, u16(23))]))
        #expect(sh.selectedGroup == nil)
        #expect(sh.extensions.count == 1)
    }

    @Test func draftServerHellos() throws {
        // Draft 18 layout: version 0x7f12, random, cipher_suite, extensions (no session id, no compression).
        let draft18 = u16(0x7f12) + randomA + u16(0x1301) + lp16(ext(40, u16(29) + lp16([1])))
        let sh18 = try parseServerHello(draft18)
        #expect(sh18.version.tls13Draft == 18)
        #expect(sh18.cipherSuite.rawValue == 0x1301)
        #expect(sh18.sessionID.isEmpty)
        #expect(sh18.selectsTLS13)
        // Draft 23 layout: TLS 1.2-shaped, the draft in supported_versions.
        let sh23 = try parseServerHello(serverHelloBody(extensions: [ext(43, u16(0x7f17))]))
        #expect(sh23.negotiatedVersion.tls13Draft == 23)
        #expect(sh23.selectsTLS13)
    }

    @Test(arguments: [
        ext(43, [3]),  // short version
        ext(43, u16(0x0304) + [0]),  // trailing
        ext(51, u16(29) + lp16([])),  // empty key
        ext(51, u16(29) + u16(5) + [1]),  // key overruns
        ext(16, lp16(lp8([0x68]) + lp8([0x69]))),  // two ALPN protocols
        ext(16, lp16([0])),  // empty protocol
    ])
    func malformedServerExtensionsAreKeptRaw(bad: [UInt8]) throws {
        let sh = try parseServerHello(serverHelloBody(extensions: [bad]))
        #expect(sh.extensions.count == 1)
        #expect(sh.selectedVersion == nil)
        #expect(sh.selectedGroup == nil)
        #expect(sh.alpn == nil)
    }

    @Test func serverHelloOuterErrorsAndCaps() throws {
        #expect(errorCode { () throws(DecodeError) in try parseServerHello(serverHelloBody(sessionID: [UInt8](repeating: 0, count: 33))) } == .malformed)
        let body = serverHelloBody(extensions: [ext(43, u16(0x0304))])
        for length in 0..<body.count where length != serverHelloBody(extensions: nil).count {
            let cut = Array(body[0..<length])
            #expect(errorCode { () throws(DecodeError) in try parseServerHello(cut) } == .truncated, "cut at \(length)")
        }
        var limits = TLSLimits()
        limits.maxExtensions = 2
        let three = [ext(1, []), ext(2, []), ext(3, [])]
        let truncated = try parseServerHello(serverHelloBody(extensions: three), limits: limits)
        #expect(truncated.extensions.count == 2)
        #expect(truncated.extensionsTruncated)
        #expect(try !parseServerHello(serverHelloBody(extensions: Array(three.prefix(2))), limits: limits).extensionsTruncated)
    }

    // MARK: - Certificate

    @Test func certificateChainAndCap() throws {
        var limits = TLSLimits()
        limits.maxCertificates = 3
        let certs = (1...3).map { [UInt8](repeating: UInt8($0), count: $0 * 10) }
        let body = lp24(certs.flatMap(lp24))
        let chain = try parse(body) { (cursor) throws(DecodeError) in try CertificateChain(parsing: &cursor, limits: limits) }
        #expect(chain.certificates == certs)
        let four = lp24((certs + [[4]]).flatMap(lp24))
        #expect(errorCode { () throws(DecodeError) in try parse(four) { (cursor) throws(DecodeError) in try CertificateChain(parsing: &cursor, limits: limits) } } == .tooLarge)
        // An empty chain is legal (a client without a certificate); an empty certificate is not.
        #expect(try parse(lp24([])) { (cursor) throws(DecodeError) in try CertificateChain(parsing: &cursor) }.certificates.isEmpty)
        #expect(errorCode { () throws(DecodeError) in try parse(lp24(lp24([]))) { (cursor) throws(DecodeError) in try CertificateChain(parsing: &cursor) } } == .malformed)
        // Inner length longer than the list (confused deputy): truncated.
        let deputy = lp24(u24(100) + [1, 2, 3])
        #expect(errorCode { () throws(DecodeError) in try parse(deputy) { (cursor) throws(DecodeError) in try CertificateChain(parsing: &cursor) } } == .truncated)
    }

    // MARK: - ServerKeyExchange

    /// Parses a ServerKeyExchange body under a negotiated suite and version.
    private func ske(_ suite: Int, _ body: [UInt8], version: TLSVersion = .tls12) -> Result<ServerKeyExchangeParameters, ServerKeyExchangeProblem> {
        body.withUnsafeBytes { buffer in
            var cursor = ByteCursor(buffer)
            let context = KeyExchangeContext(cipherSuite: CipherSuite(rawValue: UInt16(suite)), version: version)
            let message = ServerKeyExchange(parsing: &cursor, context: context)
            #expect(cursor.isEmpty)
            #expect(message.length == body.count)
            return message.parameters
        }
    }
    private func isMalformed(_ result: Result<ServerKeyExchangeParameters, ServerKeyExchangeProblem>) -> Bool {
        if case .failure(.malformed) = result { true } else { false }
    }
    private let signature12 = u16(0x0804) + lp16([1, 2])
    private let point = lp8([UInt8](repeating: 4, count: 32))

    @Test func ecdheNamedCurve() throws {
        // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        let parameters = try ske(0xc02f, [3] + u16(29) + point + signature12).get()
        #expect(parameters == ServerKeyExchangeParameters(
            keyExchange: .ecdhe, namedGroup: NamedGroup(rawValue: 29), signatureAlgorithm: SignatureScheme(rawValue: 0x0804)))
        // TLS 1.0: the signature has no algorithm.
        #expect(try ske(0xc013, [3] + u16(23) + point + lp16([1, 2]), version: .tls10).get().namedGroup?.rawValue == 23)
        // Explicit prime curve (RFC 4492 §5.4): no named group, the curve type kept.
        let explicit = [1] + lp8([0xff]) + lp8([1]) + lp8([2]) + lp8([4, 1, 1]) + lp8([7]) + lp8([1]) + point + signature12
        #expect(try ske(0xc02f, explicit).get().explicitCurveType == 1)
        #expect(try ske(0xc02f, explicit).get().namedGroup == nil)
        #expect(isMalformed(ske(0xc02f, [3, 0])))
        #expect(isMalformed(ske(0xc02f, [3] + u16(23) + lp8([]) + signature12)))  // empty point
        #expect(isMalformed(ske(0xc02f, [])))
        #expect(isMalformed(ske(0xc02f, [3] + u16(29) + point)))  // signed suite without a signature
        #expect(isMalformed(ske(0xc02f, [3] + u16(29) + point + signature12 + [0])))  // trailing byte
        // ECDH_anon: unsigned, so a signature is trailing garbage.
        #expect(try ske(0xc018, [3] + u16(29) + point).get().namedGroup?.rawValue == 29)
        #expect(isMalformed(ske(0xc018, [3] + u16(29) + point + signature12)))
    }

    @Test func dhPrimeBits() throws {
        // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
        func bits(_ prime: [UInt8]) throws -> Int? {
            try ske(0x009e, lp16(prime) + lp16([2]) + lp16([5, 5]) + signature12).get().dhPrimeBits
        }
        #expect(try bits([0xff] + [UInt8](repeating: 0xff, count: 127)) == 1024)
        #expect(try bits([0x00, 0x7f] + [UInt8](repeating: 0, count: 255)) == 2047)  // leading zero byte and bit not counted
        #expect(try bits([0x01]) == 1)
        #expect(try bits([0x00, 0x00]) == 0)
        #expect(try bits([UInt8](repeating: 0xff, count: 1024)) == 8192)
        #expect(isMalformed(ske(0x009e, lp16([0xff]) + signature12)))  // no g, Ys
        #expect(isMalformed(ske(0x009e, lp16([]) + lp16([2]) + lp16([5]) + signature12)))
        #expect(isMalformed(ske(0x009e, u16(300) + [1, 2])))
        // An ECDHE body under a DHE suite is malformed, not a tiny prime.
        #expect(isMalformed(ske(0x009e, [3] + u16(29) + point + signature12)))
        // RFC 7919 primes are recognised (generator 2), whatever their leading zero bytes. The generated
        // ffdhe2048 is the RFC's (Appendix A.1 as OpenSSL encodes it: first and last 16 bytes).
        let ffdhe2048 = try #require(IANARegistry.ffdhePrime(0x0100))
        #expect(Array(ffdhe2048.prefix(16)) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xad, 0xf8, 0x54, 0x58, 0xa2, 0xbb, 0x4a, 0x9a])
        #expect(Array(ffdhe2048.suffix(16)) == [0x88, 0x6b, 0x42, 0x38, 0x61, 0x28, 0x5c, 0x97, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        for (value, size) in [(0x0100, 256), (0x0101, 384), (0x0102, 512), (0x0103, 768), (0x0104, 1024)] {
            let prime = try #require(IANARegistry.ffdhePrime(UInt16(value)))
            #expect(prime.count == size)
            let named = try ske(0x009e, lp16([0] + prime) + lp16([2]) + lp16([5]) + signature12).get()
            #expect(named.ffdheGroup == NamedGroup(rawValue: UInt16(value)))
            #expect(named.dhPrimeBits == size * 8)
            // Another generator, or one bit changed: just a prime of that size.
            #expect(try ske(0x009e, lp16(prime) + lp16([5]) + lp16([5]) + signature12).get().ffdheGroup == nil)
            var changed = prime
            changed[size / 2] ^= 1
            #expect(try ske(0x009e, lp16(changed) + lp16([2]) + lp16([5]) + signature12).get().ffdheGroup == nil)
        }
        // DH_anon: ServerDHParams alone.
        #expect(try ske(0x0034, lp16([0x80, 0]) + lp16([2]) + lp16([5])).get().dhPrimeBits == 16)
    }

    @Test func pskHintsRSAExportAndSRP() throws {
        // TLS_PSK_WITH_AES_128_CBC_SHA: the hint only (may be empty).
        #expect(try ske(0x008c, lp16(Array("id".utf8))).get() == ServerKeyExchangeParameters(keyExchange: .psk, pskIdentityHint: Array("id".utf8)))
        #expect(try ske(0x0094, lp16([])).get().pskIdentityHint == [])  // RSA_PSK
        #expect(isMalformed(ske(0x008c, lp16([1]) + [0])))
        // TLS_RSA_EXPORT_WITH_RC4_40_MD5 in TLS 1.0: ServerRSAParams and a bare signature.
        let rsa = try ske(0x0003, lp16([0x80] + [UInt8](repeating: 1, count: 63)) + lp16([1, 0, 1]) + lp16([9, 9]), version: .tls10).get()
        #expect(rsa.rsaModulusBits == 512)
        #expect(rsa.signatureAlgorithm == nil)
        // TLS_SRP_SHA_WITH_AES_128_CBC_SHA: unsigned; TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA: signed.
        let srp = lp16([0xff] + [UInt8](repeating: 0, count: 127)) + lp16([2]) + lp8([1, 2, 3]) + lp16([8, 8])
        #expect(try ske(0xc01d, srp).get().srpPrimeBits == 1024)
        #expect(try ske(0xc01e, srp + signature12).get().srpPrimeBits == 1024)
        #expect(isMalformed(ske(0xc01e, srp)))
    }

    @Test func noLayoutIsNeverGuessed() {
        let body = [3] + u16(29) + point + signature12
        #expect(ske(0x002f, body) == .failure(.unexpected(.rsa)))  // static RSA sends no ServerKeyExchange
        #expect(ske(0x1301, body) == .failure(.unexpected(.tls13)))
        #expect(ske(0x1234, body) == .failure(.unknownSuite(CipherSuite(rawValue: 0x1234))))
        #expect(ske(0x00ff, body) == .failure(.unknownSuite(CipherSuite(rawValue: 0x00ff))))  // SCSV
        let noContext = body.withUnsafeBytes { buffer in
            var cursor = ByteCursor(buffer)
            return ServerKeyExchange(parsing: &cursor, context: nil).parameters
        }
        #expect(noContext == .failure(.noServerHello))
    }

    // MARK: - Real streams captured here

    @Test func opensslTLS12ServerStream() throws {
        let got = streamEvents(Captured.opensslTLS12ServerStream)
        #expect(got.count == 8)
        let sh = try #require(got.first?.serverHello)
        #expect(sh.cipherSuite.rawValue == 0xc030)
        #expect(sh.extensions.map(\.type.rawValue) == [65281, 11, 35, 23])
        #expect(sh.negotiatedVersion == .tls12)
        guard case .handshake(.certificate(let chain)) = got[1] else { Issue.record("no certificate: \(got[1])"); return }
        #expect(chain.certificates.count == 1)
        #expect(chain.certificates.first?.count == 781)
        #expect(chain.certificates.first?.prefix(2) == [0x30, 0x82])
        guard case .handshake(.serverKeyExchange(let ske)) = got[2] else { Issue.record("no SKE: \(got[2])"); return }
        #expect(ske.ecdheNamedGroup?.rawValue == 0x001d)
        #expect(ske.dhPrimeBits == nil)
        #expect(Array(got[3...]) == [
            .handshake(.other(.serverHelloDone, length: 0)), .handshake(.other(.newSessionTicket, length: 182)),
            .changeCipherSpec, .encryptedHandshake(length: 40), .encryptedAlert(length: 26),
        ])
    }

    @Test func opensslTLS12ClientStream() throws {
        let got = streamEvents(Captured.opensslTLS12ClientStream)
        #expect(got.count == 6)
        let hello = try #require(got.first?.clientHello)
        #expect(hello.serverName == "tls12.example")
        #expect(hello.sessionID.isEmpty)
        #expect(hello.supportedVersions.isEmpty)
        #expect(hello.extensions.map(\.type.rawValue) == [0, 11, 10, 35, 22, 23, 13])
        #expect(Array(got[1...]) == [
            .handshake(.other(.clientKeyExchange, length: 33)), .changeCipherSpec, .encryptedHandshake(length: 40),
            .applicationData(length: 25), .encryptedAlert(length: 26),
        ])
    }

    @Test func opensslTLS13ServerStream() throws {
        let got = streamEvents(Captured.opensslTLS13ServerStream)
        let sh = try #require(got.first?.serverHello)
        #expect(sh.cipherSuite.rawValue == 0x1302)
        #expect(sh.selectedVersion == .tls13)
        #expect(sh.selectedGroup?.rawValue == 29)
        #expect(sh.sessionID.count == 32)
        #expect(Array(got[1...]) == [
            .changeCipherSpec, .applicationData(length: 23), .applicationData(length: 811), .applicationData(length: 281),
            .applicationData(length: 69), .applicationData(length: 250), .applicationData(length: 250),
            .applicationData(length: 19),
        ])
    }
}
