import Preambles
import Testing

// MARK: - Dialogue harness

/// The first bytes of a TLS record from each side (what must come out of the preamble untouched).
let clientTLS: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]
let serverTLS: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]

func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One segment of a connection: who sent it and what.
struct Segment {
    var direction: PreambleSide
    var bytes: [UInt8]
    static func c(_ bytes: [UInt8]) -> Segment { Segment(direction: .initiator, bytes: bytes) }
    static func s(_ bytes: [UInt8]) -> Segment { Segment(direction: .responder, bytes: bytes) }
    static func c(_ text: String) -> Segment { c(ascii(text)) }
    static func s(_ text: String) -> Segment { s(ascii(text)) }
}

enum Feeding: CaseIterable {
    /// Each segment whole.
    case blast
    /// One byte at a time.
    case drip
    /// Segments of three bytes (splits land everywhere, lines and TLS headers included).
    case threes
    /// Pieces of 1 to 8 bytes, sizes drawn from a fixed seed (so a failure replays).
    case random
}

/// What a preamble run produced: the protocol, and per direction either the bytes handed to TLS
/// (everything from the verdict's offset on) or nil when the direction was given up.
struct Outcome {
    var machine = Preamble()
    var tls: [PreambleSide: [UInt8]] = [:]
    var gaveUp: Set<PreambleSide> = []
    var feeds = 0
}

func run(_ segments: [Segment], _ feeding: Feeding) -> Outcome {
    var outcome = Outcome()
    var rng = SplitMix(seed: 0x5eed_0f_5917)
    for segment in segments {
        let size =
            switch feeding {
            case .blast: max(1, segment.bytes.count)
            case .drip: 1
            case .threes: 3
            case .random: 0
            }
        var start = 0
        while start < segment.bytes.count {
            let step = size > 0 ? size : 1 + Int(rng.next() % 8)
            let piece = Array(segment.bytes[start..<min(start + step, segment.bytes.count)])
            start += step
            let direction = segment.direction
            if outcome.tls[direction] != nil {
                outcome.tls[direction, default: []] += piece
                continue
            }
            if outcome.gaveUp.contains(direction) { continue }
            outcome.feeds += 1
            let verdict = piece.withUnsafeBytes { outcome.machine.feed($0, from: direction) }
            switch verdict {
            case .pending: break
            case .notTLS: outcome.gaveUp.insert(direction)
            case .tls(let offset):
                #expect(offset >= 0 && offset <= piece.count)
                outcome.tls[direction] = Array(piece[min(offset, piece.count)...])
            }
        }
    }
    return outcome
}

/// Runs the dialogue every way it can be split and checks each direction got exactly its TLS bytes.
func expectUpgrade(
    _ segments: [Segment], _ expected: PreambleProtocol, startTLS: String?,
    client: PreambleSide = .initiator, sourceLocation: SourceLocation = #_sourceLocation
) {
    let server = client.other
    for feeding in Feeding.allCases {
        let outcome = run(segments, feeding)
        #expect(outcome.machine.detected == expected, "\(feeding)", sourceLocation: sourceLocation)
        #expect(outcome.machine.detected?.startTLSName == startTLS, sourceLocation: sourceLocation)
        #expect(outcome.machine.clientSide == client, "\(feeding)", sourceLocation: sourceLocation)
        #expect(outcome.tls[client] == clientTLS, "\(feeding): client", sourceLocation: sourceLocation)
        #expect(outcome.tls[server] == serverTLS, "\(feeding): server", sourceLocation: sourceLocation)
        #expect(outcome.gaveUp.isEmpty, "\(feeding)", sourceLocation: sourceLocation)
        // The offset is in stream bytes: the cleartext length of each direction.
        for direction in [client, server] {
            let cleartext = segments.filter { $0.direction == direction }.map(\.bytes.count).reduce(0, +)
                - (direction == client ? clientTLS.count : serverTLS.count)
            #expect(outcome.machine.tlsStreamOffset(direction) == cleartext, "\(feeding)", sourceLocation: sourceLocation)
        }
    }
}

/// Every feeding gives up on `direction` (and no direction starts TLS).
func expectNotTLS(
    _ segments: [Segment], givingUp direction: PreambleSide = .initiator,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for feeding in Feeding.allCases {
        let outcome = run(segments, feeding)
        #expect(outcome.gaveUp.contains(direction), "\(feeding)", sourceLocation: sourceLocation)
        #expect(outcome.tls.isEmpty, "\(feeding)", sourceLocation: sourceLocation)
    }
}

// MARK: - STARTTLS

@Suite struct StartTLSTests {
    /// The cleartext of Fixtures/pcap/starttls-smtp.pcap (openssl s_client -starttls smtp).
    @Test func smtp() {
        expectUpgrade(
            [
                .s("220 mail.example.test ESMTP tlsscope fixture\r\n"),
                .c("EHLO mail.example.com\r\n"),
                .s("250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                .c("STARTTLS\r\n"),
                .s("220 2.0.0 Ready to start TLS\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .smtp, startTLS: "smtp", client: .initiator)
    }

    @Test func smtpWithTLSInTheSameSegmentAsTheLine() {
        // A client that pipelines: the ClientHello right behind STARTTLS (and a multi-line banner).
        expectUpgrade(
            [
                .s("220-mx.example\r\n220 hello\r\n"),
                .c("ehlo x\r\n"),
                .s("250 STARTTLS\r\n"),
                .c(ascii("starttls\r\n") + clientTLS),
                .s(ascii("220 go ahead\r\n") + serverTLS),
            ], .smtp, startTLS: "smtp")
    }

    @Test func smtpBannerFromTheResponderWhenTheInitiatorIsUnknown() {
        // The flow table guessed the initiator wrong (no SYN): roles come from content.
        expectUpgrade(
            [
                .c("220 mx ESMTP\r\n"),
                .s("EHLO a\r\n"),
                .c("250 STARTTLS\r\n"),
                .s("STARTTLS\r\n"),
                .c("220 ok\r\n"),
                .s(clientTLS),
                .c(serverTLS),
            ], .smtp, startTLS: "smtp", client: .responder)
    }

    @Test func imap() {
        expectUpgrade(
            [
                .s("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
                .c(". CAPABILITY\r\n"),
                .s("* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n"),
                .c(". STARTTLS\r\n"),
                .s(". OK Begin TLS negotiation now\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .imap, startTLS: "imap")
    }

    @Test func pop3() {
        expectUpgrade(
            [
                .s("+OK POP3 ready\r\n"),
                .c("CAPA\r\n"),
                .s("+OK\r\nSTLS\r\n.\r\n"),
                .c("STLS\r\n"),
                .s("+OK Begin TLS negotiation\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .pop3, startTLS: "pop3")
    }

    @Test func ftp() {
        expectUpgrade(
            [
                .s("220 (vsFTPd 3.0.5)\r\n"),
                .c("AUTH TLS\r\n"),
                .s("234 Proceed with negotiation.\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .ftp, startTLS: "ftp")
    }

    @Test func ftpWithAnAnonymousBanner() {
        // "220 ready": SMTP or FTP; the client's AUTH TLS tells.
        expectUpgrade(
            [
                .s("220 ready\r\n"),
                .c("FEAT\r\n"),
                .s("211-Features:\r\n AUTH TLS\r\n211 End\r\n"),
                .c("AUTH TLS\r\n"),
                .s("234 AUTH TLS OK.\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .ftp, startTLS: "ftp")
    }

    @Test func xmpp() {
        // openssl s_client -starttls xmpp.
        expectUpgrade(
            [
                .c(
                    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='example.test' version='1.0'>"
                ),
                .s(
                    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='example.test' version='1.0'>"
                ),
                .s(
                    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
                ),
                .c("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                .s("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                .c(clientTLS),
                .s(serverTLS),
            ], .xmpp, startTLS: "xmpp")
    }

    /// LDAPMessage { messageID 1, extendedReq { requestName "1.3.6.1.4.1.1466.20037" } } as openssl sends it.
    static let ldapStartTLSRequest: [UInt8] =
        [0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16] + ascii("1.3.6.1.4.1.1466.20037")
    /// LDAPMessage { messageID 1, extendedResp { resultCode success, matchedDN "", diagnosticMessage "",
    /// responseName "1.3.6.1.4.1.1466.20037" } }.
    static let ldapStartTLSResponse: [UInt8] =
        [0x30, 0x24, 0x02, 0x01, 0x01, 0x78, 0x1f, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x8a, 0x16]
        + ascii("1.3.6.1.4.1.1466.20037")

    @Test func ldap() {
        expectUpgrade(
            [.c(Self.ldapStartTLSRequest), .s(Self.ldapStartTLSResponse), .c(clientTLS), .s(serverTLS)],
            .ldap, startTLS: "ldap")
    }

    @Test func ldapWithLongFormLengthsAndASearchFirst() {
        // A RootDSE search (SearchRequest [APPLICATION 3]) and its SearchResultDone, then StartTLS with
        // long-form lengths (0x81 n).
        let search: [UInt8] = [0x30, 0x81, 0x08, 0x02, 0x01, 0x01, 0x63, 0x03, 0x04, 0x01, 0x00]
        let searchDone: [UInt8] = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]
        let request: [UInt8] = [0x30, 0x81, 0x1e, 0x02, 0x01, 0x02, 0x77, 0x81, 0x18, 0x80, 0x16] + ascii("1.3.6.1.4.1.1466.20037")
        let response: [UInt8] = [0x30, 0x0c, 0x02, 0x01, 0x02, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]
        expectUpgrade(
            [.c(search), .s(searchDone), .c(request), .s(response), .c(clientTLS), .s(serverTLS)],
            .ldap, startTLS: "ldap")
    }

    @Test func ldapRefused() {
        // resultCode protocolError (2): the client goes on in clear (a bind), never TLS.
        let refused: [UInt8] = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00]
        let outcome = run([.c(Self.ldapStartTLSRequest), .s(refused), .s(refused)], .blast)
        #expect(outcome.tls.isEmpty)
        expectNotTLS([.c([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])])  // 2 GiB message: not waited for
        expectNotTLS([.c([0x30, 0x03, 0x04, 0x01, 0x00])])  // no messageID
    }

    @Test func postgres() {
        expectUpgrade(
            [.c([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]), .s("S"), .c(clientTLS), .s(serverTLS)],
            .postgres, startTLS: "postgres")
    }

    @Test func postgresAfterGSSENCRefused() {
        expectUpgrade(
            [
                .c([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x30]), .s("N"),
                .c([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]), .s("S"),
                .c(clientTLS), .s(serverTLS),
            ], .postgres, startTLS: "postgres")
    }

    @Test func postgresRefused() {
        // 'N': the client sends a plain StartupMessage (protocol 3.0): not TLS.
        expectNotTLS([
            .c([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]), .s("N"),
            .c([0x00, 0x00, 0x00, 0x10, 0x00, 0x03, 0x00, 0x00] + ascii("user\0pg\0\0")),
        ])
        // A plain StartupMessage first.
        expectNotTLS([.c([0x00, 0x00, 0x00, 0x10, 0x00, 0x03, 0x00, 0x00])])
    }
}

// MARK: - Proxies

@Suite struct ProxyPreambleTests {
    /// The cleartext of the JA4 reference capture https-connect.pcap.
    @Test func httpConnect() {
        expectUpgrade(
            [
                .c("CONNECT ts01-b.cloudsink.net:443 HTTP/1.0\r\nUser-Agent: CrowdStrike Falcon Sensor\r\n\r\n"),
                .s("HTTP/1.0 200 OK\r\nDate: Mon, 02 Sep 2019 18:56:53 GMT\r\nServer: XXX\r\n\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .httpConnect, startTLS: nil)
    }

    @Test func httpConnectAfterProxyAuthentication() {
        // 407 first: the client asks again on the same connection.
        expectUpgrade(
            [
                .c("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
                .s("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"),
                .c("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nProxy-Authorization: Basic eDp5\r\n\r\n"),
                .s("HTTP/1.1 200 Connection established\r\n\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .httpConnect, startTLS: nil)
    }

    /// The cleartext of socks-https-example.pcap (SOCKS4, no user id).
    @Test func socks4() {
        expectUpgrade(
            [
                .c([0x04, 0x01, 0x01, 0xbb, 0x5d, 0xb8, 0xd8, 0x77, 0x00]),
                .s([0x00, 0x5a, 0x99, 0xb4, 0x0a, 0xb4, 0x9c, 0xf9]),
                .c(clientTLS),
                .s(serverTLS),
            ], .socks4, startTLS: nil)
    }

    /// The cleartext of socks4-https.pcap (SOCKS4a: user id and host name).
    @Test func socks4a() {
        expectUpgrade(
            [
                .c([0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01] + ascii("fd7bcf7b5c9e1d\0login.live.com\0")),
                .s([0x00, 0x5a, 0x01, 0xbb, 0x83, 0xfd, 0x3d, 0x50]),
                .c(clientTLS),
                .s(serverTLS),
            ], .socks4, startTLS: nil)
    }

    @Test func socks5() {
        expectUpgrade(
            [
                .c([0x05, 0x01, 0x00]),
                .s([0x05, 0x00]),
                .c([0x05, 0x01, 0x00, 0x03, 0x0b] + ascii("example.com") + [0x01, 0xbb]),
                .s([0x05, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x9c, 0x40]),
                .c(clientTLS),
                .s(serverTLS),
            ], .socks5, startTLS: nil)
    }

    @Test func socks5WithPasswordAndIPv6() {
        expectUpgrade(
            [
                .c([0x05, 0x02, 0x00, 0x02]),
                .s([0x05, 0x02]),
                .c([0x01, 0x04] + ascii("user") + [0x04] + ascii("pass")),
                .s([0x01, 0x00]),
                .c([0x05, 0x01, 0x00, 0x04] + [UInt8](repeating: 0, count: 15) + [1, 0x01, 0xbb]),
                .s([0x05, 0x00, 0x00, 0x01, 10, 0, 0, 1, 0x9c, 0x40]),
                .c(clientTLS),
                .s(serverTLS),
            ], .socks5, startTLS: nil)
    }

    @Test func socksRefusals() {
        // SOCKS4 request rejected (0x5B).
        expectNotTLS(
            [.c([0x04, 0x01, 0x01, 0xbb, 1, 2, 3, 4, 0x00]), .s([0x00, 0x5b, 0, 0, 0, 0, 0, 0])],
            givingUp: .responder)
        // SOCKS5: no acceptable method.
        expectNotTLS([.c([0x05, 0x01, 0x02]), .s([0x05, 0xff])], givingUp: .responder)
        // SOCKS5: connection refused (REP 5).
        expectNotTLS(
            [
                .c([0x05, 0x01, 0x00]), .s([0x05, 0x00]),
                .c([0x05, 0x01, 0x00, 0x01, 1, 2, 3, 4, 0x01, 0xbb]),
                .s([0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0]),
            ], givingUp: .responder)
        // SOCKS5: bad address type, zero methods, wrong command byte.
        expectNotTLS([.c([0x05, 0x01, 0x00]), .c([0x05, 0x01, 0x00, 0x09, 1, 2])])
        expectNotTLS([.c([0x05, 0x00])])
        expectNotTLS([.c([0x04, 0x07, 0x01, 0xbb])])
        // Cleartext after a granted SOCKS tunnel: not TLS inside.
        expectNotTLS([.c([0x04, 0x01, 0x00, 0x50, 1, 2, 3, 4, 0x00]), .c("GET / HTTP/1.1\r\n")])
    }
}

// MARK: - Plaintext that never upgrades, hostile input

@Suite struct PreambleGiveUpTests {
    @Test func httpGetStopsAtTheFirstLine() {
        let outcome = run([.c("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")], .blast)
        #expect(outcome.gaveUp == [.initiator])
        #expect(outcome.machine.detected == nil)
        expectNotTLS([.c("GET / HTTP/1.1\r\n")])
        expectNotTLS([.c("POST /x HTTP/1.1\r\n")])
        expectNotTLS([.c("SSH-2.0-OpenSSH_9.6\r\n")])
        // Markup that is not an XMPP stream (an HTML page met mid-stream).
        expectNotTLS([.c("<!DOCTYPE html><html><head>")])
    }

    @Test func plaintextSessionsStopWhenTheyShowNoUpgrade() {
        expectNotTLS([.s("220 mx ESMTP\r\n"), .c("EHLO a\r\n"), .s("250 ok\r\n"), .c("MAIL FROM:<a@b>\r\n")])
        expectNotTLS([.s("* OK ready\r\n"), .c("a1 LOGIN user pass\r\n")])
        expectNotTLS([.s("+OK ready\r\n"), .c("USER bob\r\n")])
        expectNotTLS([.s("220 FTP ready\r\n"), .c("USER anonymous\r\n")])
        // The IMAP server that is pre-authenticated cannot STARTTLS.
        expectNotTLS([.s("* PREAUTH welcome\r\n")], givingUp: .responder)
        // A proxy's HTTP answer that is not HTTP.
        expectNotTLS([.c("CONNECT a:443 HTTP/1.1\r\n\r\n"), .s("hello\r\n")], givingUp: .responder)
        // XMPP refused.
        expectNotTLS(
            [.c("<stream:stream>"), .s("<stream:stream>"), .c("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
             .s("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")], givingUp: .responder)
    }

    @Test func refusedSTARTTLSDisarms() {
        // 454: the client goes on in clear; its next bytes are a command, not TLS.
        let outcome = run(
            [
                .s("220 mx ESMTP\r\n"), .c("EHLO a\r\n"), .s("250 STARTTLS\r\n"), .c("STARTTLS\r\n"),
                .s("454 TLS not available\r\n"), .c("QUIT\r\n"),
            ], .blast)
        #expect(outcome.gaveUp.contains(.initiator))
        #expect(outcome.tls.isEmpty)
    }

    @Test func binaryJunkIsNotTLS() {
        expectNotTLS([.c([0x01, 0x02, 0x03])])
        expectNotTLS([.c([0x0b, 0x00])])
        expectNotTLS([.c("220 ok\u{1}\r\n")], givingUp: .initiator)  // control byte in a line
    }

    @Test func anEndlessLineIsNotWaitedFor() {
        var machine = Preamble()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        var verdicts: [PreambleVerdict] = []
        for _ in 0..<20 {
            verdicts.append(chunk.withUnsafeBytes { machine.feed($0, from: .initiator) })
        }
        // Given up once the line is longer than maxMessage, and then for good.
        let first = verdicts.firstIndex(of: .notTLS)
        #expect(first != nil && first! <= Preamble.maxMessage / 1000 + 1)
        #expect(verdicts.suffix(from: first ?? 0).allSatisfy { $0 == .notTLS })
    }

    /// Found by the `preambles` fuzz target: a SOCKS4 request longer than maxMessage (a 4,093-byte user
    /// id) was given up when it came in pieces but taken, and TLS followed, when it came in one segment.
    /// The outcome must not depend on segmentation: a message longer than maxMessage is never taken.
    @Test func aMessageLongerThanMaxMessageIsGivenUpHoweverItArrives() {
        let userID = [UInt8](repeating: UInt8(ascii: "u"), count: Preamble.maxMessage - 3)
        let request: [UInt8] = [0x04, 0x01, 0x01, 0xbb, 10, 0, 0, 1] + userID + [0]
        #expect(request.count > Preamble.maxMessage)
        expectNotTLS([.c(request + clientTLS)])
    }

    @Test func cleartextIsCappedPerDirection() {
        // Well-formed header lines forever: CONNECT with 1 MiB of headers is given up at the cap.
        var machine = Preamble()
        _ = ascii("CONNECT a:443 HTTP/1.1\r\n").withUnsafeBytes { machine.feed($0, from: .initiator) }
        let header = ascii("X-Padding: " + String(repeating: "p", count: 100) + "\r\n")
        var taken = 0
        var verdict = PreambleVerdict.pending
        while verdict == .pending && taken < 1 << 20 {
            verdict = header.withUnsafeBytes { machine.feed($0, from: .initiator) }
            taken += header.count
        }
        #expect(verdict == .notTLS)
        #expect(taken <= Preamble.maxCleartext + header.count)
        // Same for a huge single segment.
        var other = Preamble()
        let big = ascii("+OK hi\r\n") + [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        #expect(big.withUnsafeBytes { other.feed($0, from: .responder) } == .notTLS)
    }

    @Test func socksUserIDWithoutEndIsNotWaitedFor() {
        var machine = Preamble()
        let request: [UInt8] = [0x04, 0x01, 0x01, 0xbb, 1, 2, 3, 4] + [UInt8](repeating: 0x41, count: 5000)
        #expect(request.withUnsafeBytes { machine.feed($0, from: .initiator) } == .notTLS)
    }

    @Test func emptyFeedsChangeNothing() {
        var machine = Preamble()
        let empty: [UInt8] = []
        #expect(empty.withUnsafeBytes { machine.feed($0, from: .initiator) } == .pending)
        #expect(machine.detected == nil)
    }

    /// Seeded random dialogues: protocol openings followed by random bytes, in random-sized pieces
    /// from both sides. Nothing may trap, every TLS offset lies inside the piece fed, and the
    /// cleartext looked at never exceeds the cap.
    @Test func randomDialoguesNeverTrap() {
        var rng = SplitMix(seed: 0x7153_c09e)
        let openings: [[UInt8]] = [
            [0x04, 0x01], [0x05, 0x01, 0x00], [0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16], [0x30, 0x81],
            ascii("<stream:stream>"), ascii("220 x\r\n"), ascii("* OK\r\n"), ascii("+OK\r\n"),
            ascii("CONNECT a HTTP/1.1\r\n"), [0x16, 0x03, 0x01], [],
            ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ascii("PROXY TCP6 ::1 "), ascii("PROXY UNKNOWN"),
            [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21],
            ascii(":irc NOTICE * :x\r\n"), ascii("STARTTLS\r\n"), ascii("200 news\r\n"),
            [0x4a, 0x00, 0x00, 0x00, 0x0a], [0x20, 0x00, 0x00, 0x01], [0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0],
            ascii("\"IMPLEMENTATION\" \"x\"\r\nOK\r\n"),
        ]
        for _ in 0..<400 {
            var machine = Preamble()
            var fed: [PreambleSide: Int] = [:]
            var done: Set<PreambleSide> = []
            for round in 0..<12 {
                let direction: PreambleSide = rng.next() % 2 == 0 ? .initiator : .responder
                var piece = round < 2 ? openings[Int(rng.next() % UInt64(openings.count))] : []
                let extra = Int(rng.next() % 64)
                for _ in 0..<extra {
                    // Mostly text with line ends and tag ends, sometimes any byte.
                    let roll = rng.next() % 10
                    piece.append(
                        roll < 6 ? UInt8(0x20 + rng.next() % 0x5f) : roll == 6 ? 0x0a : roll == 7 ? 0x3e
                            : UInt8(truncatingIfNeeded: rng.next()))
                }
                if done.contains(direction) { continue }
                let verdict = piece.withUnsafeBytes { machine.feed($0, from: direction) }
                fed[direction, default: 0] += piece.count
                switch verdict {
                case .pending: break
                case .notTLS: done.insert(direction)
                case .tls(let offset):
                    done.insert(direction)
                    #expect(offset >= 0 && offset < max(1, piece.count))
                    #expect((machine.tlsStreamOffset(direction) ?? -1) <= fed[direction, default: 0])
                }
            }
        }
    }

    /// Mutations of every dialogue: each byte replaced by a few values, and every truncation. Nothing
    /// may trap; whatever is reported as TLS must be a suffix of what was fed.
    @Test func mutatedDialoguesNeverTrap() {
        let dialogues: [[UInt8]] = [
            [0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01] + ascii("u\0host\0") + clientTLS,
            [0x05, 0x02, 0x00, 0x02, 0x01, 0x01, 0x41, 0x01, 0x42, 0x05, 0x01, 0x00, 0x03, 0x01, 0x41, 0x01, 0xbb]
                + clientTLS,
            StartTLSTests.ldapStartTLSRequest + clientTLS,
            [0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f] + clientTLS,
            ascii("CONNECT a:1 HTTP/1.1\r\n\r\n") + clientTLS,
            ascii("<stream:stream to='a'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") + clientTLS,
            ascii("PROXY TCP6 2001:db8::1 1.2.3.4 1 2\r\n") + clientTLS,
            proxyV2(proxyV2IPv4Block + proxyTLVs) + clientTLS,
            proxyV2(family: 0x21, [UInt8](repeating: 1, count: 36)) + ascii("STARTTLS\r\n") + clientTLS,
            mysqlSSLRequest + clientTLS,
            rdpConnectionRequest(protocols: 3) + clientTLS,
            ascii("CAP LS\r\nSTARTTLS\r\n") + clientTLS,
            mysqlGreeting() + serverTLS,
            rdpConnectionConfirm(selected: 2) + serverTLS,
        ]
        for dialogue in dialogues {
            for index in dialogue.indices {
                for value: UInt8 in [0x00, 0x01, 0x05, 0x0a, 0x0d, 0x16, 0x20, 0x30, 0x3a, 0x3e, 0x7f, 0x80, 0xff] {
                    var mutated = dialogue
                    mutated[index] = value
                    for cut in [mutated.count, index + 1] {
                        let bytes = Array(mutated.prefix(cut))
                        for feeding in [Feeding.blast, .drip] {
                            let outcome = run([.c(bytes)], feeding)
                            if let tls = outcome.tls[.initiator] {
                                #expect(bytes.count >= tls.count)
                                #expect(Array(bytes.suffix(tls.count)) == tls)
                                #expect(tls.isEmpty || Preamble.beginsTLS(tls[0]))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so failures replay.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
