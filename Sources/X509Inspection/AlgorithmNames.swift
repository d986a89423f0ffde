import SwiftASN1

// Names for the object identifiers a certificate summary shows. Spellings follow OpenSSL's long names
// (`openssl x509 -text`), except Ed25519/Ed448 signatures, which the contract writes in lower case.

/// Signature algorithm OIDs (RFC 3279, RFC 4055, RFC 5758, RFC 8410) → name.
let signatureAlgorithmNames: [ASN1ObjectIdentifier: String] = [
    [1, 2, 840, 113_549, 1, 1, 2]: "md2WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 3]: "md4WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 4]: "md5WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 5]: "sha1WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 10]: "rsassaPss",
    [1, 2, 840, 113_549, 1, 1, 11]: "sha256WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 12]: "sha384WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 13]: "sha512WithRSAEncryption",
    [1, 2, 840, 113_549, 1, 1, 14]: "sha224WithRSAEncryption",
    [1, 3, 14, 3, 2, 29]: "sha1WithRSA",
    [1, 2, 840, 10045, 4, 1]: "ecdsa-with-SHA1",
    [1, 2, 840, 10045, 4, 3, 1]: "ecdsa-with-SHA224",
    [1, 2, 840, 10045, 4, 3, 2]: "ecdsa-with-SHA256",
    [1, 2, 840, 10045, 4, 3, 3]: "ecdsa-with-SHA384",
    [1, 2, 840, 10045, 4, 3, 4]: "ecdsa-with-SHA512",
    [1, 2, 840, 10040, 4, 3]: "dsaWithSHA1",
    [2, 16, 840, 1, 101, 3, 4, 3, 1]: "dsa_with_SHA224",
    [2, 16, 840, 1, 101, 3, 4, 3, 2]: "dsa_with_SHA256",
    [2, 16, 840, 1, 101, 3, 4, 3, 3]: "dsa_with_SHA384",
    [2, 16, 840, 1, 101, 3, 4, 3, 4]: "dsa_with_SHA512",
    [1, 3, 101, 112]: "ed25519",
    [1, 3, 101, 113]: "ed448",
    [2, 16, 840, 1, 101, 3, 4, 3, 17]: "ML-DSA-44",
    [2, 16, 840, 1, 101, 3, 4, 3, 18]: "ML-DSA-65",
    [2, 16, 840, 1, 101, 3, 4, 3, 19]: "ML-DSA-87",
    // FIPS 205 (NIST CSOR sigAlgs 20-31); the signature OID is also the key's.
    [2, 16, 840, 1, 101, 3, 4, 3, 20]: "SLH-DSA-SHA2-128s",
    [2, 16, 840, 1, 101, 3, 4, 3, 21]: "SLH-DSA-SHA2-128f",
    [2, 16, 840, 1, 101, 3, 4, 3, 22]: "SLH-DSA-SHA2-192s",
    [2, 16, 840, 1, 101, 3, 4, 3, 23]: "SLH-DSA-SHA2-192f",
    [2, 16, 840, 1, 101, 3, 4, 3, 24]: "SLH-DSA-SHA2-256s",
    [2, 16, 840, 1, 101, 3, 4, 3, 25]: "SLH-DSA-SHA2-256f",
    [2, 16, 840, 1, 101, 3, 4, 3, 26]: "SLH-DSA-SHAKE-128s",
    [2, 16, 840, 1, 101, 3, 4, 3, 27]: "SLH-DSA-SHAKE-128f",
    [2, 16, 840, 1, 101, 3, 4, 3, 28]: "SLH-DSA-SHAKE-192s",
    [2, 16, 840, 1, 101, 3, 4, 3, 29]: "SLH-DSA-SHAKE-192f",
    [2, 16, 840, 1, 101, 3, 4, 3, 30]: "SLH-DSA-SHAKE-256s",
    [2, 16, 840, 1, 101, 3, 4, 3, 31]: "SLH-DSA-SHAKE-256f",
]

enum PublicKeyKind {
    case rsa, ec, dsa, dh, fixed(name: String, bits: Int?)
}

/// SubjectPublicKeyInfo algorithm OIDs → key kind.
let publicKeyAlgorithms: [ASN1ObjectIdentifier: PublicKeyKind] = [
    [1, 2, 840, 113_549, 1, 1, 1]: .rsa,
    [1, 2, 840, 113_549, 1, 1, 10]: .rsa,  // RSASSA-PSS key (RFC 4055 §1.2)
    [1, 2, 840, 10045, 2, 1]: .ec,
    [1, 2, 840, 10040, 4, 1]: .dsa,
    [1, 2, 840, 10046, 2, 1]: .dh,
    // RFC 8410: the key size is the raw public key length.
    [1, 3, 101, 110]: .fixed(name: "X25519", bits: 256),
    [1, 3, 101, 111]: .fixed(name: "X448", bits: 448),
    [1, 3, 101, 112]: .fixed(name: "Ed25519", bits: 256),
    [1, 3, 101, 113]: .fixed(name: "Ed448", bits: 456),
    // FIPS 204 ML-DSA, FIPS 205 SLH-DSA, FIPS 203 ML-KEM (NIST CSOR): security categories, not bit sizes.
    [2, 16, 840, 1, 101, 3, 4, 3, 17]: .fixed(name: "ML-DSA-44", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 18]: .fixed(name: "ML-DSA-65", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 19]: .fixed(name: "ML-DSA-87", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 20]: .fixed(name: "SLH-DSA-SHA2-128s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 21]: .fixed(name: "SLH-DSA-SHA2-128f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 22]: .fixed(name: "SLH-DSA-SHA2-192s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 23]: .fixed(name: "SLH-DSA-SHA2-192f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 24]: .fixed(name: "SLH-DSA-SHA2-256s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 25]: .fixed(name: "SLH-DSA-SHA2-256f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 26]: .fixed(name: "SLH-DSA-SHAKE-128s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 27]: .fixed(name: "SLH-DSA-SHAKE-128f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 28]: .fixed(name: "SLH-DSA-SHAKE-192s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 29]: .fixed(name: "SLH-DSA-SHAKE-192f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 30]: .fixed(name: "SLH-DSA-SHAKE-256s", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 3, 31]: .fixed(name: "SLH-DSA-SHAKE-256f", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 4, 1]: .fixed(name: "ML-KEM-512", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 4, 2]: .fixed(name: "ML-KEM-768", bits: nil),
    [2, 16, 840, 1, 101, 3, 4, 4, 3]: .fixed(name: "ML-KEM-1024", bits: nil),
]

/// Named curves (RFC 5480 §2.1.1.1, RFC 5639) → SEC 2 name and field size.
let namedCurves: [ASN1ObjectIdentifier: (name: String, bits: Int)] = [
    [1, 2, 840, 10045, 3, 1, 1]: ("secp192r1", 192),
    [1, 3, 132, 0, 33]: ("secp224r1", 224),
    [1, 2, 840, 10045, 3, 1, 7]: ("secp256r1", 256),
    [1, 3, 132, 0, 34]: ("secp384r1", 384),
    [1, 3, 132, 0, 35]: ("secp521r1", 521),
    [1, 3, 132, 0, 10]: ("secp256k1", 256),
    [1, 3, 36, 3, 3, 2, 8, 1, 1, 7]: ("brainpoolP256r1", 256),
    [1, 3, 36, 3, 3, 2, 8, 1, 1, 11]: ("brainpoolP384r1", 384),
    [1, 3, 36, 3, 3, 2, 8, 1, 1, 13]: ("brainpoolP512r1", 512),
]
