import Foundation
import Testing
import X509
@testable import X509Inspection

/// Fixtures/der, located from this file (style §3.5).
private let derDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/der")

private func fixture(_ name: String) throws -> [UInt8] {
    Array(try Data(contentsOf: derDirectory.appendingPathComponent(name)))
}

/// Expected values read once from `openssl x509 -text -nameopt RFC2253,-esc_msb`, `sha256sum` and
/// `date -u -d ... +%s` on the fixture (see Fixtures/der/make-certs.sh).
private let expectations: [String: CertificateSummary] = [
    "leaf-rsa2048-san.der": CertificateSummary(
        sha256: "759d480e0f0b252a4e016274e6f99c07b43faf371ca5a8d0b2191223dd7fedf3",
        subject: "CN=www.example.test+OU=Web,O=Example,ST=CA,C=US",
        issuer: "CN=Example Test CA,O=Example\\, Inc.,C=US",
        serial: "c0ffee0123456789", notBefore: 1_795_935_427, notAfter: 1_867_215_427,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [
            "www.example.test", "192.0.2.7", "example.test", "2001:db8::1", "admin@example.test",
            "https://example.test/path",
        ],
        isSelfSigned: false
    ),
    "ca-rsa2048.der": CertificateSummary(
        sha256: "9f698c700c41a7d5ad4ebca29b1d7f1e71585d712c45b35f0cfdeb9677c94ce6",
        subject: "CN=Example Test CA,O=Example\\, Inc.,C=US", issuer: "CN=Example Test CA,O=Example\\, Inc.,C=US",
        serial: "01", notBefore: 1_795_935_424, notAfter: 2_111_295_424,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "rsa1024-selfsigned.der": CertificateSummary(
        sha256: "54790a89469ec8ff3832400fcef3c6db299b2704aef0e9445b9d9b42da0f15e1",
        subject: "CN=rsa1024.example.test", issuer: "CN=rsa1024.example.test",
        serial: "7f", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "RSA", keyBits: 1024, curve: nil, signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ec-p256.der": CertificateSummary(
        sha256: "9578ac9ced62f8917f6bb5740353bb6ab1072834a4527eaf714acf135b19e70e",
        subject: "CN=ec-p256.example.test", issuer: "CN=ec-p256.example.test",
        serial: "0256", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "EC", keyBits: 256, curve: "secp256r1", signatureAlgorithm: "ecdsa-with-SHA256",
        subjectAlternativeNames: ["ec-p256.example.test"], isSelfSigned: true
    ),
    "ec-p384.der": CertificateSummary(
        sha256: "7e1e94a58016462388d6cd77c3a72a0613a9d28f5362517a5a95633c822a8d46",
        subject: "CN=ec-p384.example.test", issuer: "CN=ec-p384.example.test",
        serial: "0384", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "EC", keyBits: 384, curve: "secp384r1", signatureAlgorithm: "ecdsa-with-SHA384",
        subjectAlternativeNames: ["ec-p384.example.test"], isSelfSigned: true
    ),
    "ec-p521.der": CertificateSummary(
        sha256: "777f51a58a920d145dc19b50bf4f7fdc71f087c5f0960f69e52957b8fa19b475",
        subject: "CN=ec-p521.example.test", issuer: "CN=ec-p521.example.test",
        serial: "0521", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "EC", keyBits: 521, curve: "secp521r1", signatureAlgorithm: "ecdsa-with-SHA512",
        subjectAlternativeNames: ["ec-p521.example.test"], isSelfSigned: true
    ),
    "ed25519.der": CertificateSummary(
        sha256: "a9b674c38d6e34410fe5c1213c517fa11b6343927da55245ba52bd3c4499bfa1",
        subject: "CN=ed25519.example.test", issuer: "CN=ed25519.example.test",
        serial: "025519", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "Ed25519", keyBits: 256, curve: nil, signatureAlgorithm: "ed25519",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ed448.der": CertificateSummary(
        sha256: "0e77db3165ca4eb3e4a99539d79b6a434bb27c75b87acacd1f8382a91d486cb7",
        subject: "CN=ed448.example.test", issuer: "CN=ed448.example.test",
        serial: "0448", notBefore: 1_795_935_428, notAfter: 1_827_471_428,
        keyType: "Ed448", keyBits: 456, curve: nil, signatureAlgorithm: "ed448",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "sha1-signed.der": CertificateSummary(
        sha256: "0b55185dda321e0e63dfef5eb6e7d261b159e200bbc8233ecb6e8479077fc806",
        subject: "CN=sha1.example.test", issuer: "CN=sha1.example.test",
        serial: "05a1", notBefore: 1_795_935_431, notAfter: 1_827_471_431,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "sha1WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "md5-signed.der": CertificateSummary(
        sha256: "15cb54e84431ac8b56e8cb8f2da4e20a4b3ac278e96ddf8942246c42a619ee79",
        subject: "CN=md5.example.test", issuer: "CN=md5.example.test",
        serial: "d5", notBefore: 1_795_935_438, notAfter: 1_827_471_438,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "md5WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "rsa-pss-signed.der": CertificateSummary(
        sha256: "4d4bcb79a07957d838438b067b66cd06219e4b1b48e6d1aac6f53f0f881b61bf",
        subject: "CN=pss.example.test", issuer: "CN=pss.example.test",
        serial: "55", notBefore: 1_795_935_440, notAfter: 1_827_471_440,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "rsassaPss",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "dsa2048.der": CertificateSummary(
        sha256: "3e1f846ce3a2cce954392179ba919bbd3c0ddedc9c304970ec17768ae801f6cb",
        subject: "CN=dsa.example.test", issuer: "CN=dsa.example.test",
        serial: "0d5a", notBefore: 1_795_935_442, notAfter: 1_827_471_442,
        keyType: "DSA", keyBits: 2048, curve: nil, signatureAlgorithm: "dsa_with_SHA256",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "expired.der": CertificateSummary(
        sha256: "9d9e351d10fe01ef494fc82fa3d0a48128d957fb1b504914c70bf69456419f3b",
        subject: "CN=expired.example.test", issuer: "CN=Example Test CA,O=Example\\, Inc.,C=US",
        serial: "1000", notBefore: 1_577_836_800, notAfter: 1_609_459_200,
        keyType: "EC", keyBits: 256, curve: "secp256r1", signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: false
    ),
    "v1-selfsigned.der": CertificateSummary(
        sha256: "3c859f3defd7d96a71993476eee142aba8ca0948952cd21156d4d29e3a911a41",
        subject: "CN=www.example.test+OU=Web,O=Example,ST=CA,C=US",
        issuer: "CN=www.example.test+OU=Web,O=Example,ST=CA,C=US",
        serial: "01", notBefore: 1_795_935_444, notAfter: 1_827_471_444,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "name-collision-not-self-signed.der": CertificateSummary(
        sha256: "eda0e5fb099219900465ff75e459ddeef5ce53f30d4494f69f9797eecf60bd31",
        subject: "CN=Example Test CA,O=Example\\, Inc.,C=US", issuer: "CN=Example Test CA,O=Example\\, Inc.,C=US",
        serial: "c011de", notBefore: 1_795_935_445, notAfter: 1_827_471_445,
        keyType: "EC", keyBits: 256, curve: "secp256r1", signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: false
    ),
    "names.der": CertificateSummary(
        sha256: "f87ef1478cfdad4ceadc961a6fa3597ad2a491ab439ebe2d9dd386362079185d",
        subject: #"serialNumber=1234,UID=jdoe,emailAddress=x@example.test,CN=\ #lead and trail\ ,OU=a\;b\<c\>d\"e\+f\,g,O=Ünïcode Org,DC=example,DC=test"#,
        issuer: #"serialNumber=1234,UID=jdoe,emailAddress=x@example.test,CN=\ #lead and trail\ ,OU=a\;b\<c\>d\"e\+f\,g,O=Ünïcode Org,DC=example,DC=test"#,
        serial: "4e", notBefore: 1_795_935_445, notAfter: 1_827_471_445,
        keyType: "EC", keyBits: 256, curve: "secp256r1", signatureAlgorithm: "ecdsa-with-SHA256",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    // make-edge-certs.sh / make-pq-certs.py (issue #9).
    "negative-serial.der": CertificateSummary(
        sha256: "39766a6de5b289b5040ebfcd9776afd0cbd15d162fb639cbb2e4b13bf71e53e3",
        subject: "CN=negative-serial.example.test", issuer: "CN=negative-serial.example.test",
        serial: "-1234", notBefore: 1_796_214_841, notAfter: 1_827_750_841,
        keyType: "EC", keyBits: 256, curve: "secp256r1", signatureAlgorithm: "ecdsa-with-SHA256",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ed448-name-collision-not-self-signed.der": CertificateSummary(
        sha256: "10cf4e5bf2a3a05def102e02c7e1671cf40ef9f4f32137ef6481d1c76f2677fa",
        subject: "CN=Same Name ed448", issuer: "CN=Same Name ed448",
        serial: "0b", notBefore: 1_796_214_841, notAfter: 1_827_750_841,
        keyType: "Ed448", keyBits: 456, curve: nil, signatureAlgorithm: "ed448",
        subjectAlternativeNames: [], isSelfSigned: false
    ),
    "dsa-name-collision-not-self-signed.der": CertificateSummary(
        sha256: "e397f5a8927b797e48134df6818f7575b57afdc24e31d038fb0defed41abae4d",
        subject: "CN=Same Name dsa", issuer: "CN=Same Name dsa",
        serial: "0b", notBefore: 1_796_214_842, notAfter: 1_827_750_842,
        keyType: "DSA", keyBits: 2048, curve: nil, signatureAlgorithm: "dsa_with_SHA256",
        subjectAlternativeNames: [], isSelfSigned: false
    ),
    "rsa-pss-name-collision-not-self-signed.der": CertificateSummary(
        sha256: "95cf958461880497c9ca234931c5fcc57bca883809f144e101a735b20d222e98",
        subject: "CN=Same Name rsa-pss", issuer: "CN=Same Name rsa-pss",
        serial: "0b", notBefore: 1_796_214_843, notAfter: 1_827_750_843,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "rsassaPss",
        subjectAlternativeNames: [], isSelfSigned: false
    ),
    "rsa-self-signed-name-variant.der": CertificateSummary(
        sha256: "30fdc9af90dbe2bde2fb356d6ad327a585bad12305c80adc23182f582e18f661",
        subject: "CN=self signed   EXAMPLE,O=EXAMPLE  org", issuer: "CN=Self Signed Example,O=Example Org",
        serial: "0d", notBefore: 1_796_214_844, notAfter: 1_827_750_844,
        keyType: "RSA", keyBits: 2048, curve: nil, signatureAlgorithm: "sha256WithRSAEncryption",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ed448-self-signed-name-variant.der": CertificateSummary(
        sha256: "f8143b0f26184295b7587bf3d16bec715296ee77a4047a946f9866cb962bed8d",
        subject: "CN=self signed   EXAMPLE,O=EXAMPLE  org", issuer: "CN=Self Signed Example,O=Example Org",
        serial: "0d", notBefore: 1_796_214_844, notAfter: 1_827_750_844,
        keyType: "Ed448", keyBits: 456, curve: nil, signatureAlgorithm: "ed448",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ec-explicit-prime256v1.der": CertificateSummary(
        sha256: "ab2e80cfec8f39b7a5e6cb96cd09855bed30d518e3f8d50e5c2cc0db798fc193",
        subject: "CN=explicit-prime256v1.example.test", issuer: "CN=explicit-prime256v1.example.test",
        serial: "0e", notBefore: 1_796_214_844, notAfter: 1_827_750_844,
        keyType: "EC", keyBits: 256, curve: "explicit", signatureAlgorithm: "ecdsa-with-SHA256",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ec-explicit-secp160r1.der": CertificateSummary(
        sha256: "aeaa2bd848b1cb2d615c561946b47d6650795913790c36ab6ec6511fb138c121",
        subject: "CN=explicit-secp160r1.example.test", issuer: "CN=explicit-secp160r1.example.test",
        serial: "0e", notBefore: 1_796_214_844, notAfter: 1_827_750_844,
        keyType: "EC", keyBits: 161, curve: "explicit", signatureAlgorithm: "ecdsa-with-SHA256",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "ml-dsa-44.der": CertificateSummary(
        sha256: "98cd41a4081c52779c8034af21b09030a6453d16741912b0474f729e1b6fc274",
        subject: "CN=ml-dsa-44.example.test", issuer: "CN=ml-dsa-44.example.test",
        serial: "0123", notBefore: 1_767_225_600, notAfter: 1_798_761_600,
        keyType: "ML-DSA-44", keyBits: nil, curve: nil, signatureAlgorithm: "ML-DSA-44",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
    "slh-dsa-sha2-128s.der": CertificateSummary(
        sha256: "dce2726ee40c186b90c7e3aeec03d9d784b16216c03a19b36e16c3756736bf44",
        subject: "CN=slh-dsa-sha2-128s.example.test", issuer: "CN=slh-dsa-sha2-128s.example.test",
        serial: "0123", notBefore: 1_767_225_600, notAfter: 1_798_761_600,
        keyType: "SLH-DSA-SHA2-128s", keyBits: nil, curve: nil, signatureAlgorithm: "SLH-DSA-SHA2-128s",
        subjectAlternativeNames: [], isSelfSigned: true
    ),
]

@Test(arguments: expectations.keys.sorted())
func summaryMatchesOpenSSL(name: String) throws {
    let summary = try CertificateSummary(derEncoded: try fixture(name))
    let expected = try #require(expectations[name])
    #expect(summary.sha256 == expected.sha256)
    #expect(summary.subject == expected.subject)
    #expect(summary.issuer == expected.issuer)
    #expect(summary.serial == expected.serial)
    #expect(summary.notBefore == expected.notBefore)
    #expect(summary.notAfter == expected.notAfter)
    #expect(summary.keyType == expected.keyType)
    #expect(summary.keyBits == expected.keyBits)
    #expect(summary.curve == expected.curve)
    #expect(summary.signatureAlgorithm == expected.signatureAlgorithm)
    #expect(summary.subjectAlternativeNames == expected.subjectAlternativeNames)
    #expect(summary.isSelfSigned == expected.isSelfSigned)
    var withoutHostNames = summary
    withoutHostNames.hostNames = []  // checked by hostNamesAreTheSANsDNSNamesElseTheCN
    #expect(withoutHostNames == expected)
}

/// The names the SNI is matched against: the SAN's DNS names only (not its addresses, e-mail or URI);
/// the subject's CN only when the SAN has no DNS name.
@Test func hostNamesAreTheSANsDNSNamesElseTheCN() throws {
    #expect(try CertificateSummary(derEncoded: try fixture("leaf-rsa2048-san.der")).hostNames == ["www.example.test", "example.test"])
    #expect(try CertificateSummary(derEncoded: try fixture("ec-p256.der")).hostNames == ["ec-p256.example.test"])
    #expect(try CertificateSummary(derEncoded: try fixture("ed25519.der")).hostNames == ["ed25519.example.test"])
    #expect(try CertificateSummary(derEncoded: try fixture("names.der")).hostNames == [" #lead and trail "])
}

/// Every fixture has an expectation (a new fixture without one would silently go untested).
@Test func everyFixtureIsChecked() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: derDirectory.path).filter { $0.hasSuffix(".der") }
    #expect(Set(names) == Set(expectations.keys))
}

/// A self-signed certificate whose signature no longer verifies is not self-signed, for each key type
/// and padding checked here. The last byte of the DER is the signature's last byte.
@Test(arguments: [
    "ed25519.der", "v1-selfsigned.der", "ec-p384.der", "sha1-signed.der", "rsa-pss-signed.der",
    "negative-serial.der",
])
func corruptedSelfSignatureIsNotSelfSigned(name: String) throws {
    var der = try fixture(name)
    #expect(try CertificateSummary(derEncoded: der).isSelfSigned)
    der[der.count - 1] ^= 0x01
    let summary = try CertificateSummary(derEncoded: der)
    #expect(summary.subject == summary.issuer)
    #expect(!summary.isSelfSigned)
}

// MARK: - Self-signed (RFC 5280 §7.1 names, signature, AKI/SKI)

/// Issue #9: the same name but another key's signature is not self-signed, whether the signature can
/// be checked here (RSA-PSS) or not (DSA, Ed448: AKI ≠ SKI decides); and a certificate signed by its own
/// key whose issuer differs from its subject only in case, spacing and string type is self-signed,
/// checked (RSA) or not (Ed448: names plus AKI = SKI).
@Test func selfSignedIsDecidedBySignatureOrKeyIdentifiers() throws {
    for name in [
        "dsa-name-collision-not-self-signed.der", "ed448-name-collision-not-self-signed.der",
        "rsa-pss-name-collision-not-self-signed.der",
    ] {
        let summary = try CertificateSummary(derEncoded: try fixture(name))
        #expect(summary.subject == summary.issuer, "\(name)")
        #expect(!summary.isSelfSigned, "\(name)")
    }
    for name in ["rsa-self-signed-name-variant.der", "ed448-self-signed-name-variant.der"] {
        let summary = try CertificateSummary(derEncoded: try fixture(name))
        #expect(summary.subject != summary.issuer, "\(name)")
        #expect(summary.isSelfSigned, "\(name)")
    }
}

@Test func namesMatchUnderRFC5280Preparation() throws {
    let printable = DistinguishedName([
        RelativeDistinguishedName(try .init(type: [2, 5, 4, 10], printableString: "Example Org")),
        RelativeDistinguishedName(try .init(type: [2, 5, 4, 3], printableString: "Self Signed Example")),
    ])
    let utf8 = DistinguishedName([
        RelativeDistinguishedName(.init(type: [2, 5, 4, 10], utf8String: "  EXAMPLE   org ")),
        RelativeDistinguishedName(.init(type: [2, 5, 4, 3], utf8String: "self signed\tEXAMPLE")),
    ])
    let other = DistinguishedName([
        RelativeDistinguishedName(.init(type: [2, 5, 4, 10], utf8String: "Example Org")),
        RelativeDistinguishedName(.init(type: [2, 5, 4, 3], utf8String: "Self-Signed Example")),
    ])
    let reordered = DistinguishedName(printable.reversed())
    #expect(namesMatch(printable, utf8))
    #expect(!namesMatch(printable, other))
    #expect(!namesMatch(printable, reordered), "RDN order matters")
}

// MARK: - RFC 5280 deviations (§4.1.2.2: handled gracefully)

@Test(arguments: [
    ([0x12, 0x34], "1234"), ([0x00, 0xc0, 0xff, 0xee], "c0ffee"), ([0x00], "00"), ([0xed, 0xcc], "-1234"),
    ([0xff], "-01"), ([0x80], "-80"), ([0xff, 0x00], "-0100"), ([0xff, 0x7f], "-81"),
] as [([UInt8], String)])
func serialsAreSignedHex(bytes: [UInt8], text: String) {
    #expect(serialString(bytes[...]) == text)
}

/// v1 written out as `[0] { INTEGER 0 }` is a DER error (DEFAULT values must be omitted) that real
/// certificates make; it used to reject the whole certificate. The TBS changes, so the self-signature
/// no longer verifies.
@Test func explicitlyEncodedDefaultVersionIsRead() throws {
    var der = try fixture("v1-selfsigned.der")
    // 30 82 LL LL (certificate) 30 82 LL LL (tbsCertificate), then the first TBS field.
    #expect(der[0] == 0x30 && der[1] == 0x82 && der[4] == 0x30 && der[5] == 0x82)
    func grow(_ at: Int) {
        let length = Int(der[at]) << 8 | Int(der[at + 1]) + 5
        der[at] = UInt8(length >> 8)
        der[at + 1] = UInt8(length & 0xff)
    }
    grow(2)
    grow(6)
    der.insert(contentsOf: [0xa0, 0x03, 0x02, 0x01, 0x00], at: 8)
    let summary = try CertificateSummary(derEncoded: der)
    #expect(summary.serial == "01")
    #expect(summary.subject == "CN=www.example.test+OU=Web,O=Example,ST=CA,C=US")
    #expect(summary.keyBits == 2048)
    #expect(!summary.isSelfSigned)
}

@Test func lenientTimes() {
    // 2026-01-01T00:00:00Z = 1767225600
    #expect(lenientTime(Array("2601010000Z".utf8), generalized: false) == 1_767_225_600)
    #expect(lenientTime(Array("260101010000+0100".utf8), generalized: false) == 1_767_225_600)
    #expect(lenientTime(Array("20260101000000.250Z".utf8), generalized: true) == 1_767_225_600)
    #expect(lenientTime(Array("20251231190000-0500".utf8), generalized: true) == 1_767_225_600)
    #expect(lenientTime(Array("20260101000000".utf8), generalized: true) == 1_767_225_600)
    #expect(lenientTime(Array("491231235959Z".utf8), generalized: false) == 2_524_607_999)
    #expect(lenientTime(Array("20250231000000Z".utf8), generalized: true) == nil)
    #expect(lenientTime(Array("2601010000X".utf8), generalized: false) == nil)
    #expect(lenientTime(Array("26010100".utf8), generalized: false) == nil)
}

// MARK: - Hostile input

@Test(arguments: expectations.keys.sorted())
func everyTruncationThrows(name: String) throws {
    let der = try fixture(name)
    for length in 0..<der.count {
        #expect(throws: CertificateParseError.self) {
            try CertificateSummary(derEncoded: Array(der.prefix(length)))
        }
    }
}

@Test func trailingGarbageThrows() throws {
    let der = try fixture("ec-p256.der")
    #expect(throws: CertificateParseError.self) { try CertificateSummary(derEncoded: der + [0]) }
}

/// Found by the `certificate` fuzz target (Fuzz/regressions/certificate): a self-signed RSA certificate
/// whose key BoringSSL refuses made swift-crypto 3.x free the key twice while swift-certificates parsed
/// it for the self-signature check, aborting the process (EVP_PKEY_free on a freed key); 4.x frees once.
@Test func selfSignedCertificateWithAnRSAKeyBoringSSLRefusesIsSummarised() throws {
    var der = try fixture("v1-selfsigned.der")
    // The public exponent 65537 (INTEGER 01 00 01) becomes 65538: even, which BoringSSL refuses.
    let exponent: [UInt8] = [0x02, 0x03, 0x01, 0x00, 0x01]
    let position = try #require(der.indices.first { der[$0...].starts(with: exponent) })
    der[position + 4] = 0x02
    let summary = try CertificateSummary(derEncoded: der)
    #expect(summary.keyType == "RSA")
    #expect(summary.subject == summary.issuer)
}

/// Flipping bits anywhere must give a summary or a CertificateParseError, never a trap.
@Test(arguments: [
    "leaf-rsa2048-san.der", "dsa2048.der", "names.der", "rsa-pss-signed.der", "ec-explicit-secp160r1.der",
    "negative-serial.der", "rsa-self-signed-name-variant.der",
])
func bitFlipsNeverTrap(name: String) throws {
    let der = try fixture(name)
    var parsed = 0
    for index in der.indices {
        for bit in [0, 7] as [UInt8] {
            var mutated = der
            mutated[index] ^= 1 << bit
            if (try? CertificateSummary(derEncoded: mutated)) != nil { parsed += 1 }
        }
    }
    // Flips inside the signature value or the key bits leave a well-formed certificate.
    #expect(parsed > 0)
    #expect(parsed < der.count * 2)
}

@Test func randomGarbageThrows() {
    var generator = SystemRandomNumberGenerator()
    for length in [1, 2, 3, 10, 100, 1000] {
        for _ in 0..<50 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = 0x30  // a SEQUENCE, so the parse goes past the first byte
            #expect(throws: CertificateParseError.self) { try CertificateSummary(derEncoded: bytes) }
        }
    }
    #expect(throws: CertificateParseError.self) { try CertificateSummary(derEncoded: []) }
}

// MARK: - Pieces

@Test func rfc4514UnknownAttributeUsesDottedOIDAndHex() throws {
    let name = DistinguishedName([
        RelativeDistinguishedName(try .init(type: [2, 5, 4, 6], printableString: "US")),
        RelativeDistinguishedName(.init(type: [1, 2, 3, 4], utf8String: "custom")),
        RelativeDistinguishedName(.init(type: [2, 5, 4, 3], utf8String: "a\u{1}b")),
    ])
    // 0x0c = UTF8String, length 6, "custom".
    #expect(rfc4514String(name) == #"CN=a\01b,1.2.3.4=#0c06637573746f6d,C=US"#)
}

@Test(arguments: [
    ([UInt8](repeating: 0, count: 16), "::"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8:0:1::1"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:0:1:1:1:1:1"),
    ([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "fe80::"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], "::ffff:192.0.2.1"),
    ([10, 0, 0, 1], "10.0.0.1"),
    ([10, 0, 0, 1, 255, 255, 255, 0], "0a000001ffffff00"),
] as [([UInt8], String)])
func ipAddressesUseRFC5952(bytes: [UInt8], text: String) {
    #expect(ipAddressString(bytes[...]) == text)
}

@Test func epochSecondsAgreesWithKnownDates() {
    #expect(epochSeconds(year: 2025, month: 2, day: 31, hours: 0, minutes: 0, seconds: 0) == nil)
    #expect(epochSeconds(year: 1970, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0) == 0)
    #expect(epochSeconds(year: 2000, month: 2, day: 29, hours: 12, minutes: 0, seconds: 1) == 951_825_601)
    #expect(epochSeconds(year: 1950, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0) == -631_152_000)
    #expect(epochSeconds(year: 9999, month: 12, day: 31, hours: 23, minutes: 59, seconds: 59) == 253_402_300_799)
}
