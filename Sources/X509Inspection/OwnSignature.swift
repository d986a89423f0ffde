import Crypto
import SwiftASN1
import _CryptoExtras

// Checks a certificate's signature with its own public key, for the self-signed judgement. swift-crypto
// does the arithmetic directly (swift-certificates' verifier needs a `Certificate`, which refuses
// negative serials and other RFC 5280 deviations, and has no RSA-PSS).

/// True or false when the signature algorithm and key are ones swift-crypto checks: RSA PKCS #1 v1.5 and
/// RSASSA-PSS with SHA-1/256/384/512 (PSS with MGF1 over the same hash and a salt as long as the hash),
/// ECDSA on P-256/384/521 with SHA-1/256/384/512, Ed25519. Nil for everything else (DSA, Ed448, MD5,
/// SHA-224, explicit-curve EC, RSA under 1024 bits, an undecodable key), which the caller judges by names.
func ownSignatureVerifies(_ structure: CertificateStructure) -> Bool? {
    let algorithm = structure.signatureAlgorithm.algorithm
    // A signature algorithm of another key family (an RSA signature on an EC certificate) cannot have
    // been made with the certificate's own key, checkable or not.
    if let family = signatureKeyFamilies[algorithm], !family.contains(structure.publicKeyAlgorithm.algorithm) {
        return false
    }
    let signed = structure.signedBytes
    let signature = structure.signature
    if let hash = rsaPKCS1Hashes[algorithm] {
        guard let key = rsaKey(structure) else { return nil }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: hash.digest(signed),
            padding: .insecurePKCS1v1_5)
    }
    if algorithm == rsassaPSS {
        guard let hash = pssHash(structure.signatureAlgorithm.parameters), let key = rsaKey(structure) else {
            return nil
        }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: hash.digest(signed), padding: .PSS)
    }
    if let hash = ecdsaHashes[algorithm] {
        return ecdsaVerifies(structure, hash: hash)
    }
    if algorithm == ed25519, structure.publicKeyAlgorithm.algorithm == ed25519 {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: structure.publicKey) else { return nil }
        return key.isValidSignature(signature, for: signed)
    }
    return nil
}

/// Signature algorithm → the key algorithms that can make it (RFC 3279, 4055, 5758, 8410).
private let signatureKeyFamilies: [ASN1ObjectIdentifier: Set<ASN1ObjectIdentifier>] = {
    let rsa: Set<ASN1ObjectIdentifier> = [[1, 2, 840, 113_549, 1, 1, 1], [1, 2, 840, 113_549, 1, 1, 10]]
    let ec: Set<ASN1ObjectIdentifier> = [[1, 2, 840, 10045, 2, 1]]
    let dsa: Set<ASN1ObjectIdentifier> = [[1, 2, 840, 10040, 4, 1]]
    var table: [ASN1ObjectIdentifier: Set<ASN1ObjectIdentifier>] = [
        [1, 3, 101, 112]: [[1, 3, 101, 112]], [1, 3, 101, 113]: [[1, 3, 101, 113]],
        [1, 3, 14, 3, 2, 29]: rsa,
    ]
    for last: UInt in [2, 3, 4, 5, 10, 11, 12, 13, 14] { table[[1, 2, 840, 113_549, 1, 1, last]] = rsa }
    table[[1, 2, 840, 10045, 4, 1]] = ec
    for last: UInt in 1...4 { table[[1, 2, 840, 10045, 4, 3, last]] = ec }
    table[[1, 2, 840, 10040, 4, 3]] = dsa
    for last: UInt in 1...4 { table[[2, 16, 840, 1, 101, 3, 4, 3, last]] = dsa }
    return table
}()

/// The hashes swift-crypto's RSA verifier accepts (it has no MD5 or SHA-224 and traps on them).
enum SignatureHash {
    case sha1, sha256, sha384, sha512

    /// The digest of `bytes`, type-erased for the RSA verifier.
    func digest(_ bytes: ArraySlice<UInt8>) -> any Digest {
        switch self {
        case .sha1: Insecure.SHA1.hash(data: bytes)
        case .sha256: SHA256.hash(data: bytes)
        case .sha384: SHA384.hash(data: bytes)
        case .sha512: SHA512.hash(data: bytes)
        }
    }

    var length: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

private let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 10]
private let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
private let rsaKeyAlgorithms: Set<ASN1ObjectIdentifier> = [[1, 2, 840, 113_549, 1, 1, 1], rsassaPSS]

private let rsaPKCS1Hashes: [ASN1ObjectIdentifier: SignatureHash] = [
    [1, 2, 840, 113_549, 1, 1, 5]: .sha1, [1, 3, 14, 3, 2, 29]: .sha1,
    [1, 2, 840, 113_549, 1, 1, 11]: .sha256, [1, 2, 840, 113_549, 1, 1, 12]: .sha384,
    [1, 2, 840, 113_549, 1, 1, 13]: .sha512,
]

private let ecdsaHashes: [ASN1ObjectIdentifier: SignatureHash] = [
    [1, 2, 840, 10045, 4, 1]: .sha1, [1, 2, 840, 10045, 4, 3, 2]: .sha256,
    [1, 2, 840, 10045, 4, 3, 3]: .sha384, [1, 2, 840, 10045, 4, 3, 4]: .sha512,
]

/// Hash algorithm OIDs (RFC 8017 App. C) as they appear in RSASSA-PSS parameters.
private let hashAlgorithms: [ASN1ObjectIdentifier: SignatureHash] = [
    [1, 3, 14, 3, 2, 26]: .sha1, [2, 16, 840, 1, 101, 3, 4, 2, 1]: .sha256,
    [2, 16, 840, 1, 101, 3, 4, 2, 2]: .sha384, [2, 16, 840, 1, 101, 3, 4, 2, 3]: .sha512,
]

private func rsaKey(_ structure: CertificateStructure) -> _RSA.Signing.PublicKey? {
    guard rsaKeyAlgorithms.contains(structure.publicKeyAlgorithm.algorithm) else { return nil }
    // "unsafe" only in that it accepts 1024-bit keys; anything smaller throws and stays unchecked.
    return try? _RSA.Signing.PublicKey(unsafeDERRepresentation: Array(structure.subjectPublicKeyInfo))
}

/// The hash of RSASSA-PSS parameters swift-crypto can check: MGF1 over the same hash, salt length equal to
/// the hash length, trailer 1 (RFC 8017 App. A.2.3; every field has a SHA-1 default).
///
///   RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1,
///       maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1, saltLength [2] INTEGER DEFAULT 20,
///       trailerField [3] TrailerField DEFAULT trailerFieldBC }
private func pssHash(_ parameters: ASN1Node?) -> SignatureHash? {
    var hash = SignatureHash.sha1
    var maskHash = SignatureHash.sha1
    var saltLength = 20
    var trailer = 1
    if let parameters {
        guard parameters.identifier == .sequence, case .constructed(let fields) = parameters.content else { return nil }
        for field in fields {
            guard field.identifier.tagClass == .contextSpecific, case .constructed(let wrapped) = field.content
            else { return nil }
            var wrappedIterator = wrapped.makeIterator()
            guard let inner = wrappedIterator.next() else { return nil }
            switch field.identifier.tagNumber {
            case 0:
                guard let value = try? AlgorithmIdentifierFields(derEncoded: inner),
                    let named = hashAlgorithms[value.algorithm]
                else { return nil }
                hash = named
            case 1:
                // MaskGenAlgorithm ::= AlgorithmIdentifier { id-mgf1, HashAlgorithm }
                guard let value = try? AlgorithmIdentifierFields(derEncoded: inner),
                    value.algorithm == [1, 2, 840, 113_549, 1, 1, 8], let hashNode = value.parameters,
                    let maskAlgorithm = try? AlgorithmIdentifierFields(derEncoded: hashNode),
                    let named = hashAlgorithms[maskAlgorithm.algorithm]
                else { return nil }
                maskHash = named
            case 2:
                guard let value = try? Int(derEncoded: inner) else { return nil }
                saltLength = value
            case 3:
                guard let value = try? Int(derEncoded: inner) else { return nil }
                trailer = value
            default:
                return nil
            }
        }
    }
    guard maskHash == hash, saltLength == hash.length, trailer == 1 else { return nil }
    return hash
}

private func ecdsaVerifies(_ structure: CertificateStructure, hash: SignatureHash) -> Bool? {
    guard structure.publicKeyAlgorithm.algorithm == [1, 2, 840, 10045, 2, 1],
        let parameters = structure.publicKeyAlgorithm.parameters,
        let curve = try? ASN1ObjectIdentifier(derEncoded: parameters)
    else { return nil }
    let key = structure.publicKey
    let signature = structure.signature
    let signed = structure.signedBytes
    func check<Digests: Digest>(_ digest: Digests) -> Bool? {
        switch curve {
        case [1, 2, 840, 10045, 3, 1, 7]:
            guard let publicKey = try? P256.Signing.PublicKey(ecPoint: key),
                let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return publicKeyOrFalse(try? P256.Signing.PublicKey(ecPoint: key)) }
            return publicKey.isValidSignature(parsed, for: digest)
        case [1, 3, 132, 0, 34]:
            guard let publicKey = try? P384.Signing.PublicKey(ecPoint: key),
                let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature)
            else { return publicKeyOrFalse(try? P384.Signing.PublicKey(ecPoint: key)) }
            return publicKey.isValidSignature(parsed, for: digest)
        case [1, 3, 132, 0, 35]:
            guard let publicKey = try? P521.Signing.PublicKey(ecPoint: key),
                let parsed = try? P521.Signing.ECDSASignature(derRepresentation: signature)
            else { return publicKeyOrFalse(try? P521.Signing.PublicKey(ecPoint: key)) }
            return publicKey.isValidSignature(parsed, for: digest)
        default:
            return nil
        }
    }
    switch hash {
    case .sha1: return check(Insecure.SHA1.hash(data: signed))
    case .sha256: return check(SHA256.hash(data: signed))
    case .sha384: return check(SHA384.hash(data: signed))
    case .sha512: return check(SHA512.hash(data: signed))
    }
}

/// A usable key with an undecodable signature fails the check; no usable key leaves it unchecked.
private func publicKeyOrFalse<Key>(_ key: Key?) -> Bool? { key == nil ? nil : false }

/// ECPoint (SEC 1 §2.3.3): 0x04 ‖ X ‖ Y uncompressed, or 0x02/0x03 ‖ X compressed.
private func isCompressed(_ point: ArraySlice<UInt8>) -> Bool { point.first == 0x02 || point.first == 0x03 }

extension P256.Signing.PublicKey {
    fileprivate init(ecPoint point: ArraySlice<UInt8>) throws {
        if isCompressed(point) { try self.init(compressedRepresentation: Array(point)) } else {
            try self.init(x963Representation: Array(point))
        }
    }
}

extension P384.Signing.PublicKey {
    fileprivate init(ecPoint point: ArraySlice<UInt8>) throws {
        if isCompressed(point) { try self.init(compressedRepresentation: Array(point)) } else {
            try self.init(x963Representation: Array(point))
        }
    }
}

extension P521.Signing.PublicKey {
    fileprivate init(ecPoint point: ArraySlice<UInt8>) throws {
        if isCompressed(point) { try self.init(compressedRepresentation: Array(point)) } else {
            try self.init(x963Representation: Array(point))
        }
    }
}

// MARK: - Handshake signatures

/// Whether `signature`, made under the TLS SignatureScheme `scheme` (RFC 8446 §4.2.3), verifies `content` with
/// the public key of the certificate `der`: a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3) proves the peer holds
/// its certificate's private key. Nil when the certificate does not parse, or the scheme or key is not one
/// swift-crypto checks (DSA, Ed448, brainpool, SHA-224); false when the key does not fit the scheme.
public func handshakeSignatureVerifies(certificate der: [UInt8], scheme: UInt16, signature: [UInt8], content: [UInt8]) -> Bool? {
    guard let structure = try? CertificateStructure(derEncoded: der) else { return nil }
    let signed = content[...]
    let rsaPKCS1: [UInt16: SignatureHash] = [0x0201: .sha1, 0x0401: .sha256, 0x0501: .sha384, 0x0601: .sha512]
    let rsaPSS: [UInt16: SignatureHash] = [
        0x0804: .sha256, 0x0805: .sha384, 0x0806: .sha512, 0x0809: .sha256, 0x080a: .sha384, 0x080b: .sha512,
    ]
    let ecdsa: [UInt16: SignatureHash] = [0x0203: .sha1, 0x0403: .sha256, 0x0503: .sha384, 0x0603: .sha512]
    if let hash = rsaPKCS1[scheme] {
        guard let key = rsaKey(structure) else { return rsaKeyAlgorithms.contains(structure.publicKeyAlgorithm.algorithm) ? nil : false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: hash.digest(signed), padding: .insecurePKCS1v1_5)
    }
    if let hash = rsaPSS[scheme] {
        guard let key = rsaKey(structure) else { return rsaKeyAlgorithms.contains(structure.publicKeyAlgorithm.algorithm) ? nil : false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: hash.digest(signed), padding: .PSS)
    }
    if let hash = ecdsa[scheme] {
        var signing = structure
        signing.signedBytes = signed
        signing.signature = signature[...]
        return ecdsaVerifies(signing, hash: hash) ?? (structure.publicKeyAlgorithm.algorithm == [1, 2, 840, 10045, 2, 1] ? nil : false)
    }
    if scheme == 0x0807 {
        guard structure.publicKeyAlgorithm.algorithm == ed25519 else { return false }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: structure.publicKey) else { return nil }
        return key.isValidSignature(signature, for: content)
    }
    return nil
}
