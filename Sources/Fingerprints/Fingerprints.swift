import TLSWire

/// JA3 (salesforce): the string and its lowercase MD5 hex.
public struct JA3: Sendable, Hashable {
    public var string: String
    public var hash: String
}

/// JA4 (FoxIO) client fingerprint in its four forms.
public struct JA4: Sendable, Hashable {
    public var fingerprint: String
    public var raw: String
    public var originalOrder: String
    public var rawOriginalOrder: String
}

/// Transport over which the hello was seen ("t", "q", "d" in JA4).
public enum FingerprintTransport: Sendable, Hashable {
    case tcp, quic, dtls
}

extension JA3 {
    /// JA3 of a ClientHello. PLACEHOLDER
    public init(clientHello: ClientHello) {
        self.init(string: "", hash: "")
    }
    /// JA3S of a ServerHello. PLACEHOLDER
    public init(serverHello: ServerHello) {
        self.init(string: "", hash: "")
    }
}

extension JA4 {
    /// PLACEHOLDER
    public init(clientHello: ClientHello, transport: FingerprintTransport) {
        self.init(fingerprint: "", raw: "", originalOrder: "", rawOriginalOrder: "")
    }
}
