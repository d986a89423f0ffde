import WireCursor

// The line-based protocols: SMTP/LMTP, FTP, IMAP, POP3, IRC, NNTP, ManageSieve, HTTP CONNECT, and XMPP
// (cut at each '>').
extension Preamble {
    /// A message of a text protocol without its line end: case-insensitive matching helpers.
    struct Line {
        let buffer: [UInt8]
        let start: Int
        let end: Int

        init(buffer: [UInt8], start: Int, length: Int) {
            self.buffer = buffer
            self.start = start
            var end = start + length
            while end > start, buffer[end - 1] == 0x0a || buffer[end - 1] == 0x0d { end -= 1 }
            self.end = end
        }

        var isEmpty: Bool { start >= end }

        static func upper(_ byte: UInt8) -> UInt8 {
            (0x61...0x7a).contains(byte) ? byte - 0x20 : byte
        }

        /// Whether the bytes from `offset` start with `word` (ASCII, any case).
        func matches(_ word: StaticString, at offset: Int = 0) -> Bool {
            let from = start + offset
            return word.withUTF8Buffer { word in
                guard from >= start, end - from >= word.count else { return false }
                for (index, byte) in word.enumerated() where Self.upper(buffer[from + index]) != Self.upper(byte) {
                    return false
                }
                return true
            }
        }

        /// `word` followed by the line end or a space.
        func isWord(_ word: StaticString, at offset: Int = 0) -> Bool {
            guard matches(word, at: offset) else { return false }
            let after = start + offset + word.utf8CodeUnitCount
            return after >= end || buffer[after] == 0x20
        }

        /// Whether `word` occurs anywhere (exact case).
        func contains(_ word: StaticString) -> Bool {
            word.withUTF8Buffer { word in
                guard let head = word.first, end - start >= word.count else { return false }
                var index = start
                while index + word.count <= end {
                    if buffer[index] == head {
                        var same = true
                        for (offset, byte) in word.enumerated() where buffer[index + offset] != byte {
                            same = false
                            break
                        }
                        if same { return true }
                    }
                    index += 1
                }
                return false
            }
        }

        /// The offset just past the first space (the second token), if any.
        var secondToken: Int? {
            var index = start
            while index < end {
                if buffer[index] == 0x20 { return index + 1 - start }
                index += 1
            }
            return nil
        }

        /// A reply code followed by a space or the line end (a final reply line, RFC 5321 §4.2).
        func isFinalReply(_ code: StaticString) -> Bool {
            isWord(code)
        }
    }

    mutating func classifyFirstLine(_ line: Line, side: PreambleSide, _ state: inout DirectionState) -> Outcome {
        let proto: PreambleProtocol
        var speaksAsClient = false
        if line.matches("220") {
            // The banner usually names the service (RFC 5321 §4.3.1 greeting, RFC 959 220 reply).
            proto = line.contains("FTP") || line.contains("ftp") ? .ftp : line.contains("SMTP") ? .smtp : .smtpOrFTP
        } else if line.isWord("*") && line.isWord("OK", at: 2) {
            proto = .imap
        } else if line.isWord("+OK") {
            proto = .pop3
        } else if line.isWord("200") || line.isWord("201") {
            // RFC 3977 §5.1.1: the NNTP greeting, posting allowed (200) or not (201).
            proto = .nntp
        } else if line.matches(":") || line.isWord("NOTICE") || line.isWord("PING") {
            // An IRC server's first words: a prefixed message (":irc.example NOTICE * :*** Looking up
            // your hostname") or an unprefixed NOTICE/PING (RFC 2812 §2.3.1).
            proto = .irc
        } else if line.matches("\"IMPLEMENTATION\"") || line.matches("\"SIEVE\"") {
            // RFC 5804 §1.7: a ManageSieve server opens with its capabilities, quoted.
            proto = .manageSieve
        } else if line.isWord("CONNECT") {
            proto = .httpConnect
            speaksAsClient = true
        } else if line.isWord("EHLO") || line.isWord("HELO") {
            // The banner was not captured.
            proto = .smtp
            speaksAsClient = true
        } else if line.isWord("CAP") || line.isWord("NICK") || line.isWord("STARTTLS") {
            // An IRC client opens with capability negotiation (IRCv3), its nick, or STARTTLS at once.
            // (USER and PASS are left out: FTP and POP3 clients send them too, in clear.)
            proto = .irc
            speaksAsClient = true
        } else {
            return .giveUp
        }
        detected = proto
        clientSide = speaksAsClient ? side : side.other
        switch proto {
        case .httpConnect: return httpRequestLine(line, &state)
        case .irc: return speaksAsClient ? clientLine(line, &state) : serverLine(line, &state)
        default: return .proceed
        }
    }

    mutating func clientLine(_ line: Line, _ state: inout DirectionState) -> Outcome {
        switch detected {
        case .smtp, .ftp, .smtpOrFTP:
            if line.isWord("STARTTLS") {
                detected = .smtp
                return .arm
            }
            if line.matches("AUTH TLS") || line.matches("AUTH SSL") {
                // RFC 4217 §4: AUTH TLS (or the older AUTH SSL), answered by 234.
                detected = .ftp
                return .arm
            }
            if line.isWord("EHLO") || line.isWord("HELO") || line.isWord("LHLO") {
                if detected == .smtpOrFTP { detected = .smtp }
                return .proceed
            }
            if line.isWord("FEAT") {
                if detected == .smtpOrFTP { detected = .ftp }
                return .proceed
            }
            // The session goes on in clear (written out: an array of words would allocate per line).
            if line.isWord("MAIL") || line.isWord("RCPT") || line.isWord("DATA") || line.isWord("QUIT")
                || line.isWord("USER") || line.isWord("PASS") || line.isWord("AUTH") || line.isWord("BDAT")
            {
                return .giveUp
            }
            return .proceed
        case .imap:
            guard let second = line.secondToken else { return .proceed }
            if line.isWord("STARTTLS", at: second) { return .arm }
            if line.isWord("LOGIN", at: second) || line.isWord("AUTHENTICATE", at: second)
                || line.isWord("SELECT", at: second) || line.isWord("EXAMINE", at: second)
                || line.isWord("LOGOUT", at: second)
            {
                return .giveUp
            }
            return .proceed
        case .pop3:
            if line.isWord("STLS") { return .arm }
            if line.isWord("USER") || line.isWord("PASS") || line.isWord("APOP") || line.isWord("AUTH")
                || line.isWord("QUIT") || line.isWord("RETR") || line.isWord("LIST") || line.isWord("STAT")
                || line.isWord("TOP") || line.isWord("UIDL")
            {
                return .giveUp
            }
            return .proceed
        case .irc:
            // IRCv3 tls: "STARTTLS", answered by 670 RPL_STARTTLS. Joining or talking means the session
            // goes on in clear.
            if line.isWord("STARTTLS") { return .arm }
            if line.isWord("JOIN") || line.isWord("PRIVMSG") || line.isWord("NOTICE") || line.isWord("QUIT") {
                return .giveUp
            }
            return .proceed
        case .nntp:
            // RFC 4642: "STARTTLS", answered by 382.
            if line.isWord("STARTTLS") { return .arm }
            if line.isWord("AUTHINFO") || line.isWord("GROUP") || line.isWord("LISTGROUP") || line.isWord("ARTICLE")
                || line.isWord("HEAD") || line.isWord("BODY") || line.isWord("POST") || line.isWord("IHAVE")
                || line.isWord("OVER") || line.isWord("XOVER") || line.isWord("QUIT")
            {
                return .giveUp
            }
            return .proceed
        case .manageSieve:
            // RFC 5804 §2.2: "STARTTLS", answered by OK.
            if line.isWord("STARTTLS") { return .arm }
            if line.isWord("AUTHENTICATE") || line.isWord("LOGOUT") || line.isWord("LISTSCRIPTS")
                || line.isWord("GETSCRIPT") || line.isWord("PUTSCRIPT")
            {
                return .giveUp
            }
            return .proceed
        case .httpConnect:
            return httpRequestLine(line, &state)
        default:
            return .giveUp
        }
    }

    func httpRequestLine(_ line: Line, _ state: inout DirectionState) -> Outcome {
        // RFC 9110 §9.3.6: "CONNECT host:port HTTP/1.1", header fields, an empty line; then the tunnel.
        if state.step == 0 {
            guard line.isWord("CONNECT") else { return .giveUp }
            state.step = 1
            return .proceed
        }
        if line.isEmpty {
            state.step = 0
            return .arm
        }
        return .proceed
    }

    mutating func serverLine(_ line: Line, _ state: inout DirectionState) -> Outcome {
        switch detected {
        case .smtp, .ftp, .smtpOrFTP:
            // SMTP "220 Ready to start TLS" (RFC 3207), FTP "234" (RFC 4217); the banner is also 220.
            if line.isFinalReply("234") { return .arm }
            if line.isFinalReply("220") && state.messages > 0 { return .arm }
            return .proceed
        case .imap:
            // The tagged "OK" that completes STARTTLS (RFC 9051 §6.2.1); untagged "*" and "+" are not.
            guard !line.isWord("*"), !line.isWord("+"), let second = line.secondToken else { return .proceed }
            return line.isWord("OK", at: second) ? .arm : .proceed
        case .pop3:
            return line.isWord("+OK") && state.messages > 0 ? .arm : .proceed
        case .irc:
            // The command follows the optional ":prefix" (RFC 2812 §2.3.1). 670 RPL_STARTTLS grants
            // the switch (691 ERR_STARTTLS refuses it: the dialogue goes on); 001 RPL_WELCOME means
            // the client registered in clear, and STARTTLS is refused after registration.
            var command = 0
            if line.matches(":") {
                guard let second = line.secondToken else { return .proceed }
                command = second
            }
            if line.isWord("670", at: command) { return .arm }
            if line.isWord("001", at: command) { return .giveUp }
            return .proceed
        case .manageSieve:
            // Every OK arms (the greeting ends with one too): only the one before TLS is followed by it.
            return line.isWord("OK") ? .arm : .proceed
        case .nntp:
            // RFC 4642 §2.2.2: 382 "Continue with TLS negotiation"; 580 refuses, the session goes on.
            return line.isWord("382") ? .arm : .proceed
        case .httpConnect:
            if state.step == 0 {
                // "HTTP/1.1 200 Connection established": any 2xx opens the tunnel.
                guard line.matches("HTTP/"), let second = line.secondToken else { return .giveUp }
                state.accepted = line.matches("2", at: second)
                state.step = 1
                return .proceed
            }
            if line.isEmpty {
                state.step = 0
                return state.accepted ? .arm : .proceed
            }
            return .proceed
        default:
            return .giveUp
        }
    }

    /// RFC 6120 §5.4.2: the client sends `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, the
    /// server answers `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>` (or `<failure/>`).
    /// Messages are cut at each '>'.
    func xmpp(client: Bool, _ line: Line) -> Outcome {
        if client {
            if line.contains("<starttls") && line.contains("/>") || line.contains("</starttls") { return .arm }
            return .proceed
        }
        if line.contains("<proceed") && line.contains("/>") || line.contains("</proceed") { return .arm }
        if line.contains("<failure") && line.contains("xmpp-tls") { return .giveUp }
        return .proceed
    }
}
