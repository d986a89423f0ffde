import TLSWire
import Testing

@testable import TLSAudit

@Suite struct BuiltInPolicyTests {
    @Test func mozillaProfiles() {
        #expect(AuditPolicy.modern.versions == [.tls13])
        #expect(AuditPolicy.intermediate.versions == [.tls12, .tls13])
        #expect(AuditPolicy.old.versions == [.tls10, .tls11, .tls12, .tls13])
        #expect(AuditPolicy.modern.cipherSuites.count == 3)
        #expect(AuditPolicy.intermediate.cipherSuites.count == 9)
        #expect(AuditPolicy.old.cipherSuites.count == 24, "Mozilla 5.8 old: 3 TLS 1.3 + 21 TLS 1.2 suites")
        #expect(AuditPolicy.modern.maximumCertificateLifetimeDays == 90)
        #expect(AuditPolicy.intermediate.maximumCertificateLifetimeDays == 366)
        #expect(AuditPolicy.old.minimumDHBits == 2048, "Mozilla 5.8 old dh_param_size")
        #expect(AuditPolicy.builtIn(named: "Modern") == .modern)
        #expect(AuditPolicy.builtIn(named: "strict") == nil)
    }

    @Test func everySuiteNameInTheBuiltInsIsRegistered() {
        for policy in [AuditPolicy.modern, .intermediate, .old] {
            for suite in policy.cipherSuites { #expect(suite.ianaName != nil) }
        }
    }

    /// The same legacy connection under each policy: TLS 1.0, TLS_RSA_WITH_AES_128_CBC_SHA.
    @Test func sameInputEachPolicy() throws {
        let input = tls12(suite: 0x002f, version: .tls10, group: nil)
        func verdict(_ policy: AuditPolicy) -> [String] {
            audit(input, policy: policy).filter { $0.id != "pq-not-offered" }.map { "\($0.id):\($0.severity)" }
        }
        #expect(
            verdict(.modern) == [
                "cipher-cbc:high", "cipher-sha1-mac:high", "no-forward-secrecy:high", "version-tls10:high",
                "policy-cert:medium", "cert-lifetime:low",
            ])
        #expect(
            verdict(.intermediate) == [
                "no-forward-secrecy:high", "version-tls10:high", "cipher-cbc:medium", "cipher-sha1-mac:medium",
            ])
        #expect(
            verdict(.old) == [
                "no-forward-secrecy:medium", "cipher-cbc:low", "cipher-sha1-mac:low", "version-tls10:low",
            ])
        let custom = try policy(
            #"""
            {"name": "legacy-lab", "base": "old", "severity": {"version-tls10": "critical"}, "disabled": ["cipher-cbc"]}
            """#)
        #expect(
            verdict(custom) == [
                "version-tls10:critical", "no-forward-secrecy:medium", "cipher-sha1-mac:low",
            ])
    }
}

@Suite struct OverrideAndExceptionTests {
    @Test func severityOverride() throws {
        let strict = try policy(#"{"severity": {"kex-ffdhe": "high", "pq-not-offered": "low"}}"#)
        let input = tls12(suite: 0x009e, group: nil, dhPrimeBits: 2048)
        #expect(finding("kex-ffdhe", input, strict)?.severity == .high)
        #expect(finding("pq-not-offered", input, strict)?.severity == .low)
    }

    @Test func brokenCryptoCannotBeLoweredInCode() {
        var lenient = AuditPolicy.old
        lenient.severities["cipher-rc4"] = .info
        lenient.severities["dh-weak"] = .info
        lenient.disabled = ["cipher-rc4", "dh-weak"]
        #expect(finding("cipher-rc4", tls12(suite: 0x0005, group: nil), lenient)?.severity == .critical)
        // dh-weak above 1024 bits follows the override (here: disabled); under 1024 it is broken crypto.
        let dh = { (bits: Int) in tls12(suite: 0x009e, group: nil, dhPrimeBits: bits) }
        #expect(finding("dh-weak", dh(1024), lenient) == nil)
        #expect(finding("dh-weak", dh(1023), lenient)?.severity == .critical)
    }

    @Test func exceptionByServerName() throws {
        let lab = try policy(
            #"""
            {"exceptions": [{"id": "cert-self-signed", "server_name": "*.example.test", "reason": "lab CA"}]}
            """#)
        var input = tls12(certificates: [certificate(selfSigned: true)])
        #expect(finding("cert-self-signed", input, lab) == nil)
        input.serverName = "example.test"  // the wildcard needs a label in front
        #expect(finding("cert-self-signed", input, lab) != nil)
        input.serverName = "www.example.org"
        #expect(finding("cert-self-signed", input, lab) != nil)
    }

    @Test func exceptionNeedsEveryCondition() throws {
        let scoped = try policy(
            #"""
            {"exceptions": [{"id": "cipher-rc4", "server_ip": "192.0.2.10",
              "client_ja3": "0123456789ABCDEF0123456789ABCDEF", "reason": "legacy POS terminal, retired 2027-06"}]}
            """#)
        var input = tls12(suite: 0x0005, group: nil)
        // Broken crypto too can be excepted, deliberately and with a reason.
        #expect(finding("cipher-rc4", input, scoped) == nil)
        #expect(finding("no-forward-secrecy", input, scoped) != nil)
        input.serverAddress = "192.0.2.11"
        #expect(finding("cipher-rc4", input, scoped)?.severity == .critical)
        input.serverAddress = "192.0.2.10"
        input.clientJA3 = nil
        #expect(finding("cipher-rc4", input, scoped) != nil)
    }
}

@Suite struct PolicyFileTests {
    static let example = #"""
        {
          "name": "corp-2027",
          "description": "TLS 1.3 only with two suites",
          "base": "modern",
          "versions": ["TLSv1.3", "TLS 1.2"],
          "cipher_suites": ["TLS_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "0x1301"],
          "groups": ["X25519MLKEM768", "X25519", "prime256v1"],
          "certificate_key_types": ["ECDSA", "rsa"],
          "certificate_curves": ["P-384"],
          "certificate_signatures": ["ecdsa-with-SHA384"],
          "min_rsa_bits": 3072,
          "min_ec_bits": 256,
          "min_dh_bits": 3072,
          "max_certificate_lifetime_days": 47,
          "severity": {"cert-lifetime": "medium"},
          "disabled": ["pq-not-offered"],
          "exceptions": [{"id": "cert-self-signed", "server_ip": "10.0.0.5", "reason": "test box"}]
        }
        """#

    @Test func fullExample() throws {
        let loaded = try policy(Self.example)
        #expect(loaded.name == "corp-2027")
        #expect(loaded.versions == [.tls13, .tls12])
        #expect(
            loaded.cipherSuites == [
                CipherSuite(rawValue: 0x1302), CipherSuite(rawValue: 0xc02c), CipherSuite(rawValue: 0x1301),
            ])
        #expect(
            loaded.groups == [NamedGroup(rawValue: 0x11ec), NamedGroup(rawValue: 0x001d), NamedGroup(rawValue: 0x0017)])
        #expect(loaded.certificateKeyTypes == ["ecdsa", "rsa"])
        #expect(loaded.certificateCurves == ["secp384r1"])
        #expect(loaded.minimumRSABits == 3072)
        #expect(loaded.minimumECBits == 256)
        #expect(loaded.maximumCertificateLifetimeDays == 47)
        #expect(loaded.severity(of: "cert-lifetime") == .medium)
        // Base modern: CBC stays high.
        #expect(loaded.severity(of: "cipher-cbc") == .high)
        #expect(loaded.disabled == ["pq-not-offered"])
        #expect(
            loaded.exceptions == [
                AuditPolicy.Exception(id: "cert-self-signed", serverAddress: "10.0.0.5", reason: "test box")
            ])
    }

    @Test func customPolicyVerdicts() throws {
        let loaded = try policy(Self.example)
        // RSA 2048 is under this policy's 3072 floor; the P-256 ECDSA leaf is outside its curves.
        #expect(
            finding("cert-key-weak", tls12(), loaded)?.message == "leaf certificate has a 2048-bit RSA key (< 3072)")
        let found = ids(tls13(), loaded)
        #expect(found.contains("policy-cert"))
        #expect(found.contains("cert-lifetime"))
        #expect(!found.contains("policy-version"))
        #expect(!found.contains("pq-not-offered"))
        #expect(ids(tls13(suite: 0x1303), loaded).contains("policy-cipher"))
    }

    @Test func defaultsComeFromIntermediate() throws {
        let loaded = try policy("{}")
        #expect(loaded.name == "custom")
        #expect(loaded.versions == AuditPolicy.intermediate.versions)
        #expect(loaded.severities == AuditPolicy.intermediate.severities)
    }

    @Test(arguments: [
        (#"{"versions": ["TLS 1.3"], "cipher_suite": []}"#, PolicyFileError.Code.unknownKeys),
        (#"{"exceptions": [{"id": "cert-expired", "reason": "x", "host": "a"}]}"#, .unknownKeys),
        (#"{"versions": "TLS 1.3"}"#, .wrongType),
        (#"{"min_rsa_bits": "2048"}"#, .wrongType),
        (#"{"min_rsa_bits": -1}"#, .wrongType),
        (#"["TLS 1.3"]"#, .wrongType),
        (#"{"versions": ["TLS 1.4"]}"#, .invalidValue),
        (#"{"cipher_suites": ["TLS_RSA_WITH_AES_512_GCM"]}"#, .invalidValue),
        (#"{"groups": ["curve9999"]}"#, .invalidValue),
        (#"{"certificate_key_types": ["rsa", "gost"]}"#, .invalidValue),
        (#"{"base": "paranoid"}"#, .invalidValue),
        (#"{"severity": {"cipher-cbc": "severe"}}"#, .invalidValue),
        (#"{"severity": {"cipher-cbx": "high"}}"#, .unknownFindingID),
        (#"{"disabled": ["no-such-finding"]}"#, .unknownFindingID),
        (#"{"exceptions": [{"id": "cipher-rc5", "reason": "x"}]}"#, .unknownFindingID),
        (#"{"severity": {"cipher-rc4": "high"}}"#, .brokenCryptoFloor),
        (#"{"disabled": ["version-ssl3"]}"#, .brokenCryptoFloor),
        (#"{"exceptions": [{"id": "cert-expired"}]}"#, .missingReason),
        (#"{"exceptions": [{"id": "cert-expired", "reason": "  "}]}"#, .missingReason),
        (#"{"versions": ["TLS 1.3"]"#, .syntax),
        ("versions: [TLS 1.3]", .syntax),
        ("", .syntax),
    ])
    func rejected(json: String, code: PolicyFileError.Code) {
        #expect {
            try policy(json)
        } throws: { error in
            (error as? PolicyFileError)?.code == code
        }
    }

    @Test func unknownKeysAreNamed() {
        do {
            _ = try policy(#"{"versions": ["TLS 1.3"], "cipher_suite": [], "grups": []}"#)
            Issue.record("accepted unknown keys")
        } catch let error as PolicyFileError {
            #expect(error.message == "policy file: unknown keys cipher_suite, grups")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func yamlWithoutYams() {
        let yaml = Array("versions: [TLS 1.3]\n".utf8)
        if PolicyFileFormat.yaml.isSupported {
            #expect((try? AuditPolicy.load(contentsOf: yaml, format: .yaml))?.versions == [.tls13])
        } else {
            #expect {
                try AuditPolicy.load(contentsOf: yaml, format: .yaml)
            } throws: { error in
                (error as? PolicyFileError)?.code == .yamlUnavailable
            }
        }
    }

    @Test func formatFromFileName() {
        #expect(PolicyFileFormat(fileName: "corp.JSON") == .json)
        #expect(PolicyFileFormat(fileName: "/etc/tlsscope/policy.yml") == .yaml)
        #expect(PolicyFileFormat(fileName: "policy.yaml") == .yaml)
        #expect(PolicyFileFormat(fileName: "policy.toml") == nil)
    }

    @Test func versionSpellings() throws {
        for (text, version) in [
            ("TLS 1.0", TLSVersion.tls10), ("TLSv1", .tls10), ("tlsv1.1", .tls11), ("SSLv3", .ssl3),
            ("DTLS 1.2", .dtls12), ("0x0304", .tls13),
        ] {
            #expect(try PolicyFileReader.version(named: text) == version)
        }
    }
}

@Suite struct SeverityTests {
    @Test func parsing() {
        #expect(Severity(parsing: "high") == .high)
        #expect(Severity(parsing: " CRITICAL\n") == .critical)
        #expect(Severity(parsing: "info") == .info)
        #expect(Severity(parsing: "severe") == nil)
        #expect(Severity(parsing: "") == nil)
    }
}

@Suite struct CatalogTests {
    /// The contract's fixed ids.
    static let contractIDs = [
        "version-ssl2", "version-ssl3", "version-tls10", "version-tls11", "version-dtls10", "cipher-null",
        "cipher-anon", "cipher-export", "cipher-rc4", "cipher-des", "cipher-3des", "no-forward-secrecy",
        "cipher-cbc", "cipher-sha1-mac", "kex-ffdhe", "dh-weak", "cert-key-weak", "cert-signature-weak",
        "cert-expired", "cert-not-yet-valid", "cert-expiring", "cert-self-signed", "cert-lifetime", "compression",
        "no-secure-renegotiation", "heartbeat", "heartbleed", "cipher-unknown", "iana-discouraged", "alert-fatal",
        "handshake-incomplete", "client-offers-weak", "pq-negotiated", "pq-not-offered", "pq-offered-not-selected",
        "pq-obsolete-draft", "policy-version", "policy-cipher", "policy-group", "policy-cert", "keylog-mismatch",
    ]

    /// Severity under intermediate, from the contract's table.
    static let contractSeverities: [String: Severity] = [
        "version-tls10": .high, "cipher-3des": .high, "no-forward-secrecy": .high, "cipher-cbc": .medium,
        "cipher-sha1-mac": .medium, "kex-ffdhe": .low, "dh-weak": .high, "cert-key-weak": .high,
        "cert-signature-weak": .high, "cert-expired": .high, "cert-expiring": .medium, "cert-self-signed": .medium,
        "cert-lifetime": .low, "compression": .high, "no-secure-renegotiation": .medium, "heartbeat": .low,
        "heartbleed": .critical, "cipher-unknown": .medium, "iana-discouraged": .low, "alert-fatal": .low,
        "handshake-incomplete": .low, "client-offers-weak": .medium, "pq-negotiated": .info,
        "pq-not-offered": .info, "pq-offered-not-selected": .low, "pq-obsolete-draft": .medium,
        "policy-version": .medium, "policy-cipher": .medium, "policy-group": .medium, "policy-cert": .medium,
        "version-ssl2": .critical, "cipher-rc4": .critical, "keylog-mismatch": .high,
    ]

    @Test func everyContractIDIsCatalogued() {
        for id in Self.contractIDs { #expect(FindingCatalog.byID[id] != nil, "\(id)") }
        #expect(Set(FindingCatalog.all.map(\.id)).count == FindingCatalog.all.count)
    }

    /// The rules' ids are the catalog's rows: each case's index is its row, names go both ways, and every
    /// id fits the 64-bit sets the rules keep.
    @Test func findingIDsAreTheCatalogsRows() {
        #expect(FindingID.allCases.count == FindingCatalog.all.count)
        #expect(FindingID.allCases.count <= 64)
        for id in FindingID.allCases {
            #expect(FindingCatalog.all[id.rawValue].id == id.name)
            #expect(FindingID(name: id.name) == id)
        }
        #expect(FindingID(name: "no-such-finding") == nil)
    }

    /// A policy's severities and disabled ids, read by id, are what it says by name (overrides included).
    @Test func severitiesByIDFollowTheNames() {
        var lenient = AuditPolicy.intermediate
        lenient.severities["cipher-cbc"] = .info
        lenient.disabled = ["dh-weak", "not-a-finding"]
        for policy in [AuditPolicy.modern, .intermediate, .old, lenient] {
            for id in FindingID.allCases {
                #expect(policy.severity(of: id) == policy.severity(of: id.name), "\(policy.name) \(id.name)")
                #expect(policy.isDisabled(id) == policy.disabled.contains(id.name), "\(policy.name) \(id.name)")
            }
        }
    }

    @Test func intermediateMatchesTheContract() {
        for (id, severity) in Self.contractSeverities {
            #expect(AuditPolicy.intermediate.severity(of: id) == severity, "\(id)")
        }
    }

    @Test func brokenCryptoIsCriticalEverywhere() {
        for entry in FindingCatalog.all where entry.isBrokenCrypto {
            #expect([entry.modern, entry.intermediate, entry.old].allSatisfy { $0 == .critical }, "\(entry.id)")
        }
        for id in [
            "version-ssl2", "version-ssl3", "cipher-null", "cipher-anon", "cipher-export", "cipher-rc4", "cipher-des",
        ] {
            #expect(FindingCatalog.brokenCryptoIDs.contains(id))
        }
    }

    @Test func modernIsNeverLooserThanOld() {
        for entry in FindingCatalog.all {
            #expect(entry.modern >= entry.intermediate && entry.intermediate >= entry.old, "\(entry.id)")
        }
    }

    @Test func kebabCaseIDs() {
        for entry in FindingCatalog.all {
            #expect(entry.id.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(entry.id)")
        }
    }
}
