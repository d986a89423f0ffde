import Foundation
import Testing
import TLSWire

// The generated IANA tables (Sources/TLSWire/Registry/Generated*.swift), seen through the public
// code-point newtypes of CodePoints.swift.

@Suite struct RegistryNameTests {
    @Test func cipherSuiteNames() {
        #expect(CipherSuite(rawValue: 0x1301).name == "TLS_AES_128_GCM_SHA256")
        #expect(CipherSuite(rawValue: 0x1303).name == "TLS_CHACHA20_POLY1305_SHA256")
        #expect(CipherSuite(rawValue: 0xc02f).name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        #expect(CipherSuite(rawValue: 0x000a).name == "TLS_RSA_WITH_3DES_EDE_CBC_SHA")
        #expect(CipherSuite(rawValue: 0x00ff).name == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV")
        #expect(CipherSuite(rawValue: 0x5600).name == "TLS_FALLBACK_SCSV")
        #expect(CipherSuite(rawValue: 0xcca8).ianaName == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")
    }

    /// The generated list of suites with parts is exactly the code points `parts` answers for (the audit
    /// works its weakness table out over the list only).
    @Test func registeredSuitesAreThoseWithParts() {
        let listed = CipherSuite.registeredWithParts.map(\.rawValue)
        let withParts = (0...0xffff).map(UInt16.init).filter { CipherSuite(rawValue: $0).parts != nil }
        #expect(listed == withParts)
        #expect(listed.count > 300)
        #expect(!listed.contains(0x00ff) && !listed.contains(0x5600))  // SCSVs negotiate nothing
    }

    @Test func groupNames() {
        #expect(NamedGroup(rawValue: 0x0017).name == "secp256r1")
        #expect(NamedGroup(rawValue: 0x001d).name == "x25519")
        #expect(NamedGroup(rawValue: 0x001e).name == "x448")
        #expect(NamedGroup(rawValue: 0x0100).name == "ffdhe2048")
        #expect(NamedGroup(rawValue: 0x0200).name == "MLKEM512")
        #expect(NamedGroup(rawValue: 0x0201).name == "MLKEM768")
        #expect(NamedGroup(rawValue: 0x0202).name == "MLKEM1024")
        #expect(NamedGroup(rawValue: 0x11eb).name == "SecP256r1MLKEM768")
        #expect(NamedGroup(rawValue: 0x11ec).name == "X25519MLKEM768")
        #expect(NamedGroup(rawValue: 0x11ed).name == "SecP384r1MLKEM1024")
        // Registered as "X25519Kyber768Draft00 (OBSOLETE)"; the marker is dropped by the generator.
        #expect(NamedGroup(rawValue: 0x6399).name == "X25519Kyber768Draft00")
        #expect(NamedGroup(rawValue: 0x639a).name == "SecP256r1Kyber768Draft00")
    }

    @Test func signatureSchemeNames() {
        #expect(SignatureScheme(rawValue: 0x0403).name == "ecdsa_secp256r1_sha256")
        #expect(SignatureScheme(rawValue: 0x0804).name == "rsa_pss_rsae_sha256")
        #expect(SignatureScheme(rawValue: 0x0807).name == "ed25519")
        #expect(SignatureScheme(rawValue: 0x0201).name == "rsa_pkcs1_sha1")
        // "Reserved for backward compatibility" rows (TLS 1.2 hash/signature pairs) have no name.
        #expect(SignatureScheme(rawValue: 0x0402).ianaName == nil)
    }

    @Test func extensionNames() {
        #expect(ExtensionType.serverName.name == "server_name")
        #expect(ExtensionType.supportedGroups.name == "supported_groups")
        #expect(ExtensionType.alpn.name == "application_layer_protocol_negotiation")
        #expect(ExtensionType.extendedMasterSecret.name == "extended_master_secret")
        #expect(ExtensionType.sessionTicket.name == "session_ticket")
        #expect(ExtensionType.keyShare.name == "key_share")
        #expect(ExtensionType.supportedVersions.name == "supported_versions")
        #expect(ExtensionType.encryptedClientHello.name == "encrypted_client_hello")
        #expect(ExtensionType.renegotiationInfo.name == "renegotiation_info")
        // 40 was key_share in early TLS 1.3 drafts; IANA lists it as Reserved.
        #expect(ExtensionType(rawValue: 40).name == "0x0028")
    }

    @Test func alertHandshakeAndContentNames() {
        #expect(AlertDescription(rawValue: 0).name == "close_notify")
        #expect(AlertDescription(rawValue: 40).name == "handshake_failure")
        #expect(AlertDescription(rawValue: 70).name == "protocol_version")
        #expect(AlertDescription(rawValue: 112).name == "unrecognized_name")
        #expect(AlertDescription(rawValue: 52).name == "too_many_cids_requested")  // RFC 9147
        #expect(HandshakeType.clientHello.name == "client_hello")
        #expect(HandshakeType.serverHello.name == "server_hello")
        #expect(HandshakeType.serverHelloDone.name == "server_hello_done")
        #expect(HandshakeType.newSessionTicket.name == "new_session_ticket")
        #expect(HandshakeType.messageHash.name == "message_hash")
        #expect(ContentType.handshake.description == "handshake")
        #expect(ContentType.changeCipherSpec.description == "change_cipher_spec")
        #expect(ContentType.tls12CID.description == "tls12_cid")
    }

    @Test func unknownValuesPrintAsHex() {
        #expect(CipherSuite(rawValue: 0x1234).name == "0x1234")
        #expect(CipherSuite(rawValue: 0x1234).ianaName == nil)
        #expect(NamedGroup(rawValue: 0x0999).name == "0x0999")
        #expect(SignatureScheme(rawValue: 0xfe00).name == "0xfe00")
        #expect(ExtensionType(rawValue: 0x4469).name == "0x4469")  // ALPS: used by Chrome, never registered
        #expect(AlertDescription(rawValue: 200).name == "0x00c8")
        #expect(HandshakeType(rawValue: 99).name == "handshake_0x0063")
        #expect(ContentType(rawValue: 99).description == "0x0063")
    }

    @Test func greasePrintsAsGREASE() {
        #expect(CipherSuite(rawValue: 0x0a0a).name == "GREASE")
        #expect(NamedGroup(rawValue: 0xfafa).name == "GREASE")
        #expect(ExtensionType(rawValue: 0x1a1a).name == "GREASE")
        #expect(SignatureScheme(rawValue: 0x5a5a).name == "GREASE")
        // 0x0a1a is not GREASE (both bytes must be equal).
        #expect(CipherSuite(rawValue: 0x0a1a).name == "0x0a1a")
    }
}

@Suite struct CipherSuitePartsTests {
    private func parts(_ value: UInt16) -> CipherSuiteParts? { CipherSuite(rawValue: value).parts }

    private func expected(
        _ keyExchange: KeyExchangeAlgorithm, _ authentication: AuthenticationAlgorithm?, _ encryption: String, _ bits: Int,
        _ mac: String
    ) -> CipherSuiteParts {
        CipherSuiteParts(
            keyExchange: keyExchange, authentication: authentication, encryption: encryption,
            encryptionBits: bits, mac: mac)
    }

    @Test func tls12Suites() {
        // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        #expect(parts(0xc02f) == expected(.ecdhe, .rsa, "AES_128_GCM", 128, "AEAD"))
        // TLS_RSA_WITH_3DES_EDE_CBC_SHA
        #expect(parts(0x000a) == expected(.rsa, .rsa, "3DES_EDE_CBC", 112, "SHA"))
        // TLS_DHE_DSS_WITH_AES_256_CBC_SHA256
        #expect(parts(0x006a) == expected(.dhe, .dss, "AES_256_CBC", 256, "SHA256"))
        // TLS_ECDH_anon_WITH_RC4_128_SHA
        #expect(parts(0xc016) == expected(.ecdhAnon, .anon, "RC4_128", 128, "SHA"))
        // TLS_RSA_EXPORT_WITH_RC4_40_MD5
        #expect(parts(0x0003) == expected(.rsaExport, .rsa, "RC4_40", 40, "MD5"))
        // TLS_PSK_WITH_AES_128_CCM
        #expect(parts(0xc0a4) == expected(.psk, .psk, "AES_128_CCM", 128, "AEAD"))
        // TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
        #expect(parts(0xccac) == expected(.ecdhePSK, .psk, "CHACHA20_POLY1305", 256, "AEAD"))
        // TLS_RSA_WITH_NULL_SHA
        #expect(parts(0x0002) == expected(.rsa, .rsa, "NULL", 0, "SHA"))
        // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        #expect(parts(0xc02c) == expected(.ecdhe, .ecdsa, "AES_256_GCM", 256, "AEAD"))
        // TLS_RSA_WITH_AES_128_CCM_8
        #expect(parts(0xc0a0) == expected(.rsa, .rsa, "AES_128_CCM_8", 128, "AEAD"))
    }

    @Test func effectiveBitsOfOldCiphers() {
        #expect(parts(0x0009)?.encryptionBits == 56)  // TLS_RSA_WITH_DES_CBC_SHA
        #expect(parts(0x0008)?.encryptionBits == 40)  // TLS_RSA_EXPORT_WITH_DES40_CBC_SHA
        #expect(parts(0x0007)?.encryptionBits == 128)  // TLS_RSA_WITH_IDEA_CBC_SHA
        #expect(parts(0x0006) == expected(.rsaExport, .rsa, "RC2_CBC_40", 40, "MD5"))
        #expect(parts(0x0096) == expected(.rsa, .rsa, "SEED_CBC", 128, "SHA"))
        #expect(parts(0x0084)?.encryptionBits == 256)  // TLS_RSA_WITH_CAMELLIA_256_CBC_SHA
        #expect(parts(0xc050) == expected(.rsa, .rsa, "ARIA_128_GCM", 128, "AEAD"))
    }

    @Test func tls13Suites() {
        #expect(parts(0x1301) == expected(.tls13, nil, "AES_128_GCM", 128, "AEAD"))
        #expect(parts(0x1302) == expected(.tls13, nil, "AES_256_GCM", 256, "AEAD"))
        #expect(parts(0x1303) == expected(.tls13, nil, "CHACHA20_POLY1305", 256, "AEAD"))
        #expect(parts(0x1305) == expected(.tls13, nil, "AES_128_CCM_8", 128, "AEAD"))
        // RFC 9150 integrity-only suite: no encryption at all.
        #expect(parts(0xc0b4) == expected(.tls13, nil, "NULL", 0, "SHA256"))
    }

    @Test func oddFamilies() {
        #expect(parts(0xc01e) == expected(.srp, .rsa, "AES_128_CBC", 128, "SHA"))
        #expect(parts(0xc01d) == expected(.srp, .srp, "AES_128_CBC", 128, "SHA"))
        #expect(parts(0x0026) == expected(.krb5Export, .krb5, "DES_CBC_40", 40, "SHA"))
        #expect(parts(0xc0b0) == expected(.eccpwd, .eccpwd, "AES_128_GCM", 128, "AEAD"))
        #expect(parts(0xc100) == expected(.gost, .gostR341012, "KUZNYECHIK_CTR", 256, "OMAC"))
        #expect(parts(0x00c6) == expected(.tls13, nil, "SM4_GCM", 128, "AEAD"))
        // TLS_PSK_DHE_WITH_AES_128_CCM_8 (RFC 6655 word order) is DHE_PSK.
        #expect(parts(0xc0aa) == expected(.dhePSK, .psk, "AES_128_CCM_8", 128, "AEAD"))
        #expect(parts(0x0000) == expected(.null, .null, "NULL", 0, "NULL"))
    }

    /// The typed key exchange keeps the strings the JSON used ("DH" + "anon" for DH_anon...), and tells
    /// the anonymous (ephemeral) forms from the static ones that share their names.
    @Test func typedKeyExchangeKeepsTheContractNames() {
        #expect(parts(0x0034)?.keyExchangeAlgorithm == .dhAnon)  // TLS_DH_anon_WITH_AES_128_CBC_SHA
        #expect(parts(0x0034)?.keyExchange == "DH")
        #expect(parts(0x0034)?.authentication == "anon")
        #expect(parts(0x0030)?.keyExchangeAlgorithm == .dh)  // TLS_DH_DSS_WITH_AES_128_CBC_SHA
        #expect(parts(0x0030)?.keyExchange == "DH")
        #expect(parts(0x0019)?.keyExchangeAlgorithm == .dhAnonExport)  // TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA
        #expect(parts(0x0019)?.keyExchange == "DH_EXPORT")
        #expect(parts(0x0014)?.keyExchangeAlgorithm == .dheExport)  // TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
        #expect(parts(0xc018)?.keyExchange == "ECDH")  // TLS_ECDH_anon_WITH_AES_128_CBC_SHA
        #expect(parts(0xc004)?.keyExchangeAlgorithm == .ecdh)  // TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA
        #expect(parts(0x00b2)?.keyExchange == "DHE_PSK")
        #expect(parts(0x0094)?.keyExchangeAlgorithm == .rsaPSK)
        #expect(CipherSuite(rawValue: 0xc02f).keyExchangeAlgorithm == .ecdhe)
        #expect(CipherSuite(rawValue: 0x00ff).keyExchangeAlgorithm == nil)
        for kx in KeyExchangeAlgorithm.allCases {
            #expect(kx.isEphemeral || !kx.usesServerDHParams && !kx.usesServerECDHParams, "\(kx)")
        }
    }

    @Test func signallingValuesAndUnknownsHaveNoParts() {
        #expect(parts(0x00ff) == nil)  // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        #expect(parts(0x5600) == nil)  // TLS_FALLBACK_SCSV
        #expect(parts(0x1234) == nil)
        #expect(parts(0x0a0a) == nil)
    }

    /// Every registered suite except the two SCSVs is taken apart, and has a Recommended value.
    @Test func everyRegisteredSuiteIsComplete() {
        var registered = 0
        for raw in UInt16.min...UInt16.max {
            let suite = CipherSuite(rawValue: raw)
            guard let name = suite.ianaName else {
                #expect(suite.parts == nil)
                #expect(suite.recommendation == nil)
                continue
            }
            registered += 1
            #expect(suite.recommendation != nil, "\(name)")
            if name.hasSuffix("_SCSV") {
                #expect(suite.parts == nil, "\(name)")
            } else if let parts = suite.parts {
                #expect(!parts.encryption.isEmpty && !parts.mac.isEmpty, "\(name)")
                #expect(parts.encryptionBits >= 0 && parts.encryptionBits <= 256, "\(name)")
                #expect((parts.keyExchange == "TLS13") == (parts.authentication == nil), "\(name)")
            } else {
                Issue.record("\(name) has no parts")
            }
        }
        #expect(registered > 300)
    }
}

@Suite struct RecommendationTests {
    @Test func cipherSuiteRecommendations() {
        #expect(CipherSuite(rawValue: 0x1301).recommendation == .yes)
        #expect(CipherSuite(rawValue: 0xc02f).recommendation == .yes)
        #expect(CipherSuite(rawValue: 0x000a).recommendation == .no)
        #expect(CipherSuite(rawValue: 0xc011).recommendation == .discouraged)  // ECDHE_RSA_WITH_RC4_128_SHA
        #expect(CipherSuite(rawValue: 0x1234).recommendation == nil)
    }

    @Test func groupRecommendations() {
        #expect(NamedGroup(rawValue: 0x001d).recommendation == .yes)
        #expect(NamedGroup(rawValue: 0x0017).recommendation == .yes)
        #expect(NamedGroup(rawValue: 0x0100).recommendation == .no)
        #expect(NamedGroup(rawValue: 0x0013).recommendation == .discouraged)  // secp192r1
        #expect(NamedGroup(rawValue: 0x11ec).recommendation != nil)
        #expect(NamedGroup(rawValue: 0x0a0a).recommendation == nil)
    }
}

/// The committed Swift must be what the generator makes from the committed data.
@Suite struct GeneratorTests {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TLSWireTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    /// TLSSCOPE_SHARED, else ../shared beside the repository (as in CI).
    static let sharedDir: URL? = {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["TLSSCOPE_SHARED"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(repoRoot.deletingLastPathComponent().appendingPathComponent("shared"))
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("registries/tls-parameters-4.csv").path)
        }
    }()

    @Test(
        .enabled(
            if: GeneratorTests.sharedDir != nil,
            "needs ../shared/registries/tls-parameters-4.csv beside the repository (or TLSSCOPE_SHARED)"))
    func generatedFilesAreUpToDate() throws {
        let shared = try #require(Self.sharedDir)
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("tlsscope-registries-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Self.repoRoot.appendingPathComponent("scripts/gen-registries.py").path,
            "--shared", shared.path, "--out", out.path,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let committedDir = Self.repoRoot.appendingPathComponent("Sources/TLSWire/Registry")
        for file in ["GeneratedRegistries.swift", "GeneratedCipherSuites.swift"] {
            let generated = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            let committed = try String(contentsOf: committedDir.appendingPathComponent(file), encoding: .utf8)
            #expect(generated == committed, "\(file) is stale: run python3 scripts/gen-registries.py")
        }
    }
}

@Suite struct NamedGroupKindTests {
    @Test(arguments: [
        (0x0017, NamedGroupKind.ecdhe, "ECDHE"), (0x001d, .ecdhe, "ECDHE"), (0x0029, .ecdhe, "ECDHE"),
        (0xff01, .ecdhe, "ECDHE"), (0x0100, .ffdhe, "DHE"), (0x0104, .ffdhe, "DHE"),
        (0x11ec, .pqHybrid, "ECDHE-MLKEM"), (0x11eb, .pqHybrid, "ECDHE-MLKEM"), (0x0201, .purePQ, "MLKEM"),
        (0x6399, .obsoleteDraft, "ECDHE-MLKEM"), (0x639a, .obsoleteDraft, "ECDHE-MLKEM"),
        (0xfe30, .obsoleteDraft, "ECDHE-MLKEM"), (0x2f39, .obsoleteDraft, "ECDHE-MLKEM"),
        (0x023a, .obsoleteDraft, "MLKEM"), (0x0a0a, .unknown, "ECDHE"), (0x1234, .unknown, "ECDHE"),
    ])
    func kindAndTLS13Name(value: Int, kind: NamedGroupKind, name: String) {
        let group = NamedGroup(rawValue: UInt16(value))
        #expect(group.kind == kind)
        #expect(group.tls13KeyExchangeName() == name)
        #expect(group.tls13KeyExchangeName(pskAccepted: true) == "PSK-" + name)
    }

    /// Every named group has a kind (the generator refuses a row without one), and drafts keep hex names.
    @Test func everyNamedGroupIsClassified() {
        for raw in UInt16.min...UInt16.max where NamedGroup(rawValue: raw).ianaName != nil {
            #expect(NamedGroup(rawValue: raw).kind != .unknown, "\(raw)")
        }
        #expect(NamedGroup(rawValue: 0xfe30).name == "0xfe30")
    }
}
