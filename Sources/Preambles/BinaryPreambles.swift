import WireCursor

// The binary protocols: SOCKS4/4a, SOCKS5, PostgreSQL, LDAP, MySQL, RDP.
extension Preamble {
    /// The length of a NUL-terminated string at `from`, with its NUL; nil if not complete yet.
    static func nulTerminated(_ buffer: [UInt8], from: Int) -> Int? {
        var index = from
        while index < buffer.count {
            if buffer[index] == 0 { return index + 1 - from }
            index += 1
        }
        return nil
    }

    /// SOCKS4 request: VN=4 CD=1|2 DSTPORT(2) DSTIP(4) USERID NUL; SOCKS4a adds HOSTNAME NUL when
    /// DSTIP is 0.0.0.x with x != 0.
    func socks4Request(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int) -> Framed {
        guard state.step == 0 else { return .notTLS }
        let available = buffer.count - p
        guard available >= 8 else { return available >= 2 && !(1...2).contains(buffer[p + 1]) ? .notTLS : .needMore }
        guard buffer[p] == 4, (1...2).contains(buffer[p + 1]) else { return .notTLS }
        guard let user = Self.nulTerminated(buffer, from: p + 8) else { return .needMore }
        var length = 8 + user
        if buffer[p + 4] == 0, buffer[p + 5] == 0, buffer[p + 6] == 0, buffer[p + 7] != 0 {
            guard let host = Self.nulTerminated(buffer, from: p + length) else { return .needMore }
            length += host
        }
        state.step = 1
        return .message(length: length, .arm)
    }

    /// SOCKS4 reply: VN=0 CD (90 granted, 91-93 refused) DSTPORT(2) DSTIP(4).
    func socks4Reply(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int) -> Framed {
        guard state.step == 0, buffer[p] == 0 else { return .notTLS }
        guard buffer.count - p >= 8 else { return .needMore }
        state.step = 1
        return .message(length: 8, buffer[p + 1] == 0x5a ? .arm : .giveUp)
    }

    /// SOCKS5 address: ATYP 1 (IPv4), 3 (length-prefixed name), 4 (IPv6), then the port.
    static func socks5AddressLength(_ buffer: [UInt8], at p: Int) -> Int?? {
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
    func socks5Client(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        switch state.step {
        case 0:
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 2 else { return .needMore }
            let length = 2 + Int(buffer[p + 1])
            guard buffer[p + 1] > 0 else { return .notTLS }
            guard available >= length else { return .needMore }
            state.step = 1
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
            state.step = 2
            return .message(length: 3 + address, .arm)
        default:
            return .notTLS
        }
    }

    /// RFC 1928 server: method selection VER=5 METHOD (0xFF: none acceptable); optional RFC 1929
    /// status VER=1 STATUS; reply VER=5 REP RSV ATYP BND.ADDR BND.PORT (REP 0: succeeded).
    func socks5Server(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        switch state.step {
        case 0:
            guard buffer[p] == 5 else { return .notTLS }
            guard available >= 2 else { return .needMore }
            state.step = 1
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
            state.step = 2
            return .message(length: 3 + address, buffer[p + 1] == 0 ? .arm : .giveUp)
        default:
            return .notTLS
        }
    }

    /// PostgreSQL (protocol §55.2.10): SSLRequest is Int32(8) Int32(80877103); GSSENCRequest ends in
    /// 80877104. The server answers one byte: 'S' (TLS follows) or 'N' (no; GSS: 'G').
    func postgres(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
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
    func ldap(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
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
    static func berElement(_ cursor: inout ByteCursor) throws(DecodeError) -> (tag: UInt8, contents: ByteCursor) {
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

    static func ldapOutcome(_ message: UnsafeRawBufferPointer, client: Bool) throws(DecodeError) -> Outcome {
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

    // MARK: - MySQL

    /// CLIENT_SSL in the capability flags of both peers' first packets.
    static let mysqlClientSSL: UInt16 = 0x0800

    /// The connection's first MySQL packet: the server's greeting (sequence 0, protocol version 10)
    /// or, when the greeting was not captured, the client's answer (sequence 1).
    mutating func startMySQL(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int, _ side: PreambleSide) -> Framed {
        guard buffer.count - p >= 5 else { return .needMore }
        guard buffer[p + 2] == 0 else { return .notTLS }
        switch (buffer[p + 3], buffer[p + 4]) {
        case (0, 0x0a): clientSide = side.other
        case (1, _): clientSide = side
        default: return .notTLS
        }
        detected = .mysql
        return mysql(client: isClient(side), buffer, p)
    }

    /// MySQL client/server protocol: a packet is a 3-byte little-endian payload length, a sequence
    /// number and the payload. The server's Initial Handshake (sequence 0, protocol 10: version
    /// string, connection id, 8 bytes of auth data, a filler, the low capability flags) offers
    /// CLIENT_SSL; a client that takes it sends SSLRequest (sequence 1: capability flags with
    /// CLIENT_SSL, max packet size, character set and 23 zero bytes; 32 bytes, or 5 before protocol
    /// 4.1) instead of its HandshakeResponse, and both sides start TLS. Zeek's MySQL analyzer.
    func mysql(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        guard available >= 4 else { return .needMore }
        let length = Int(buffer[p]) | Int(buffer[p + 1]) << 8 | Int(buffer[p + 2]) << 16
        guard 4 + length <= Self.maxMessage else { return .notTLS }
        guard available >= 4 + length else { return .needMore }
        let sequence = buffer[p + 3]
        return Self.parseMessage(buffer, at: p, length: 4 + length) {
            (cursor: inout ByteCursor) throws(DecodeError) -> Outcome in
            try cursor.skip(4, "MySQL packet header")
            if client {
                guard sequence == 1 else { throw DecodeError(.malformed, at: 3, "MySQL sequence") }
                let capabilities = try cursor.readUInt16LE("MySQL capability flags")
                // Anything but an SSLRequest is the HandshakeResponse: the session goes on in clear.
                let isSSLRequest = capabilities & Self.mysqlClientSSL != 0 && (length == 32 || length == 5)
                return isSSLRequest ? .arm : .giveUp
            }
            guard sequence == 0 else { throw DecodeError(.malformed, at: 3, "MySQL sequence") }
            // 0xff: an ERR packet instead of the greeting ("Host ... is not allowed to connect").
            guard try cursor.readUInt8("MySQL protocol version") == 0x0a else { return .giveUp }
            while try cursor.readUInt8("MySQL server version") != 0 {}
            try cursor.skip(4 + 8 + 1, "MySQL connection id, auth data, filler")
            let capabilities = try cursor.readUInt16LE("MySQL capability flags")
            return capabilities & Self.mysqlClientSSL != 0 ? .arm : .giveUp
        }
    }

    // MARK: - RDP

    /// The connection's first TPKT: the client's Connection Request or the server's Confirm.
    mutating func startRDP(_ state: inout DirectionState, _ buffer: [UInt8], _ p: Int, _ side: PreambleSide) -> Framed {
        guard buffer.count - p >= 6 else { return .needMore }
        switch buffer[p + 5] & 0xf0 {
        case 0xe0: clientSide = side
        case 0xd0: clientSide = side.other
        default: return .notTLS
        }
        detected = .rdp
        return rdp(client: isClient(side), buffer, p)
    }

    /// RDP (MS-RDPBCGR §2.2.1.1-2): a TPKT header (version 3, reserved 0, 16-bit length) around an
    /// X.224 Connection Request (code 0xE0: references, class, an optional "Cookie: mstshash=..."
    /// or routing-token line ending in CRLF, then RDP_NEG_REQ: type 1, flags, length 8,
    /// requestedProtocols) and the server's Connection Confirm (code 0xD0, then RDP_NEG_RSP: type 2,
    /// flags, length 8, selectedProtocol; or RDP_NEG_FAILURE, type 3). Every protocol but 0
    /// (standard RDP security) starts with a TLS handshake: TLS (1), CredSSP (2), RDSTLS (4),
    /// CredSSP with early user authorization (8), RDS AAD (0x10).
    func rdp(client: Bool, _ buffer: [UInt8], _ p: Int) -> Framed {
        let available = buffer.count - p
        guard buffer[p] == 3 else { return .notTLS }
        guard available >= 4 else { return .needMore }
        guard buffer[p + 1] == 0 else { return .notTLS }
        let length = Int(buffer[p + 2]) << 8 | Int(buffer[p + 3])
        guard length >= 11, length <= Self.maxMessage else { return .notTLS }
        guard available >= length else { return .needMore }
        return Self.parseMessage(buffer, at: p, length: length) {
            (cursor: inout ByteCursor) throws(DecodeError) -> Outcome in
            try cursor.skip(4, "TPKT header")
            // The length indicator counts the X.224 bytes after it, inside the TPKT packet.
            let lengthIndicator = Int(try cursor.readUInt8("X.224 length indicator"))
            var x224 = try cursor.readCursor(count: lengthIndicator, "X.224 TPDU")
            let code = try x224.readUInt8("X.224 code") & 0xf0
            guard code == (client ? 0xe0 : 0xd0) else { throw DecodeError(.malformed, at: 5, "X.224 code") }
            try x224.skip(5, "X.224 references and class")
            if client, x224.peekUInt8() == UInt8(ascii: "C") {
                var previous: UInt8 = 0
                while true {
                    let byte = try x224.readUInt8("RDP cookie")
                    if previous == 0x0d && byte == 0x0a { break }
                    previous = byte
                }
            }
            // No negotiation structure: standard RDP security, never TLS.
            guard x224.remaining >= 8 else { return .giveUp }
            let type = try x224.readUInt8("RDP_NEG type")
            guard type == (client ? 1 : 2) else { return .giveUp }  // 3: RDP_NEG_FAILURE
            try x224.skip(1, "RDP_NEG flags")
            guard try x224.readUInt16LE("RDP_NEG length") == 8 else {
                throw DecodeError(.malformed, at: 0, "RDP_NEG length")
            }
            let protocols = try x224.readUInt32LE("RDP protocols")
            return protocols != 0 ? .arm : .giveUp
        }
    }
}
