import Crypto
import SwiftASN1
import TextFormatting
import X509

/// What tlsscope reports of one X.509 certificate (the contract's certificate object).
public struct CertificateSummary: Sendable, Hashable {
    /// Lowercase hex SHA-256 of the DER bytes.
    public var sha256: String
    /// RFC 4514 string forms.
    public var subject: String
    public var issuer: String
    /// Lowercase hex of the serial's value, no separators; a negative serial (which RFC 5280 §4.1.2.2
    /// forbids but asks to be handled) as "-" and the hex of its magnitude.
    public var serial: String
    /// Seconds since 1970 (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// "RSA", "EC", "Ed25519", "Ed448", "DSA", "DH", "X25519", "X448", "ML-DSA-44/65/87", "SLH-DSA-…",
    /// "ML-KEM-512/768/1024", or the OID text for anything else.
    public var keyType: String
    /// Modulus or prime size; an EC key's order size (also with explicit parameters); nil where no bit
    /// size applies (ML-DSA, SLH-DSA, ML-KEM) or it could not be read.
    public var keyBits: Int?
    /// Named curve of an EC key ("secp256r1"...), "explicit" when the key carries its own curve
    /// parameters (RFC 3279 specifiedCurve), "implicit" for implicitlyCA, or the OID of an unknown curve.
    public var curve: String?
    /// "sha256WithRSAEncryption", "ecdsa-with-SHA256", ...
    public var signatureAlgorithm: String
    /// DNS names, IP addresses, e-mail addresses and URIs, in certificate order.
    public var subjectAlternativeNames: [String]
    /// Issuer matches subject under RFC 5280 §7.1 and the signature verifies with the certificate's own
    /// key; where the key cannot be checked here (DSA, Ed448, explicit-curve EC, MD5...), issuer matches
    /// subject and, when both are present, the authority key identifier equals the subject key identifier.
    public var isSelfSigned: Bool
    /// The host names a client checks the server name against (RFC 6125 §6.4.4): the subjectAltName's DNS
    /// names, or, when it has none, the subject's most specific common name.
    public var hostNames: [String]

    public init(
        sha256: String, subject: String, issuer: String, serial: String, notBefore: Int64, notAfter: Int64,
        keyType: String, keyBits: Int?, curve: String?, signatureAlgorithm: String,
        subjectAlternativeNames: [String], isSelfSigned: Bool, hostNames: [String] = []
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
        self.hostNames = hostNames
    }
}

/// A certificate whose structure could not be read at all (the contract's `certificate_unparsable`).
public struct CertificateParseError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
    public init(reason: String) { self.reason = reason }
}

extension CertificateSummary {
    /// Walks the DER with swift-asn1 (leniently where real certificates bend RFC 5280, see
    /// CertificateStructure) and swift-certificates' name and extension types, and checks the
    /// self-signature with swift-crypto where the key type allows. Never traps on hostile input: a
    /// structure that cannot be read throws.
    public init(derEncoded der: [UInt8]) throws(CertificateParseError) {
        let structure: CertificateStructure
        do {
            structure = try CertificateStructure(derEncoded: der)
        } catch {
            throw CertificateParseError(reason: "malformed certificate: \(error)")
        }
        let key = describePublicKey(algorithm: structure.publicKeyAlgorithm, key: structure.publicKey)
        let signatureOID = structure.signatureAlgorithm.algorithm
        self.init(
            sha256: Hex.string(SHA256.hash(data: der)),
            subject: rfc4514String(structure.subject),
            issuer: rfc4514String(structure.issuer),
            serial: serialString(structure.serialNumber),
            notBefore: structure.notBefore,
            notAfter: structure.notAfter,
            keyType: key.type,
            keyBits: key.bits,
            curve: key.curve,
            signatureAlgorithm: signatureAlgorithmNames[signatureOID] ?? signatureOID.description,
            subjectAlternativeNames: alternativeNames(structure.extensions),
            isSelfSigned: judgeSelfSigned(structure),
            hostNames: matchableHostNames(structure)
        )
    }
}

/// Lowercase hex of a two's complement INTEGER's value: leading zero bytes dropped (DER adds one before
/// a high bit), a negative value as "-" and its magnitude.
func serialString(_ bytes: ArraySlice<UInt8>) -> String {
    guard let first = bytes.first, first & 0x80 != 0 else {
        let significant = bytes.drop(while: { $0 == 0 })
        return significant.isEmpty ? "00" : Hex.string(significant)
    }
    // Magnitude = two's complement negation: invert, then add one from the last byte up.
    var magnitude = bytes.map { ~$0 }
    var index = magnitude.count - 1
    while index >= 0 {
        let (sum, carry) = magnitude[index].addingReportingOverflow(1)
        magnitude[index] = sum
        if !carry { break }
        index -= 1
    }
    let significant = magnitude.drop(while: { $0 == 0 })
    return "-" + (significant.isEmpty ? "00" : Hex.string(significant))
}

// MARK: - Self-signed

/// RFC 5280 §3.2, §6.1: self-issued (issuer matches subject, §7.1) and signed with its own key. The
/// signature decides when this build can check it; otherwise matching key identifiers (AKI = SKI, when
/// both are there) stand in for it.
func judgeSelfSigned(_ structure: CertificateStructure) -> Bool {
    guard namesMatch(structure.issuer, structure.subject) else { return false }
    if let verified = ownSignatureVerifies(structure) { return verified }
    let identifiers = keyIdentifiers(structure.extensions)
    if let authority = identifiers.authority, let subject = identifiers.subject { return authority == subject }
    return true
}

/// The authority and subject key identifiers, where present and readable.
private func keyIdentifiers(
    _ extensions: [Certificate.Extension]
) -> (authority: ArraySlice<UInt8>?, subject: ArraySlice<UInt8>?) {
    var authority: ArraySlice<UInt8>?
    var subject: ArraySlice<UInt8>?
    for item in extensions {
        if item.oid == .X509ExtensionID.authorityKeyIdentifier {
            authority = (try? AuthorityKeyIdentifier(item))?.keyIdentifier
        } else if item.oid == .X509ExtensionID.subjectKeyIdentifier {
            subject = (try? SubjectKeyIdentifier(item))?.keyIdentifier
        }
    }
    return (authority, subject)
}

/// RFC 5280 §7.1 (with RFC 4518's preparation, simplified): the same RDNs in the same order, each with
/// the same attributes, string values equal after case folding and whitespace normalisation whatever
/// their string type (PrintableString vs UTF8String), other values equal byte for byte.
func namesMatch(_ lhs: DistinguishedName, _ rhs: DistinguishedName) -> Bool {
    if lhs == rhs { return true }
    guard lhs.count == rhs.count else { return false }
    for (left, right) in zip(lhs, rhs) {
        guard left.count == right.count else { return false }
        // A multi-valued RDN is a set: every attribute on the left has a partner on the right. RDNs
        // hold one to a few attributes, so the nested loop stays small.
        var unmatched = Array(right)
        for attribute in left {
            guard let index = unmatched.firstIndex(where: { attributesMatch(attribute, $0) }) else { return false }
            unmatched.remove(at: index)
        }
    }
    return true
}

private func attributesMatch(
    _ lhs: RelativeDistinguishedName.Attribute, _ rhs: RelativeDistinguishedName.Attribute
) -> Bool {
    guard lhs.type == rhs.type else { return false }
    if lhs.value == rhs.value { return true }
    guard let left = decodedString(ASN1Any(lhs.value)), let right = decodedString(ASN1Any(rhs.value)) else {
        return false
    }
    return preparedForMatching(left) == preparedForMatching(right)
}

/// Case folded, leading and trailing white space removed, inner runs of white space as one space.
private func preparedForMatching(_ text: String) -> String {
    text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

// MARK: - Subject public key

struct PublicKeyDescription: Equatable {
    var type: String
    var bits: Int?
    var curve: String?
}

func describePublicKey(algorithm: AlgorithmIdentifierFields, key: ArraySlice<UInt8>) -> PublicKeyDescription {
    switch publicKeyAlgorithms[algorithm.algorithm] {
    case .rsa:
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1)
        let modulus = try? DER.sequence(DER.parse(key), identifier: .sequence) { nodes in
            let modulus = try ArraySlice<UInt8>(derEncoded: &nodes)
            _ = try ArraySlice<UInt8>(derEncoded: &nodes)
            return modulus
        }
        return PublicKeyDescription(type: "RSA", bits: modulus.map(bitLength))
    case .ec:
        return describeECParameters(algorithm.parameters)
    case .dsa:
        // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } (RFC 3279 §2.3.2)
        return PublicKeyDescription(type: "DSA", bits: primeBits(algorithm.parameters))
    case .dh:
        // DomainParameters ::= SEQUENCE { p INTEGER, g INTEGER, q INTEGER, ... } (RFC 3279 §2.3.3)
        return PublicKeyDescription(type: "DH", bits: primeBits(algorithm.parameters))
    case .fixed(let name, let bits):
        return PublicKeyDescription(type: name, bits: bits)
    case nil:
        return PublicKeyDescription(type: algorithm.algorithm.description)
    }
}

/// ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, implicitCurve NULL, specifiedCurve
/// SpecifiedECDomain } (RFC 5480 §2.1.1, RFC 3279 §2.3.5).
private func describeECParameters(_ parameters: ASN1Node?) -> PublicKeyDescription {
    guard let parameters else { return PublicKeyDescription(type: "EC") }
    switch parameters.identifier {
    case .objectIdentifier:
        guard let oid = try? ASN1ObjectIdentifier(derEncoded: parameters) else { return PublicKeyDescription(type: "EC") }
        guard let curve = namedCurves[oid] else { return PublicKeyDescription(type: "EC", curve: oid.description) }
        return PublicKeyDescription(type: "EC", bits: curve.bits, curve: curve.name)
    case .null:
        return PublicKeyDescription(type: "EC", curve: "implicit")
    default:
        return PublicKeyDescription(type: "EC", bits: explicitCurveBits(parameters), curve: "explicit")
    }
}

/// The key size of explicit curve parameters: the order's bits (what OpenSSL reports), else the field's.
///
///   SpecifiedECDomain ::= SEQUENCE { version INTEGER, fieldID FieldID, curve Curve, base ECPoint,
///                                    order INTEGER, cofactor INTEGER OPTIONAL, ... }
///   FieldID ::= SEQUENCE { fieldType OBJECT IDENTIFIER, parameters ANY }   -- prime p, or Characteristic-two
///   Characteristic-two ::= SEQUENCE { m INTEGER, basis OBJECT IDENTIFIER, parameters ANY }
private func explicitCurveBits(_ node: ASN1Node) -> Int? {
    guard node.identifier == .sequence, case .constructed(let fields) = node.content else { return nil }
    var iterator = fields.makeIterator()
    _ = iterator.next()  // version
    let fieldID = iterator.next()
    _ = iterator.next()  // curve
    _ = iterator.next()  // base
    if let order = iterator.next(), let value = try? ArraySlice<UInt8>(derEncoded: order) {
        return bitLength(value)
    }
    guard let fieldID, case .constructed(let fieldParts) = fieldID.content else { return nil }
    var parts = fieldParts.makeIterator()
    guard let typeNode = parts.next(), let type = try? ASN1ObjectIdentifier(derEncoded: typeNode),
        let fieldParameters = parts.next()
    else { return nil }
    if type == [1, 2, 840, 10045, 1, 1] {  // prime-field: p
        return (try? ArraySlice<UInt8>(derEncoded: fieldParameters)).map(bitLength)
    }
    // characteristic-two-field: the degree m.
    guard case .constructed(let binary) = fieldParameters.content else { return nil }
    var binaryParts = binary.makeIterator()
    guard let degree = binaryParts.next() else { return nil }
    return try? Int(derEncoded: degree)
}

/// Size of p, the first INTEGER of DSA and DH domain parameters.
private func primeBits(_ parameters: ASN1Node?) -> Int? {
    guard let parameters else { return nil }
    let prime = try? DER.sequence(parameters, identifier: .sequence) { nodes in
        let p = try ArraySlice<UInt8>(derEncoded: &nodes)
        while nodes.next() != nil {}
        return p
    }
    return prime.map(bitLength)
}

/// Bits in an unsigned big-endian integer (leading zero bytes and bits not counted).
private func bitLength(_ bytes: ArraySlice<UInt8>) -> Int {
    let significant = bytes.drop(while: { $0 == 0 })
    guard let first = significant.first else { return 0 }
    return (significant.count - 1) * 8 + (8 - first.leadingZeroBitCount)
}

// MARK: - Subject alternative names

/// DNS names, IP addresses (RFC 5952 for IPv6, as flow addresses are written), e-mail addresses and URIs
/// from the first subjectAltName extension, in certificate order. Other GeneralName forms are not shown.
private func alternativeNames(_ extensions: [Certificate.Extension]) -> [String] {
    guard let san = extensions.first(where: { $0.oid == .X509ExtensionID.subjectAlternativeName }),
        let names = try? SubjectAlternativeNames(san)
    else { return [] }
    return names.compactMap { name in
        switch name {
        case .dnsName(let text), .rfc822Name(let text), .uniformResourceIdentifier(let text):
            return text
        case .ipAddress(let octets):
            return ipAddressString(octets.bytes)
        default:
            return nil
        }
    }
}

/// The subjectAltName's DNS names; without any, the last (most specific) common name of the subject.
private func matchableHostNames(_ structure: CertificateStructure) -> [String] {
    if let san = structure.extensions.first(where: { $0.oid == .X509ExtensionID.subjectAlternativeName }),
        let names = try? SubjectAlternativeNames(san)
    {
        let dns = names.compactMap { name -> String? in
            if case .dnsName(let text) = name { return text }
            return nil
        }
        if !dns.isEmpty { return dns }
    }
    var commonName: String?
    for rdn in structure.subject {
        for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
            if let text = decodedString(ASN1Any(attribute.value)) { commonName = text }
        }
    }
    return commonName.map { [$0] } ?? []
}

/// The shared address formatter for 4 and 16 bytes; any other length (a name-constraint style
/// address/mask) as hex.
func ipAddressString(_ bytes: ArraySlice<UInt8>) -> String {
    IPAddressText.string(bytes: bytes) ?? Hex.string(bytes)
}
