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

/// Every finding tlsscope can report, as a value: the rules add findings by it and a policy's severities are
/// read by its index, not looked up by string (the three profiles' verdicts hashed an id string ~15 times
/// per record). Its cases are in the catalog's order: `rawValue` is the id's index in `FindingCatalog.all`.
public enum FindingID: Int, CaseIterable, Sendable, Hashable {
    case versionSSL2
    case versionSSL3
    case versionTLS10
    case versionTLS11
    case versionDTLS10
    case cipherNull
    case cipherAnon
    case cipherExport
    case cipherRC4
    case cipherRC2
    case cipherDES
    case cipherMD5Mac
    case cipher3DES
    case noForwardSecrecy
    case cipherCBC
    case cipherSHA1Mac
    case kexFFDHE
    case dhWeak
    case dhWeakerThanCert
    case certKeyWeak
    case certSignatureWeak
    case certExpired
    case certNotYetValid
    case certExpiring
    case certSelfSigned
    case certLifetime
    case sniMismatch
    case compression
    case noSecureRenegotiation
    case heartbeat
    case heartbleed
    case heartbleedProbe
    case cipherUnknown
    case ianaDiscouraged
    case alertFatal
    case handshakeIncomplete
    case keylogMismatch
    case clientOffersWeak
    case pqNegotiated
    case pqNotOffered
    case pqOfferedNotSelected
    case pqObsoleteDraft
    case policyVersion
    case policyCipher
    case policyGroup
    case policyCert

    /// The stable kebab-case id ("cert-expired"), as records and policy files spell it.
    public var name: String { FindingCatalog.all[rawValue].id }

    /// The id named `name`; nil when no finding has that id.
    public init?(name: String) {
        guard let id = FindingCatalog.idsByName[name] else { return nil }
        self = id
    }

    /// Broken crypto: critical under every policy.
    var isBrokenCrypto: Bool { FindingCatalog.all[rawValue].isBrokenCrypto }
}

/// A set of finding ids as bits (`FindingID.rawValue` < 64: a test holds the catalog to it).
struct FindingIDSet: Sendable, Hashable {
    private(set) var bits: UInt64 = 0

    init(_ ids: [FindingID] = []) {
        for id in ids { insert(id) }
    }

    mutating func insert(_ id: FindingID) { bits |= 1 << UInt64(id.rawValue) }
    func contains(_ id: FindingID) -> Bool { bits & 1 << UInt64(id.rawValue) != 0 }
}

/// The table of all finding ids.
public enum FindingCatalog {
    /// Every finding, in documentation order (the order of `FindingID`'s cases).
    public static let all: [FindingDescriptor] = FindingID.allCases.map(descriptor(of:))

    /// Each id's row; a switch over every case, so none can be left out.
    private static func descriptor(of id: FindingID) -> FindingDescriptor {
        switch id {
        case .versionSSL2: broken("version-ssl2", "SSL 2.0 negotiated")
        case .versionSSL3: broken("version-ssl3", "SSL 3.0 negotiated")
        case .versionTLS10: entry("version-tls10", "TLS 1.0 negotiated", .high, .high, .low)
        case .versionTLS11: entry("version-tls11", "TLS 1.1 negotiated", .high, .high, .low)
        case .versionDTLS10: entry("version-dtls10", "DTLS 1.0 negotiated", .high, .high, .low)
        case .cipherNull: broken("cipher-null", "suite without encryption negotiated")
        case .cipherAnon: broken("cipher-anon", "anonymous (unauthenticated) suite negotiated")
        case .cipherExport: broken("cipher-export", "EXPORT-grade suite negotiated")
        case .cipherRC4: broken("cipher-rc4", "RC4 suite negotiated")
        case .cipherRC2: broken("cipher-rc2", "RC2 suite negotiated")
        case .cipherDES: broken("cipher-des", "single-DES suite negotiated")
        case .cipherMD5Mac: broken("cipher-md5-mac", "suite with an HMAC-MD5 record MAC negotiated")
        case .cipher3DES:
            entry("cipher-3des", "3DES or IDEA suite negotiated (64-bit block, SWEET32)", .high, .high, .medium)
        case .noForwardSecrecy:
            entry("no-forward-secrecy", "static RSA/DH/ECDH or plain PSK key exchange", .high, .high, .medium)
        case .cipherCBC: entry("cipher-cbc", "CBC-mode suite negotiated", .high, .medium, .low)
        case .cipherSHA1Mac:
            entry("cipher-sha1-mac", "suite with an HMAC-SHA1 record MAC negotiated", .high, .medium, .low)
        case .kexFFDHE: entry("kex-ffdhe", "finite-field DHE key exchange negotiated", .medium, .low, .info)
        case .dhWeak: entry("dh-weak", "DH prime under 2048 bits (critical under 1024)", .high, .high, .medium)
        case .dhWeakerThanCert:
            entry("dh-weaker-than-cert", "DH prime shorter than the certificate's RSA key", .low, .low, .info)
        case .certKeyWeak:
            entry("cert-key-weak", "RSA/DSA key under 2048 bits (critical < 1024), EC key under 224",
                .high, .high, .high)
        case .certSignatureWeak:
            entry("cert-signature-weak", "certificate signed with SHA-1 (critical: MD5/MD4/MD2)", .high, .high, .high)
        case .certExpired: entry("cert-expired", "certificate expired at capture time", .high, .high, .high)
        case .certNotYetValid:
            entry("cert-not-yet-valid", "certificate not yet valid at capture time", .high, .high, .high)
        case .certExpiring:
            entry("cert-expiring", "certificate expires within 30 days of capture time", .medium, .medium, .medium)
        case .certSelfSigned: entry("cert-self-signed", "leaf certificate is self-signed", .medium, .medium, .medium)
        case .certLifetime: entry("cert-lifetime", "leaf validity longer than the policy's maximum", .low, .low, .low)
        case .sniMismatch:
            entry("sni-mismatch", "server name not covered by the leaf certificate's SAN (or CN)",
                .medium, .medium, .medium)
        case .compression: entry("compression", "TLS compression negotiated (CRIME)", .high, .high, .high)
        case .noSecureRenegotiation:
            entry("no-secure-renegotiation", "TLS 1.2-or-older ServerHello without renegotiation_info",
                .medium, .medium, .low)
        case .heartbeat: entry("heartbeat", "heartbeat extension negotiated", .low, .low, .low)
        case .heartbleed: broken("heartbleed", "heartbeat response larger than its request (Heartbleed)")
        case .heartbleedProbe:
            entry("heartbleed-probe", "heartbeat request claiming more payload than it carries", .high, .high, .high)
        case .cipherUnknown:
            entry("cipher-unknown", "unregistered or signalling cipher suite code point selected",
                .medium, .medium, .medium)
        case .ianaDiscouraged:
            entry("iana-discouraged", "suite or group marked Recommended = D by IANA", .low, .low, .info)
        case .alertFatal: entry("alert-fatal", "fatal alert seen", .low, .low, .low)
        case .handshakeIncomplete:
            entry("handshake-incomplete", "connection ended before the handshake finished", .low, .low, .low)
        case .keylogMismatch:
            entry(
                "keylog-mismatch", "keys given for the connection, but its Finished does not verify with them", .high,
                .high, .high)
        case .clientOffersWeak:
            entry("client-offers-weak", "client offered a broken or high-severity suite or version",
                .medium, .medium, .low)
        case .pqNegotiated: entry("pq-negotiated", "post-quantum hybrid key exchange negotiated", .info, .info, .info)
        case .pqNotOffered: entry("pq-not-offered", "client offered no post-quantum key exchange", .info, .info, .info)
        case .pqOfferedNotSelected:
            entry("pq-offered-not-selected", "client offered post-quantum, server chose classical", .low, .low, .info)
        case .pqObsoleteDraft:
            entry("pq-obsolete-draft", "obsolete Kyber draft code point offered or selected", .medium, .medium, .medium)
        case .policyVersion: entry("policy-version", "version not allowed by the policy", .medium, .medium, .medium)
        case .policyCipher: entry("policy-cipher", "cipher suite not allowed by the policy", .medium, .medium, .medium)
        case .policyGroup:
            entry("policy-group", "key-exchange group not allowed by the policy", .medium, .medium, .medium)
        case .policyCert:
            entry("policy-cert", "leaf certificate key, curve or signature not allowed by the policy",
                .medium, .medium, .medium)
        }
    }

    /// Ids by name.
    static let idsByName: [String: FindingID] = Dictionary(
        FindingID.allCases.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

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
