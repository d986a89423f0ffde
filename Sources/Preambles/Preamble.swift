import WireCursor

/// Which end of the TCP connection sent some bytes: the one that opened it (or was taken for it) or
/// the one that answered. The preamble machine finds the protocol's roles itself, from content.
public enum PreambleSide: Sendable, Hashable {
    case initiator, responder

    public var other: PreambleSide { self == .initiator ? .responder : .initiator }
}

/// The cleartext protocol seen before a connection's TLS: a STARTTLS upgrade or a proxy handshake.
public enum PreambleProtocol: Sendable, Hashable {
    case smtp, ftp, imap, pop3, xmpp, ldap, postgres, irc, nntp, mysql, rdp, manageSieve
    /// A "220" banner: SMTP or FTP, until the client's commands tell which.
    case smtpOrFTP
    case httpConnect, socks4, socks5
    /// A HAProxy PROXY protocol header (v1 or v2) and nothing else before TLS. When a STARTTLS
    /// dialogue or another proxy preamble follows the header, `detected` names that one instead
    /// (`Preamble.proxyHeader` keeps the header).
    case proxyProtocol

    /// The contract's `starttls` value; nil for proxies (they relay TLS, they do not upgrade).
    public var startTLSName: String? {
        switch self {
        case .smtp: "smtp"
        case .ftp: "ftp"
        case .imap: "imap"
        case .pop3: "pop3"
        case .xmpp: "xmpp"
        case .ldap: "ldap"
        case .postgres: "postgres"
        case .irc: "irc"
        case .nntp: "nntp"
        case .mysql: "mysql"
        case .rdp: "rdp"
        case .manageSieve: "managesieve"
        case .smtpOrFTP: "smtp"
        case .httpConnect, .socks4, .socks5, .proxyProtocol: nil
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
/// FTP (AUTH TLS), XMPP, LDAP (StartTLS extended operation), PostgreSQL (SSLRequest), IRC, NNTP,
/// ManageSieve, MySQL (SSLRequest) and RDP (X.224 negotiation selecting TLS or CredSSP), or a proxy preamble
/// (HTTP CONNECT, SOCKS4/4a, SOCKS5, and the HAProxy PROXY protocol v1/v2 header, alone or in front
/// of any of the others).
///
/// Detection goes by content, never by port. The first bytes of the connection name the protocol
/// and so the roles (a banner means the server spoke first; a request means the client did). Each
/// direction is then cut into the protocol's messages (lines, XML tags, BER, SOCKS, TPKT or MySQL
/// frames); a message that asks for or grants the switch to TLS "arms" its direction, and TLS starts
/// at the next byte if that byte can begin a TLS record (content type 20...24, or an SSL 2.0
/// header). So each direction decides alone, whatever order the two directions' segments were
/// captured in, and a refused upgrade (the next byte is cleartext again) disarms instead of
/// misleading the parser.
///
/// Bounded: at most `maxCleartext` bytes per direction are looked at, a message longer than
/// `maxMessage` is not waited for, and a plaintext protocol that shows it will not upgrade (an HTTP
/// GET, SMTP MAIL before STARTTLS, IMAP LOGIN, ...) ends the search at once. The machine never
/// traps on any input; it holds only the current incomplete message of each direction.
public struct Preamble: Sendable {
    public static let maxCleartext = 16 * 1024
    public static let maxMessage = 4096

    public internal(set) var detected: PreambleProtocol?
    /// The side that opened the cleartext dialogue as the client, once the protocol is known.
    public internal(set) var clientSide: PreambleSide?
    /// The PROXY protocol header the client (a load balancer) sent first, if any: the original
    /// client's address, which the TCP connection itself does not show.
    public internal(set) var proxyHeader: ProxyHeader?
    private var initiator = DirectionState()
    private var responder = DirectionState()

    public init() {}

    /// Where this direction's TLS starts in its stream (nil until known).
    public func tlsStreamOffset(_ side: PreambleSide) -> Int? {
        switch side {
        case .initiator: initiator.tlsOffset
        case .responder: responder.tlsOffset
        }
    }

    /// Feeds the next bytes of one direction (only bytes before TLS: once `.tls` or `.notTLS` was
    /// returned for a direction, further feeds of it return the same kind of answer and cost nothing).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, from side: PreambleSide) -> PreambleVerdict {
        // The state is moved out (not copied) so it and the shared state can be mutated together.
        var state = DirectionState()
        switch side {
        case .initiator: swap(&state, &initiator)
        case .responder: swap(&state, &responder)
        }
        defer {
            switch side {
            case .initiator: swap(&state, &initiator)
            case .responder: swap(&state, &responder)
            }
        }
        return feed(bytes, state: &state, side: side)
    }

    // MARK: - Per direction

    struct DirectionState: Sendable {
        /// The bytes not yet cut into messages (an incomplete message).
        var buffer: [UInt8] = []
        /// Bytes of this direction taken so far.
        var seen = 0
        /// Complete cleartext messages so far (a PROXY header not counted).
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

    enum Framed {
        case needMore
        case message(length: Int, Outcome)
        case notTLS
        /// TLS starts right here, with no message before it.
        case tlsStarts
    }

    enum Outcome {
        case proceed, arm, giveUp
        /// A PROXY protocol header: arms, and is not one of the protocol's own messages.
        case proxyHeader
    }

    /// Content type 20...24 or the high bit of an SSL 2.0 record header: what the TLS parser accepts.
    public static func beginsTLS(_ byte: UInt8) -> Bool {
        (20...24).contains(byte) || byte & 0x80 != 0
    }

    /// The same test on a stream's first bytes, stricter where they are there: a TLS record header
    /// goes on with major version 3, an SSL 2.0 header with a ClientHello (1) or ServerHello (4).
    /// (A MySQL greeting longer than 127 bytes also begins with a byte of 0x80 or more.)
    public static func beginsTLS(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, beginsTLS(first) else { return false }
        if first & 0x80 != 0 { return bytes.count < 3 || bytes[2] == 1 || bytes[2] == 4 }
        return bytes.count < 2 || bytes[1] == 3
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer, state: inout DirectionState, side: PreambleSide) -> PreambleVerdict {
        if state.finished { return state.tlsOffset == nil ? .notTLS : .tls(at: 0) }
        guard let first = bytes.first else { return .pending }
        // At a message boundary and armed: decide on the first byte before copying anything.
        if state.armed && state.buffer.isEmpty {
            if Self.beginsTLS(first) { return startTLS(&state, position: 0, chunkStart: 0) }
            state.armed = false
            if disarmEndsSearch { return giveUp(&state) }
        }
        let room = Self.maxCleartext - state.seen
        if room <= 0 { return giveUp(&state) }
        let take = min(room, bytes.count)
        let chunkStart = state.buffer.count
        state.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
        state.seen += take
        var position = 0
        while position < state.buffer.count {
            if state.armed {
                if Self.beginsTLS(state.buffer[position]) {
                    return startTLS(&state, position: position, chunkStart: chunkStart)
                }
                state.armed = false
                if disarmEndsSearch { return giveUp(&state) }
            }
            switch frame(&state, from: position, side: side) {
            case .needMore:
                state.buffer.removeFirst(position)
                state.searched = max(0, state.searched - position)
                if state.buffer.count > Self.maxMessage || state.seen >= Self.maxCleartext { return giveUp(&state) }
                return .pending
            case .notTLS:
                return giveUp(&state)
            case .tlsStarts:
                return startTLS(&state, position: position, chunkStart: chunkStart)
            case .message(let length, let outcome):
                // The wait for an incomplete message stops past maxMessage (above), so a longer one is
                // refused even when it came whole: the outcome must not depend on segmentation.
                if length > Self.maxMessage { return giveUp(&state) }
                position += length
                state.searched = position
                switch outcome {
                case .proceed: state.messages += 1
                case .arm:
                    state.messages += 1
                    state.armed = true
                case .proxyHeader: state.armed = true
                case .giveUp: return giveUp(&state)
                }
            }
        }
        state.buffer.removeAll(keepingCapacity: true)
        state.searched = 0
        // Out of room with TLS not begun: the rest of the stream is not looked at.
        if state.seen >= Self.maxCleartext && !state.armed { return giveUp(&state) }
        return .pending
    }

    private func startTLS(_ state: inout DirectionState, position: Int, chunkStart: Int) -> PreambleVerdict {
        // `position` is never before the current chunk: a message completed in an earlier chunk was
        // followed there by no byte, else that byte would have been decided on then.
        let offset = max(0, position - chunkStart)
        state.tlsOffset = state.seen - (state.buffer.count - position)
        state.finished = true
        state.armed = false
        state.buffer = []
        return .tls(at: offset)
    }

    private func giveUp(_ state: inout DirectionState) -> PreambleVerdict {
        state.finished = true
        state.armed = false
        state.buffer = []
        return .notTLS
    }

    /// Binary preambles have a fixed shape: cleartext after the final message means no TLS.
    private var disarmEndsSearch: Bool {
        switch detected {
        case .socks4, .socks5, .postgres, .mysql, .rdp: true
        default: false
        }
    }

    func isClient(_ side: PreambleSide) -> Bool { clientSide == side }

    // MARK: - Framing

    private mutating func frame(_ state: inout DirectionState, from position: Int, side: PreambleSide) -> Framed {
        let buffer = state.buffer
        guard position < buffer.count else { return .needMore }
        // A PROXY header comes first from the load balancer (the client), before anything else.
        if state.messages == 0 && proxyHeader == nil && ProxyHeader.mayBegin(buffer[position]) {
            switch ProxyHeader.frame(buffer, from: position) {
            case .notProxyHeader: break
            case .needMore: return .needMore
            case .malformed: return .notTLS
            case .header(let header, let length):
                proxyHeader = header
                if detected == nil {
                    detected = .proxyProtocol
                    clientSide = side
                }
                return .message(length: length, .proxyHeader)
            }
        }
        guard let detected, detected != .proxyProtocol else { return detect(&state, buffer, position, side) }
        let client = isClient(side)
        switch detected {
        case .socks4: return client ? socks4Request(&state, buffer, position) : socks4Reply(&state, buffer, position)
        case .socks5: return client ? socks5Client(&state, buffer, position) : socks5Server(&state, buffer, position)
        case .postgres: return postgres(client: client, buffer, position)
        case .ldap: return ldap(client: client, buffer, position)
        case .mysql: return mysql(client: client, buffer, position)
        case .rdp: return rdp(client: client, buffer, position)
        case .xmpp:
            switch textLine(&state, buffer, from: position, terminator: UInt8(ascii: ">")) {
            case .message(let length, _):
                let line = Line(buffer: buffer, start: position, length: length)
                // Each side opens with the XML declaration or the stream header (RFC 6120 §4.2); any
                // other markup (an HTML page met mid-stream) is not XMPP.
                if state.messages == 0 && !line.contains("<?xml") && !line.contains("<stream:stream") {
                    return .notTLS
                }
                return .message(length: length, xmpp(client: client, line))
            case let other: return other
            }
        case .smtp, .ftp, .smtpOrFTP, .imap, .pop3, .httpConnect, .irc, .nntp, .manageSieve, .proxyProtocol:
            switch textLine(&state, buffer, from: position, terminator: UInt8(ascii: "\n")) {
            case .message(let length, _):
                let line = Line(buffer: buffer, start: position, length: length)
                let outcome = client ? clientLine(line, &state) : serverLine(line, &state)
                return .message(length: length, outcome)
            case let other: return other
            }
        }
    }

    /// The first message of the connection (after a PROXY header, if any): what kind it can be.
    private mutating func detect(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int, _ side: PreambleSide) -> Framed {
        let first = buffer[p]
        // Behind a PROXY header the server has nothing to say in clear: it answers in TLS.
        if detected == .proxyProtocol && !isClient(side) && state.messages == 0 && Self.beginsTLS(first) {
            return .tlsStarts
        }
        switch first {
        case 0x00: return startBinary(.postgres, client: side, &state, p, side)
        case 0x03: return startRDP(&state, buffer, p, side)
        case 0x04: return startBinary(.socks4, client: side, &state, p, side)
        case 0x05: return startBinary(.socks5, client: side, &state, p, side)
        default: break
        }
        // A MySQL packet header: a 3-byte little-endian length (a greeting or SSLRequest is short,
        // so its second byte is 0, which no text and no BER sequence has) and a sequence number.
        if first >= 0x10 {
            guard buffer.count - p >= 2 else { return .needMore }
            if buffer[p + 1] == 0 { return startMySQL(&state, buffer, p, side) }
        }
        switch first {
        case 0x30: return startBinary(.ldap, client: side, &state, p, side)
        case UInt8(ascii: "<"): return startBinary(.xmpp, client: side, &state, p, side)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ":"), UInt8(ascii: "\""),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch textLine(&state, buffer, from: p, terminator: UInt8(ascii: "\n")) {
            case .message(let length, _):
                let line = Line(buffer: buffer, start: p, length: length)
                return .message(length: length, classifyFirstLine(line, side: side, &state))
            case let other: return other
            }
        default:
            return .notTLS
        }
    }

    private mutating func startBinary(
        _ proto: PreambleProtocol, client: PreambleSide, _ state: inout DirectionState, _ position: Int,
        _ side: PreambleSide
    ) -> Framed {
        detected = proto
        clientSide = client
        return frame(&state, from: position, side: side)
    }

    /// One message of a text protocol, ending with `terminator` (included in the length). Control
    /// bytes other than tab, CR and LF mean it is not text.
    func textLine(_ state: inout DirectionState, _ buffer: [UInt8], from position: Int, terminator: UInt8) -> Framed {
        var index = max(position, state.searched)
        while index < buffer.count {
            let byte = buffer[index]
            if byte == terminator {
                return .message(length: index + 1 - position, .proceed)
            }
            if byte < 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d || byte == 0x7f { return .notTLS }
            index += 1
            if index - position > Self.maxMessage { return .notTLS }
        }
        state.searched = index
        return .needMore
    }

    /// Runs `parse` over the `length` bytes at `position` (already known to be in the buffer), with
    /// a bounds-checked cursor: a decode error means the message is malformed, so not a preamble.
    static func parseMessage(
        _ buffer: [UInt8], at position: Int, length: Int,
        _ parse: (inout ByteCursor) throws(DecodeError) -> Outcome
    ) -> Framed {
        guard position >= 0, length >= 0, length <= buffer.count - position else { return .notTLS }
        let outcome: Outcome? = buffer.withUnsafeBytes { raw in
            var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: raw[position..<(position + length)]))
            do throws(DecodeError) {
                return try parse(&cursor)
            } catch {
                return nil
            }
        }
        guard let outcome else { return .notTLS }
        return .message(length: length, outcome)
    }
}
