import TextFormatting
import Foundation
import TLSWire
import Testing
import X509Inspection

@testable import TLSAudit

/// The project's golden records (Fixtures/expected, real handshakes captured on loopback) turned back
/// into AuditInput, the way the session will build it, and audited.
@Suite struct GoldenRecordTests {
    static let expected = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/expected")

    func inputs(_ fixture: String) throws -> [AuditInput] {
        let data = try Data(contentsOf: Self.expected.appendingPathComponent(fixture + ".json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let records = try #require(document["connections"] as? [[String: Any]])
        return try records.map(GoldenRecord.input)
    }

    func verdicts(_ fixture: String, _ policy: AuditPolicy = .intermediate) throws -> [[String]] {
        try inputs(fixture).map { audit($0, policy: policy).map { "\($0.id):\($0.severity)" } }
    }

    @Test func tls13IsCleanButForPostQuantum() throws {
        #expect(try verdicts("tls13-x25519.pcap") == [["pq-not-offered:info"]])
        #expect(try verdicts("tls13-x25519.pcap", .modern) == [["pq-not-offered:info"]])
    }

    @Test func tls10StaticRSA() throws {
        let found = try verdicts("tls10-rsa.pcap").first ?? []
        for expected in [
            "version-tls10:high", "no-forward-secrecy:high", "cipher-cbc:medium", "cipher-sha1-mac:medium",
            "cert-lifetime:low",
        ] {
            #expect(found.contains(expected), "\(expected) in \(found)")
        }
        #expect(found.first == "no-forward-secrecy:high")
    }

    @Test func dhe1024With3DES() throws {
        let found = try verdicts("tls12-dhe1024-3des.pcap").first ?? []
        for expected in [
            "cipher-3des:high", "dh-weak:high", "kex-ffdhe:medium", "dh-weaker-than-cert:low", "client-offers-weak:medium",
        ] {
            #expect(found.contains(expected), "\(expected) in \(found)")
        }
        let old = try verdicts("tls12-dhe1024-3des.pcap", .old).first ?? []
        #expect(old.contains("dh-weak:medium"))
        #expect(old.contains("cipher-3des:medium"))
    }

    @Test func weakCertificate() throws {
        let found = try verdicts("tls12-weak-rsa1024-sha1.pcap").first ?? []
        #expect(found.contains("cert-key-weak:high"))
        #expect(found.contains("cert-signature-weak:high"))
    }

    @Test func selfSigned() throws {
        #expect(try verdicts("tls12-self-signed.pcap").first?.contains("cert-self-signed:medium") == true)
    }

    @Test func failedHandshake() throws {
        let found = try audit(inputs("tls12-alert-handshake-failure.pcap")[0], policy: .intermediate)
        #expect(found.map(\.id).contains("alert-fatal"))
        #expect(
            found.first { $0.id == "alert-fatal" }?.message
                == "server sent fatal alert handshake_failure during the handshake")
    }

    @Test func resumedConnectionsHaveNoCertificateFindings() throws {
        let resumed = try inputs("tls12-resumption-ticket.pcap").filter(\.resumed)
        #expect(!resumed.isEmpty)
        for input in resumed {
            #expect(!audit(input, policy: .intermediate).contains { $0.id.hasPrefix("cert-") })
        }
    }
}

/// Reads one golden record (the contract's JSON) back into an AuditInput.
enum GoldenRecord {
    static func input(_ record: [String: Any]) throws -> AuditInput {
        let client = (record["client_hello"] as? [String: Any]).map(clientHello)
        let server = (record["server_hello"] as? [String: Any]).map(serverHello)
        var group: NamedGroup?
        var dhPrimeBits: Int?
        if let name = record["group"] as? String {
            if name.hasPrefix("dh"), let bits = Int(name.dropFirst(2)) {
                dhPrimeBits = bits
            } else {
                group = try PolicyFileReader.group(named: name)
            }
        }
        var alert: Alert?
        var alertFrom: AuditInput.Peer?
        if let object = record["alert"] as? [String: Any] {
            let description = (0...255).map { AlertDescription(rawValue: UInt8($0)) }
                .first { $0.name == object["description"] as? String }
            alert = Alert(
                level: object["level"] as? String == "fatal" ? 2 : 1, description: description ?? .init(rawValue: 255))
            alertFrom = AuditInput.Peer(rawValue: object["from"] as? String ?? "")
        }
        let certificates = (record["certificates"] as? [[String: Any]] ?? []).map(certificate)
        return AuditInput(
            clientHello: client, serverHello: server,
            version: (record["version"] as? String).flatMap { try? PolicyFileReader.version(named: $0) },
            cipherSuite: (record["cipher_suite"] as? String).flatMap { try? PolicyFileReader.cipherSuite(named: $0) },
            group: group, dhPrimeBits: dhPrimeBits, certificates: certificates,
            established: record["established"] as? Bool ?? false, resumed: record["resumed"] as? Bool ?? false,
            alert: alert, alertFrom: alertFrom, captureTime: seconds(record["ts"]),
            serverAddress: record["server_ip"] as? String)
    }

    static func suites(_ names: Any?) -> [CipherSuite] {
        (names as? [String] ?? []).map { name in
            name == "GREASE"
                ? CipherSuite(rawValue: 0x0a0a)
                : (try? PolicyFileReader.cipherSuite(named: name)) ?? CipherSuite(rawValue: 0xffff)
        }
    }

    static func groups(_ names: Any?) -> [NamedGroup] {
        (names as? [String] ?? []).compactMap { try? PolicyFileReader.group(named: $0) }
    }

    static func versions(_ names: Any?) -> [TLSVersion] {
        (names as? [String] ?? []).compactMap { try? PolicyFileReader.version(named: $0) }
    }

    static let extensionCodes: [String: ExtensionType] = [
        "renegotiation_info": .renegotiationInfo, "heartbeat": .heartbeat,
    ]

    static func extensions(_ names: Any?) -> [TLSExtension] {
        (names as? [String] ?? []).compactMap { extensionCodes[$0].map { TLSExtension(type: $0, body: []) } }
    }

    static func clientHello(_ object: [String: Any]) -> ClientHello {
        ClientHello(
            version: versions([object["version"] as Any]).first ?? .tls12,
            cipherSuites: suites(object["cipher_suites"]),
            extensions: extensions(object["extensions"]), serverName: object["server_name"] as? String,
            supportedVersions: versions(object["supported_versions"]), supportedGroups: groups(object["groups"]),
            keyShareGroups: groups(object["key_share_groups"]))
    }

    static func serverHello(_ object: [String: Any]) -> ServerHello {
        ServerHello(
            version: versions([object["version"] as Any]).first ?? .tls12,
            cipherSuite: suites([object["cipher_suite"] as Any]).first ?? CipherSuite(rawValue: 0xffff),
            compressionMethod: object["compression_method"] as? String == "NULL" ? 0 : 1,
            extensions: extensions(object["extensions"]),
            selectedVersion: versions([object["selected_version"] as Any]).first,
            selectedGroup: groups([object["selected_group"] as Any]).first)
    }

    static func certificate(_ object: [String: Any]) -> CertificateSummary {
        CertificateSummary(
            sha256: object["sha256"] as? String ?? "", subject: object["subject"] as? String ?? "",
            issuer: object["issuer"] as? String ?? "", serial: object["serial"] as? String ?? "",
            notBefore: seconds(object["not_before"]), notAfter: seconds(object["not_after"]),
            keyType: object["key_type"] as? String ?? "", keyBits: object["key_bits"] as? Int,
            curve: object["curve"] as? String, signatureAlgorithm: object["signature_algorithm"] as? String ?? "",
            subjectAlternativeNames: object["san"] as? [String] ?? [],
            isSelfSigned: object["self_signed"] as? Bool ?? false, hostNames: hostNames(object))
    }

    /// What the certificate summary derives from the DER, from the record's text: the SAN's DNS names (not
    /// addresses, e-mail addresses or URIs), else the subject's CN (these fixtures' names have no escapes).
    static func hostNames(_ object: [String: Any]) -> [String] {
        let dns = (object["san"] as? [String] ?? []).filter {
            !IPAddressText.isAddressLiteral($0) && !$0.contains("@") && !$0.contains("://")
        }
        if !dns.isEmpty { return dns }
        let subject = object["subject"] as? String ?? ""
        return subject.split(separator: ",").filter { $0.hasPrefix("CN=") }.map { String($0.dropFirst(3)) }.suffix(1)
    }

    /// RFC 3339 UTC ("2026-11-29T07:02:56.523968Z" or without fraction) → whole seconds since 1970.
    static func seconds(_ value: Any?) -> Int64 {
        guard let text = value as? String else { return 0 }
        let whole = text.split(separator: ".").first.map { String($0) + (text.contains(".") ? "Z" : "") } ?? text
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return Int64(formatter.date(from: whole)?.timeIntervalSince1970 ?? 0)
    }
}
