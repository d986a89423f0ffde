import WireCursor

/// An address carried by a PROXY protocol header, as two words (the form of the flow table's
/// `IPAddress`, so mapping is field for field).
public struct ProxyAddress: Sendable, Hashable {
    /// For IPv4, `high` is 0 and the address is the low 32 bits of `low`.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(ipv4: UInt32) {
        high = 0
        low = UInt64(ipv4)
        isIPv6 = false
    }

    public init(ipv6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        isIPv6 = true
    }
}

/// An address and port carried by a PROXY protocol header.
public struct ProxyEndpoint: Sendable, Hashable {
    public var address: ProxyAddress
    public var port: UInt16

    public init(address: ProxyAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// The HAProxy PROXY protocol header (haproxy.org/download/3.0/doc/proxy-protocol.txt) that a load
/// balancer sends first on its connection to a backend, naming the original client's connection:
/// version 1 is one text line (`PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\r\n`, also `TCP6` and
/// `UNKNOWN`; at most 107 bytes), version 2 a binary block (a 12-byte signature, version and
/// command, address family and transport, a 16-bit length, the addresses, then TLVs).
public struct ProxyHeader: Sendable, Hashable {
    public enum Command: Sendable, Hashable {
        /// A relayed connection: the addresses are the original client's and the proxy's.
        case proxy
        /// The proxy's own connection (a health check): the addresses are to be ignored.
        case local
    }

    public enum Transport: Sendable, Hashable {
        case unspecified, stream, datagram
    }

    /// 1 (text) or 2 (binary).
    public var version: UInt8
    public var command: Command
    public var transport: Transport
    /// The original client, as the proxy saw it; nil for LOCAL, for v1 `UNKNOWN`, and for
    /// unspecified or Unix-socket addresses.
    public var source: ProxyEndpoint?
    /// The address the original client connected to; nil when `source` is.
    public var destination: ProxyEndpoint?

    public init(
        version: UInt8, command: Command, transport: Transport, source: ProxyEndpoint?, destination: ProxyEndpoint?
    ) {
        self.version = version
        self.command = command
        self.transport = transport
        self.source = source
        self.destination = destination
    }

    /// Longest v1 line, CRLF included (the specification's bound).
    public static let maxTextLength = 107
    static let textPrefix: StaticString = "PROXY "
    static let binarySignature: [UInt8] = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]

    enum Framing: Equatable {
        /// The bytes do not begin with either signature: some other protocol.
        case notProxyHeader
        case needMore
        /// The signature matched but the header is not valid: not a PROXY connection to follow.
        case malformed
        case header(ProxyHeader, length: Int)
    }

    /// The first byte of either version's signature ('P' or CR).
    static func mayBegin(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "P") || byte == 0x0d
    }

    /// Reads a header at `position` of `buffer` if one starts there. A v2 header is taken only up
    /// to `Preamble.maxMessage` bytes (real ones carry a few TLVs: far less).
    static func frame(_ buffer: [UInt8], from position: Int) -> Framing {
        guard position >= 0, position < buffer.count else { return .needMore }
        let available = buffer.count - position
        let binary = buffer[position] == 0x0d
        let signatureLength = binary ? binarySignature.count : textPrefix.utf8CodeUnitCount
        let matches = textPrefix.withUTF8Buffer { prefix in
            for index in 0..<min(available, signatureLength) {
                let expected = binary ? binarySignature[index] : prefix[index]
                if buffer[position + index] != expected { return false }
            }
            return true
        }
        guard matches else { return .notProxyHeader }
        guard available >= signatureLength else { return .needMore }
        return binary ? frameBinary(buffer, from: position) : frameText(buffer, from: position)
    }

    // MARK: - Version 1

    private static func frameText(_ buffer: [UInt8], from position: Int) -> Framing {
        var index = position
        let limit = min(buffer.count, position + maxTextLength)
        while index < limit && buffer[index] != 0x0a { index += 1 }
        guard index < limit else { return buffer.count - position >= maxTextLength ? .malformed : .needMore }
        // The line ends with CRLF; `index` is at the LF, past the 6-byte prefix.
        guard buffer[index - 1] == 0x0d else { return .malformed }
        guard let header = parseText(buffer, from: position + 6, to: index - 1) else { return .malformed }
        return .header(header, length: index + 1 - position)
    }

    /// "TCP4 src dst sport dport", "TCP6 ...", or "UNKNOWN" followed by anything.
    private static func parseText(_ buffer: [UInt8], from start: Int, to end: Int) -> ProxyHeader? {
        var fields = TextFields(buffer: buffer, position: start, end: end)
        guard let proto = fields.next() else { return nil }
        if proto.count == 7 && proto.matches(buffer, "UNKNOWN") {
            return ProxyHeader(version: 1, command: .proxy, transport: .unspecified, source: nil, destination: nil)
        }
        let isIPv6: Bool
        if proto.count == 4 && proto.matches(buffer, "TCP4") {
            isIPv6 = false
        } else if proto.count == 4 && proto.matches(buffer, "TCP6") {
            isIPv6 = true
        } else {
            return nil
        }
        guard let sourceField = fields.next(), let destinationField = fields.next(),
            let sourcePortField = fields.next(), let destinationPortField = fields.next(), fields.next() == nil,
            let source = isIPv6 ? parseIPv6(buffer, sourceField) : parseIPv4(buffer, sourceField),
            let destination = isIPv6 ? parseIPv6(buffer, destinationField) : parseIPv4(buffer, destinationField),
            let sourcePort = parsePort(buffer, sourcePortField),
            let destinationPort = parsePort(buffer, destinationPortField)
        else { return nil }
        return ProxyHeader(
            version: 1, command: .proxy, transport: .stream,
            source: ProxyEndpoint(address: source, port: sourcePort),
            destination: ProxyEndpoint(address: destination, port: destinationPort))
    }

    /// A field of the v1 line: bytes `start..<end` of the buffer.
    struct Field: Equatable {
        var start: Int
        var end: Int
        var count: Int { end - start }

        func matches(_ buffer: [UInt8], _ word: StaticString) -> Bool {
            word.withUTF8Buffer { word in
                guard word.count == count, start >= 0, end <= buffer.count else { return false }
                for index in 0..<word.count where buffer[start + index] != word[index] { return false }
                return true
            }
        }
    }

    /// The v1 fields, separated by single spaces (an empty field is invalid, so two spaces are).
    struct TextFields {
        let buffer: [UInt8]
        var position: Int
        let end: Int

        mutating func next() -> Field? {
            guard position < end, end <= buffer.count else { return nil }
            let start = position
            while position < end && buffer[position] != 0x20 { position += 1 }
            let field = Field(start: start, end: position)
            // Step over the separator; a trailing one leaves an empty last field, which is invalid.
            if position < end {
                position += 1
                if position == end { return nil }
            }
            return field.count > 0 ? field : nil
        }
    }

    static func decimal(_ byte: UInt8) -> Int? {
        (0x30...0x39).contains(byte) ? Int(byte - 0x30) : nil
    }

    static func hexadecimal(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// 1 to 5 digits, at most 65535.
    static func parsePort(_ buffer: [UInt8], _ field: Field) -> UInt16? {
        guard (1...5).contains(field.count) else { return nil }
        var value = 0
        for index in field.start..<field.end {
            guard let digit = decimal(buffer[index]) else { return nil }
            value = value * 10 + digit
        }
        return value <= 0xffff ? UInt16(value) : nil
    }

    /// Four decimal parts of 1 to 3 digits, each at most 255.
    static func parseIPv4(_ buffer: [UInt8], _ field: Field) -> ProxyAddress? {
        parseDottedQuad(buffer, field).map { ProxyAddress(ipv4: $0) }
    }

    static func parseDottedQuad(_ buffer: [UInt8], _ field: Field) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var index = field.start
        while index < field.end {
            var part = 0
            var digits = 0
            while index < field.end, let digit = decimal(buffer[index]) {
                guard digits < 3 else { return nil }
                part = part * 10 + digit
                digits += 1
                index += 1
            }
            guard digits > 0, part <= 255, parts < 4 else { return nil }
            value = value << 8 | UInt32(part)
            parts += 1
            if index < field.end {
                guard buffer[index] == UInt8(ascii: "."), parts < 4 else { return nil }
                index += 1
                guard index < field.end else { return nil }
            }
        }
        return parts == 4 ? value : nil
    }

    /// RFC 4291 §2.2 text: eight groups of 1 to 4 hex digits, one "::" for a run of zero groups,
    /// and an optional dotted-quad tail for the last two.
    static func parseIPv6(_ buffer: [UInt8], _ field: Field) -> ProxyAddress? {
        // One small array per PROXY header (once per connection, not per packet).
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        /// Where the "::" stands among the groups (nil until one is met).
        var gap: Int?
        var index = field.start
        let colon = UInt8(ascii: ":")
        if field.count >= 2 && buffer[index] == colon && buffer[index + 1] == colon {
            gap = 0
            index += 2
        }
        while index < field.end {
            let groupStart = index
            var group = 0
            var digits = 0
            while index < field.end, let digit = hexadecimal(buffer[index]) {
                guard digits < 4 else { return nil }
                group = group << 4 | digit
                digits += 1
                index += 1
            }
            if index < field.end && buffer[index] == UInt8(ascii: ".") {
                // The dotted-quad tail: the last two groups.
                guard groups.count <= 6, let quad = parseDottedQuad(buffer, Field(start: groupStart, end: field.end))
                else { return nil }
                groups.append(UInt16(truncatingIfNeeded: quad >> 16))
                groups.append(UInt16(truncatingIfNeeded: quad))
                break
            }
            guard digits > 0, groups.count < 8 else { return nil }
            groups.append(UInt16(group))
            guard index < field.end else { break }
            guard buffer[index] == colon else { return nil }
            index += 1
            guard index < field.end else { return nil }  // a single trailing colon
            if buffer[index] == colon {
                guard gap == nil else { return nil }
                gap = groups.count
                index += 1
            }
        }
        if let gap {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (slot, group) in groups.enumerated() {
            if slot < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        return ProxyAddress(ipv6High: high, low: low)
    }

    // MARK: - Version 2

    private static func frameBinary(_ buffer: [UInt8], from position: Int) -> Framing {
        let available = buffer.count - position
        guard available >= 16 else { return .needMore }
        let length = 16 + (Int(buffer[position + 14]) << 8 | Int(buffer[position + 15]))
        guard length <= Preamble.maxMessage else { return .malformed }
        guard available >= length else { return .needMore }
        let header: ProxyHeader? = buffer.withUnsafeBytes { raw in
            var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: raw[position..<(position + length)]))
            do throws(DecodeError) {
                return try parseBinary(&cursor)
            } catch {
                return nil
            }
        }
        guard let header else { return .malformed }
        return .header(header, length: length)
    }

    private static func parseBinary(_ cursor: inout ByteCursor) throws(DecodeError) -> ProxyHeader {
        try cursor.skip(binarySignature.count, "PROXY v2 signature")
        let versionAndCommand = try cursor.readUInt8("PROXY v2 version and command")
        let familyAndTransport = try cursor.readUInt8("PROXY v2 family and transport")
        var block = try cursor.readLengthPrefixed16("PROXY v2 addresses and TLVs")
        guard versionAndCommand >> 4 == 2 else { throw DecodeError(.unsupported, at: 12, "PROXY version") }
        let command: Command
        switch versionAndCommand & 0x0f {
        case 0:
            // LOCAL: the block is to be skipped whatever it holds.
            return ProxyHeader(version: 2, command: .local, transport: .unspecified, source: nil, destination: nil)
        case 1: command = .proxy
        default: throw DecodeError(.malformed, at: 12, "PROXY v2 command")
        }
        let transport: Transport
        switch familyAndTransport & 0x0f {
        case 0: transport = .unspecified
        case 1: transport = .stream
        case 2: transport = .datagram
        default: throw DecodeError(.malformed, at: 13, "PROXY v2 transport")
        }
        var source: ProxyEndpoint?
        var destination: ProxyEndpoint?
        switch familyAndTransport >> 4 {
        case 0:
            // AF_UNSPEC: the block is to be ignored (as HAProxy does, TLVs are not looked for).
            block.skipToEnd()
        case 1:
            let sourceAddress = ProxyAddress(ipv4: try block.readUInt32("PROXY v2 IPv4 source"))
            let destinationAddress = ProxyAddress(ipv4: try block.readUInt32("PROXY v2 IPv4 destination"))
            source = ProxyEndpoint(address: sourceAddress, port: try block.readUInt16("PROXY v2 source port"))
            destination = ProxyEndpoint(address: destinationAddress, port: try block.readUInt16("PROXY v2 destination port"))
        case 2:
            let sourceAddress = try readIPv6(&block)
            let destinationAddress = try readIPv6(&block)
            source = ProxyEndpoint(address: sourceAddress, port: try block.readUInt16("PROXY v2 source port"))
            destination = ProxyEndpoint(address: destinationAddress, port: try block.readUInt16("PROXY v2 destination port"))
        case 3:
            try block.skip(2 * 108, "PROXY v2 Unix addresses")
        default:
            throw DecodeError(.malformed, at: 13, "PROXY v2 address family")
        }
        // TLVs (type, 16-bit length, value) fill the rest of the block exactly.
        while !block.isEmpty {
            _ = try block.readUInt8("PROXY v2 TLV type")
            _ = try block.readLengthPrefixed16("PROXY v2 TLV value")
        }
        return ProxyHeader(version: 2, command: command, transport: transport, source: source, destination: destination)
    }

    private static func readIPv6(_ cursor: inout ByteCursor) throws(DecodeError) -> ProxyAddress {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for _ in 0..<2 { high = high << 32 | UInt64(try cursor.readUInt32("PROXY v2 IPv6 address")) }
        for _ in 0..<2 { low = low << 32 | UInt64(try cursor.readUInt32("PROXY v2 IPv6 address")) }
        return ProxyAddress(ipv6High: high, low: low)
    }
}
