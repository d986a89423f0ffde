import TLSWire
import Testing

@testable import TLSAudit

@Suite struct CipherSuiteRuleTests {
    /// Suite → the suite findings it must raise (and nothing else from the suite family).
    static let cases: [(UInt16, Set<String>)] = [
        (0x0000, ["cipher-null", "cipher-anon"]),  // TLS_NULL_WITH_NULL_NULL
        (0x0002, ["cipher-null", "no-forward-secrecy", "cipher-sha1-mac"]),  // TLS_RSA_WITH_NULL_SHA
        (0x0018, ["cipher-anon", "cipher-rc4", "cipher-md5-mac", "kex-ffdhe"]),  // DH_anon RC4 MD5
        (0x0003, ["cipher-export", "cipher-rc4", "cipher-md5-mac", "no-forward-secrecy"]),  // RSA_EXPORT RC4_40 MD5
        (0x0006, ["cipher-export", "cipher-rc2", "cipher-md5-mac", "cipher-cbc", "no-forward-secrecy"]),
        (0x0009, ["cipher-des", "cipher-cbc", "cipher-sha1-mac", "no-forward-secrecy"]),  // TLS_RSA_WITH_DES_CBC_SHA
        (0x000a, ["cipher-3des", "cipher-cbc", "cipher-sha1-mac", "no-forward-secrecy"]),
        (0x0007, ["cipher-3des", "cipher-cbc", "cipher-sha1-mac", "no-forward-secrecy"]),  // IDEA
        (0x0013, ["cipher-3des", "cipher-cbc", "cipher-sha1-mac", "kex-ffdhe"]),  // DHE_DSS 3DES
        (0x002f, ["no-forward-secrecy", "cipher-cbc", "cipher-sha1-mac"]),  // TLS_RSA_WITH_AES_128_CBC_SHA
        (0x009c, ["no-forward-secrecy"]),  // TLS_RSA_WITH_AES_128_GCM_SHA256
        (0xc027, ["cipher-cbc"]),  // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
        (0xc013, ["cipher-cbc", "cipher-sha1-mac"]),  // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
        (0x009e, ["kex-ffdhe"]),  // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
        (0xc05c, ["policy-cipher"]),  // TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256
        (0xc0b4, ["cipher-null", "iana-discouraged"]),  // TLS_SHA256_SHA256 (integrity only)
        // TLS_KRB5_WITH_RC4_128_MD5
        (0x0024, ["cipher-rc4", "cipher-md5-mac", "no-forward-secrecy", "iana-discouraged"]),
        (0xc02f, []),
    ]

    static let suiteFamily: Set<String> = [
        "cipher-null", "cipher-anon", "cipher-export", "cipher-rc4", "cipher-rc2", "cipher-des", "cipher-md5-mac",
        "cipher-3des", "cipher-cbc", "cipher-sha1-mac", "no-forward-secrecy", "kex-ffdhe", "cipher-unknown",
        "iana-discouraged", "policy-cipher",
    ]

    @Test(arguments: cases)
    func suiteFindings(code: UInt16, expected: Set<String>) {
        let input = tls12(suite: code, group: nil)
        #expect(Set(ids(input)).intersection(Self.suiteFamily) == expected)
    }

    @Test(arguments: [
        "cipher-null", "cipher-anon", "cipher-export", "cipher-rc4", "cipher-rc2", "cipher-des", "cipher-md5-mac",
    ])
    func brokenSuitesAreCriticalUnderEveryPolicy(id: String) {
        let code = Self.cases.first { $0.1.contains(id) }?.0 ?? 0
        for policy in [AuditPolicy.modern, .intermediate, .old] {
            #expect(finding(id, tls12(suite: code, group: nil), policy)?.severity == .critical)
        }
    }

    @Test func looserUnderOldStricterUnderModern() {
        let input = tls12(suite: 0x002f, group: nil)  // TLS_RSA_WITH_AES_128_CBC_SHA
        func severities(_ policy: AuditPolicy) -> [String: Severity] {
            Dictionary(uniqueKeysWithValues: audit(input, policy: policy).map { ($0.id, $0.severity) })
        }
        #expect(severities(.modern)["cipher-cbc"] == .high)
        #expect(severities(.intermediate)["cipher-cbc"] == .medium)
        #expect(severities(.old)["cipher-cbc"] == .low)
        #expect(severities(.modern)["no-forward-secrecy"] == .high)
        #expect(severities(.intermediate)["no-forward-secrecy"] == .high)
        #expect(severities(.old)["no-forward-secrecy"] == .medium)
        #expect(severities(.intermediate)["cipher-sha1-mac"] == .medium)
    }

    @Test func messagesNameTheSuite() {
        #expect(
            finding("cipher-rc4", tls12(suite: 0x0005, group: nil))?.message
                == "server negotiated TLS_RSA_WITH_RC4_128_SHA (RC4, RFC 7465 prohibits it)")
        #expect(
            finding("cipher-3des", tls12(suite: 0x000a, group: nil))?.message
                == "server negotiated TLS_RSA_WITH_3DES_EDE_CBC_SHA (64-bit block cipher, SWEET32: CVE-2016-2183)")
    }

    @Test(arguments: [
        (UInt16(0x1234), "server selected 0x1234, which is not a registered cipher suite"),
        (0x00ff, "server selected TLS_EMPTY_RENEGOTIATION_INFO_SCSV, a signalling value rather than a cipher suite"),
        (0x0a0a, "server selected the GREASE value 0x0a0a (RFC 8701 forbids selecting it)"),
    ])
    func unknownCodePoints(code: UInt16, message: String) {
        let found = audit(tls12(suite: code, group: nil), policy: .intermediate)
        #expect(found.first { $0.id == "cipher-unknown" }?.message == message)
        #expect(found.first { $0.id == "cipher-unknown" }?.severity == .medium)
        #expect(!found.contains { $0.id == "policy-cipher" })
    }

    @Test func tls13SuiteOutsideThePolicy() {
        #expect(ids(tls13(suite: 0x1304)).contains("policy-cipher"))  // TLS_AES_128_CCM_SHA256
        #expect(!ids(tls13(suite: 0x1303)).contains("policy-cipher"))
    }

    @Test func tls13PSKOnlyResumptionHasNoForwardSecrecy() {
        #expect(ids(tls13(group: nil, certificates: [], resumed: true)).contains("no-forward-secrecy"))
        #expect(!ids(tls13(certificates: [], resumed: true)).contains("no-forward-secrecy"))
    }
}

@Suite struct KeyExchangeRuleTests {
    func dhe(_ bits: Int, rsa: Int = 2048) -> AuditInput {
        tls12(suite: 0x009e, group: nil, dhPrimeBits: bits, certificates: [certificate(bits: rsa)])
    }

    @Test func dhThresholds() {
        #expect(finding("dh-weak", dhe(1023))?.severity == .critical)
        #expect(finding("dh-weak", dhe(1023), .old)?.severity == .critical)
        #expect(finding("dh-weak", dhe(1024))?.severity == .high)
        #expect(finding("dh-weak", dhe(1024), .old)?.severity == .medium)
        #expect(finding("dh-weak", dhe(2047))?.severity == .high)
        #expect(finding("dh-weak", dhe(2048)) == nil)
        #expect(finding("dh-weak", dhe(1024))?.message == "DH prime is 1024 bits (< 2048)")
    }

    @Test func dhShorterThanTheCertificateKey() {
        #expect(
            finding("dh-weaker-than-cert", dhe(2048, rsa: 3072))?.message
                == "DH prime is 2048 bits, shorter than the certificate's 3072-bit RSA key")
        #expect(finding("dh-weaker-than-cert", dhe(3072, rsa: 3072)) == nil)
        #expect(finding("dh-weaker-than-cert", dhe(2048, rsa: 3072), .old)?.severity == .info)
    }

    @Test func finiteFieldDHE() {
        // Intermediate allows no DHE suite, so kex-ffdhe is what says so: at least medium (issue #9).
        #expect(finding("kex-ffdhe", dhe(2048))?.severity == .medium)
        #expect(finding("kex-ffdhe", dhe(2048), .modern)?.severity == .medium)
        #expect(
            finding("kex-ffdhe", dhe(2048))?.message
                == "server chose finite-field DHE (2048-bit prime); ECDHE is faster and better supported")
        // TLS 1.3 with a named FFDHE group: kex-ffdhe, and no policy-group on top; ffdhe2048 is not weak.
        let named = tls13(group: 0x0100, clientGroups: [0x0100], keyShares: [0x0100])
        #expect(ids(named) == ["kex-ffdhe", "pq-not-offered"])
    }

    @Test func customMinimumRaisesTheFloor() throws {
        let strict = try policy(#"{"min_dh_bits": 3072}"#)
        #expect(finding("dh-weak", dhe(2048), strict)?.message == "DH prime is 2048 bits (< 3072)")
    }

    @Test func groupsOutsideThePolicy() {
        let brainpool = tls12(group: 0x001a)
        #expect(
            finding("policy-group", brainpool)?.message
                == "server chose group brainpoolP256r1, which policy intermediate does not allow")
        // secp192r1 is IANA-discouraged: that more specific finding replaces policy-group, and as the group
        // is outside the policy it is at least medium.
        let discouraged = tls12(group: 0x0013)
        #expect(finding("iana-discouraged", discouraged)?.severity == .medium)
        #expect(finding("policy-group", discouraged) == nil)
        #expect(finding("policy-group", tls12(group: 0x0017)) == nil)
    }
}

/// The weakness table the client-offer rule reads is `suiteWeaknesses` exactly, for every code point (so
/// `suiteWeaknessIDs` names every id the function can give).
@Test func suiteWeaknessMasksAgreeWithSuiteWeaknesses() {
    var weakSuites = 0
    for raw in 0...0xffff {
        let suite = CipherSuite(rawValue: UInt16(raw))
        let expected = Set(suite.parts.map { suiteWeaknesses($0).map(\.id) } ?? [])
        let mask = suiteWeaknessMasks[raw]
        let fromMask = Set(suiteWeaknessIDs.indices.filter { mask & (1 << $0) != 0 }.map { suiteWeaknessIDs[$0] })
        #expect(fromMask == expected, "\(suite.name)")
        if !expected.isEmpty { weakSuites += 1 }
    }
    #expect(weakSuites > 200)
}

/// The typed key-exchange predicates the cipher rule uses say what the names they replaced said, for every
/// registered suite (and, for TLS 1.3 suites, with and without an FFDHE group).
@Test func typedKeyExchangePredicatesAgreeWithTheNames() {
    let staticNames: Set<String> = ["RSA", "RSA_EXPORT", "DH", "DH_EXPORT", "ECDH", "PSK", "RSA_PSK", "KRB5", "KRB5_EXPORT"]
    var staticCount = 0
    var finiteFieldCount = 0
    for suite in CipherSuite.registeredWithParts {
        guard let parts = suite.parts else { continue }
        let byName = parts.authentication != "anon" && staticNames.contains(parts.keyExchange)
        #expect(hasStaticKeyExchange(parts) == byName, "\(suite.name)")
        if byName { staticCount += 1 }
        for group in [nil, NamedGroup(rawValue: 0x0100), NamedGroup(rawValue: 0x001d)] {
            let finiteByName: Bool
            switch parts.keyExchange {
            case "DHE", "DHE_PSK", "DHE_EXPORT": finiteByName = true
            case "DH", "DH_EXPORT": finiteByName = parts.authentication == "anon"
            case "TLS13": finiteByName = group?.rawValue == 0x0100
            default: finiteByName = false
            }
            #expect(isFiniteFieldDHE(parts: parts, group: group, dhPrimeBits: nil) == finiteByName, "\(suite.name)")
            if finiteByName && group == nil { finiteFieldCount += 1 }
        }
    }
    #expect(staticCount > 50)
    #expect(finiteFieldCount > 20)
}
