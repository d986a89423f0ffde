// Open newtypes for every TLS registry code point (the tls-parser / pcap-parser pattern): unknown
// and GREASE values survive parsing, and names come from tables generated from the IANA registries
// (see Generated*.swift and scripts/gen-registries.py).

/// RFC 8701: GREASE values are 0x?A?A with both bytes equal.
@inlinable
func isGREASE16(_ value: UInt16) -> Bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

@usableFromInline
func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// A protocol version as it appears on the wire (legacy_version, supported_versions, record version).
public struct TLSVersion: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ssl2 = TLSVersion(rawValue: 0x0002)
    public static let ssl3 = TLSVersion(rawValue: 0x0300)
    public static let tls10 = TLSVersion(rawValue: 0x0301)
    public static let tls11 = TLSVersion(rawValue: 0x0302)
    public static let tls12 = TLSVersion(rawValue: 0x0303)
    public static let tls13 = TLSVersion(rawValue: 0x0304)
    public static let dtls10 = TLSVersion(rawValue: 0xfeff)
    public static let dtls12 = TLSVersion(rawValue: 0xfefd)
    public static let dtls13 = TLSVersion(rawValue: 0xfefc)

    public var isGREASE: Bool { isGREASE16(rawValue) }
    /// 0x7fNN: TLS 1.3 draft NN (RFC 8446 drafts before publication).
    public var tls13Draft: Int? { rawValue >> 8 == 0x7f ? Int(rawValue & 0xff) : nil }

    /// A DTLS version (0xfeff DTLS 1.0, 0xfefd DTLS 1.2, 0xfefc DTLS 1.3; RFC 9147 §5.3: DTLS numbers are
    /// the 1's complement of the TLS ones, so they count down).
    public var isDTLS: Bool { self == .dtls10 || self == .dtls12 || self == .dtls13 }

    /// The TLS version whose handshake this version's follows: DTLS 1.0 is TLS 1.1's (RFC 4347 §1),
    /// DTLS 1.2 TLS 1.2's (RFC 6347 §1), DTLS 1.3 TLS 1.3's (RFC 9147 §1); every other version is itself.
    /// Checks of the form "TLS 1.2 or later" must compare this, not `rawValue` (0xfeff > 0x0303).
    public var tlsEquivalent: TLSVersion {
        switch self {
        case .dtls10: .tls11
        case .dtls12: .tls12
        case .dtls13: .tls13
        default: self
        }
    }

    /// TLS 1.3, one of its drafts, or DTLS 1.3: everything after the ServerHello is encrypted, and
    /// ChangeCipherSpec is only a compatibility dummy.
    public var isTLS13Family: Bool { self == .tls13 || self == .dtls13 || tls13Draft != nil }

    /// The contract's spelling: "TLS 1.2", "TLS 1.3 (draft 23)", "DTLS 1.2", or hex for anything else.
    public var name: String {
        switch self {
        case .ssl2: "SSL 2.0"
        case .ssl3: "SSL 3.0"
        case .tls10: "TLS 1.0"
        case .tls11: "TLS 1.1"
        case .tls12: "TLS 1.2"
        case .tls13: "TLS 1.3"
        case .dtls10: "DTLS 1.0"
        case .dtls12: "DTLS 1.2"
        case .dtls13: "DTLS 1.3"
        default:
            if isGREASE { "GREASE" } else if let draft = tls13Draft { "TLS 1.3 (draft \(draft))" } else { hex4(rawValue) }
        }
    }
    public var description: String { name }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A cipher suite code point (IANA "TLS Cipher Suites").
public struct CipherSuite: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public var isGREASE: Bool { isGREASE16(rawValue) }
    /// The IANA name, or nil when the code point is not registered.
    public var ianaName: String? { IANARegistry.cipherSuiteName(rawValue) }
    /// IANA name, "GREASE", or hex.
    public var name: String { isGREASE ? "GREASE" : (ianaName ?? hex4(rawValue)) }
    public var description: String { name }
    /// Every registered suite that has parts (`parts` is non-nil exactly for these), in code-point order.
    public static var registeredWithParts: [CipherSuite] {
        IANARegistry.registeredCipherSuiteValues.map(CipherSuite.init(rawValue:))
    }
}

/// A supported-groups code point (IANA "TLS Supported Groups"), also used by key_share.
public struct NamedGroup: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public var isGREASE: Bool { isGREASE16(rawValue) }
    public var ianaName: String? { IANARegistry.groupName(rawValue) }
    public var name: String { isGREASE ? "GREASE" : (ianaName ?? hex4(rawValue)) }
    public var description: String { name }
}

/// A signature scheme code point (IANA "TLS SignatureScheme").
public struct SignatureScheme: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public var isGREASE: Bool { isGREASE16(rawValue) }
    public var ianaName: String? { IANARegistry.signatureSchemeName(rawValue) }
    public var name: String { isGREASE ? "GREASE" : (ianaName ?? hex4(rawValue)) }
    public var description: String { name }
}

/// An extension type code point (IANA "TLS ExtensionType Values").
public struct ExtensionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let serverName = ExtensionType(rawValue: 0)
    public static let statusRequest = ExtensionType(rawValue: 5)
    public static let supportedGroups = ExtensionType(rawValue: 10)
    public static let ecPointFormats = ExtensionType(rawValue: 11)
    public static let signatureAlgorithms = ExtensionType(rawValue: 13)
    public static let heartbeat = ExtensionType(rawValue: 15)
    public static let alpn = ExtensionType(rawValue: 16)
    public static let padding = ExtensionType(rawValue: 21)
    public static let encryptThenMAC = ExtensionType(rawValue: 22)
    public static let extendedMasterSecret = ExtensionType(rawValue: 23)
    public static let sessionTicket = ExtensionType(rawValue: 35)
    public static let preSharedKey = ExtensionType(rawValue: 41)
    public static let earlyData = ExtensionType(rawValue: 42)
    public static let supportedVersions = ExtensionType(rawValue: 43)
    public static let cookie = ExtensionType(rawValue: 44)
    public static let pskKeyExchangeModes = ExtensionType(rawValue: 45)
    public static let keyShare = ExtensionType(rawValue: 51)
    /// RFC 9146 §3 / RFC 9147 §9: the connection id the sender wants to receive in records.
    public static let connectionID = ExtensionType(rawValue: 54)
    public static let encryptedClientHello = ExtensionType(rawValue: 0xfe0d)
    public static let renegotiationInfo = ExtensionType(rawValue: 0xff01)

    public var isGREASE: Bool { isGREASE16(rawValue) }
    public var ianaName: String? { IANARegistry.extensionName(rawValue) }
    public var name: String { isGREASE ? "GREASE" : (ianaName ?? hex4(rawValue)) }
    public var description: String { name }
}

/// An alert description (IANA "TLS Alerts").
public struct AlertDescription: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public var ianaName: String? { IANARegistry.alertName(rawValue) }
    public var name: String { ianaName ?? hex4(UInt16(rawValue)) }
    public var description: String { name }
}

/// A handshake message type (IANA "TLS HandshakeType").
public struct HandshakeType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let helloRequest = HandshakeType(rawValue: 0)
    public static let clientHello = HandshakeType(rawValue: 1)
    public static let serverHello = HandshakeType(rawValue: 2)
    public static let helloVerifyRequest = HandshakeType(rawValue: 3)
    public static let newSessionTicket = HandshakeType(rawValue: 4)
    public static let endOfEarlyData = HandshakeType(rawValue: 5)
    public static let encryptedExtensions = HandshakeType(rawValue: 8)
    public static let certificate = HandshakeType(rawValue: 11)
    public static let serverKeyExchange = HandshakeType(rawValue: 12)
    public static let certificateRequest = HandshakeType(rawValue: 13)
    public static let serverHelloDone = HandshakeType(rawValue: 14)
    public static let certificateVerify = HandshakeType(rawValue: 15)
    public static let clientKeyExchange = HandshakeType(rawValue: 16)
    public static let finished = HandshakeType(rawValue: 20)
    public static let certificateStatus = HandshakeType(rawValue: 22)
    public static let keyUpdate = HandshakeType(rawValue: 24)
    public static let messageHash = HandshakeType(rawValue: 254)

    public var ianaName: String? { IANARegistry.handshakeTypeName(rawValue) }
    /// Registry name ("client_hello"), or "handshake_0xNN".
    public var name: String { ianaName ?? "handshake_" + hex4(UInt16(rawValue)) }
    public var description: String { name }
}

/// A record content type (IANA "TLS ContentType").
public struct ContentType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let changeCipherSpec = ContentType(rawValue: 20)
    public static let alert = ContentType(rawValue: 21)
    public static let handshake = ContentType(rawValue: 22)
    public static let applicationData = ContentType(rawValue: 23)
    public static let heartbeat = ContentType(rawValue: 24)
    public static let tls12CID = ContentType(rawValue: 25)
    public static let ack = ContentType(rawValue: 26)

    public var description: String { IANARegistry.contentTypeName(rawValue) ?? hex4(UInt16(rawValue)) }
}

/// IANA "Recommended" column: Y, N or D (discouraged).
public enum IANARecommendation: String, Sendable, Hashable {
    case yes = "Y", no = "N", discouraged = "D"
}

/// A cipher suite taken apart, as the contract's `cipher` object shows it.
public struct CipherSuiteParts: Sendable, Hashable {
    /// The typed key exchange (the layout of the ServerKeyExchange follows from it).
    public var keyExchangeAlgorithm: KeyExchangeAlgorithm
    /// The typed authentication; nil for TLS 1.3 suites (the certificate decides).
    public var authenticationAlgorithm: AuthenticationAlgorithm?
    /// "ECDHE", "DHE", "RSA", "PSK", "ECDHE_PSK", ... (`keyExchangeAlgorithm.name`); for TLS 1.3 suites
    /// "TLS13", which the session replaces with what the handshake agreed ("ECDHE", "PSK-ECDHE", ...).
    public var keyExchange: String
    /// "RSA", "ECDSA", "DSS", "anon", "PSK"... (`authenticationAlgorithm?.name`); nil for TLS 1.3 suites.
    public var authentication: String?
    /// "AES_128_GCM", "CHACHA20_POLY1305", "3DES_EDE_CBC", "RC4_128", "NULL", ...
    public var encryption: String
    /// Effective key bits of the bulk cipher (0 for NULL, 40 for EXPORT40, 112 for 3DES...).
    public var encryptionBits: Int
    /// "AEAD", "SHA", "SHA256", "SHA384", "MD5", "NULL"...
    public var mac: String

    public init(
        keyExchange: KeyExchangeAlgorithm, authentication: AuthenticationAlgorithm?, encryption: String,
        encryptionBits: Int, mac: String
    ) {
        self.keyExchangeAlgorithm = keyExchange
        self.authenticationAlgorithm = authentication
        self.keyExchange = keyExchange.name
        self.authentication = authentication?.name
        self.encryption = encryption
        self.encryptionBits = encryptionBits
        self.mac = mac
    }
}

extension CipherSuite {
    /// The suite taken apart; nil for unregistered code points.
    public var parts: CipherSuiteParts? { IANARegistry.cipherSuiteParts(rawValue) }
    /// The IANA Recommended column; nil for unregistered code points.
    public var recommendation: IANARecommendation? { IANARegistry.cipherSuiteRecommendation(rawValue) }
}

extension NamedGroup {
    public var recommendation: IANARecommendation? { IANARegistry.groupRecommendation(rawValue) }

    /// What kind of key exchange the group is, from the registry data (Kind column of
    /// scripts/registry-data/tls-supported-groups*.csv); GREASE and unlisted code points are `.unknown`.
    public var kind: NamedGroupKind { IANARegistry.groupKind(rawValue) }

    /// The group combines a classical and a post-quantum exchange (X25519MLKEM768, X25519Kyber768Draft00...).
    public var isHybrid: Bool { IANARegistry.groupIsHybrid(rawValue) }

    /// The TLS 1.3 key exchange this group makes (RFC 8446 §4.2.7, draft-ietf-tls-ecdhe-mlkem), as the
    /// contract's `cipher.key_exchange` spells it: "ECDHE", "DHE", "ECDHE-MLKEM", "MLKEM"; with
    /// `pskAccepted` (the server's pre_shared_key) prefixed "PSK-". The obsolete Kyber drafts count as
    /// the ML-KEM they became; an unknown group is taken for ECDHE, what nearly every group is.
    public func tls13KeyExchangeName(pskAccepted: Bool = false) -> String {
        let name =
            switch kind {
            case .ffdhe: "DHE"
            case .pqHybrid: "ECDHE-MLKEM"
            case .purePQ: "MLKEM"
            case .obsoleteDraft: isHybrid ? "ECDHE-MLKEM" : "MLKEM"
            case .ecdhe, .unknown: "ECDHE"
            }
        return pskAccepted ? "PSK-" + name : name
    }
}

/// The class of a named group (RFC 8446 §4.2.7 splits ECDHE and FFDHE; the ML-KEM drafts add the rest).
public enum NamedGroupKind: Sendable, Hashable, CaseIterable {
    /// Elliptic-curve Diffie-Hellman (secp256r1, x25519, brainpool, GOST and SM2 curves...).
    case ecdhe
    /// Finite-field Diffie-Hellman with an RFC 7919 group (ffdhe2048...).
    case ffdhe
    /// A classical and an ML-KEM exchange together (X25519MLKEM768, SecP256r1MLKEM768...).
    case pqHybrid
    /// ML-KEM alone (MLKEM512, MLKEM768, MLKEM1024).
    case purePQ
    /// A pre-standard post-quantum code point (Kyber drafts: 0x6399, 0x639a, 0xfe30..., OQS's 0x2f39...).
    case obsoleteDraft
    /// Not in the registry data (GREASE included).
    case unknown
}

/// Names for the one-byte registries that appear as lists of raw bytes in the hellos.
public enum RegistryName {
    /// EC point format name ("uncompressed"), or hex.
    public static func ecPointFormat(_ value: UInt8) -> String {
        IANARegistry.ecPointFormatName(value) ?? hex4(UInt16(value))
    }
    /// Compression method name ("NULL", "DEFLATE"), or hex.
    public static func compressionMethod(_ value: UInt8) -> String {
        IANARegistry.compressionMethodName(value) ?? hex4(UInt16(value))
    }
    /// PSK key exchange mode name ("psk_dhe_ke"), or hex.
    public static func pskKeyExchangeMode(_ value: UInt8) -> String {
        IANARegistry.pskKeyExchangeModeName(value) ?? hex4(UInt16(value))
    }
}
