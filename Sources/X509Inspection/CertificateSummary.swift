/// What tlsscope reports of one X.509 certificate (the contract's certificate object).
public struct CertificateSummary: Sendable, Hashable {
    /// Lowercase hex SHA-256 of the DER bytes.
    public var sha256: String
    /// RFC 4514 string forms.
    public var subject: String
    public var issuer: String
    /// Lowercase hex, no separators.
    public var serial: String
    /// Seconds since 1970 (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// "RSA", "EC", "Ed25519", "Ed448", "DSA", or the OID text for anything else.
    public var keyType: String
    public var keyBits: Int?
    /// Named curve of an EC key ("secp256r1"...).
    public var curve: String?
    /// "sha256WithRSAEncryption", "ecdsa-with-SHA256", ...
    public var signatureAlgorithm: String
    /// DNS names, IP addresses, e-mail addresses and URIs, in certificate order.
    public var subjectAlternativeNames: [String]
    /// Subject equals issuer and the signature verifies with the certificate's own key.
    public var isSelfSigned: Bool

    public init(
        sha256: String, subject: String, issuer: String, serial: String, notBefore: Int64, notAfter: Int64,
        keyType: String, keyBits: Int?, curve: String?, signatureAlgorithm: String,
        subjectAlternativeNames: [String], isSelfSigned: Bool
    ) {
        self.sha256 = sha256
        self.subject = subject
        self.issuer = issuer
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.keyType = keyType
        self.keyBits = keyBits
        self.curve = curve
        self.signatureAlgorithm = signatureAlgorithm
        self.subjectAlternativeNames = subjectAlternativeNames
        self.isSelfSigned = isSelfSigned
    }
}

/// A certificate that swift-certificates could not parse.
public struct CertificateParseError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

extension CertificateSummary {
    /// Parses DER with swift-certificates.
    public init(derEncoded der: [UInt8]) throws(CertificateParseError) {
        throw CertificateParseError(reason: "PLACEHOLDER")
    }
}
