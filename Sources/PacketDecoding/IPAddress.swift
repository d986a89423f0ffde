import TextFormatting

/// An IPv4 or IPv6 address as two words, hashable without allocating (gopacket's fixed-array Endpoint).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// For IPv4, `high` is 0 and the address is the low 32 bits of `low`.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    @inlinable
    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }
    @inlinable
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

    /// Dotted quad, or RFC 5952 text for IPv6 (the formatter certificate SAN addresses share).
    public var description: String {
        isIPv6 ? ipv6Description : IPAddressText.ipv4(UInt32(truncatingIfNeeded: low))
    }

    var ipv6Description: String { IPAddressText.ipv6(high: high, low: low) }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var networkBytes: [UInt8] {
        if !isIPv6 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// IPv4 before IPv6, then by value.
    @inlinable
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isIPv6 != rhs.isIPv6 { return rhs.isIPv6 }
        return lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}
