import Crypto
import SwiftASN1
import X509

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
    public init(reason: String) { self.reason = reason }
}

extension CertificateSummary {
    /// Parses DER with swift-asn1 and swift-certificates' name and extension types; verifies the
    /// self-signature with swift-certificates when it supports the key and algorithm. Never traps on
    /// hostile input: anything malformed throws.
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
            sha256: hexString(SHA256.hash(data: der)),
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
            isSelfSigned: selfSignatureHolds(der, structure)
        )
    }
}

/// Lowercase hex of the serial's magnitude: DER adds a 0x00 before a high bit, which is not part of it.
private func serialString(_ bytes: ArraySlice<UInt8>) -> String {
    let significant = bytes.drop(while: { $0 == 0 })
    return significant.isEmpty ? "00" : hexString(significant)
}

/// subject == issuer, and — when swift-certificates can check it (RSA PKCS #1 v1.5 with SHA-1/2, ECDSA
/// P-256/384/521, Ed25519) — the signature verifies under the certificate's own key. Other keys and
/// algorithms (DSA, Ed448, RSA-PSS, MD5...) fall back to the name comparison alone.
private func selfSignatureHolds(_ der: [UInt8], _ structure: CertificateStructure) -> Bool {
    guard structure.subject == structure.issuer else { return false }
    guard verifiableSignatureAlgorithms.contains(structure.signatureAlgorithm.algorithm),
        let certificate = try? Certificate(derEncoded: der)
    else { return true }
    return certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
}

private let verifiableSignatureAlgorithms: Set<ASN1ObjectIdentifier> = [
    [1, 2, 840, 113_549, 1, 1, 5], [1, 2, 840, 113_549, 1, 1, 11], [1, 2, 840, 113_549, 1, 1, 12],
    [1, 2, 840, 113_549, 1, 1, 13], [1, 2, 840, 10045, 4, 3, 2], [1, 2, 840, 10045, 4, 3, 3],
    [1, 2, 840, 10045, 4, 3, 4], [1, 3, 101, 112],
]

// MARK: - Subject public key

struct PublicKeyDescription: Equatable {
    var type: String
    var bits: Int?
    var curve: String?
}

func describePublicKey(algorithm: AlgorithmIdentifierFields, key: ASN1BitString) -> PublicKeyDescription {
    switch publicKeyAlgorithms[algorithm.algorithm] {
    case .rsa:
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1)
        let modulus = try? DER.sequence(DER.parse(key.bytes), identifier: .sequence) { nodes in
            let modulus = try ArraySlice<UInt8>(derEncoded: &nodes)
            _ = try ArraySlice<UInt8>(derEncoded: &nodes)
            return modulus
        }
        return PublicKeyDescription(type: "RSA", bits: modulus.map(bitLength))
    case .ec:
        // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... } (RFC 5480 §2.1.1)
        guard let parameters = algorithm.parameters,
            let oid = try? ASN1ObjectIdentifier(derEncoded: parameters)
        else { return PublicKeyDescription(type: "EC") }
        guard let curve = namedCurves[oid] else {
            return PublicKeyDescription(type: "EC", curve: oid.description)
        }
        return PublicKeyDescription(type: "EC", bits: curve.bits, curve: curve.name)
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

/// DNS names, IP addresses (RFC 5952 for IPv6), e-mail addresses and URIs from the first
/// subjectAltName extension, in certificate order. Other GeneralName forms are not shown.
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

/// Dotted IPv4, RFC 5952 IPv6 (lowercase, longest run of two or more zero groups as "::", the first on
/// a tie, IPv4-mapped addresses as "::ffff:192.0.2.1"); any other length as hex.
func ipAddressString(_ bytes: ArraySlice<UInt8>) -> String {
    if bytes.count == 4 {
        return bytes.map(String.init).joined(separator: ".")
    }
    guard bytes.count == 16 else { return hexString(bytes) }
    if bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes.dropFirst(10).prefix(2).allSatisfy({ $0 == 0xff }) {
        return "::ffff:" + ipAddressString(bytes.suffix(4))
    }
    let groups = stride(from: bytes.startIndex, to: bytes.endIndex, by: 2).map {
        // 16 bytes: every `$0 + 1` is inside the slice.
        UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1])
    }
    var bestStart = -1
    var bestLength = 1
    var index = 0
    while index < groups.count {
        guard groups[index] == 0 else {
            index += 1
            continue
        }
        var end = index
        while end < groups.count, groups[end] == 0 { end += 1 }
        if end - index > bestLength {
            bestStart = index
            bestLength = end - index
        }
        index = end
    }
    let text = { (range: ArraySlice<UInt16>) in range.map { String($0, radix: 16) }.joined(separator: ":") }
    guard bestStart >= 0 else { return text(groups[...]) }
    return text(groups[..<bestStart]) + "::" + text(groups[(bestStart + bestLength)...])
}
