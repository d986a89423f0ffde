import TextFormatting
import X509Inspection

/// Whether a certificate is for the name a client asked for (the `sni-mismatch` finding), as RFC 6125
/// §6.4 has a client check it: ASCII case-insensitive, a trailing dot ignored, a wildcard only as the
/// whole left-most label and standing for exactly one label (`*.example.com` covers `www.example.com`,
/// not `example.com` nor `a.b.example.com`), and never in a two-label name (`*.com`). A server name that
/// is an IP address literal (RFC 6066 forbids it, some clients send it) is covered by an equal IP address
/// entry. Compares bytes in place: it runs for every record under three profiles.
public enum HostNameMatch {
    public static func covers(_ certificate: CertificateSummary, _ serverName: String) -> Bool {
        let name = trimmed(serverName.utf8[...])
        if IPAddressText.isAddressLiteral(serverName) {
            return certificate.subjectAlternativeNames.contains { equalIgnoringCase(trimmed($0.utf8[...]), name) }
        }
        return certificate.hostNames.contains { matches(pattern: trimmed($0.utf8[...]), name: name) }
    }

    private static func trimmed(_ text: Substring.UTF8View) -> Substring.UTF8View {
        text.last == UInt8(ascii: ".") ? text.dropLast() : text
    }

    /// ASCII case-insensitive byte equality (host names are ASCII: IDNs travel as A-labels).
    static func equalIgnoringCase(_ lhs: Substring.UTF8View, _ rhs: Substring.UTF8View) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).allSatisfy { lower($0) == lower($1) }
    }

    @inline(__always)
    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// `pattern` against `name`, both without a trailing dot.
    static func matches(pattern: Substring.UTF8View, name: Substring.UTF8View) -> Bool {
        guard !pattern.isEmpty, !name.isEmpty else { return false }
        let star = UInt8(ascii: "*"), dot = UInt8(ascii: ".")
        guard pattern.count >= 2, pattern.first == star, pattern.dropFirst().first == dot else {
            return equalIgnoringCase(pattern, name)
        }
        let suffix = pattern.dropFirst(2)
        // At least two labels after the wildcard, and no other wildcard.
        guard suffix.contains(dot), !suffix.contains(star) else { return false }
        guard let firstDot = name.firstIndex(of: dot), firstDot != name.startIndex else { return false }
        return equalIgnoringCase(name[name.index(after: firstDot)...], suffix)
    }
}
