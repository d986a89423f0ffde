import TLSWire

/// What a deployment accepts: versions, suites, groups, certificate requirements, severities and
/// allow-listed exceptions. Built-ins follow Mozilla's Server Side TLS guidelines (docs/audit.md).
public struct AuditPolicy: Sendable, Hashable {
    /// A deliberate, reasoned exemption: findings with `id` on connections that match every condition given
    /// (a nil condition matches anything) are dropped.
    public struct Exception: Sendable, Hashable {
        public var id: String
        /// Exact host name, or "*.example.com" for any name under example.com (case-insensitive).
        public var serverName: String?
        /// Textual address as the record shows it ("192.0.2.1", "2001:db8::1").
        public var serverAddress: String?
        public var clientJA3: String?
        public var clientJA4: String?
        public var reason: String

        public init(
            id: String, serverName: String? = nil, serverAddress: String? = nil, clientJA3: String? = nil,
            clientJA4: String? = nil, reason: String
        ) {
            self.id = id
            self.serverName = serverName
            self.serverAddress = serverAddress
            self.clientJA3 = clientJA3
            self.clientJA4 = clientJA4
            self.reason = reason
        }

        /// Every condition that is set holds for `input`.
        public func matches(_ input: AuditInput) -> Bool {
            if let serverName {
                guard let actual = input.serverName?.lowercased() else { return false }
                let wanted = serverName.lowercased()
                if wanted.hasPrefix("*.") {
                    guard actual.hasSuffix(wanted.dropFirst(1)), actual.count > wanted.count - 1 else { return false }
                } else if actual != wanted {
                    return false
                }
            }
            if let serverAddress, input.serverAddress?.lowercased() != serverAddress.lowercased() { return false }
            if let clientJA3, input.clientJA3?.lowercased() != clientJA3.lowercased() { return false }
            if let clientJA4, input.clientJA4 != clientJA4 { return false }
            return true
        }
    }

    /// "modern", "intermediate", "old", or a policy file's name.
    public var name: String
    /// Versions the policy accepts. DTLS 1.2 / 1.3 count as TLS 1.2 / 1.3.
    public var versions: Set<TLSVersion> {
        didSet { versionBits = CodePointSet(versions.lazy.map(\.rawValue)) }
    }
    /// Suites (TLS 1.3 and TLS 1.2-or-older) the policy accepts.
    public var cipherSuites: Set<CipherSuite> {
        didSet { suiteBits = CodePointSet(cipherSuites.lazy.map(\.rawValue)) }
    }
    /// Key-exchange groups the policy accepts.
    public var groups: Set<NamedGroup> {
        didSet { groupBits = CodePointSet(groups.lazy.map(\.rawValue)) }
    }
    // The three sets as bitmaps, kept with them: the rules ask each of them for every record under three
    // profiles, and a `Set` hashed the code point (with its per-process seed) every time.
    private var versionBits = CodePointSet()
    private var suiteBits = CodePointSet()
    private var groupBits = CodePointSet()
    /// Leaf key types: "rsa", "ecdsa", "ed25519", "ed448", "dsa" (lower case).
    public var certificateKeyTypes: Set<String>
    /// Leaf EC curves by SEC 2 name ("secp256r1").
    public var certificateCurves: Set<String>
    /// Leaf signature algorithms as CertificateSummary names them ("sha256WithRSAEncryption").
    public var certificateSignatures: Set<String>
    /// Minimum RSA/DSA key bits (cert-key-weak fires below max(2048, this)).
    public var minimumRSABits: Int
    /// Minimum EC key bits (cert-key-weak fires below max(224, this)).
    public var minimumECBits: Int
    /// Minimum DH prime bits (dh-weak fires below max(2048, this)).
    public var minimumDHBits: Int
    /// Longest acceptable leaf validity, in days (cert-lifetime).
    public var maximumCertificateLifetimeDays: Int
    /// Severity of every finding id under this policy (the catalog's column, then any overrides).
    public var severities: [String: Severity] {
        didSet {
            seriousWeaknessMask = TLSAudit.seriousWeaknessMask(self)
            severityByID = Self.severityTable(self)
        }
    }
    /// The suite weaknesses this policy rates high or critical (bits of `suiteWeaknessIDs`), kept with the
    /// severities it derives from: the client-offer rule reads it for every record.
    private(set) var seriousWeaknessMask: UInt16 = 0
    /// `severity(of:)` of every finding, by `FindingID.rawValue`, kept with the severities it derives from:
    /// the rules judge every finding of every record under three profiles.
    private(set) var severityByID: [Severity] = []
    /// Ids never reported (broken-crypto ids are ignored here).
    public var disabled: Set<String> {
        didSet { disabledIDs = Self.idSet(disabled) }
    }
    /// `disabled` as a set of finding ids (names outside the catalog name no finding the rules report).
    private(set) var disabledIDs = FindingIDSet()
    public var exceptions: [Exception]

    public init(
        name: String, versions: Set<TLSVersion>, cipherSuites: Set<CipherSuite>, groups: Set<NamedGroup>,
        certificateKeyTypes: Set<String>, certificateCurves: Set<String>, certificateSignatures: Set<String>,
        minimumRSABits: Int, minimumECBits: Int, minimumDHBits: Int, maximumCertificateLifetimeDays: Int,
        severities: [String: Severity], disabled: Set<String> = [], exceptions: [Exception] = []
    ) {
        self.name = name
        self.versions = versions
        self.cipherSuites = cipherSuites
        self.groups = groups
        self.certificateKeyTypes = certificateKeyTypes
        self.certificateCurves = certificateCurves
        self.certificateSignatures = certificateSignatures
        self.minimumRSABits = minimumRSABits
        self.minimumECBits = minimumECBits
        self.minimumDHBits = minimumDHBits
        self.maximumCertificateLifetimeDays = maximumCertificateLifetimeDays
        self.severities = severities
        self.disabled = disabled
        self.exceptions = exceptions
        self.seriousWeaknessMask = TLSAudit.seriousWeaknessMask(self)
        self.severityByID = Self.severityTable(self)
        self.disabledIDs = Self.idSet(disabled)
        self.versionBits = CodePointSet(versions.lazy.map(\.rawValue))
        self.suiteBits = CodePointSet(cipherSuites.lazy.map(\.rawValue))
        self.groupBits = CodePointSet(groups.lazy.map(\.rawValue))
    }

    /// `versions.contains(version)`, read from the bitmap.
    func accepts(_ version: TLSVersion) -> Bool { versionBits.contains(version.rawValue) }
    /// `cipherSuites.contains(suite)`, read from the bitmap.
    func accepts(_ suite: CipherSuite) -> Bool { suiteBits.contains(suite.rawValue) }
    /// `groups.contains(group)`, read from the bitmap.
    func accepts(_ group: NamedGroup) -> Bool { groupBits.contains(group.rawValue) }

    /// The severity this policy gives `id`; broken-crypto ids never go below critical.
    public func severity(of id: String) -> Severity {
        let configured = severities[id] ?? FindingCatalog.byID[id]?.intermediate ?? .medium
        return FindingCatalog.brokenCryptoIDs.contains(id) ? .critical : configured
    }

    /// The severity this policy gives `id` (`severity(of:)` of its name), read from the policy's table.
    func severity(of id: FindingID) -> Severity {
        severityByID.indices.contains(id.rawValue) ? severityByID[id.rawValue] : severity(of: id.name)
    }

    /// Whether the policy disables `id` (`disabled` holds its name).
    func isDisabled(_ id: FindingID) -> Bool { disabledIDs.contains(id) }

    private static func severityTable(_ policy: AuditPolicy) -> [Severity] {
        FindingID.allCases.map { policy.severity(of: $0.name) }
    }

    private static func idSet(_ names: Set<String>) -> FindingIDSet {
        var ids = FindingIDSet()
        for name in names {
            if let id = FindingID(name: name) { ids.insert(id) }
        }
        return ids
    }

    /// A built-in policy by name ("modern", "intermediate", "old"; any case), for `--policy`.
    public static func builtIn(named name: String) -> AuditPolicy? {
        switch name.lowercased() {
        case "modern": .modern
        case "intermediate": .intermediate
        case "old": .old
        default: nil
        }
    }

    /// The built-in policy names, for help text.
    public static let builtInNames = ["modern", "intermediate", "old"]
}

// MARK: - Built-in policies

private let tls13Suites: [UInt16] = [0x1301, 0x1302, 0x1303]

/// Mozilla 6.0 intermediate `ciphers.iana`.
private let intermediateSuites: [UInt16] = [
    0xc02b,  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    0xc02f,  // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0xc02c,  // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    0xc030,  // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0xcca9,  // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    0xcca8,  // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
]

/// Mozilla 5.8 old `ciphers.iana` (https://ssl-config.mozilla.org/guidelines/5.8.json): 21 suites, no
/// DHE (5.7's list had 26, with five DHE_RSA suites, and DH 1024).
private let oldSuites: [UInt16] = [
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    0xc023,  // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    0xc027,  // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    0xc009,  // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc013,  // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0xc024,  // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
    0xc028,  // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    0xc00a,  // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0xc014,  // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    0x009c,  // TLS_RSA_WITH_AES_128_GCM_SHA256
    0x009d,  // TLS_RSA_WITH_AES_256_GCM_SHA384
    0x003c,  // TLS_RSA_WITH_AES_128_CBC_SHA256
    0x003d,  // TLS_RSA_WITH_AES_256_CBC_SHA256
    0x002f,  // TLS_RSA_WITH_AES_128_CBC_SHA
    0x0035,  // TLS_RSA_WITH_AES_256_CBC_SHA
    0x000a,  // TLS_RSA_WITH_3DES_EDE_CBC_SHA
]

private func suiteSet(_ codes: [UInt16]) -> Set<CipherSuite> { Set(codes.map(CipherSuite.init(rawValue:))) }
private func groupSet(_ codes: [UInt16]) -> Set<NamedGroup> { Set(codes.map(NamedGroup.init(rawValue:))) }

private func severityColumn(_ column: (FindingDescriptor) -> Severity) -> [String: Severity] {
    Dictionary(FindingCatalog.all.map { ($0.id, column($0)) }, uniquingKeysWith: { first, _ in first })
}

extension AuditPolicy {
    /// Mozilla Server Side TLS 6.0 "modern": TLS 1.3 only, ECDSA P-256/P-384 certificates, 90-day lifetime.
    public static let modern = AuditPolicy(
        name: "modern",
        versions: [.tls13],
        cipherSuites: suiteSet(tls13Suites),
        // X25519MLKEM768, x25519, secp256r1 (prime256v1), secp384r1
        groups: groupSet([0x11ec, 0x001d, 0x0017, 0x0018]),
        certificateKeyTypes: ["ecdsa"],
        certificateCurves: ["secp256r1", "secp384r1"],
        certificateSignatures: ["ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"],
        minimumRSABits: 2048, minimumECBits: 224, minimumDHBits: 2048,
        maximumCertificateLifetimeDays: 90,
        severities: severityColumn(\.modern)
    )

    /// Mozilla Server Side TLS 6.0 "intermediate" (the default): TLS 1.2 and 1.3, ECDHE AEAD suites,
    /// RSA ≥ 2048 or ECDSA P-256/P-384 certificates, 366-day lifetime.
    public static let intermediate = AuditPolicy(
        name: "intermediate",
        versions: [.tls12, .tls13],
        cipherSuites: suiteSet(tls13Suites + intermediateSuites),
        groups: groupSet([0x11ec, 0x001d, 0x0017, 0x0018]),
        certificateKeyTypes: ["ecdsa", "rsa"],
        certificateCurves: ["secp256r1", "secp384r1"],
        certificateSignatures: [
            "sha256WithRSAEncryption", "ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512",
        ],
        minimumRSABits: 2048, minimumECBits: 224, minimumDHBits: 2048,
        maximumCertificateLifetimeDays: 366,
        severities: severityColumn(\.intermediate)
    )

    /// Mozilla Server Side TLS 5.8 "old": TLS 1.0–1.3, ECDHE, CBC, static-RSA and 3DES suites for legacy
    /// clients (no DHE), RSA certificates, DH ≥ 2048, 366-day lifetime.
    public static let old = AuditPolicy(
        name: "old",
        versions: [.tls10, .tls11, .tls12, .tls13],
        cipherSuites: suiteSet(tls13Suites + oldSuites),
        // x25519, secp256r1, secp384r1 (5.8 predates the ML-KEM hybrid; X25519MLKEM768 added as 6.0 did)
        groups: groupSet([0x11ec, 0x001d, 0x0017, 0x0018]),
        certificateKeyTypes: ["rsa"],
        certificateCurves: ["secp256r1", "secp384r1"],
        certificateSignatures: ["sha256WithRSAEncryption"],
        minimumRSABits: 2048, minimumECBits: 224, minimumDHBits: 2048,
        maximumCertificateLifetimeDays: 366,
        severities: severityColumn(\.old)
    )
}

/// A set of 16-bit code points as a 65,536-bit map (8 KB; empty: no storage).
struct CodePointSet: Sendable, Hashable {
    private var words: [UInt64] = []

    init() {}

    init(_ values: some Sequence<UInt16>) {
        for value in values {
            if words.isEmpty { words = [UInt64](repeating: 0, count: 1 << 10) }
            words[Int(value >> 6)] |= 1 << UInt64(value & 63)
        }
    }

    func contains(_ value: UInt16) -> Bool {
        let index = Int(value >> 6)
        return index < words.count && words[index] & (1 << UInt64(value & 63)) != 0
    }
}
