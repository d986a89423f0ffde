import TextFormatting
import X509Inspection

/// Whether a certificate is for the name a client asked for (the `sni-mismatch` finding), as RFC 6125
/// §6.4 has a client check it: ASCII case-insensitive, a trailing dot ignored, a wildcard only as the
/// whole left-most label and standing for exactly one label (`*.example.com` covers `www.example.com`,
/// not `example.com` nor `a.b.example.com`), and never in a public-suffix-like two-label name
/// (`*.com`). A server name that is an IP address literal (RFC 6066 forbids it, some clients send it)
/// is covered by an equal IP address entry.
public enum HostNameMatch {
    public static func covers(_ certificate: CertificateSummary, _ serverName: String) -> Bool {
        let name = normalised(serverName)
        if IPAddressText.isAddressLiteral(name) {
            return certificate.subjectAlternativeNames.contains { normalised($0) == name }
        }
        return certificate.hostNames.contains { matches(pattern: normalised($0), name: name) }
    }

    static func normalised(_ text: String) -> String {
        var lowered = String(text.lowercased())
        if lowered.hasSuffix(".") { lowered.removeLast() }
        return lowered
    }

    /// `pattern` and `name` already normalised.
    static func matches(pattern: String, name: String) -> Bool {
        guard !pattern.isEmpty, !name.isEmpty else { return false }
        guard pattern.hasPrefix("*.") else { return pattern == name }
        let suffix = pattern.dropFirst(2)
        // At least two labels after the wildcard, and no other wildcard.
        guard suffix.contains("."), !suffix.contains("*") else { return false }
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return false }
        return name[name.index(after: dot)...] == suffix
    }
}
