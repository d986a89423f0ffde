import TLSWire
import Testing
import X509Inspection

@testable import TLSAudit

/// Mozilla Server Side TLS 5.8 "old" `ciphers.iana`, in Mozilla's order
/// (https://ssl-config.mozilla.org/guidelines/5.8.json).
private let mozilla58OldIANA = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
]

/// Mozilla 6.0 intermediate `ciphers.iana` (modern has none): these two must not move.
private let mozilla60IntermediateIANA = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
]
private let tls13Suites = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

private func names(_ suites: Set<CipherSuite>) -> Set<String> { Set(suites.compactMap(\.ianaName)) }

@Suite struct MozillaProfileTests {
    @Test func oldIsMozilla58() {
        #expect(names(AuditPolicy.old.cipherSuites) == Set(mozilla58OldIANA + tls13Suites))
        #expect(!AuditPolicy.old.cipherSuites.contains { $0.parts?.keyExchange.hasPrefix("DHE") ?? false })
        #expect(AuditPolicy.old.minimumDHBits == 2048)
        #expect(AuditPolicy.old.certificateKeyTypes == ["rsa"])
        #expect(AuditPolicy.old.maximumCertificateLifetimeDays == 366)
    }

    @Test func modernAndIntermediateStayMozilla60() {
        #expect(names(AuditPolicy.modern.cipherSuites) == Set(tls13Suites))
        #expect(names(AuditPolicy.intermediate.cipherSuites) == Set(mozilla60IntermediateIANA + tls13Suites))
        #expect(AuditPolicy.intermediate.minimumDHBits == 2048)
    }

    /// DHE with a 2048-bit prime was allowed by 5.7's old list; 5.8 dropped it.
    @Test func dheIsOutsideOld() {
        let dhe = tls12(suite: 0x009e, group: nil, dhPrimeBits: 2048)
        #expect(finding("kex-ffdhe", dhe, .old)?.severity == .medium)
        #expect(finding("dh-weak", tls12(suite: 0x009e, group: nil, dhPrimeBits: 1024), .old) != nil)
    }
}

/// Whatever the active profile does not allow is never below medium, whichever finding id carries it.
@Suite struct OutsidePolicyFloorTests {
    /// Issue #9: under intermediate (no DHE suite, no ffdhe group) a DHE connection got only kex-ffdhe at
    /// low and passed `--fail-on medium`.
    @Test func dheFailsMediumUnderIntermediate() {
        let dhe = tls12(suite: 0x009e, group: nil, dhPrimeBits: 3072)
        let findings = audit(dhe, policy: .intermediate)
        #expect(findings.first { $0.id == "kex-ffdhe" }?.severity == .medium)
        #expect(findings.contains { $0.severity >= .medium })
        // Under a policy file that allows the suite and the prime, kex-ffdhe keeps its column's severity.
        let allowing = AuditPolicy(
            name: "dhe-ok", versions: [.tls12], cipherSuites: [CipherSuite(rawValue: 0x009e)], groups: [],
            certificateKeyTypes: ["rsa"], certificateCurves: [], certificateSignatures: ["sha256WithRSAEncryption"],
            minimumRSABits: 2048, minimumECBits: 224, minimumDHBits: 2048, maximumCertificateLifetimeDays: 366,
            severities: AuditPolicy.intermediate.severities)
        #expect(audit(dhe, policy: allowing).first { $0.id == "kex-ffdhe" }?.severity == .low)
    }

    /// TLS 1.3 over ffdhe2048: the suite is allowed, the group is not.
    @Test func ffdheGroupFailsMediumUnderIntermediate() {
        let input = tls13(group: 0x0100, clientGroups: [0x0100, 0x001d], keyShares: [0x0100])
        #expect(finding("kex-ffdhe", input)?.severity == .medium)
        #expect(finding("kex-ffdhe", input, .modern)?.severity == .medium)
    }

    /// Allowed things keep their low severities: CBC and TLS 1.0 are in old.
    @Test func allowedStaysLow() {
        let input = tls12(suite: 0x002f, version: .tls10, group: nil)
        #expect(finding("cipher-cbc", input, .old)?.severity == .low)
        #expect(finding("version-tls10", input, .old)?.severity == .low)
    }

    /// A policy file cannot push a disallowed thing below medium either.
    @Test func overridesCannotLowerOutsidePolicy() throws {
        let lowered = try policy(#"{"base": "intermediate", "severity": {"cipher-cbc": "info"}}"#)
        let cbc = tls12(suite: 0xc013, group: 0x001d)
        #expect(finding("cipher-cbc", cbc, lowered)?.severity == .medium)
        let allowed = try policy(
            #"{"base": "intermediate", "severity": {"cipher-cbc": "info"}, "cipher_suites": ["0xc013"]}"#)
        #expect(finding("cipher-cbc", cbc, allowed)?.severity == .info)
    }
}

@Suite struct ComplianceTests {
    @Test func verdictPerBuiltInProfile() {
        let clean13 = tls13()
        let verdicts = Compliance(clean13)
        #expect(verdicts.verdicts.map(\.profile) == ["modern", "intermediate", "old"])
        #expect(verdicts.passes("modern") == true)
        #expect(verdicts.passes("intermediate") == true)
        #expect(verdicts.passes("old") == false, "old allows RSA certificates only (policy-cert)")

        let dhe = Compliance(tls12(suite: 0x009e, group: nil, dhPrimeBits: 3072))
        #expect(dhe.verdicts.map(\.text) == ["fail", "fail", "fail"])

        let legacy = Compliance(tls12(suite: 0x002f, version: .tls10, group: nil))
        #expect(legacy.passes("modern") == false)
        #expect(legacy.passes("intermediate") == false)
        #expect(legacy.passes("old") == false, "no-forward-secrecy is medium under old")
        #expect(legacy.passes("paranoid") == nil)
    }

    /// Findings judged without their messages (as verdicts are) have the same ids and severities; findings
    /// already judged under a profile give its verdict unchanged.
    @Test func verdictsWithoutMessagesAgreeWithFullFindings() {
        let inputs = [
            tls13(), tls12(), tls12(suite: 0x009e, group: nil, dhPrimeBits: 1024), tls12(suite: 0xc013),
            tls12(suite: 0x000a, version: .tls10, group: nil), tls12(suite: 0x0004, version: .ssl3, group: nil),
        ]
        for input in inputs {
            for (index, policy) in Compliance.profiles.enumerated() {
                let full = audit(input, policy: policy)
                let quiet = audit(input, policy: policy, messages: false)
                #expect(full.map(\.id) == quiet.map(\.id))
                #expect(full.map(\.severity) == quiet.map(\.severity))
                #expect(quiet.allSatisfy(\.message.isEmpty) && full.allSatisfy { !$0.message.isEmpty })
                #expect(Compliance(input, judged: (index, full)) == Compliance(input))
                #expect(Compliance.profileIndex(of: policy) == index)
            }
        }
        var renamed = AuditPolicy.intermediate
        renamed.disabled.insert("cipher-cbc")
        #expect(Compliance.profileIndex(of: renamed) == nil, "a policy file is never taken for a profile")
    }

    /// The early-stopping verdict (`passes`) agrees with the whole audit's on a spread of connections under
    /// every profile, and under policies with exceptions and disabled ids (which remove findings at the end).
    @Test func earlyStoppingVerdictAgreesWithTheWholeAudit() {
        let rsa1024 = certificate(bits: 1024)
        let md5 = certificate(signature: "md5WithRSAEncryption")
        let expired = certificate(notBefore: now - 400 * day, notAfter: now - day)
        var inputs = [
            tls13(), tls13(group: 0x001d, clientGroups: [0x001d], keyShares: [0x001d]),
            tls13(certificates: [certificate()]), tls13(resumed: true), tls13(certificates: [expired]),
            tls12(), tls12(certificates: [ecdsaLeaf]), tls12(suite: 0x009e, group: nil, dhPrimeBits: 1024),
            tls12(suite: 0x009e, group: nil, dhPrimeBits: 3072), tls12(suite: 0xc013), tls12(suite: 0xc027),
            tls12(suite: 0x000a, version: .tls10, group: nil), tls12(suite: 0x0004, version: .ssl3, group: nil),
            tls12(suite: 0x002f, version: .tls11, group: nil), tls12(certificates: [rsa1024]),
            tls12(certificates: [md5]), tls12(certificates: []), tls12(serverExtensions: []),
            tls12(compressionMethod: 1), tls12(clientSuites: [0xc02f, 0x0005, 0x000a]),
            tls12(group: 0x0015, clientGroups: [0x0015]),
        ]
        var failed = tls12()
        failed.established = false
        inputs.append(failed)
        var lenient = AuditPolicy.intermediate
        lenient.disabled = ["no-forward-secrecy", "cipher-cbc", "version-tls10", "policy-version", "policy-cipher"]
        var excepted = AuditPolicy.modern
        excepted.exceptions = [AuditPolicy.Exception(id: "policy-version", reason: "legacy clients")]
        var passes = 0
        var fails = 0
        for input in inputs {
            for policy in Compliance.profiles + [lenient, excepted] {
                let whole = Compliance.passes(audit(input, policy: policy))
                #expect(TLSAudit.passes(input, policy: policy) == whole, "\(policy.name)")
                if whole { passes += 1 } else { fails += 1 }
            }
        }
        #expect(passes > 10 && fails > 10, "both verdicts are exercised")
    }

    /// The verdict is what `--fail-on medium` would decide under that profile.
    @Test func agreesWithFailOnMedium() {
        for input in [tls13(), tls12(), tls12(suite: 0x009e, group: nil, dhPrimeBits: 2048), tls12(suite: 0xc013)] {
            let compliance = Compliance(input)
            for policy in [AuditPolicy.modern, .intermediate, .old] {
                let failsMedium = audit(input, policy: policy).contains { $0.severity >= .medium }
                #expect(compliance.passes(policy.name) == !failsMedium)
            }
        }
    }
}

/// Every rule is linear in the hello: a crafted ClientHello with tens of thousands of groups, key shares
/// and suites. Before, the post-quantum rule compared each key share with the whole supported_groups list
/// (quadratic) and named every offered draft group in its message, and client-offers-weak judged every
/// repeated suite again. Measured by hand on the old rule (release build): 20 such 62 KB hellos took
/// 0.7-0.9 s with findings; the assertions here hold the messages bounded, which the old code failed.
@Suite struct LinearRuleTests {
    @Test func hugeHelloGivesBoundedFindings() {
        let count = 30_000
        let groups = (0..<count).map { NamedGroup(rawValue: [0x6399, 0x11ec, 0x001d, 0x0017][$0 % 4]) }
        let shares = (0..<count).map { NamedGroup(rawValue: [0x639a, 0x6399, 0x001d][$0 % 3]) }
        let suites = (0..<count).map { CipherSuite(rawValue: [0x0004, 0x000a, 0xc02f, 0x0005][$0 % 4]) }
        let client = ClientHello(
            version: .tls12, cipherSuites: suites, compressionMethods: [0], serverName: "www.example.test",
            supportedVersions: [.tls13, .tls12], supportedGroups: groups, keyShareGroups: shares)
        let server = ServerHello(
            version: .tls12, cipherSuite: CipherSuite(rawValue: 0x1301), selectedVersion: .tls13,
            selectedGroup: NamedGroup(rawValue: 0x001d))
        let input = AuditInput(
            clientHello: client, serverHello: server, certificates: [ecdsaLeaf], established: true, captureTime: now)
        let findings = audit(input)
        let draft = findings.first { $0.id == "pq-obsolete-draft" }
        #expect(draft?.message == "client offered X25519Kyber768Draft00, SecP256r1Kyber768Draft00, an obsolete pre-standard Kyber code point")
        let notSelected = findings.first { $0.id == "pq-offered-not-selected" }
        #expect((notSelected?.message.count ?? .max) < 200)
        let weak = findings.first { $0.id == "client-offers-weak" }
        #expect(weak?.message.hasPrefix("client offered 3 weak suites") == true, "\(weak?.message ?? "")")
        #expect(findings.allSatisfy { $0.message.count < 300 })
    }
}

@Suite struct AuditSummaryBoundsTests {
    /// Past `maxGroups` servers and clients, the rest are tallied under "other": memory stays bounded.
    @Test func groupsPastTheBoundGoUnderOther() {
        var summary = AuditSummary(maxGroups: 3)
        for index in 0..<10 {
            summary.add(
                [], server: AuditSummary.Server(address: "10.0.0.\(index)", port: 443, serverName: nil),
                clientFingerprint: "fp\(index)")
        }
        #expect(summary.servers.count == 4)
        #expect(summary.clients.count == 4)
        #expect(summary.servers.first { $0.key == AuditSummary.otherServer }?.connections == 7)
        #expect(summary.clients.first { $0.key == AuditSummary.otherClient }?.connections == 7)
        #expect(summary.connections == 10)
    }
}
