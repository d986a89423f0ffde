import Testing
import WireCursor

@testable import TLSWire

@Suite struct ClientHelloTests {
    // MARK: - Hand-built

    static let fullExtensions: [[UInt8]] = [
        ext(0x0a0a, []),  // GREASE, empty
        ext(0, lp16([0] + lp16(Array("www.example.com".utf8)))),
        ext(16, lp16(lp8(Array("h2".utf8)) + lp8(Array("http/1.1".utf8)))),
        ext(43, lp8(u16s([0x2a2a, 0x0304, 0x7f17, 0x0303]))),
        ext(10, lp16(u16s([0x1a1a, 29, 23, 0x11ec]))),
        ext(11, lp8([0, 1, 2])),
        ext(13, lp16(u16s([0x0403, 0x0804, 0x0401]))),
        ext(51, lp16(u16(0x1a1a) + lp16([0]) + u16(29) + lp16([UInt8](repeating: 9, count: 32)))),
        ext(45, lp8([1])),
        ext(0xfe0d, [0, 0, 1, 0, 1, 3, 0, 0]),
        ext(21, [UInt8](repeating: 0, count: 5)),
    ]

    @Test func everyDecodedField() throws {
        let body = clientHelloBody(sessionID: [UInt8](repeating: 1, count: 32), suites: [0x2a2a, 0x1301, 0x1302, 0xc02f], extensions: Self.fullExtensions)
        let got = streamEvents(record(22, handshake(1, body), version: 0x0301))
        #expect(got.count == 1)
        let hello = try #require(got.first?.clientHello)
        #expect(hello.version == .tls12)
        #expect(hello.random == randomA)
        #expect(hello.sessionID == [UInt8](repeating: 1, count: 32))
        #expect(hello.cipherSuites.map(\.rawValue) == [0x2a2a, 0x1301, 0x1302, 0xc02f])
        #expect(hello.cipherSuites.first?.isGREASE == true)
        #expect(hello.compressionMethods == [0])
        #expect(hello.extensions.map(\.type.rawValue) == [0x0a0a, 0, 16, 43, 10, 11, 13, 51, 45, 0xfe0d, 21])
        #expect(hello.extensions[10].length == 5)
        #expect(hello.extensions[10].body == [])  // decoded extensions' bytes are not kept
        #expect(hello.serverName == "www.example.com")
        #expect(hello.serverNameBytes == Array("www.example.com".utf8))
        #expect(hello.alpn == [Array("h2".utf8), Array("http/1.1".utf8)])
        #expect(hello.supportedVersions.map(\.rawValue) == [0x2a2a, 0x0304, 0x7f17, 0x0303])
        #expect(hello.supportedVersions[2].tls13Draft == 23)
        #expect(hello.supportedGroups.map(\.rawValue) == [0x1a1a, 29, 23, 0x11ec])
        #expect(hello.ecPointFormats == [0, 1, 2])
        #expect(hello.signatureAlgorithms.map(\.rawValue) == [0x0403, 0x0804, 0x0401])
        #expect(hello.keyShareGroups.map(\.rawValue) == [0x1a1a, 29])
        #expect(hello.pskModes == [1])
        #expect(hello.hasECH)
        #expect(!hello.isSSLv2Format)
    }

    @Test func noExtensionsBlock() throws {
        let hello = try parseClientHello(clientHelloBody(version: 0x0300, suites: [0x000a], extensions: nil))
        #expect(hello.version == .ssl3)
        #expect(hello.extensions.isEmpty)
        #expect(hello.serverName == nil)
        #expect(!hello.hasECH)
        // An empty extensions block is fine too.
        #expect(try parseClientHello(clientHelloBody(extensions: [])).extensions.isEmpty)
    }

    @Test func nonUTF8HostNameKeepsBytesOnly() throws {
        let raw: [UInt8] = [0x61, 0xff, 0xfe, 0x62]
        let hello = try parseClientHello(clientHelloBody(extensions: [ext(0, lp16([0] + lp16(raw)))]))
        #expect(hello.serverName == nil)
        #expect(hello.serverNameBytes == raw)
        // IP literals are kept as sent; a later host_name entry does not replace the first.
        let ip = try parseClientHello(clientHelloBody(extensions: [
            ext(0, lp16([0] + lp16(Array("192.0.2.1".utf8)) + [0] + lp16(Array("b".utf8)))),
        ]))
        #expect(ip.serverName == "192.0.2.1")
    }

    @Test func firstOccurrenceOfADuplicateExtensionWins() throws {
        let hello = try parseClientHello(clientHelloBody(extensions: [ext(11, lp8([0])), ext(11, lp8([1, 2]))]))
        #expect(hello.ecPointFormats == [0])
        #expect(hello.extensions.count == 2)
    }

    /// Each malformed body is kept raw and decodes to nothing, and the hello still parses.
    @Test(arguments: [
        ext(0, lp16([0] + u16(50) + [0x61])),  // host name length overruns its list (confused deputy)
        ext(0, lp16([0] + lp16([]))),  // empty host name
        ext(0, lp16([0] + lp16([0x61])) + [0]),  // trailing byte after the list
        ext(16, lp16([0])),  // empty protocol name
        ext(16, lp16(lp8([0x68, 0x32])) + [1]),  // trailing
        ext(16, u16(9) + lp8([0x68])),  // list length overruns the extension
        ext(43, lp8([3, 4, 3])),  // odd versions list
        ext(43, [4, 3, 4]),  // u8 length overruns
        ext(10, lp16([0, 29, 0])),  // odd groups list
        ext(11, [5, 0]),  // u8 length overruns
        ext(13, u16(4) + [4, 3]),
        ext(51, lp16(u16(29) + u16(40) + [1, 2])),  // key_exchange overruns its entry
        ext(51, lp16(u16(29))),  // entry without key_exchange
        ext(45, []),
    ])
    func malformedExtensionIsListedNotDecoded(bad: [UInt8]) throws {
        let hello = try parseClientHello(clientHelloBody(extensions: [bad, ext(23, [])]))
        #expect(hello.extensions.count == 2)
        #expect(hello.extensions[0].length == bad.count - 4)
        #expect(hello.serverName == nil)
        #expect(hello.serverNameBytes == nil)
        #expect(hello.alpn.isEmpty)
        #expect(hello.supportedVersions.isEmpty)
        #expect(hello.supportedGroups.isEmpty)
        #expect(hello.ecPointFormats.isEmpty)
        #expect(hello.signatureAlgorithms.isEmpty)
        #expect(hello.keyShareGroups.isEmpty)
        #expect(hello.pskModes.isEmpty)
    }

    @Test func extensionCapJustUnderAndOver() throws {
        var limits = TLSLimits()
        limits.maxExtensions = 10
        let ten = (0..<10).map { ext(0x1000 + $0, []) }
        #expect(try parseClientHello(clientHelloBody(extensions: ten), limits: limits).extensions.count == 10)
        #expect(try parseClientHello(clientHelloBody(extensions: ten), limits: limits).truncatedLists.isEmpty)
        // Over the cap: the first ten kept (and decoded), the rest walked, the list flagged.
        let eleven = try parseClientHello(clientHelloBody(extensions: ten + [ext(0, lp16([0] + lp16(Array("x".utf8))))]), limits: limits)
        #expect(eleven.extensions.count == 10)
        #expect(eleven.serverName == nil)  // the 11th (server_name) was not decoded either
        #expect(eleven.truncatedLists == .extensions)
        // Through the stream parser too.
        let got = streamEvents(record(22, handshake(1, clientHelloBody(extensions: ten + [ext(1, [])]))), limits: limits)
        #expect(got.first?.clientHello?.truncatedLists == .extensions)
        // The default cap is 256; the structure past it must still hold.
        let many = (0..<257).map { ext($0 + 0x3000, []) }
        #expect(try parseClientHello(clientHelloBody(extensions: many)).extensions.count == 256)
        #expect(try parseClientHello(clientHelloBody(extensions: Array(many.dropLast()))).truncatedLists.isEmpty)
        var broken = clientHelloBody(extensions: many)
        broken.removeLast()
        #expect(errorCode { () throws(DecodeError) in try parseClientHello(broken) } == .truncated)
    }

    @Test func outerStructureErrors() {
        // session id longer than 32
        #expect(errorCode { () throws(DecodeError) in try parseClientHello(clientHelloBody(sessionID: [UInt8](repeating: 0, count: 33))) } == .malformed)
        // odd cipher_suites length
        var odd = u16(0x0303) + randomA + lp8([]) + lp16([0x13, 0x01, 0x13]) + lp8([0])
        #expect(errorCode { () throws(DecodeError) in try parseClientHello(odd) } == .malformed)
        odd = clientHelloBody(extensions: [ext(23, [])])
        // extensions block length says 2 more bytes than there are
        odd[odd.count - 5] &+= 2
        #expect(errorCode { () throws(DecodeError) in try parseClientHello(odd) } == .truncated)
        // extension body length overruns the extensions block
        let overrun = clientHelloBody(extensions: nil) + lp16(u16(0) + u16(10) + [0, 0])
        #expect(errorCode { () throws(DecodeError) in try parseClientHello(overrun) } == .truncated)
    }

    @Test func truncatedAtEveryLengthStopsCleanly() {
        // A handshake header that promises exactly the truncated body: the record is complete, the
        // ClientHello inside is not. Every cut must stop the stream with a DecodeError, never trap.
        let body = clientHelloBody(sessionID: [7, 7], extensions: Self.fullExtensions)
        for length in 0..<body.count {
            let cut = Array(body[0..<length])
            let input = record(22, handshake(1, cut))
            let got = events(input, pieces: [input.count]).events
            // Cutting exactly at the end of compression methods leaves a valid extension-less hello.
            if length == clientHelloBody(sessionID: [7, 7], extensions: nil).count {
                #expect(got.first?.clientHello != nil)
            } else {
                #expect(got.count == 1, "cut at \(length)")
                #expect(got.first?.stopCode == .truncated || got.first?.stopCode == .malformed, "cut at \(length)")
            }
        }
    }

    @Test func streamSplitsOfHandBuiltHello() {
        let body = clientHelloBody(sessionID: [1, 2, 3], extensions: Self.fullExtensions)
        let got = streamEvents(record(22, handshake(1, body)) + record(21, [2, 10]), randomSplits: 16)
        #expect(got.count == 2)
    }

    // MARK: - SSL 2.0-compatible hello

    /// RFC 5246 E.2: 2-byte header (high bit), msg_type 1, version, lengths, 3-byte cipher specs, challenge.
    static func sslv2Hello(version: Int = 0x0301, specs: [[UInt8]], sessionID: [UInt8] = [], challenge: [UInt8]) -> [UInt8] {
        let message = [1] + u16(version) + u16(specs.count * 3) + u16(sessionID.count) + u16(challenge.count)
            + specs.flatMap { $0 } + sessionID + challenge
        return [UInt8(0x80 | message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
    }

    @Test func sslv2CompatibleClientHello() throws {
        let challenge = [UInt8](repeating: 0x5c, count: 16)
        let input = Self.sslv2Hello(specs: [[0, 0x00, 0x2f], [0x07, 0x00, 0xc0], [0, 0x00, 0x0a], [0, 0x00, 0xff]], challenge: challenge)
            + record(22, handshake(16, [1, 2]))
        let got = streamEvents(input)
        #expect(got.count == 2)
        let hello = try #require(got.first?.clientHello)
        #expect(hello.isSSLv2Format)
        #expect(hello.version == .tls10)
        #expect(hello.cipherSuites.map(\.rawValue) == [0x002f, 0x000a, 0x00ff])
        #expect(hello.sslv2CipherSpecs == [0x00002f, 0x0700c0, 0x00000a, 0x0000ff])
        #expect(hello.random == [UInt8](repeating: 0, count: 16) + challenge)
        #expect(hello.extensions.isEmpty)
        #expect(got[1] == .handshake(.other(.clientKeyExchange, length: 2)))
    }

    @Test func sslv2Malformed() {
        // cipher_spec_length not a multiple of 3
        var bad = Self.sslv2Hello(specs: [[0, 0, 0x2f]], challenge: [UInt8](repeating: 1, count: 16))
        bad[6] = 0  // cipher_spec_length low byte = 0 -> lengths no longer add up
        #expect(streamEvents(bad).map(\.stopCode) == [.malformed])
        // SSL 2.0 ServerHello (msg type 4) shorter than its fixed fields.
        #expect(streamEvents([0x80, 0x0a, 4, 0, 1, 0, 2]).map(\.stopCode) == [.malformed])
        // ... or whose lengths overrun the record.
        #expect(streamEvents([0x80, 0x0b, 4, 0, 1, 0, 2, 0, 9, 0, 0, 0, 0]).map(\.stopCode) == [.truncated])
        // Other SSL 2.0 message types: not a hello.
        #expect(streamEvents([0x80, 0x20, 2, 0, 1]).map(\.stopCode) == [.malformed])
        // An SSL 2.0 record after the first one is not TLS.
        let hello = Self.sslv2Hello(specs: [[0, 0, 0x2f]], challenge: [UInt8](repeating: 1, count: 16))
        #expect(streamEvents(hello + hello).last?.stopCode == .malformed)
        // Over the handshake cap.
        var limits = TLSLimits()
        limits.maxHandshakeMessage = 20
        #expect(streamEvents(hello, limits: limits).map(\.stopCode) == [.tooLarge])
    }

    // MARK: - Real ClientHellos captured here (see CapturedStreams.swift)

    @Test func opensslClientHello() throws {
        let got = streamEvents(Captured.opensslClientHelloTLS13)
        #expect(got.count == 1)
        let hello = try #require(got.first?.clientHello)
        #expect(hello.version == .tls12)
        #expect(hello.sessionID.count == 32)
        #expect(hello.cipherSuites.count == 31)
        #expect(hello.cipherSuites.prefix(3).map(\.rawValue) == [0x1302, 0x1303, 0x1301])
        #expect(hello.cipherSuites.last?.rawValue == 0x00ff)
        #expect(hello.extensions.map(\.type.rawValue) == [0, 11, 10, 35, 16, 22, 23, 13, 43, 45, 51])
        #expect(hello.serverName == "example.com")
        #expect(hello.alpn == [Array("h2".utf8), Array("http/1.1".utf8)])
        #expect(hello.supportedVersions.map(\.rawValue) == [0x0304, 0x0303, 0x0302, 0x0301])
        #expect(hello.supportedGroups.map(\.rawValue) == [0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104])
        #expect(hello.keyShareGroups.map(\.rawValue) == [29])
        #expect(hello.signatureAlgorithms.count == 20)
        #expect(hello.signatureAlgorithms.first?.rawValue == 0x0403)
        #expect(hello.ecPointFormats == [0, 1, 2])
        #expect(hello.pskModes == [1])
        #expect(!hello.hasECH)
    }

    @Test func curlClientHello() throws {
        let got = streamEvents(Captured.curlClientHello)
        let hello = try #require(got.first?.clientHello)
        #expect(got.count == 1)
        #expect(hello.serverName == "localhost")
        #expect(hello.extensions.map(\.type.rawValue) == [0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21])
        #expect(hello.alpn == [Array("http/1.1".utf8)])
        #expect(hello.keyShareGroups.map(\.rawValue) == [29])
        #expect(hello.cipherSuites.count == 31)
    }

    @Test func gnutlsClientHello() throws {
        let got = streamEvents(Captured.gnutlsClientHello)
        let hello = try #require(got.first?.clientHello)
        #expect(hello.serverName == "localhost")
        #expect(hello.extensions.map(\.type.rawValue) == [5, 10, 11, 13, 22, 23, 35, 51, 43, 65281, 0, 45, 28])
        #expect(hello.cipherSuites.count == 29)
        #expect(hello.cipherSuites.prefix(4).map(\.rawValue) == [0x1302, 0x1303, 0x1301, 0x1304])
        #expect(hello.keyShareGroups.map(\.rawValue) == [23, 29])
        #expect(hello.supportedGroups.map(\.rawValue) == [0x17, 0x18, 0x19, 0x1d, 0x1e, 0x100, 0x101, 0x102, 0x103, 0x104])
        #expect(hello.ecPointFormats == [0])
        #expect(hello.signatureAlgorithms.count == 16)
        #expect(hello.signatureAlgorithms.last?.rawValue == 0x0203)
        #expect(hello.alpn.isEmpty)
    }

    @Test(arguments: [Captured.opensslClientHelloTLS13, Captured.curlClientHello, Captured.gnutlsClientHello])
    func realHellosTruncatedAtEveryLength(input: [UInt8]) {
        // Stream prefixes: nothing yet. Declared-complete but cut bodies: one stop, never a trap.
        for length in stride(from: 0, to: input.count, by: 1) {
            #expect(events(Array(input[0..<length]), pieces: [length]).events.isEmpty)
        }
        let body = Array(input[9...])  // after record header (5) and handshake header (4)
        for length in 0..<body.count {
            let got = events(record(22, handshake(1, Array(body[0..<length]))), pieces: [1 << 20]).events
            #expect(got.count == 1)
            if let code = got.first?.stopCode { #expect(code == .truncated || code == .malformed) }
        }
    }
}
