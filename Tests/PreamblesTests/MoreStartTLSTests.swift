import Preambles
import Testing

// MARK: - Builders

func le16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }
func le32(_ value: Int) -> [UInt8] { le16(value) + le16(value >> 16) }

/// A MySQL packet: 3-byte little-endian length, sequence number, payload.
func mysqlPacket(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
    le16(payload.count) + [UInt8(truncatingIfNeeded: payload.count >> 16), sequence] + payload
}

/// The server's Initial Handshake (protocol 10) with the given low capability flags.
func mysqlGreeting(version: String = "8.0.36", capabilities: Int = 0xffff) -> [UInt8] {
    let payload: [UInt8] =
        [0x0a] + ascii(version) + [0] + le32(12) + [UInt8](repeating: 0x2a, count: 8) + [0]
        + le16(capabilities) + [0xff] + le16(2) + le16(0xdfff) + [21] + [UInt8](repeating: 0, count: 10)
        + [UInt8](repeating: 0x2b, count: 12) + [0] + ascii("caching_sha2_password") + [0]
    return mysqlPacket(0, payload)
}

/// SSLRequest: capability flags with CLIENT_SSL (0x0800), max packet size, character set, 23 zeros.
let mysqlSSLRequest = mysqlPacket(1, le32(0x01ff_ae8f) + le32(0x0100_0000) + [0xff] + [UInt8](repeating: 0, count: 23))

/// A HandshakeResponse41 without CLIENT_SSL: the login goes on in clear.
let mysqlPlainResponse = mysqlPacket(
    1, le32(0x01ff_a68f) + le32(0x0100_0000) + [0xff] + [UInt8](repeating: 0, count: 23) + ascii("root") + [0, 0])

/// An X.224 TPDU in a TPKT: version 3, reserved, 16-bit length, length indicator, the TPDU.
func tpkt(_ tpdu: [UInt8]) -> [UInt8] { [0x03, 0x00] + be16(4 + 1 + tpdu.count) + [UInt8(tpdu.count)] + tpdu }

/// Connection Request with mstsc's cookie and RDP_NEG_REQ for `protocols`.
func rdpConnectionRequest(protocols: Int, cookie: Bool = true) -> [UInt8] {
    tpkt([0xe0, 0, 0, 0, 0, 0] + (cookie ? ascii("Cookie: mstshash=alice\r\n") : []) + [0x01, 0x00] + le16(8) + le32(protocols))
}

/// Connection Confirm with RDP_NEG_RSP (type 2) or RDP_NEG_FAILURE (type 3).
func rdpConnectionConfirm(type: UInt8 = 2, selected: Int) -> [UInt8] {
    tpkt([0xd0, 0, 0, 0x12, 0x34, 0] + [type, 0x1f] + le16(8) + le32(selected))
}

// MARK: - IRC, NNTP

@Suite struct IRCAndNNTPTests {
    @Test func ircClientStartsWithSTARTTLS() {
        expectUpgrade(
            [
                .c("STARTTLS\r\n"),
                .s(":irc.example.net 670 * :STARTTLS successful, proceed with TLS handshake\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .irc, startTLS: "irc")
    }

    @Test func ircServerNoticesAndCapabilityNegotiation() {
        // The server greets first; the client asks for capabilities, sees "tls", then upgrades.
        expectUpgrade(
            [
                .s(":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"),
                .c("CAP LS 302\r\n"),
                .s(":irc.example.net NOTICE * :*** Found your hostname\r\n:irc.example.net CAP * LS :multi-prefix sasl tls\r\n"),
                .c("STARTTLS\r\n"),
                .s(":irc.example.net 670 * :STARTTLS successful, proceed with TLS handshake\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .irc, startTLS: "irc")
        // CAP REQ :tls and an unprefixed numeric; the banner-less NOTICE AUTH of older servers.
        expectUpgrade(
            [
                .s("NOTICE AUTH :*** Processing connection\r\n"),
                .c("CAP LS\r\n"),
                .s(":srv CAP * LS :tls\r\n"),
                .c("CAP REQ :tls\r\n"),
                .s(":srv CAP * ACK :tls\r\n"),
                .c("STARTTLS\r\n"),
                .s("670 * :STARTTLS successful\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .irc, startTLS: "irc")
    }

    @Test func ircRefusedOrRegisteredInClear() {
        // 691: the client registers in clear; the server's 001 welcome ends the search.
        expectNotTLS(
            [
                .c("STARTTLS\r\n"), .s(":srv 691 * :STARTTLS failure\r\n"), .c("NICK alice\r\nUSER alice 0 * :A\r\n"),
                .s(":srv 001 alice :Welcome to the network\r\n"),
            ], givingUp: .responder)
        // No STARTTLS at all: joining a channel ends it on the client side.
        expectNotTLS([.c("NICK alice\r\n"), .c("USER alice 0 * :A\r\n"), .c("JOIN #tls\r\n")])
    }

    @Test func nntp() {
        expectUpgrade(
            [
                .s("200 news.example.net InterNetNews NNRP server INN 2.7 ready (posting ok)\r\n"),
                .c("CAPABILITIES\r\n"),
                .s("101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"),
                .c("STARTTLS\r\n"),
                .s("382 Continue with TLS negotiation\r\n"),
                .c(clientTLS),
                .s(serverTLS),
            ], .nntp, startTLS: "nntp")
    }

    @Test func nntpRefused() {
        // 580: the client reads news in clear.
        expectNotTLS(
            [.s("201 no posting\r\n"), .c("STARTTLS\r\n"), .s("580 Can not initiate TLS negotiation\r\n"), .c("GROUP misc.test\r\n")])
    }
}

// MARK: - ManageSieve, LMTP

@Suite struct ManageSieveAndLMTPTests {
    /// Dovecot Pigeonhole's greeting, then STARTTLS.
    static let sieveGreeting =
        "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto reject envelope\"\r\n"
        + "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n"

    @Test func manageSieve() {
        expectUpgrade(
            [
                .s(Self.sieveGreeting), .c("STARTTLS\r\n"), .s("OK \"Begin TLS negotiation now.\"\r\n"),
                .c(clientTLS), .s(serverTLS),
            ], .manageSieve, startTLS: "managesieve")
        // A CAPABILITY round first: the greeting's OK and this one arm and disarm harmlessly.
        expectUpgrade(
            [
                .s(Self.sieveGreeting), .c("CAPABILITY\r\n"), .s(Self.sieveGreeting), .c("STARTTLS\r\n"),
                .s("OK\r\n"), .c(clientTLS), .s(serverTLS),
            ], .manageSieve, startTLS: "managesieve")
    }

    @Test func manageSieveRefused() {
        expectNotTLS(
            [
                .s(Self.sieveGreeting), .c("STARTTLS\r\n"), .s("NO \"TLS unavailable\"\r\n"),
                .c("AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHNlY3JldA==\"\r\n"),
            ])
    }

    @Test func lmtpIsNamedSMTP() {
        // RFC 2033: an SMTP dialogue with LHLO; the banner names neither SMTP nor FTP.
        expectUpgrade(
            [
                .s("220 mda.example LMTP Server ready\r\n"), .c("LHLO relay.example\r\n"),
                .s("250-mda.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n"), .c("STARTTLS\r\n"),
                .s("220 2.0.0 Begin TLS\r\n"), .c(clientTLS), .s(serverTLS),
            ], .smtp, startTLS: "smtp")
    }
}

// MARK: - MySQL, RDP

@Suite struct MySQLAndRDPTests {
    @Test func mysql() {
        expectUpgrade([.s(mysqlGreeting()), .c(mysqlSSLRequest), .c(clientTLS), .s(serverTLS)], .mysql, startTLS: "mysql")
        // MariaDB's greeting is longer than 127 bytes: its first byte has the high bit set.
        let mariadb = mysqlGreeting(version: "5.5.5-10.11.6-MariaDB-0+deb12u1-log" + String(repeating: "-x", count: 20))
        #expect(mariadb[0] >= 0x80)
        expectUpgrade([.s(mariadb), .c(mysqlSSLRequest), .c(clientTLS), .s(serverTLS)], .mysql, startTLS: "mysql")
        // The greeting not captured: the SSLRequest names the protocol and the client.
        for feeding in Feeding.allCases {
            let outcome = run([.c(mysqlSSLRequest), .c(clientTLS)], feeding)
            #expect(outcome.machine.detected == .mysql && outcome.machine.clientSide == .initiator)
            #expect(outcome.tls[.initiator] == clientTLS, "\(feeding)")
        }
    }

    @Test func mysqlWithoutTLS() {
        // The client logs in in clear; the server offers no TLS; the server refuses the host.
        expectNotTLS([.s(mysqlGreeting()), .c(mysqlPlainResponse)])
        expectNotTLS([.s(mysqlGreeting(capabilities: 0xf7ff))], givingUp: .responder)
        let refusal = mysqlPacket(0, [0xff, 0x6a, 0x04] + ascii("Host '10.0.0.9' is not allowed to connect"))
        expectNotTLS([.s(refusal)], givingUp: .responder)
        // The server's OK after a plain login is not TLS, whatever its first byte.
        expectNotTLS([.s(mysqlGreeting()), .c(mysqlPlainResponse), .s(mysqlPacket(2, [0, 0, 0, 2, 0, 0, 0]))])
        // A packet too long to be a greeting, a sequence number no first packet has, a greeting cut
        // inside its version string.
        expectNotTLS([.c([0x10, 0x00, 0x01, 0x00, 0x0a])])
        expectNotTLS([.c(mysqlPacket(5, [0x0a] + [UInt8](repeating: 0x41, count: 30)))])
        expectNotTLS([.s(mysqlPacket(0, [0x0a] + [UInt8](repeating: 0x41, count: 30)))], givingUp: .responder)
    }

    @Test func rdpWithCredSSPOrTLS() {
        // mstsc: TLS | CredSSP requested, CredSSP selected.
        expectUpgrade(
            [.c(rdpConnectionRequest(protocols: 3)), .s(rdpConnectionConfirm(selected: 2)), .c(clientTLS), .s(serverTLS)],
            .rdp, startTLS: "rdp")
        // No cookie, TLS alone, and the Confirm captured first.
        expectUpgrade(
            [.s(rdpConnectionConfirm(selected: 1)), .c(rdpConnectionRequest(protocols: 1, cookie: false)), .s(serverTLS), .c(clientTLS)],
            .rdp, startTLS: "rdp")
    }

    @Test func rdpStandardSecurityIsNotTLS() {
        // The server picks standard RDP security (0); the client goes on with MCS Connect Initial.
        let mcs: [UInt8] = [0x03, 0x00, 0x00, 0x0c, 0x02, 0xf0, 0x80, 0x7f, 0x65, 0x82, 0x01, 0x00]
        expectNotTLS(
            [.c(rdpConnectionRequest(protocols: 3)), .s(rdpConnectionConfirm(selected: 0)), .c(mcs)], givingUp: .responder)
        expectNotTLS([.c(rdpConnectionRequest(protocols: 3)), .c(mcs)])
        // RDP_NEG_FAILURE; a request without negotiation (old clients); a request for standard security.
        expectNotTLS(
            [.c(rdpConnectionRequest(protocols: 1)), .s(rdpConnectionConfirm(type: 3, selected: 2))], givingUp: .responder)
        expectNotTLS([.c(tpkt([0xe0, 0, 0, 0, 0, 0] + ascii("Cookie: mstshash=bob\r\n")))])
        expectNotTLS([.c(rdpConnectionRequest(protocols: 0))])
        // Hostile framing: a length indicator past the TPKT, a TPKT length past maxMessage, a bad code,
        // a cookie without its line end, a negotiation length that is not 8.
        expectNotTLS([.c([0x03, 0x00, 0x00, 0x0b, 0x40, 0xe0, 0, 0, 0, 0, 0])])
        expectNotTLS([.c([0x03, 0x00, 0xff, 0xff, 0xfa, 0xe0])])
        expectNotTLS([.c(tpkt([0xf0, 0, 0, 0, 0, 0]))])
        expectNotTLS([.c(tpkt([0xe0, 0, 0, 0, 0, 0] + ascii("Cookie: mstshash=bob") + [0x01, 0x00] + le16(8) + le32(1)))])
        expectNotTLS([.c(tpkt([0xe0, 0, 0, 0, 0, 0] + [0x01, 0x00] + le16(9) + le32(1)))])
    }
}

// MARK: - Where a stream's first bytes are TLS

@Suite struct BeginsTLSTests {
    private func begins(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { Preamble.beginsTLS($0) } }

    @Test func recordHeadersAndSSL2Hellos() {
        #expect(begins(clientTLS) && begins(serverTLS))
        #expect(begins([0x15, 0x03, 0x03, 0x00, 0x02]))  // an alert
        #expect(begins([0x80, 0x2e, 0x01, 0x00, 0x02]))  // SSL 2.0 ClientHello
        #expect(begins([0x80, 0x2e, 0x04]))  // SSL 2.0 ServerHello
        // Too short to tell: the first byte decides, as it does inside the machine.
        #expect(begins([0x16]) && begins([0x80, 0x2e]))
    }

    @Test func cleartextWithATLSLikeFirstByte() {
        #expect(!begins([]))
        #expect(!begins(Array(mysqlGreeting(version: String(repeating: "9", count: 80)).prefix(5))))  // length ≥ 0x80
        #expect(!begins([0x16, 0x00, 0x00, 0x00, 0x0a]))  // a 22-byte MySQL packet
        #expect(!begins([0x80, 0x2e, 0x02]))  // high bit, but no SSL 2.0 hello
        #expect(!begins(ascii("PROXY ")) && !begins(proxyV2Signature))
    }
}
