import HandshakeAnalysis
import TLSAudit
import TLSKeys
import TLSWire
import TextFormatting
import X509Inspection

/// A connection record read back from NDJSON (the contract's record, `type: "tls"`): the keys the
/// summary counts and the audit rules judge. Keys it does not use are skipped; a key it uses with the
/// wrong type makes the line unreadable (`RecordReadError`).
public struct RecordLine: Decodable, Sendable {
    public struct AlertLine: Decodable, Sendable {
        public var from: String?
        public var level: String?
        public var description: String?
        enum CodingKeys: String, CodingKey { case from, level, description }
    }
    public struct ClientHelloLine: Decodable, Sendable {
        public var version: String?
        public var cipherSuites: [String]?
        public var compressionMethods: [String]?
        public var extensions: [String]?
        public var serverName: String?
        public var supportedVersions: [String]?
        public var groups: [String]?
        public var signatureAlgorithms: [String]?
        public var keyShareGroups: [String]?
        public var ech: Bool?
        enum CodingKeys: String, CodingKey {
            case version, cipherSuites = "cipher_suites", compressionMethods = "compression_methods", extensions
            case serverName = "server_name", supportedVersions = "supported_versions", groups
            case signatureAlgorithms = "signature_algorithms", keyShareGroups = "key_share_groups", ech
        }
    }
    public struct ServerHelloLine: Decodable, Sendable {
        public var version: String?
        public var cipherSuite: String?
        public var compressionMethod: String?
        public var extensions: [String]?
        public var selectedVersion: String?
        public var selectedGroup: String?
        public var helloRetryRequest: Bool?
        enum CodingKeys: String, CodingKey {
            case version, cipherSuite = "cipher_suite", compressionMethod = "compression_method", extensions
            case selectedVersion = "selected_version", selectedGroup = "selected_group"
            case helloRetryRequest = "hello_retry_request"
        }
    }
    public struct CertificateLine: Decodable, Sendable {
        public var sha256: String?
        public var subject: String?
        public var issuer: String?
        public var serial: String?
        public var notBefore: String?
        public var notAfter: String?
        public var keyType: String?
        public var keyBits: Int?
        public var curve: String?
        public var signatureAlgorithm: String?
        public var san: [String]?
        public var selfSigned: Bool?
        enum CodingKeys: String, CodingKey {
            case sha256, subject, issuer, serial, notBefore = "not_before", notAfter = "not_after"
            case keyType = "key_type", keyBits = "key_bits", curve, signatureAlgorithm = "signature_algorithm", san
            case selfSigned = "self_signed"
        }
    }
    public struct FindingLine: Decodable, Sendable {
        public var id: String
        public var severity: String
        public var message: String?
        enum CodingKeys: String, CodingKey { case id, severity, message }
    }
    public struct AnomalyLine: Decodable, Sendable {
        public var kind: String
        enum CodingKeys: String, CodingKey { case kind }
    }
    /// `keys`: read for its source and Finished verdicts (the `keylog-mismatch` finding is judged from them).
    public struct KeysLine: Decodable, Sendable {
        public struct FinishedLine: Decodable, Sendable {
            public var client: Bool?
            public var server: Bool?
            enum CodingKeys: String, CodingKey { case client, server }
        }
        public var source: String?
        public var finishedVerified: FinishedLine?
        enum CodingKeys: String, CodingKey { case source, finishedVerified = "finished_verified" }

        /// The record's `keys` as far as the audit needs it.
        var summary: KeysSummary {
            KeysSummary(
                source: source.flatMap(KeyLog.Source.init(rawValue:)) ?? .keylog, steps: [],
                clientFinishedVerified: finishedVerified?.client, serverFinishedVerified: finishedVerified?.server,
                problems: [])
        }
    }
    public struct FramesLine: Decodable, Sendable {
        public var first: UInt64?
        public var last: UInt64?
        enum CodingKeys: String, CodingKey { case first, last }
    }

    public var ts: String?
    public var clientIp: String?
    public var serverIp: String?
    public var serverPort: Int?
    public var version: String?
    public var cipherSuite: String?
    public var group: String?
    public var serverName: String?
    public var alpn: String?
    public var resumed: Bool?
    public var established: Bool
    public var alert: AlertLine?
    public var clientHello: ClientHelloLine?
    public var serverHello: ServerHelloLine?
    public var certificates: [CertificateLine]?
    public var ja3: String?
    public var ja4: String?
    public var findingLines: [FindingLine]?
    public var complianceVerdicts: [String: String]?
    public var anomalyLines: [AnomalyLine]?
    public var source: String?
    public var frames: FramesLine?
    public var keys: KeysLine?

    enum CodingKeys: String, CodingKey {
        case ts, clientIp = "client_ip", serverIp = "server_ip", serverPort = "server_port", version
        case cipherSuite = "cipher_suite", group, serverName = "server_name", alpn, resumed, established, alert
        case clientHello = "client_hello", serverHello = "server_hello", certificates, ja3, ja4, source, frames, keys
        case findingLines = "findings"
        case complianceVerdicts = "compliance"
        case anomalyLines = "anomalies"
    }

    /// Judged again by `rejudge` (nil: as the record had them).
    var rejudged: (findings: [Finding], suppressed: [String], compliance: Compliance?)?
}

extension RecordLine: SummarizedConnection {
    public var versionName: String? { version }
    public var cipherSuiteName: String? { cipherSuite }
    public var groupName: String? { group }
    public var alpnName: String? { alpn }

    public var findings: [Finding] {
        if let rejudged { return rejudged.findings }
        return (findingLines ?? []).map {
            Finding(id: $0.id, severity: Severity(parsing: $0.severity) ?? .info, message: $0.message ?? "")
        }
    }

    public var suppressedFindings: [String] { rejudged?.suppressed ?? [] }

    public var compliance: Compliance? {
        if let rejudged { return rejudged.compliance }
        guard let verdicts = complianceVerdicts else { return nil }
        // Kept only when the record judged every built-in profile (the summary's shares count them all).
        let judged = Compliance.profiles.compactMap { profile in
            verdicts[profile.name].map { Compliance.Verdict(profile: profile.name, passes: $0 == "pass") }
        }
        return judged.count == Compliance.profiles.count ? Compliance(verdicts: judged) : nil
    }

    public func forEachAnomalyKind(_ body: (String) -> Void) {
        for anomaly in anomalyLines ?? [] { body(anomaly.kind) }
    }

    public var auditServer: AuditSummary.Server {
        AuditSummary.Server(address: serverIp ?? "", port: serverPort ?? 0, serverName: serverName)
    }

    public var clientFingerprint: String? { ja4 ?? ja3 }
    public var firstFrame: UInt64? { frames?.first }
}

extension RecordLine {
    /// Judges the record again under `policy` (`tlsscope report --policy`), as a direct run under that
    /// policy would have: findings, what the policy's exceptions suppressed, the built-in profiles' verdicts.
    /// `now`: judge certificates at this time instead of the record's `ts`.
    public mutating func rejudge(policy: AuditPolicy, now: Int64? = nil) {
        let input = auditInput(now: now)
        var suppressed: [String] = []
        let findings = audit(input, policy: policy, suppressed: &suppressed)
        let judged = Compliance.profileIndex(of: policy).map { (profileIndex: $0, findings: findings) }
        rejudged = (findings, suppressed, Compliance(input, judged: judged))
    }

    /// What the audit rules see of this record: the hellos, certificates and outcome as the record names
    /// them. Names read back to code points through the generated registries; what a record does not carry
    /// (heartbeat record sizes) comes from the findings it had (`AuditInput.carriedFindings`).
    public func auditInput(now: Int64? = nil) -> AuditInput {
        let clientHello = self.clientHello.map(Self.clientHello(_:))
        let serverHello = self.serverHello.flatMap(Self.serverHello(_:))
        let final = serverHello?.isHelloRetryRequest == true ? nil : serverHello
        var dhPrimeBits: Int?
        if let group, group.hasPrefix("dh"), let bits = Int(group.dropFirst(2)) { dhPrimeBits = bits }
        let alertDescription = alert?.description.flatMap(AlertDescription.init(recordName:))
        let alert = alertDescription.map { Alert(level: self.alert?.level == "fatal" ? 2 : 1, description: $0) }
        var input = AuditInput(
            clientHello: clientHello, serverHello: final, version: version.flatMap(TLSVersion.init(recordName:)),
            cipherSuite: cipherSuite.flatMap(CipherSuite.init(recordName:)),
            group: group.flatMap(NamedGroup.init(recordName:)), dhPrimeBits: dhPrimeBits,
            certificates: (certificates ?? []).map(Self.certificate(_:)), established: established,
            resumed: resumed ?? false, alert: alert,
            alertFrom: alert == nil ? nil : (self.alert?.from == "client" ? .client : .server),
            handshakeIncomplete: !established && alert == nil,
            captureTime: now ?? ts.flatMap(TimeText.seconds) ?? 0,
            serverName: serverName, serverAddress: serverIp, clientJA3: ja3, clientJA4: ja4,
            judgedAtGivenTime: now != nil, keylogMismatch: keys?.summary.mismatchMessage)
        input.carriedFindings = (findingLines ?? []).filter { AuditInput.carriedFindingIDs.contains($0.id) }
            .map { AuditInput.CarriedFinding(id: $0.id, message: $0.message ?? "") }
        return input
    }

    static func clientHello(_ line: ClientHelloLine) -> ClientHello {
        ClientHello(
            version: line.version.flatMap(TLSVersion.init(recordName:)) ?? .tls12,
            cipherSuites: (line.cipherSuites ?? []).compactMap(CipherSuite.init(recordName:)),
            compressionMethods: (line.compressionMethods ?? []).compactMap(RegistryName.compressionMethod(named:)),
            extensions: (line.extensions ?? []).compactMap(ExtensionType.init(recordName:)).map {
                TLSExtension(type: $0, length: 0)
            },
            serverName: line.serverName,
            supportedVersions: (line.supportedVersions ?? []).compactMap(TLSVersion.init(recordName:)),
            supportedGroups: (line.groups ?? []).compactMap(NamedGroup.init(recordName:)),
            signatureAlgorithms: (line.signatureAlgorithms ?? []).compactMap(SignatureScheme.init(recordName:)),
            keyShareGroups: (line.keyShareGroups ?? []).compactMap(NamedGroup.init(recordName:)),
            hasECH: line.ech ?? false)
    }

    static func serverHello(_ line: ServerHelloLine) -> ServerHello? {
        guard let suite = line.cipherSuite.flatMap(CipherSuite.init(recordName:)) else { return nil }
        return ServerHello(
            version: line.version.flatMap(TLSVersion.init(recordName:)) ?? .tls12, cipherSuite: suite,
            compressionMethod: line.compressionMethod.flatMap(RegistryName.compressionMethod(named:)) ?? 0,
            extensions: (line.extensions ?? []).compactMap(ExtensionType.init(recordName:)).map {
                TLSExtension(type: $0, length: 0)
            },
            selectedVersion: line.selectedVersion.flatMap(TLSVersion.init(recordName:)),
            selectedGroup: line.selectedGroup.flatMap(NamedGroup.init(recordName:)),
            isHelloRetryRequest: line.helloRetryRequest ?? false)
    }

    static func certificate(_ line: CertificateLine) -> CertificateSummary {
        let san = line.san ?? []
        // RFC 6125 §6.4.4: the DNS names of the subjectAltName, else the subject's most specific CN. A record
        // lists every SAN kind together; addresses, e-mail addresses and URIs are told apart by their form.
        var hostNames = san.filter { name in
            !name.contains("@") && !name.contains(":") && !name.contains("/") && !IPAddressText.isAddressLiteral(name)
        }
        if hostNames.isEmpty, let subject = line.subject, let commonName = Self.commonName(subject) {
            hostNames = [commonName]
        }
        return CertificateSummary(
            sha256: line.sha256 ?? "", subject: line.subject ?? "", issuer: line.issuer ?? "", serial: line.serial ?? "",
            notBefore: line.notBefore.flatMap(TimeText.seconds) ?? Int64.min,
            notAfter: line.notAfter.flatMap(TimeText.seconds) ?? Int64.max, keyType: line.keyType ?? "",
            keyBits: line.keyBits, curve: line.curve, signatureAlgorithm: line.signatureAlgorithm ?? "",
            subjectAlternativeNames: san, isSelfSigned: line.selfSigned ?? false, hostNames: hostNames)
    }

    /// The first `CN=` of an RFC 4514 name (which lists the most specific RDN first).
    static func commonName(_ name: String) -> String? {
        for part in name.split(separator: ",") where part.hasPrefix("CN=") { return String(part.dropFirst(3)) }
        return nil
    }
}
