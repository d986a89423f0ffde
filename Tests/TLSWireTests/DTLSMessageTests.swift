import Testing
import WireCursor

@testable import TLSWire

/// The TLSWire pieces DTLS needs: the DTLS ClientHello layout (cookie), HelloVerifyRequest, and DTLS
/// versions treated like the TLS versions they mirror (RFC 6347 §4.2.1, RFC 9147 §5.3).
@Suite struct DTLSMessageTests {
    /// A DTLS ClientHello body: the TLS layout with `cookie<0..2^8-1>` after the session id.
    func dtlsClientHelloBody(version: Int = 0xfefd, cookie: [UInt8], extensions: [[UInt8]] = []) -> [UInt8] {
        u16(version) + randomA + lp8([1, 2]) + lp8(cookie) + lp16(u16s([0xc02b, 0xc02f])) + lp8([0])
            + lp16(extensions.flatMap { $0 })
    }

    func message(_ type: HandshakeType, _ body: [UInt8], dtls: Bool) throws(DecodeError) -> HandshakeMessage {
        try parse(body) { (cursor) throws(DecodeError) in
            try HandshakeMessage(type: type, parsing: &cursor, dtls: dtls)
        }
    }

    @Test func dtlsClientHelloKeepsTheCookie() throws {
        let cookie: [UInt8] = [0xc0, 0x0c, 0x1e, 0x55]
        let body = dtlsClientHelloBody(cookie: cookie, extensions: [ext(0, lp16([0] + lp16(Array("a.example".utf8))))])
        let hello = try parse(body) { (cursor) throws(DecodeError) in try ClientHello(parsingDTLS: &cursor) }
        #expect(hello.version == .dtls12)
        #expect(hello.sessionID == [1, 2])
        #expect(hello.cookie == cookie)
        #expect(hello.cipherSuites.map(\.rawValue) == [0xc02b, 0xc02f])
        #expect(hello.serverName == "a.example")
        // Through HandshakeMessage with dtls: the same hello; without it the TLS layout misreads the body.
        #expect(try message(.clientHello, body, dtls: true) == .clientHello(hello))
        #expect((try? message(.clientHello, body, dtls: false)) != .clientHello(hello))
        // An empty cookie (the first ClientHello), and TLS hellos keep an empty cookie.
        let first = try parse(dtlsClientHelloBody(cookie: [])) { (cursor) throws(DecodeError) in try ClientHello(parsingDTLS: &cursor) }
        #expect(first.cookie.isEmpty)
        #expect(try parseClientHello(clientHelloBody()).cookie.isEmpty)
        // A cookie that overruns the body is truncated.
        let overrun = u16(0xfefd) + randomA + lp8([]) + [200, 1, 2]
        #expect(errorCode { () throws(DecodeError) in try parse(overrun) { (cursor) throws(DecodeError) in try ClientHello(parsingDTLS: &cursor) } } == .truncated)
    }

    @Test func helloVerifyRequestIsValidatedInDTLS() throws {
        let body = u16(0xfeff) + lp8([9, 8, 7])
        let request = try parse(body) { (cursor) throws(DecodeError) in try HelloVerifyRequest(parsing: &cursor) }
        #expect(request == HelloVerifyRequest(serverVersion: .dtls10, cookie: [9, 8, 7]))
        #expect(try message(.helloVerifyRequest, body, dtls: true) == .other(.helloVerifyRequest, length: 6))
        // Malformed: a cookie longer than the body, or trailing bytes.
        let overrun = u16(0xfeff) + [9, 1]
        #expect(errorCode { () throws(DecodeError) in try message(.helloVerifyRequest, overrun, dtls: true) } == .truncated)
        #expect(errorCode { () throws(DecodeError) in try message(.helloVerifyRequest, body + [0], dtls: true) } == .malformed)
        // Over TCP type 3 means nothing and is not read.
        #expect(try message(.helloVerifyRequest, overrun, dtls: false) == .other(.helloVerifyRequest, length: 4))
    }

    @Test func dtlsServerHelloVersions() throws {
        // DTLS 1.3: legacy_version 0xfefd, supported_versions selects 0xfefc.
        let dtls13 = try parseServerHello(serverHelloBody(version: 0xfefd, suite: 0x1301, extensions: [ext(43, u16(0xfefc))]))
        #expect(dtls13.negotiatedVersion == .dtls13)
        #expect(dtls13.selectsTLS13)
        #expect(dtls13.keyExchangeContext.version == .dtls13)
        let dtls12 = try parseServerHello(serverHelloBody(version: 0xfefd, suite: 0xc02f))
        #expect(dtls12.negotiatedVersion == .dtls12)
        #expect(!dtls12.selectsTLS13)
        let dtls10 = try parseServerHello(serverHelloBody(version: 0xfeff, suite: 0xc013))
        #expect(dtls10.negotiatedVersion == .dtls10)
        #expect(!dtls10.selectsTLS13)
    }

    @Test func versionEquivalents() {
        #expect(TLSVersion.dtls10.tlsEquivalent == .tls11)
        #expect(TLSVersion.dtls12.tlsEquivalent == .tls12)
        #expect(TLSVersion.dtls13.tlsEquivalent == .tls13)
        #expect(TLSVersion.tls10.tlsEquivalent == .tls10)
        #expect(TLSVersion.dtls13.isTLS13Family && TLSVersion.tls13.isTLS13Family && TLSVersion(rawValue: 0x7f17).isTLS13Family)
        #expect(!TLSVersion.dtls12.isTLS13Family && !TLSVersion.tls12.isTLS13Family)
        #expect(TLSVersion.dtls10.isDTLS && !TLSVersion.tls12.isDTLS)
    }

    /// DTLS 1.0 signs like TLS 1.1 (no SignatureAndHashAlgorithm, RFC 4347 §4.2), DTLS 1.2 like TLS 1.2;
    /// comparing raw values put 0xfeff above 0x0303 and read an algorithm that is not there.
    @Test func serverKeyExchangeLayoutFollowsTheDTLSVersion() throws {
        let point = lp8([UInt8](repeating: 4, count: 32))
        func ske(_ body: [UInt8], _ version: TLSVersion) -> Result<ServerKeyExchangeParameters, ServerKeyExchangeProblem> {
            body.withUnsafeBytes { buffer in
                var cursor = ByteCursor(buffer)
                let context = KeyExchangeContext(cipherSuite: CipherSuite(rawValue: 0xc013), version: version)
                return ServerKeyExchange(parsing: &cursor, context: context).parameters
            }
        }
        let dtls10 = try ske([3] + u16(23) + point + lp16([1, 2, 3]), .dtls10).get()
        #expect(dtls10.namedGroup?.rawValue == 23)
        #expect(dtls10.signatureAlgorithm == nil)
        let dtls12 = try ske([3] + u16(29) + point + u16(0x0401) + lp16([1, 2]), .dtls12).get()
        #expect(dtls12.signatureAlgorithm?.rawValue == 0x0401)
    }

    /// A stream ClientHello offering only DTLS 1.3 still counts as offering TLS 1.3 (its CCS may be the dummy).
    @Test func streamParserTreatsDTLS13OfferLikeTLS13() {
        let hello = handshake(1, clientHelloBody(extensions: [ext(43, lp8(u16s([0xfefc])))]))
        let got = streamEvents(record(22, hello) + record(20, [1]) + record(22, handshake(1, clientHelloBody())), randomSplits: 0)
        // The CCS was the dummy: the second ClientHello is still read in clear.
        #expect(got.count == 3)
        #expect(got.last?.clientHello != nil)
    }
}
