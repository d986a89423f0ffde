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

    @Test func serverHelloOuterErrorsAndCaps() {
        #expect(errorCode { () throws(DecodeError) in try parseServerHello(serverHelloBody(sessionID: [UInt8](repeating: 0, count: 33))) } == .malformed)
        let body = serverHelloBody(extensions: [ext(43, u16(0x0304))])
        for length in 0..<body.count where length != serverHelloBody(extensions: nil).count {
            let cut = Array(body[0..<length])
            #expect(errorCode { () throws(DecodeError) in try parseServerHello(cut) } == .truncated, "cut at \(length)")
        }
        var limits = TLSLimits()
        limits.maxExtensions = 2
        let three = [ext(1, []), ext(2, []), ext(3, [])]
        #expect(errorCode { () throws(DecodeError) in try parseServerHello(serverHelloBody(extensions: three), limits: limits) } == .tooLarge)
        #expect(errorCode { () throws(DecodeError) in try parseServerHello(serverHelloBody(extensions: Array(three.prefix(2))), limits: limits) } == nil)
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

    @Test func ecdheNamedGroup() {
        let ske = ServerKeyExchange(body: [3] + u16(29) + lp8([UInt8](repeating: 4, count: 32)) + u16(0x0804) + lp16([1, 2]))
        #expect(ske.ecdheNamedGroup?.rawValue == 29)
        #expect(ServerKeyExchange(body: [1] + u16(29) + lp8([1])).ecdheNamedGroup == nil)  // explicit prime curve
        #expect(ServerKeyExchange(body: [3, 0]).ecdheNamedGroup == nil)
        #expect(ServerKeyExchange(body: [3] + u16(23) + lp8([])).ecdheNamedGroup == nil)
        #expect(ServerKeyExchange(body: []).ecdheNamedGroup == nil)
    }

    @Test func dhPrimeBits() {
        func ske(_ prime: [UInt8]) -> ServerKeyExchange { ServerKeyExchange(body: lp16(prime) + lp16([2]) + lp16([5, 5]) + [0xaa]) }
        #expect(ske([0xff] + [UInt8](repeating: 0xff, count: 127)).dhPrimeBits == 1024)
        #expect(ske([0x00, 0x7f] + [UInt8](repeating: 0, count: 255)).dhPrimeBits == 2047)  // leading zero byte and bit not counted
        #expect(ske([0x01]).dhPrimeBits == 1)
        #expect(ske([0x00, 0x00]).dhPrimeBits == 0)
        #expect(ServerKeyExchange(body: lp16([0xff])).dhPrimeBits == nil)  // no g, Ys
        #expect(ServerKeyExchange(body: lp16([]) + lp16([2]) + lp16([5])).dhPrimeBits == nil)
        #expect(ServerKeyExchange(body: u16(300) + [1, 2]).dhPrimeBits == nil)
        // An ECDHE body is not mistaken for DH.
        #expect(ServerKeyExchange(body: [3] + u16(29) + lp8([UInt8](repeating: 4, count: 32))).dhPrimeBits == nil)
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
