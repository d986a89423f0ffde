import Preambles
import Testing

// MARK: - Builders

func be16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }

let proxyV2Signature: [UInt8] = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]

/// A PROXY v2 header: signature, version/command, family/transport, length, block.
func proxyV2(command: UInt8 = 0x21, family: UInt8 = 0x11, _ block: [UInt8]) -> [UInt8] {
    proxyV2Signature + [command, family] + be16(block.count) + block
}

/// TLVs a load balancer adds: ALPN "h2", AUTHORITY "example.com", a NOOP for padding.
let proxyTLVs: [UInt8] =
    [0x01] + be16(2) + ascii("h2") + [0x02] + be16(11) + ascii("example.com") + [0x04] + be16(3) + [0, 0, 0]

/// 192.0.2.1:51000 → 198.51.100.2:443.
let proxyV2IPv4Block: [UInt8] = [192, 0, 2, 1, 198, 51, 100, 2] + be16(51000) + be16(443)

let originalClient = ProxyEndpoint(address: ProxyAddress(ipv4: 0xc000_0201), port: 51000)
let proxiedServer = ProxyEndpoint(address: ProxyAddress(ipv4: 0xc633_6402), port: 443)

/// Runs every feeding and checks the PROXY header the machine kept.
func expectProxyHeader(
    _ segments: [Segment], _ expected: ProxyHeader?, sourceLocation: SourceLocation = #_sourceLocation
) {
    for feeding in Feeding.allCases {
        #expect(run(segments, feeding).machine.proxyHeader == expected, "\(feeding)", sourceLocation: sourceLocation)
    }
}

// MARK: - PROXY protocol

@Suite struct ProxyProtocolTests {
    static let v1 = "PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\r\n"

    @Test func version1BeforeTheClientHello() {
        let segments: [Segment] = [.c(Self.v1), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(segments, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            segments,
            ProxyHeader(version: 1, command: .proxy, transport: .stream, source: originalClient, destination: proxiedServer))
        // Header and hello in one segment, as a load balancer writes them.
        expectUpgrade([.c(ascii(Self.v1) + clientTLS), .s(serverTLS)], .proxyProtocol, startTLS: nil)
    }

    @Test func version1WithIPv6AndUnknown() {
        let segments: [Segment] = [.c("PROXY TCP6 2001:db8::1 ::ffff:198.51.100.2 65535 0\r\n"), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(segments, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            segments,
            ProxyHeader(
                version: 1, command: .proxy, transport: .stream,
                source: ProxyEndpoint(address: ProxyAddress(ipv6High: 0x2001_0db8_0000_0000, low: 1), port: 65535),
                destination: ProxyEndpoint(address: ProxyAddress(ipv6High: 0, low: 0xffff_c633_6402), port: 0)))
        // UNKNOWN: whatever follows on the line is ignored, and no address is known.
        let unknown: [Segment] = [.c("PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 1 2\r\n"), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(unknown, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            unknown, ProxyHeader(version: 1, command: .proxy, transport: .unspecified, source: nil, destination: nil))
    }

    @Test func version1AddressForms() {
        // Full, compressed at either end, embedded IPv4; each as the source of a TCP6 line.
        let cases: [(String, UInt64, UInt64)] = [
            ("1:2:3:4:5:6:7:8", 0x0001_0002_0003_0004, 0x0005_0006_0007_0008),
            ("::", 0, 0),
            ("::1", 0, 1),
            ("fe80::", 0xfe80_0000_0000_0000, 0),
            ("FE80::a:B", 0xfe80_0000_0000_0000, 0x0000_0000_000a_000b),
            ("1:2:3:4:5:6:1.2.3.4", 0x0001_0002_0003_0004, 0x0005_0006_0102_0304),
        ]
        for (text, high, low) in cases {
            let outcome = run([.c("PROXY TCP6 \(text) ::1 1 2\r\n"), .c(clientTLS)], .blast)
            #expect(outcome.machine.proxyHeader?.source?.address == ProxyAddress(ipv6High: high, low: low), "\(text)")
        }
    }

    @Test func version1Refusals() {
        let malformed = [
            "PROXY TCP4 192.0.2.256 198.51.100.2 51000 443\r\n",  // octet past 255
            "PROXY TCP4 192.0.2.1 198.51.100.2 51000 65536\r\n",  // port past 65535
            "PROXY TCP4 192.0.2.1 198.51.100.2 51000\r\n",  // a field missing
            "PROXY TCP4 192.0.2.1 198.51.100.2 51000 443 1\r\n",  // a field too many
            "PROXY TCP4  192.0.2.1 198.51.100.2 51000 443\r\n",  // two spaces
            "PROXY TCP4 192.0.2.1 198.51.100.2 51000 443 \r\n",  // trailing space
            "PROXY TCP4 2001:db8::1 198.51.100.2 51000 443\r\n",  // IPv6 in TCP4
            "PROXY TCP6 1:::2 ::1 1 2\r\n",  // three colons
            "PROXY TCP6 1::2::3 ::1 1 2\r\n",  // two gaps
            "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",  // nine groups
            "PROXY TCP6 12345:: ::1 1 2\r\n",  // five hex digits
            "PROXY TCP6 1: ::1 1 2\r\n",  // trailing colon
            "PROXY TCP5 192.0.2.1 198.51.100.2 51000 443\r\n",  // unknown protocol
            "PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\n",  // LF without CR
            "PROXY \r\n",
        ]
        for line in malformed {
            expectNotTLS([.c(line), .c(clientTLS)], sourceLocation: #_sourceLocation)
        }
        // No line end within 107 bytes: not waited for.
        expectNotTLS([.c("PROXY UNKNOWN " + String(repeating: "x", count: 100))])
        // Just under the bound: taken.
        let longest = "PROXY UNKNOWN " + String(repeating: "x", count: ProxyHeader.maxTextLength - 16) + "\r\n"
        #expect(longest.utf8.count == ProxyHeader.maxTextLength)
        expectUpgrade([.c(longest), .c(clientTLS), .s(serverTLS)], .proxyProtocol, startTLS: nil)
        // A header then plaintext HTTP: the connection is not TLS.
        expectNotTLS([.c(Self.v1), .c("GET / HTTP/1.1\r\n\r\n")])
    }

    @Test func version2IPv4WithTLVs() {
        let header = proxyV2(proxyV2IPv4Block + proxyTLVs)
        let segments: [Segment] = [.c(header), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(segments, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            segments,
            ProxyHeader(version: 2, command: .proxy, transport: .stream, source: originalClient, destination: proxiedServer))
    }

    @Test func version2IPv6AndLocal() {
        let source = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x07]
        let destination = [UInt8](repeating: 0, count: 15) + [1]
        let segments: [Segment] = [
            .c(proxyV2(family: 0x21, source + destination + be16(40000) + be16(8443))), .c(clientTLS), .s(serverTLS),
        ]
        expectUpgrade(segments, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            segments,
            ProxyHeader(
                version: 2, command: .proxy, transport: .stream,
                source: ProxyEndpoint(address: ProxyAddress(ipv6High: 0x2001_0db8_0000_0000, low: 7), port: 40000),
                destination: ProxyEndpoint(address: ProxyAddress(ipv6High: 0, low: 1), port: 8443)))
        // LOCAL (a health check): the block is skipped whatever it holds, no address is kept.
        let local: [Segment] = [.c(proxyV2(command: 0x20, family: 0x00, [1, 2, 3])), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(local, .proxyProtocol, startTLS: nil)
        expectProxyHeader(local, ProxyHeader(version: 2, command: .local, transport: .unspecified, source: nil, destination: nil))
        // AF_UNSPEC with PROXY: whatever the block holds is ignored.
        let unspecified: [Segment] = [.c(proxyV2(family: 0x00, [0xff, 0xff])), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(unspecified, .proxyProtocol, startTLS: nil)
        expectProxyHeader(
            unspecified, ProxyHeader(version: 2, command: .proxy, transport: .unspecified, source: nil, destination: nil))
        // Unix sockets: addresses skipped, not kept.
        let unix: [Segment] = [.c(proxyV2(family: 0x31, [UInt8](repeating: 0x61, count: 216))), .c(clientTLS), .s(serverTLS)]
        expectUpgrade(unix, .proxyProtocol, startTLS: nil)
    }

    @Test func version2Refusals() {
        // Version 1 in the version nibble, an unknown command, family, or transport.
        expectNotTLS([.c(proxyV2(command: 0x11, proxyV2IPv4Block)), .c(clientTLS)])
        expectNotTLS([.c(proxyV2(command: 0x22, proxyV2IPv4Block)), .c(clientTLS)])
        expectNotTLS([.c(proxyV2(family: 0x41, proxyV2IPv4Block)), .c(clientTLS)])
        expectNotTLS([.c(proxyV2(family: 0x13, proxyV2IPv4Block)), .c(clientTLS)])
        // A block shorter than its addresses; a TLV running past the block.
        expectNotTLS([.c(proxyV2(Array(proxyV2IPv4Block.prefix(10)))), .c(clientTLS)])
        expectNotTLS([.c(proxyV2(proxyV2IPv4Block + [0x01] + be16(9) + ascii("h2"))), .c(clientTLS)])
        // A header longer than maxMessage is not waited for.
        var huge = proxyV2Signature + [0x21, 0x11] + be16(0xffff)
        huge += proxyV2IPv4Block + [UInt8](repeating: 0, count: 5000)
        expectNotTLS([.c(huge)])
        // The signature broken in its last byte: no protocol begins with CR.
        expectNotTLS([.c(Array(proxyV2Signature.dropLast()) + [0x0b, 0x21, 0x11, 0, 0])])
    }

    @Test func headerThenSTARTTLSDialogue() {
        // Postfix behind HAProxy: the header, then the server's banner and an ordinary STARTTLS.
        let segments: [Segment] = [
            .c(proxyV2(proxyV2IPv4Block)),
            .s("220 mx.example ESMTP\r\n"),
            .c("EHLO lb.example\r\n"),
            .s("250-mx.example\r\n250 STARTTLS\r\n"),
            .c("STARTTLS\r\n"),
            .s("220 2.0.0 Ready to start TLS\r\n"),
            .c(clientTLS),
            .s(serverTLS),
        ]
        expectUpgrade(segments, .smtp, startTLS: "smtp")
        expectProxyHeader(
            segments,
            ProxyHeader(version: 2, command: .proxy, transport: .stream, source: originalClient, destination: proxiedServer))
        // v1 in front of an IMAP dialogue, and in front of HTTP CONNECT.
        expectUpgrade(
            [
                .c(ProxyProtocolTests.v1), .s("* OK IMAP4rev1 ready\r\n"), .c("a STARTTLS\r\n"), .s("a OK go\r\n"),
                .c(clientTLS), .s(serverTLS),
            ], .imap, startTLS: "imap")
        expectUpgrade(
            [
                .c(ProxyProtocolTests.v1 + "CONNECT a:443 HTTP/1.1\r\n\r\n"), .s("HTTP/1.1 200 OK\r\n\r\n"),
                .c(clientTLS), .s(serverTLS),
            ], .httpConnect, startTLS: nil)
    }

    @Test func onlyOneHeaderAndOnlyFirst() {
        // A second PROXY line is not a header: an SMTP client command it does not know.
        let outcome = run(
            [.c(ProxyProtocolTests.v1), .c("PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n"), .c(clientTLS)], .blast)
        #expect(outcome.machine.proxyHeader?.source == originalClient)
        #expect(outcome.tls.isEmpty)
        // Mid-dialogue, "PROXY ..." is just a line.
        let late = run([.s("220 mx ESMTP\r\n"), .c("EHLO a\r\n"), .c(ProxyProtocolTests.v1)], .blast)
        #expect(late.machine.proxyHeader == nil)
    }
}
