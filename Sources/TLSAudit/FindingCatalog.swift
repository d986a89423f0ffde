// Every finding id tlsscope can report, with its severity under each built-in policy. The rules in
// Rules.swift decide *whether* a finding applies; this table (and a policy's overrides) decides *how bad*
// it is. docs/audit.md explains each row and cites its source.

/// What the audit knows about one finding id.
public struct FindingDescriptor: Sendable, Hashable {
    /// Stable kebab-case id (the contract's findings table, plus the ids added below it).
    public var id: String
    /// One line: when it fires.
    public var summary: String
    /// Severity under the built-in `modern`, `intermediate` and `old` policies.
    public var modern: Severity
    public var intermediate: Severity
    public var old: Severity
    /// Broken crypto: critical under every policy; a severity override cannot lower it and `disabled`
    /// cannot switch it off (only a scoped, reasoned exception can silence it).
    public var isBrokenCrypto: Bool

    public init(
        id: String, summary: String, modern: Severity, intermediate: Severity, old: Severity,
        isBrokenCrypto: Bool = false
    ) {
        self.id = id
        self.summary = summary
        self.modern = modern
        self.intermediate = intermediate
        self.old = old
        self.isBrokenCrypto = isBrokenCrypto
    }
}

/// The table of all finding ids.
public enum FindingCatalog {
    /// Every finding, in documentation order.
    public static let all: [FindingDescriptor] = [
        broken("version-ssl2", "SSL 2.0 negotiated"),
        broken("version-ssl3", "SSL 3.0 negotiated"),
        entry("version-tls10", "TLS 1.0 negotiated", .high, .high, .low),
        entry("version-tls11", "TLS 1.1 negotiated", .high, .high, .low),
        entry("version-dtls10", "DTLS 1.0 negotiated", .high, .high, .low),
        broken("cipher-null", "suite without encryption negotiated"),
        broken("cipher-anon", "anonymous (unauthenticated) suite negotiated"),
        broken("cipher-export", "EXPORT-grade suite negotiated"),
        broken("cipher-rc4", "RC4 suite negotiated"),
        broken("cipher-rc2", "RC2 suite negotiated"),
        broken("cipher-des", "single-DES suite negotiated"),
        broken("cipher-md5-mac", "suite with an HMAC-MD5 record MAC negotiated"),
        entry("cipher-3des", "3DES or IDEA suite negotiated (64-bit block, SWEET32)", .high, .high, .medium),
        entry("no-forward-secrecy", "static RSA/DH/ECDH or plain PSK key exchange", .high, .high, .medium),
        entry("cipher-cbc", "CBC-mode suite negotiated", .high, .medium, .low),
        entry("cipher-sha1-mac", "suite with an HMAC-SHA1 record MAC negotiated", .high, .medium, .low),
        entry("kex-ffdhe", "finite-field DHE key exchange negotiated", .medium, .low, .info),
        entry("dh-weak", "DH prime under 2048 bits (critical under 1024)", .high, .high, .medium),
        entry("dh-weaker-than-cert", "DH prime shorter than the certificate's RSA key", .low, .low, .info),
        entry(
            "cert-key-weak", "RSA/DSA key under 2048 bits (critical < 1024), EC key under 224", .high, .high, .high),
        entry("cert-signature-weak", "certificate signed with SHA-1 (critical: MD5/MD4/MD2)", .high, .high, .high),
        entry("cert-expired", "certificate expired at capture time", .high, .high, .high),
        entry("cert-not-yet-valid", "certificate not yet valid at capture time", .high, .high, .high),
        entry("cert-expiring", "certificate expires within 30 days of capture time", .medium, .medium, .medium),
        entry("cert-self-signed", "leaf certificate is self-signed", .medium, .medium, .medium),
        entry("cert-lifetime", "leaf validity longer than the policy's maximum", .low, .low, .low),
        entry("sni-mismatch", "server name not covered by the leaf certificate's SAN (or CN)", .medium, .medium, .medium),
        entry("compression", "TLS compression negotiated (CRIME)", .high, .high, .high),
        entry(
            "no-secure-renegotiation", "TLS 1.2-or-older ServerHello without renegotiation_info", .medium, .medium, .low
        ),
        entry("heartbeat", "heartbeat extension negotiated", .low, .low, .low),
        broken("heartbleed", "heartbeat response larger than its request (Heartbleed)"),
        entry("heartbleed-probe", "heartbeat request claiming more payload than it carries", .high, .high, .high),
        entry(
            "cipher-unknown", "unregistered or signalling cipher suite code point selected", .medium, .medium, .medium),
        entry("iana-discouraged", "suite or group marked Recommended = D by IANA", .low, .low, .info),
        entry("alert-fatal", "fatal alert seen", .low, .low, .low),
        entry("handshake-incomplete", "connection ended before the handshake finished", .low, .low, .low),
        entry("keylog-mismatch", "keys given for the connection, but its Finished does not verify with them", .high, .high, .high),
        entry(
            "client-offers-weak", "client offered a broken or high-severity suite or version", .medium, .medium, .low),
        entry("pq-negotiated", "post-quantum hybrid key exchange negotiated", .info, .info, .info),
        entry("pq-not-offered", "client offered no post-quantum key exchange", .info, .info, .info),
        entry("pq-offered-not-selected", "client offered post-quantum, server chose classical", .low, .low, .info),
        entry("pq-obsolete-draft", "obsolete Kyber draft code point offered or selected", .medium, .medium, .medium),
        entry("policy-version", "version not allowed by the policy", .medium, .medium, .medium),
        entry("policy-cipher", "cipher suite not allowed by the policy", .medium, .medium, .medium),
        entry("policy-group", "key-exchange group not allowed by the policy", .medium, .medium, .medium),
        entry(
            "policy-cert", "leaf certificate key, curve or signature not allowed by the policy", .medium, .medium,
            .medium),
    ]

    /// Lookup by id.
    public static let byID: [String: FindingDescriptor] = Dictionary(
        all.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

    /// Ids that are critical under every policy.
    public static let brokenCryptoIDs: Set<String> = Set(all.filter(\.isBrokenCrypto).map(\.id))

    private static func entry(
        _ id: String, _ summary: String, _ modern: Severity, _ intermediate: Severity, _ old: Severity
    ) -> FindingDescriptor {
        FindingDescriptor(id: id, summary: summary, modern: modern, intermediate: intermediate, old: old)
    }

    private static func broken(_ id: String, _ summary: String) -> FindingDescriptor {
        FindingDescriptor(
            id: id, summary: summary, modern: .critical, intermediate: .critical, old: .critical,
            isBrokenCrypto: true)
    }
}
