// Parsed handshake values. They own their bytes (flow state outlives the packet buffer), are
// Sendable and Hashable, and keep wire order and GREASE values (fingerprints need both).

/// One extension as it appeared on the wire.
public struct TLSExtension: Sendable, Hashable {
    public var type: ExtensionType
    /// The extension's bytes, kept only where they are read after parsing (connection_id); empty for the
    /// others, whose contents the hello's own fields hold decoded.
    public var body: [UInt8]
    /// The length of the extension's body on the wire.
    public var length: Int
    public init(type: ExtensionType, body: [UInt8]) {
        self.type = type
        self.body = body
        self.length = body.count
    }

    /// An extension listed without its bytes.
    public init(type: ExtensionType, length: Int) {
        self.type = type
        self.body = []
        self.length = length
    }
}

/// RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2 ClientHello, with its extensions decoded where we report them.
public struct ClientHello: Sendable, Hashable {
    // The fields live in a copy-on-write box: a hello is handed from the parser to the session, the record,
    // the writer's fingerprints and the audit input and its rules, and each copy of ~20 lists and strings
    // retained and released them all (two atomic operations each) where a box is one.
    @usableFromInline
    struct Fields: Sendable, Hashable {
        @usableFromInline var version: TLSVersion
        @usableFromInline var random: [UInt8]
        @usableFromInline var sessionID: [UInt8]
        @usableFromInline var cookie: [UInt8] = []
        @usableFromInline var cipherSuites: [CipherSuite]
        @usableFromInline var compressionMethods: [UInt8]
        @usableFromInline var extensions: [TLSExtension]
        @usableFromInline var serverName: String?
        @usableFromInline var serverNameBytes: [UInt8]?
        @usableFromInline var alpn: [[UInt8]]
        @usableFromInline var supportedVersions: [TLSVersion]
        @usableFromInline var supportedGroups: [NamedGroup]
        @usableFromInline var ecPointFormats: [UInt8]
        @usableFromInline var signatureAlgorithms: [SignatureScheme]
        @usableFromInline var keyShareGroups: [NamedGroup]
        @usableFromInline var pskModes: [UInt8]
        @usableFromInline var hasECH: Bool
        @usableFromInline var isSSLv2Format: Bool
        @usableFromInline var sslv2CipherSpecs: [UInt32]
        @usableFromInline var truncatedLists: HelloLists = []
    }

    @usableFromInline
    final class Box: @unchecked Sendable {
        // @unchecked: written only through `ClientHello`'s accessors, after they made the box unique (which
        // is also why no dynamic exclusivity check is needed on `fields`: a shared box is never written).
        @exclusivity(unchecked) @usableFromInline var fields: Fields
        @usableFromInline init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var box: Box

    /// The box, made unique first (copy on write).
    @inlinable var uniqueBox: Box {
        mutating get {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            return box
        }
    }

    public static func == (lhs: ClientHello, rhs: ClientHello) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }

    /// legacy_version (the record-level hello version).
    @inlinable public var version: TLSVersion {
        _read { yield box.fields.version }
        _modify { yield &uniqueBox.fields.version }
    }
    @inlinable public var random: [UInt8] {
        _read { yield box.fields.random }
        _modify { yield &uniqueBox.fields.random }
    }
    @inlinable public var sessionID: [UInt8] {
        _read { yield box.fields.sessionID }
        _modify { yield &uniqueBox.fields.sessionID }
    }
    /// DTLS only (RFC 6347 §4.2.1 `cookie`, RFC 9147 §5.3 `legacy_cookie`): the cookie echoed from a
    /// HelloVerifyRequest, empty in a first ClientHello and always empty for TLS. Fingerprints ignore it.
    @inlinable public var cookie: [UInt8] {
        _read { yield box.fields.cookie }
        _modify { yield &uniqueBox.fields.cookie }
    }
    /// Wire order, GREASE kept.
    @inlinable public var cipherSuites: [CipherSuite] {
        _read { yield box.fields.cipherSuites }
        _modify { yield &uniqueBox.fields.cipherSuites }
    }
    @inlinable public var compressionMethods: [UInt8] {
        _read { yield box.fields.compressionMethods }
        _modify { yield &uniqueBox.fields.compressionMethods }
    }
    /// Wire order, GREASE kept, bodies kept.
    @inlinable public var extensions: [TLSExtension] {
        _read { yield box.fields.extensions }
        _modify { yield &uniqueBox.fields.extensions }
    }
    /// server_name: the first host_name entry when it is valid UTF-8 (IP literals and odd names are kept
    /// as sent); nil when absent, malformed, or not UTF-8 (then `serverNameBytes` still has the bytes).
    @inlinable public var serverName: String? {
        _read { yield box.fields.serverName }
        _modify { yield &uniqueBox.fields.serverName }
    }
    /// The first host_name entry's raw bytes, whatever they are; nil when absent or malformed.
    @inlinable public var serverNameBytes: [UInt8]? {
        _read { yield box.fields.serverNameBytes }
        _modify { yield &uniqueBox.fields.serverNameBytes }
    }
    /// ALPN protocol names in wire order, raw bytes (may be non-ASCII).
    @inlinable public var alpn: [[UInt8]] {
        _read { yield box.fields.alpn }
        _modify { yield &uniqueBox.fields.alpn }
    }
    @inlinable public var supportedVersions: [TLSVersion] {
        _read { yield box.fields.supportedVersions }
        _modify { yield &uniqueBox.fields.supportedVersions }
    }
    @inlinable public var supportedGroups: [NamedGroup] {
        _read { yield box.fields.supportedGroups }
        _modify { yield &uniqueBox.fields.supportedGroups }
    }
    @inlinable public var ecPointFormats: [UInt8] {
        _read { yield box.fields.ecPointFormats }
        _modify { yield &uniqueBox.fields.ecPointFormats }
    }
    @inlinable public var signatureAlgorithms: [SignatureScheme] {
        _read { yield box.fields.signatureAlgorithms }
        _modify { yield &uniqueBox.fields.signatureAlgorithms }
    }
    @inlinable public var keyShareGroups: [NamedGroup] {
        _read { yield box.fields.keyShareGroups }
        _modify { yield &uniqueBox.fields.keyShareGroups }
    }
    @inlinable public var pskModes: [UInt8] {
        _read { yield box.fields.pskModes }
        _modify { yield &uniqueBox.fields.pskModes }
    }
    /// encrypted_client_hello (0xfe0d) present.
    @inlinable public var hasECH: Bool {
        _read { yield box.fields.hasECH }
        _modify { yield &uniqueBox.fields.hasECH }
    }
    /// Sent in the SSL 2.0-compatible format (RFC 5246 Appendix E.2).
    @inlinable public var isSSLv2Format: Bool {
        _read { yield box.fields.isSSLv2Format }
        _modify { yield &uniqueBox.fields.isSSLv2Format }
    }
    /// SSL 2.0-format hellos only: every 3-byte V2CipherSpec in wire order (`cipherSuites` keeps just the
    /// ones whose first byte is 0, which are TLS suites); empty for TLS-format hellos.
    @inlinable public var sslv2CipherSpecs: [UInt32] {
        _read { yield box.fields.sslv2CipherSpecs }
        _modify { yield &uniqueBox.fields.sslv2CipherSpecs }
    }
    /// The lists that held more entries than `TLSLimits.maxListEntries` (`maxExtensions` for extensions):
    /// only their first entries are kept (fingerprints use the kept lists). Empty for a real hello.
    @inlinable public var truncatedLists: HelloLists {
        _read { yield box.fields.truncatedLists }
        _modify { yield &uniqueBox.fields.truncatedLists }
    }

    public init(
        version: TLSVersion, random: [UInt8] = [], sessionID: [UInt8] = [], cipherSuites: [CipherSuite] = [],
        compressionMethods: [UInt8] = [], extensions: [TLSExtension] = [], serverName: String? = nil,
        alpn: [[UInt8]] = [], supportedVersions: [TLSVersion] = [], supportedGroups: [NamedGroup] = [],
        ecPointFormats: [UInt8] = [], signatureAlgorithms: [SignatureScheme] = [], keyShareGroups: [NamedGroup] = [],
        pskModes: [UInt8] = [], hasECH: Bool = false, isSSLv2Format: Bool = false,
        serverNameBytes: [UInt8]? = nil, sslv2CipherSpecs: [UInt32] = [], cookie: [UInt8] = []
    ) {
        box = Box(
            Fields(
                version: version, random: random, sessionID: sessionID, cookie: cookie, cipherSuites: cipherSuites,
                compressionMethods: compressionMethods, extensions: extensions, serverName: serverName,
                serverNameBytes: serverNameBytes, alpn: alpn, supportedVersions: supportedVersions,
                supportedGroups: supportedGroups, ecPointFormats: ecPointFormats,
                signatureAlgorithms: signatureAlgorithms, keyShareGroups: keyShareGroups, pskModes: pskModes,
                hasECH: hasECH, isSSLv2Format: isSSLv2Format, sslv2CipherSpecs: sslv2CipherSpecs, truncatedLists: []))
    }
}

/// The lists of a hello, as a set: which ones were cut at their cap (`ClientHello.truncatedLists`).
public struct HelloLists: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let cipherSuites = HelloLists(rawValue: 1 << 0)
    public static let extensions = HelloLists(rawValue: 1 << 1)
    public static let supportedGroups = HelloLists(rawValue: 1 << 2)
    public static let signatureAlgorithms = HelloLists(rawValue: 1 << 3)
    public static let keyShares = HelloLists(rawValue: 1 << 4)
    public static let alpn = HelloLists(rawValue: 1 << 5)
    public static let supportedVersions = HelloLists(rawValue: 1 << 6)
    public static let sslv2CipherSpecs = HelloLists(rawValue: 1 << 7)

    /// The lists in this set by their JSON names ("cipher_suites", "extensions", ...), in a fixed order.
    public var names: [String] {
        let all: [(HelloLists, String)] = [
            (.cipherSuites, "cipher_suites"), (.extensions, "extensions"), (.supportedGroups, "groups"),
            (.signatureAlgorithms, "signature_algorithms"), (.keyShares, "key_share_groups"), (.alpn, "alpn"),
            (.supportedVersions, "supported_versions"), (.sslv2CipherSpecs, "sslv2_cipher_specs"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

/// RFC 8446 §4.1.3 ServerHello (also HelloRetryRequest, told apart by its special random), or an
/// SSL 2.0 SERVER-HELLO (`isSSLv2Format`).
///
/// SSL 2.0 SERVER-HELLO (draft-hickman-netscape-ssl-00 §2.6) maps to: `version` SSL 2.0 (0x0002),
/// `sessionID` the CONNECTION-ID, `sslv2CipherSpecs` the server's CIPHER-SPECS (3 bytes each, the
/// client picks one later), `sslv2SessionIDHit` SESSION-ID-HIT, and `cipherSuite` 0x0000, which
/// means nothing there (an SSL 2.0 cipher spec does not fit a TLS suite): use `sslv2CipherSpecs`.
/// Its certificate comes as a separate `.certificate` event right after it.
public struct ServerHello: Sendable, Hashable {
    public var version: TLSVersion
    public var random: [UInt8]
    public var sessionID: [UInt8]
    public var cipherSuite: CipherSuite
    public var compressionMethod: UInt8
    public var extensions: [TLSExtension]
    /// supported_versions selection (TLS 1.3), nil when absent.
    public var selectedVersion: TLSVersion?
    /// key_share group (in a HelloRetryRequest: the group asked for).
    public var selectedGroup: NamedGroup?
    /// ALPN protocol the server selected, raw bytes.
    public var alpn: [UInt8]?
    /// random == SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
    public var isHelloRetryRequest: Bool
    /// An SSL 2.0 SERVER-HELLO (see the type's summary).
    public var isSSLv2Format: Bool = false
    /// SSL 2.0 only: the CIPHER-SPECS in wire order, each `kind << 16 | code` as in `ClientHello.sslv2CipherSpecs`.
    public var sslv2CipherSpecs: [UInt32] = []
    /// SSL 2.0 only: SESSION-ID-HIT was non-zero (the session is resumed).
    public var sslv2SessionIDHit: Bool = false
    /// The extensions list held more than `TLSLimits.maxExtensions` entries: only the first are kept.
    public var extensionsTruncated: Bool = false

    /// The version the peers agreed on: supported_versions if present, else legacy_version (SSL 2.0
    /// for an SSL 2.0 SERVER-HELLO).
    public var negotiatedVersion: TLSVersion { selectedVersion ?? version }

    /// The suite and version a ServerKeyExchange after this hello is read with.
    public var keyExchangeContext: KeyExchangeContext {
        KeyExchangeContext(cipherSuite: cipherSuite, version: negotiatedVersion)
    }

    /// TLS 1.3, one of its drafts, or DTLS 1.3 was negotiated (the rest of the handshake is encrypted).
    public var selectsTLS13: Bool { negotiatedVersion.isTLS13Family }

    /// RFC 8446 §4.1.3: the random of a HelloRetryRequest, SHA-256("HelloRetryRequest").
    public static let helloRetryRequestRandom: [UInt8] = [
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    ]

    public init(
        version: TLSVersion, random: [UInt8] = [], sessionID: [UInt8] = [], cipherSuite: CipherSuite,
        compressionMethod: UInt8 = 0, extensions: [TLSExtension] = [], selectedVersion: TLSVersion? = nil,
        selectedGroup: NamedGroup? = nil, alpn: [UInt8]? = nil, isHelloRetryRequest: Bool = false
    ) {
        self.version = version
        self.random = random
        self.sessionID = sessionID
        self.cipherSuite = cipherSuite
        self.compressionMethod = compressionMethod
        self.extensions = extensions
        self.selectedVersion = selectedVersion
        self.selectedGroup = selectedGroup
        self.alpn = alpn
        self.isHelloRetryRequest = isHelloRetryRequest
    }
}

/// RFC 5246 §7.4.2 Certificate (TLS 1.2 and older layout): the chain as sent, DER each.
public struct CertificateChain: Sendable, Hashable {
    public var certificates: [[UInt8]]
    public init(certificates: [[UInt8]]) { self.certificates = certificates }
}

/// RFC 5246 §7.4.3 / RFC 8422 §5.4 / RFC 4279 ServerKeyExchange, read with the layout of the key
/// exchange its direction's ServerHello negotiated (see `init(parsing:context:)`); the body is not kept.
public struct ServerKeyExchange: Sendable, Hashable {
    /// The body's length (Handshake.length).
    public var length: Int
    /// The parameters, or why they were not read (never a guess).
    public var parameters: Result<ServerKeyExchangeParameters, ServerKeyExchangeProblem>
    public init(length: Int, parameters: Result<ServerKeyExchangeParameters, ServerKeyExchangeProblem>) {
        self.length = length
        self.parameters = parameters
    }
}

/// RFC 6347 §4.2.1 HelloVerifyRequest (DTLS 1.0 / 1.2; DTLS 1.3 uses a HelloRetryRequest with a cookie):
///
///     struct {
///         ProtocolVersion server_version;
///         opaque cookie<0..2^8-1>;
///     } HelloVerifyRequest;
///
/// The stream of events reports it as `.other(.helloVerifyRequest, length:)` once it has parsed: the
/// session needs its presence (the ClientHello that counts is the one after it), not its fields.
public struct HelloVerifyRequest: Sendable, Hashable {
    /// RFC 6347 §4.2.1: DTLS 1.0 (0xfeff) whatever version is being negotiated, though some servers send 0xfefd.
    public var serverVersion: TLSVersion
    public var cookie: [UInt8]
    public init(serverVersion: TLSVersion, cookie: [UInt8]) {
        self.serverVersion = serverVersion
        self.cookie = cookie
    }
}

/// RFC 8446 §6 Alert.
public struct Alert: Sendable, Hashable {
    /// 1 warning, 2 fatal.
    public var level: UInt8
    public var description: AlertDescription
    public init(level: UInt8, description: AlertDescription) {
        self.level = level
        self.description = description
    }
    /// RFC 8446 §6: level 2, or a level that is neither warning nor fatal on any alert but the ones
    /// that are warnings by nature (close_notify, user_canceled, no_renegotiation). A level-1 alert is
    /// a warning whatever its description (TLS 1.2 sends e.g. a warning unrecognized_name).
    public var isFatal: Bool {
        switch level {
        case 2: true
        case 1: false
        default: ![0, 90, 100].contains(description.rawValue)
        }
    }
}

/// A handshake message, decoded where we report its contents.
public enum HandshakeMessage: Sendable, Hashable {
    case clientHello(ClientHello)
    case serverHello(ServerHello)
    case certificate(CertificateChain)
    case serverKeyExchange(ServerKeyExchange)
    /// Any other type, with its body length (body not kept).
    case other(HandshakeType, length: Int)

    public var type: HandshakeType {
        switch self {
        case .clientHello: .clientHello
        case .serverHello: .serverHello
        case .certificate: .certificate
        case .serverKeyExchange: .serverKeyExchange
        case .other(let type, _): type
        }
    }
}
