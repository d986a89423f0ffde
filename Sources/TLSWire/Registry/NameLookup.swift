/// Code points back from the names records are written with, for `tlsscope report` re-judging records it
/// did not capture: the generated registry tables run backwards, each built once on first use. A name
/// written as hex ("0x1234", what an unregistered code point becomes) reads back as that code point;
/// "GREASE" as the first GREASE value (RFC 8701), which every rule treats alike.
enum RegistryNames {
    static let cipherSuites = table { IANARegistry.cipherSuiteName($0) }
    static let groups = table { IANARegistry.groupName($0) }
    static let signatureSchemes = table { IANARegistry.signatureSchemeName($0) }
    static let extensions = table { IANARegistry.extensionName($0) }
    static let versions: [String: UInt16] = {
        var names: [String: UInt16] = [:]
        for version in [TLSVersion.ssl2, .ssl3, .tls10, .tls11, .tls12, .tls13, .dtls10, .dtls12, .dtls13] {
            names[version.name] = version.rawValue
        }
        for draft in 0...0xff { names[TLSVersion(rawValue: 0x7f00 | UInt16(draft)).name] = 0x7f00 | UInt16(draft) }
        return names
    }()
    static let alerts: [String: UInt8] = {
        var names: [String: UInt8] = [:]
        for value in 0...0xff { if let name = IANARegistry.alertName(UInt8(value)) { names[name] = UInt8(value) } }
        return names
    }()
    static let compressionMethods: [String: UInt8] = {
        var names: [String: UInt8] = [:]
        for value in 0...0xff { if let name = IANARegistry.compressionMethodName(UInt8(value)) { names[name] = UInt8(value) } }
        return names
    }()

    private static func table(_ name: (UInt16) -> String?) -> [String: UInt16] {
        var names: [String: UInt16] = [:]
        for value in 0...0xffff {
            if let text = name(UInt16(value)), names[text] == nil { names[text] = UInt16(value) }
        }
        return names
    }

    /// `table[name]`, "0xNNNN", or GREASE's first value.
    static func code(_ name: String, in table: [String: UInt16]) -> UInt16? {
        if let code = table[name] { return code }
        if name == "GREASE" { return 0x0a0a }
        let digits = name.utf8
        guard digits.count == 6, name.hasPrefix("0x") else { return nil }
        return UInt16(name.dropFirst(2), radix: 16)
    }
}

extension TLSVersion {
    /// The version a record names ("TLS 1.2", "TLS 1.3 (draft 23)", "0x7e01"); nil for any other text.
    public init?(recordName name: String) {
        guard let code = RegistryNames.versions[name] ?? RegistryNames.code(name, in: [:]) else { return nil }
        self.init(rawValue: code)
    }
}

extension CipherSuite {
    /// The suite a record names (its IANA name, or "0x1234"); nil for any other text.
    public init?(recordName name: String) {
        guard let code = RegistryNames.code(name, in: RegistryNames.cipherSuites) else { return nil }
        self.init(rawValue: code)
    }
}

extension NamedGroup {
    /// The group a record names (its IANA name, or "0x1234"); nil for any other text, and for the "dh2048"
    /// form of an unnamed finite-field group.
    public init?(recordName name: String) {
        guard let code = RegistryNames.code(name, in: RegistryNames.groups) else { return nil }
        self.init(rawValue: code)
    }
}

extension SignatureScheme {
    public init?(recordName name: String) {
        guard let code = RegistryNames.code(name, in: RegistryNames.signatureSchemes) else { return nil }
        self.init(rawValue: code)
    }
}

extension ExtensionType {
    public init?(recordName name: String) {
        guard let code = RegistryNames.code(name, in: RegistryNames.extensions) else { return nil }
        self.init(rawValue: code)
    }
}

extension RegistryName {
    /// The compression method a record names ("NULL", "DEFLATE", or "0x0040" hex); nil for other text.
    public static func compressionMethod(named name: String) -> UInt8? {
        if let code = RegistryNames.compressionMethods[name] { return code }
        guard let code = RegistryNames.code(name, in: [:]), code <= 0xff else { return nil }
        return UInt8(code)
    }
}

extension AlertDescription {
    /// The alert a record names ("handshake_failure", or "0x00NN" hex); nil for other text.
    public init?(recordName name: String) {
        if let code = RegistryNames.alerts[name] {
            self.init(rawValue: code)
            return
        }
        guard let code = RegistryNames.code(name, in: [:]), code <= 0xff else { return nil }
        self.init(rawValue: UInt8(code))
    }
}
