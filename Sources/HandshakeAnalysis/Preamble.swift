import TCPReassembly
import WireCursor

/// The cleartext protocol seen before a connection's TLS: a STARTTLS upgrade or a proxy handshake.
public enum PreambleProtocol: Sendable, Hashable {
    case smtp, ftp, imap, pop3, xmpp, ldap, postgres
    /// A "220" banner: SMTP or FTP, until the client's commands tell which.
    case smtpOrFTP
    case httpConnect, socks4, socks5

    /// The contract's `starttls` value; nil for proxies (they tunnel TLS, they do not upgrade).
    public var startTLSName: String? {
        switch self {
        case .smtp: "smtp"
        case .ftp: "ftp"
        case .imap: "imap"
        case .pop3: "pop3"
        case .xmpp: "xmpp"
        case .ldap: "ldap"
        case .postgres: "postgres"
        case .smtpOrFTP: "smtp"
        case .httpConnect, .socks4, .socks5: nil
        }
    }

    /// Protocols whose client speaks first; for the others the server's banner opens the connection.
    var clientSpeaksFirst: Bool {
        switch self {
        case .smtp, .ftp, .imap, .pop3, .smtpOrFTP: false
        case .xmpp, .ldap, .postgres, .httpConnect, .socks4, .socks5: true
        }
    }
}

/// What the preamble machine concluded about one direction after a feed.
public enum PreambleVerdict: Sendable, Hashable {
    /// Still cleartext; TLS may follow.
    case pending
    /// TLS starts at this offset of the bytes just fed (the bytes before it were cleartext).
    case tls(at: Int)
    /// This flow is not TLS behind a known preamble: stop looking at it.
    case notTLS
}

/// Finds where TLS begins in a connection that opens with cleartext: STARTTLS in SMTP, IMAP, POP3,
/// FTP (AUTH TLS), XMPP, LDAP (StartTLS extended operation) and PostgreSQL (SSLRequest), or a proxy
/// preamble (HTTP CONNECT, SOCKS4/4a, SOCKS5).
///
/// Detection goes by content, never by port. The first bytes of the connection name the protocol
/// and so the roles (a banner means the server spoke first; a request means the client did). Each
/// direction is then cut into the protocol's messages (lines, XML tags, BER or SOCKS frames); a
/// message that asks for or grants the switch to TLS "arms" its direction, and TLS starts at the
/// next byte if that byte can begin a TLS record (content type 20...24, or an SSL 2.0 header). So
/// each direction decides alone, whatever order the two directions' segments were captured in, and
/// a refused upgrade (the next byte is cleartext again) disarms instead of misleading the parser.
///
/// Bounded: at most `maxCleartext` bytes per direction are looked at, a message longer than
/// `maxMessage` is not waited for, and a plaintext protocol that shows it will not upgrade (an HTTP
/// GET, SMTP MAIL before STARTTLS, IMAP LOGIN, ...) ends the search at once. The machine never
/// traps on any input; it holds only the current incomplete message of each direction.
public struct Preamble: Sendable {
    public static let maxCleartext = 16 * 1024
    public static let maxMessage = 4096

    public private(set) var detected: PreambleProtocol?
    /// The direction that opened the cleartext dialogue as the client, once the protocol is known.
    public private(set) var clientDirection: FlowDirection?
    private var initiator = Side()
    private var responder = Side()

    public init() {}

    /// Where this direction's TLS starts in its stream (nil until known).
    public func tlsStreamOffset(_ direction: FlowDirection) -> Int? {
        switch direction {
        case .fromInitiator: initiator.tlsOffset
        case .fromResponder: responder.tlsOffset
        }
    }

    /// Feeds the next bytes of one direction (only bytes before TLS: once `.tls` or `.notTLS` was
    /// returned for a direction, further feeds of it return the same kind of answer and cost nothing).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, from direction: FlowDirection) -> PreambleVerdict {
        // The side is moved out (not copied) so it and the shared state can be mutated together.
        var side = Side()
        switch direction {
        case .fromInitiator: swap(&side, &initiator)
        case .fromResponder: swap(&side, &responder)
        }
        defer {
            switch direction {
            case .fromInitiator: swap(&side, &initiator)
            case .fromResponder: swap(&side, &responder)
            }
        }
        return feed(bytes, side: &side, direction: direction)
    }

    // MARK: - Per direction

    private struct Side: Sendable {
        /// The bytes not yet cut into messages (an incomplete message).
        var buffer: [UInt8] = []
        /// Bytes of this direction taken so far.
        var seen = 0
        /// Complete cleartext messages so far.
        var messages = 0
        /// The last message asked for or granted TLS: it starts at the next byte if that is TLS.
        var armed = false
        /// Protocol-specific position (SOCKS negotiation step, HTTP header block...).
        var step = 0
        /// HTTP CONNECT: the status line said 2xx.
        var accepted = false
        /// How far the current text message was searched for its end.
        var searched = 0
        var finished = false
        var tlsOffset: Int?
    }

    private enum Framed {
        case needMore
        case message(length: Int, Outcome)
        case notTLS
    }

    private enum Outcome {
        case proceed, arm, giveUp
    }

    /// Content type 20...24 or the high bit of an SSL 2.0 record header: what the TLS parser accepts.
    public static func beginsTLS(_ byte: UInt8) -> Bool {
        (20...24).contains(byte) || byte & 0x80 != 0
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer, side: inout Side, direction: FlowDirection) -> PreambleVerdict {
        if side.finished { return side.tlsOffset == nil ? .notTLS : .tls(at: 0) }
        guard let first = bytes.first else { return .pending }
        // At a message boundary and armed: decide on the first byte before copying anything.
        if side.armed && side.buffer.isEmpty {
            if Self.beginsTLS(first) { return startTLS(&side, position: 0, chunkStart: 0) }
            side.armed = false
            if disarmEndsSearch { return giveUp(&side) }
        }
        let room = Self.maxCleartext - side.seen
        if room <= 0 { return giveUp(&side) }
        let take = min(room, bytes.count)
        let chunkStart = side.buffer.count
        side.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
        side.seen += take
        var position = 0
        while position < side.buffer.count {
            if side.armed {
                if Self.beginsTLS(side.buffer[position]) {
                    return startTLS(&side, position: position, chunkStart: chunkStart)
                }
                side.armed = false
                if disarmEndsSearch { return giveUp(&side) }
            }
            switch frame(&side, from: position, direction: direction) {
            case .needMore:
                side.buffer.removeFirst(position)
                side.searched = max(0, side.searched - position)
                if side.buffer.count > Self.maxMessage || side.seen >= Self.maxCleartext { return giveUp(&side) }
                return .pending
            case .notTLS:
                return giveUp(&side)
            case .message(let length, let outcome):
                // The wait for an incomplete message stops past maxMessage (above), so a longer one is
                // refused even when it came whole: the outcome must not depend on segmentation.
                if length > Self.maxMessage { return giveUp(&side) }
                position += length
                side.messages += 1
                side.searched = position
                switch outcome {
                case .proceed: break
                case .arm: side.armed = true
                case .giveUp: return giveUp(&side)
                }
            }
        }
        side.buffer.removeAll(keepingCapacity: true)
        side.searched = 0
        // Out of room with TLS not begun: the rest of the stream is not looked at.
        if side.seen >= Self.maxCleartext && !side.armed { return giveUp(&side) }
        return .pending
    }

    private func startTLS(_ side: inout Side, position: Int, chunkStart: Int) -> PreambleVerdict {
        // `position` is never before the current chunk: a message completed in an earlier chunk was
        // followed there by no byte, else that byte would have been decided on then.
        let offset = max(0, position - chunkStart)
        side.tlsOffset = side.seen - (side.buffer.count - position)
        side.finished = true
        side.armed = false
        side.buffer = []
        return .tls(at: offset)
    }

    private func giveUp(_ side: inout Side) -> PreambleVerdict {
        side.finished = true
        side.armed = false
        side.buffer = []
        return .notTLS
    }

    /// Binary preambles have a fixed shape: cleartext after the final message means no TLS.
    private var disarmEndsSearch: Bool {
        switch detected {
        case .socks4, .socks5, .postgres: true
        default: false
        }
    }

    private func isClient(_ direction: FlowDirection) -> Bool { clientDirection == direction }

    // MARK: - Framing

    private mutating func frame(_ side: inout Side, from position: Int, direction: FlowDirection) -> Framed {
        let buffer = side.buffer
        guard position < buffer.count else { return .needMore }
        guard let detected else {
            // The connection's first byte: what kind of message it can be.
            switch buffer[position] {
            case 0x04: return startBinary(.socks4, &side, position, direction)
            case 0x05: return startBinary(.socks5, &side, position, direction)
            case 0x00: return startBinary(.postgres, &side, position, direction)
            case 0x30: return startBinary(.ldap, &side, position, direction)
            case UInt8(ascii: "<"): return startBinary(.xmpp, &side, position, direction)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                switch textLine(&side, buffer, from: position, terminator: UInt8(ascii: "\n")) {
                case .needMore: return .needMore
                case .notTLS: return .notTLS
                case .message(let length, _):
                    let line = Line(buffer: buffer, start: position, length: length)
                    return .message(length: length, classifyFirstLine(line, direction: direction, &side))
                }
            default:
                return .notTLS
            }
        }
        let client = isClient(direction)
        switch detected {
        case .socks4: return client ? socks4Request(&side, buffer, position) : socks4Reply(&side, buffer, position)
        case .socks5: return client ? socks5Client(&side, buffer, position) : socks5Server(&side, buffer, position)
        case .postgres: return postgres(client: client, buffer, position)
        case .ldap: return ldap(client: client, buffer, position)
        case .xmpp:
            switch textLine(&side, buffer, from: position, terminator: UInt8(ascii: ">")) {
            case .message(let length, _):
                let line = Line(buffer: buffer, start: position, length: length)
                // Each side opens with the XML declaration or the stream header (RFC 6120 §4.2); any
                // other markup (an HTML page met mid-stream) is not XMPP.
                if side.messages == 0 && !line.contains("<?xml") && !line.contains("<stream:stream") {
                    return .notTLS
                }
                return .message(length: length, xmpp(client: client, line))
            case let other: return other
            }
        case .smtp, .ftp, .smtpOrFTP, .imap, .pop3, .httpConnect:
            switch textLine(&side, buffer, from: position, terminator: UInt8(ascii: "\n")) {
            case .message(let length, _):
                let line = Line(buffer: buffer, start: position, length: length)
                let outcome = client ? clientLine(line, &side) : serverLine(line, &side)
                return .message(length: length, outcome)
            case let other: return other
            }
        }
    }

    private mutating func startBinary(
        _ proto: PreambleProtocol, _ side: inout Side, _ position: Int, _ direction: FlowDirection
    ) -> Framed {
        detected = proto
        clientDirection = direction
        return frame(&side, from: position, direction: direction)
    }

    /// One message of a text protocol, ending with `terminator` (included in the length). Control
    /// bytes other than tab, CR and LF mean it is not text.
    private func textLine(_ side: inout Side, _ buffer: [UInt8], from position: Int, terminator: UInt8) -> Framed {
        var index = max(position, side.searched)
        while index < buffer.count {
            let byte = buffer[index]
            if byte == terminator {
                return .message(length: index + 1 - position, .proceed)
            }
            if byte < 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d || byte == 0x7f { return .notTLS }
            index += 1
            if index - position > Self.maxMessage { return .notTLS }
        }
        side.searched = index
        return .needMore
    }

    // MARK: - Text protocols

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

    private mutating func classifyFirstLine(_ line: Line, direction: FlowDirection, _ side: inout Side) -> Outcome {
        let proto: PreambleProtocol
        var clientSide = false
        if line.matches("220") {
            // The banner usually names the service (RFC 5321 §4.3.1 greeting, RFC 959 220 reply).
            proto = line.contains("FTP") || line.contains("ftp") ? .ftp : line.contains("SMTP") ? .smtp : .smtpOrFTP
        } else if line.isWord("*") && line.isWord("OK", at: 2) {
            proto = .imap
        } else if line.isWord("+OK") {
            proto = .pop3
        } else if line.isWord("CONNECT") {
            proto = .httpConnect
            clientSide = true
        } else if line.isWord("EHLO") || line.isWord("HELO") {
            // The banner was not captured.
            proto = .smtp
            clientSide = true
        } else {
            return .giveUp
        }
        detected = proto
        clientDirection = clientSide ? direction : direction.reversed
        return proto == .httpConnect ? httpRequestLine(line, &side) : .proceed
    }

    private mutating func clientLine(_ line: Line, _ side: inout Side) -> Outcome {
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
        case .httpConnect:
            return httpRequestLine(line, &side)
        default:
            return .giveUp
        }
    }

    private func httpRequestLine(_ line: Line, _ side: inout Side) -> Outcome {
        // RFC 9110 §9.3.6: "CONNECT host:port HTTP/1.1", header fields, an empty line; then the tunnel.
        if side.step == 0 {
            guard line.isWord("CONNECT") else { return .giveUp }
            side.step = 1
            return .proceed
        }
        if line.isEmpty {
            side.step = 0
            return .arm
        }
        return .proceed
    }

    private mutating func serverLine(_ line: Line, _ side: inout Side) -> Outcome {
        switch detected {
        case .smtp, .ftp, .smtpOrFTP:
            // SMTP "220 Ready to start TLS" (RFC 3207), FTP "234" (RFC 4217); the banner is also 220.
            if line.isFinalReply("234") { return .arm }
            if line.isFinalReply("220") && side.messages > 0 { return .arm }
            return .proceed
        case .imap:
            // The tagged "OK" that completes STARTTLS (RFC 9051 §6.2.1); untagged "*" and "+" are not.
            guard !line.isWord("*"), !line.isWord("+"), let second = line.secondToken else { return .proceed }
            return line.isWord("OK", at: second) ? .arm : .proceed
        case .pop3:
            return line.isWord("+OK") && side.messages > 0 ? .arm : .proceed
        case .httpConnect:
            if side.step == 0 {
                // "HTTP/1.1 200 Connection established": any 2xx opens the tunnel.
                guard line.matches("HTTP/"), let second = line.secondToken else { return .giveUp }
                side.accepted = line.matches("2", at: second)
                side.step = 1
                return .proceed
            }
            if line.isEmpty {
                side.step = 0
                return side.accepted ? .arm : .proceed
            }
            return .proceed
        default:
            return .giveUp
        }
    }

    /// RFC 6120 §5.4.2: the client sends `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, the
    /// server answers `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>` (or `<failure/>`).
    /// Messages are cut at each '>'.
    private func xmpp(client: Bool, _ line: Line) -> Outcome {
        if client {
            if line.contains("<starttls") && line.contains("/>") || line.contains("</starttls") { return .arm }
            return .proceed
        }
        if line.contains("<proceed") && line.contains("/>") || line.contains("</proceed") { return .arm }
        if line.contains("<failure") && line.contains("xmpp-tls") { return .giveUp }
        return .proceed
    }

    // MARK: - Binary protocols

    /// The length of a NUL-terminated string at `from`, with its NUL; nil if not complete yet.
    private static func nulTerminated(_ buffer: [UInt8], from: Int) -> Int? {
        var index = from
        while index < buffer.count {
            if buffer[index] == 0 { return index + 1 - from }
            index += 1
        }
        return nil
    }

    /// SOCKS4 request: VN=4 CD=1|2 DSTPORT(2) DSTIP(4) USERID NUL; SOCKS4a adds HOSTNAME NUL when
    /// DSTIP is 0.0.0.x with x != 0.
    private func socks4Request(_ side: inout Side, _ buffer: [UInt8], _ p: Int) -> Framed {
        guard side.step == 0 else { return .notTLS }
        let available = buffer.count - p
        guard available >= 8 else { return available >= 2 && !(1...2).contains(buffer[p + 1]) ? .notTLS : .needMore }
        guard buffer[p] == 4, (1...2).contains(buffer[p + 1]) else { return .notTLS }
        guard let user = Self.nulTerminated(buffer, from: p + 8) else { return .needMore }
        var length = 8 + user
        if buffer[p + 4] == 0, buffer[p + 5] == 0, buffer[p + 6] == 0, buffer[p + 7] != 0 {
            guard let host = Self.nulTerminated(buffer, from: p + length) else { return .needMore }
            length += host
        }
        side.step = 1
        return .message(length: length, .arm)
    }

    /// SOCKS4 reply: VN=0 CD (90 granted, 91-93 refused) DSTPORT(2) DSTIP(4).
    private func socks4Reply(_ side: inout Side, _ buffer: [UInt8], _ p: Int) -> Framed {
        guard side.step == 0, buffer[p] == 0 else { return .notTLS }
        guard buffer.count - p >= 8 else { return .needMore }
        side.step = 1
        return .message(length: 8, buffer[p + 1] == 0x5a ? .arm : .giveUp)
    }

    /// SOCKS5 address: ATYP 1 (IPv4), 3 (length-prefixed name), 4 (IPv6), then the port.
    private static func socks5AddressLength(_ buffer: [UInt8], at p: Int) -> Int?? {
        guard p < buffer.count else { return .some(nil) }
        switch buffer[p] {
        case 1: return 1 + 4 + 2
        case 4: return 1 + 16 + 2
        case 3:
            guard p + 1 < buffer.count else { return .some(nil) }
            return 1 + 1 + Int(buffer[p + 1]) + 2
        default: return nil
        }
    }

    /// RFC 1928 client: greeting VER=5 NMETHODS METHODS; optional RFC 1929 username/password
    /// VER=1 ULEN UNAME PLEN PASSWD; request VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT.
    private func socks5Client(_ side: inout Side, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        switch side.step {
        case 0:
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 2 else { return .needMore }
            let length = 2 + Int(buffer[p + 1])
            guard buffer[p + 1] > 0 else { return .notTLS }
            guard available >= length else { return .needMore }
            side.step = 1
            return .message(length: length, .proceed)
        case 1:
            if buffer[p] == 1 {
                guard available >= 2 else { return .needMore }
                let passwordLengthAt = 2 + Int(buffer[p + 1])
                guard available > passwordLengthAt else { return .needMore }
                let length = passwordLengthAt + 1 + Int(buffer[p + passwordLengthAt])
                guard available >= length else { return .needMore }
                return .message(length: length, .proceed)
            }
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 4 else { return .needMore }
            guard buffer[p + 2] == 0 else { return .notTLS }
            guard let address = Self.socks5AddressLength(buffer, at: p + 3) else { return .notTLS }
            guard let address, available >= 3 + address else { return .needMore }
            side.step = 2
            return .message(length: 3 + address, .arm)
        default:
            return .notTLS
        }
    }

    /// RFC 1928 server: method selection VER=5 METHOD (0xFF: none acceptable); optional RFC 1929
    /// status VER=1 STATUS; reply VER=5 REP RSV ATYP BND.ADDR BND.PORT (REP 0: succeeded).
    private func socks5Server(_ side: inout Side, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        switch side.step {
        case 0:
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 2 else { return .needMore }
            side.step = 1
            return .message(length: 2, buffer[p + 1] == 0xff ? .giveUp : .proceed)
        case 1:
            if buffer[p] == 1 {
                guard available >= 2 else { return .needMore }
                return .message(length: 2, buffer[p + 1] == 0 ? .proceed : .giveUp)
            }
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 4 else { return .needMore }
            guard let address = Self.socks5AddressLength(buffer, at: p + 3) else { return .notTLS }
            guard let address, available >= 3 + address else { return .needMore }
            side.step = 2
            return .message(length: 3 + address, buffer[p + 1] == 0 ? .arm : .giveUp)
        default:
            return .notTLS
        }
    }

    /// PostgreSQL (protocol §55.2.10): SSLRequest is Int32(8) Int32(80877103); GSSENCRequest ends in
    /// 80877104. The server answers one byte: 'S' (TLS follows) or 'N' (no; GSS: 'G').
    private func postgres(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
        if client {
            // The first 7 bytes are shared by both requests: 00 00 00 08 04 d2 16.
            let prefix: UInt64 = 0x0000_0008_04d2_16
            for index in 0..<min(7, buffer.count - p)
            where buffer[p + index] != UInt8(truncatingIfNeeded: prefix >> UInt64(8 * (6 - index))) {
                return .notTLS
            }
            guard buffer.count - p >= 8 else { return .needMore }
            switch buffer[p + 7] {
            case 0x2f: return .message(length: 8, .arm)
            case 0x30: return .message(length: 8, .proceed)  // GSSENCRequest: an SSLRequest may follow
            default: return .notTLS
            }
        }
        switch buffer[p] {
        case UInt8(ascii: "S"): return .message(length: 1, .arm)
        case UInt8(ascii: "N"): return .message(length: 1, .proceed)
        default: return .notTLS
        }
    }

    static let ldapStartTLS = Array("1.3.6.1.4.1.1466.20037".utf8)

    /// LDAP (RFC 4511 §4.14): LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp, controls [0] OPTIONAL }
    /// with ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID, ... } and
    /// ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF LDAPResult (resultCode ENUMERATED
    /// first), responseName [10] LDAPOID OPTIONAL, ... }. StartTLS is requestName 1.3.6.1.4.1.1466.20037
    /// answered with resultCode success (0). Other messages (a RootDSE search first) pass.
    private func ldap(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        guard buffer[p] == 0x30 else { return .notTLS }
        guard available >= 2 else { return .needMore }
        var header = 2
        var length = Int(buffer[p + 1])
        if length & 0x80 != 0 {
            let count = length & 0x7f
            guard (1...3).contains(count) else { return .notTLS }
            guard available >= 2 + count else { return .needMore }
            length = 0
            for index in 0..<count { length = length << 8 | Int(buffer[p + 2 + index]) }
            header += count
        }
        guard header + length <= Self.maxMessage else { return .notTLS }
        guard available >= header + length else { return .needMore }
        let outcome: Outcome? = buffer.withUnsafeBytes { raw in
            let message = UnsafeRawBufferPointer(rebasing: raw[(p + header)..<(p + header + length)])
            do throws(DecodeError) {
                return try Self.ldapOutcome(message, client: client)
            } catch {
                return nil
            }
        }
        guard let outcome else { return .notTLS }
        return .message(length: header + length, outcome)
    }

    /// Reads one BER tag and definite length (short or long form), returning the contents.
    private static func berElement(_ cursor: inout ByteCursor) throws(DecodeError) -> (tag: UInt8, contents: ByteCursor) {
        let tag = try cursor.readUInt8("BER tag")
        var length = Int(try cursor.readUInt8("BER length"))
        if length & 0x80 != 0 {
            let count = length & 0x7f
            guard (1...3).contains(count) else { throw DecodeError(.malformed, at: cursor.position, "BER length") }
            length = 0
            for _ in 0..<count { length = length << 8 | Int(try cursor.readUInt8("BER length")) }
        }
        return (tag, try cursor.readCursor(count: length, "BER contents"))
    }

    private static func ldapOutcome(_ message: UnsafeRawBufferPointer, client: Bool) throws(DecodeError) -> Outcome {
        var cursor = ByteCursor(message)
        let messageID = try berElement(&cursor)
        guard messageID.tag == 0x02 else { throw DecodeError(.malformed, at: 0, "LDAP messageID") }
        var operation = try berElement(&cursor)
        if client {
            guard operation.tag == 0x77 else { return .proceed }  // not an ExtendedRequest
            let name = try berElement(&operation.contents)
            guard name.tag == 0x80 else { return .proceed }
            return name.contents.remainingBuffer.elementsEqual(ldapStartTLS) ? .arm : .proceed
        }
        guard operation.tag == 0x78 else { return .proceed }  // not an ExtendedResponse
        let resultCode = try berElement(&operation.contents)
        guard resultCode.tag == 0x0a else { throw DecodeError(.malformed, at: 0, "LDAP resultCode") }
        return resultCode.contents.remainingBuffer.allSatisfy { $0 == 0 } ? .arm : .proceed
    }
}
