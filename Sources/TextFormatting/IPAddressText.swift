/// Text forms of IP addresses: dotted quad for IPv4, RFC 5952 for IPv6. One formatter for flow
/// endpoints (PacketDecoding's `IPAddress`) and certificate subjectAltName addresses.
public enum IPAddressText {
    /// "192.0.2.1".
    /// Looks like an IP address literal rather than a host name: four dotted decimal numbers up to 255,
    /// or anything with a colon (IPv6). For telling a server name that is an address from a DNS name.
    public static func isAddressLiteral(_ text: String) -> Bool {
        // Bytes, not Characters: this runs for every record's server name.
        if text.utf8.contains(UInt8(ascii: ":")) { return true }
        var groups = 0
        var digits = 0
        var value = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                if digits > 3 || value > 255 { return false }
            case UInt8(ascii: "."):
                if digits == 0 { return false }
                groups += 1
                digits = 0
                value = 0
            default:
                return false
            }
        }
        return groups == 3 && digits > 0
    }

    public static func ipv4(_ value: UInt32) -> String {
        // Digits written straight into the string's storage: an interpolation cost ~2,500 instructions.
        String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            for shift in [24, 16, 8, 0] as [UInt32] {
                let octet = Int(value >> shift & 0xFF)
                if shift != 24 {
                    buffer[count] = UInt8(ascii: ".")
                    count += 1
                }
                if octet >= 100 {
                    buffer[count] = UInt8(truncatingIfNeeded: 0x30 + octet / 100)
                    count += 1
                }
                if octet >= 10 {
                    buffer[count] = UInt8(truncatingIfNeeded: 0x30 + octet / 10 % 10)
                    count += 1
                }
                buffer[count] = UInt8(truncatingIfNeeded: 0x30 + octet % 10)
                count += 1
            }
            return count
        }
    }

    /// RFC 5952 §4: lowercase hex, no leading zeros (§4.1), "::" replaces the longest run of two or more
    /// zero groups (§4.2.1-2), the first one on a tie (§4.2.3); §5: IPv4-mapped addresses (::ffff:0:0/96)
    /// end in dotted-quad form. `high` holds groups 0-3, `low` groups 4-7, most significant first.
    public static func ipv6(high: UInt64, low: UInt64) -> String {
        if high == 0, low >> 32 == 0xFFFF {
            return "::ffff:" + ipv4(UInt32(truncatingIfNeeded: low))
        }
        func group(_ index: Int) -> UInt16 {
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64((3 - index % 4) * 16))
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

    /// The address in `bytes` (4 for IPv4, 16 for IPv6, network order); nil for any other length.
    public static func string<Bytes: Collection<UInt8>>(bytes: Bytes) -> String? {
        switch bytes.count {
        case 4:
            return ipv4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return ipv6(high: high, low: low)
        default:
            return nil
        }
    }
}
