/// An IPv4 or IPv6 address as two words, hashable without allocating (gopacket's fixed-array Endpoint).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// For IPv4, `high` is 0 and the address is the low 32 bits of `low`.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }
    public init(ipv4: UInt32) { self.init(high: 0, low: UInt64(ipv4), isIPv6: false) }

    /// An IPv6 address from its eight 16-bit groups, most significant first (missing groups are zero).
    public init(ipv6Groups groups: [UInt16]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            let group = UInt64(index < groups.count ? groups[index] : 0)
            if index < 4 { high = high << 16 | group } else { low = low << 16 | group }
        }
        self.init(high: high, low: low, isIPv6: true)
    }

    /// The 16-bit group `index` (0...7) of an IPv6 address.
    func group(_ index: Int) -> UInt16 {
        let word = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: word >> UInt64((3 - index % 4) * 16))
    }

    /// Dotted quad, or RFC 5952 text for IPv6.
    public var description: String {
        isIPv6 ? ipv6Description : Self.dottedQuad(UInt32(truncatingIfNeeded: low))
    }

    static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// RFC 5952 §4: lowercase hex, no leading zeros (§4.1), "::" replaces the longest run of two or more
    /// zero groups (§4.2.1-2), the first one on a tie (§4.2.3); §5: IPv4-mapped addresses (::ffff:0:0/96)
    /// end in dotted-quad form.
    var ipv6Description: String {
        if high == 0, low >> 32 == 0xFFFF {
            return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: low))
        }
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8, group(index) == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(group(index), radix: 16)
            index += 1
        }
        return text
    }

    /// IPv4 before IPv6, then by value.
    @inlinable
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isIPv6 != rhs.isIPv6 { return rhs.isIPv6 }
        return lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}
