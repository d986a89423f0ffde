import HandshakeAnalysis
import TLSAudit

/// A run's summary read back from NDJSON (the contract's summary, `type: "summary"`, with the `audit`
/// object `audit` writes): everything needed to rebuild the `RunSummary` it was written from, so that
/// summaries of separate runs merge into the summary of all of them.
public struct SummaryLine: Decodable, Sendable {
    public struct Flows: Decodable, Sendable {
        var evicted = 0, timedOut = 0, reused = 0, rstIgnored = 0, gaps = 0, gapBytes = 0
        enum CodingKeys: String, CodingKey {
            case evicted, timedOut = "timed_out", reused, rstIgnored = "rst_ignored", gaps, gapBytes = "gap_bytes"
        }
        public init(from decoder: any Decoder) throws {
            let keys = try decoder.container(keyedBy: CodingKeys.self)
            evicted = try keys.decodeIfPresent(Int.self, forKey: .evicted) ?? 0
            timedOut = try keys.decodeIfPresent(Int.self, forKey: .timedOut) ?? 0
            reused = try keys.decodeIfPresent(Int.self, forKey: .reused) ?? 0
            rstIgnored = try keys.decodeIfPresent(Int.self, forKey: .rstIgnored) ?? 0
            gaps = try keys.decodeIfPresent(Int.self, forKey: .gaps) ?? 0
            gapBytes = try keys.decodeIfPresent(Int.self, forKey: .gapBytes) ?? 0
        }
    }
    public struct Fragments: Decodable, Sendable {
        var fragments: Int?, reassembled: Int?, dropped: Int?
        enum CodingKeys: String, CodingKey { case fragments, reassembled, dropped }
    }
    public struct Capture: Decodable, Sendable {
        var interface: String?
        var received: UInt64?, dropped: UInt64?, interfaceDropped: UInt64?, recordsDropped: UInt64?
        enum CodingKeys: String, CodingKey {
            case interface, received, dropped, interfaceDropped = "interface_dropped"
            case recordsDropped = "records_dropped"
        }
    }
    public struct Tally: Decodable, Sendable {
        var id: String
        var severity: String
        var count: Int
        var example: String?
        enum CodingKeys: String, CodingKey { case id, severity, count, example }
    }
    public struct ServerGroup: Decodable, Sendable {
        var serverIp: String?
        var serverPort: Int?
        var serverName: String?
        var connections: Int
        var findings: [Tally]?
        /// Connections failing each built-in profile (written since `tlsscope report` exists).
        var failing: [String: Int]?
        var source: String?
        var frame: UInt64?
        enum CodingKeys: String, CodingKey {
            case serverIp = "server_ip", serverPort = "server_port", serverName = "server_name", connections
            case findings, failing, source, frame
        }
    }
    public struct ClientGroup: Decodable, Sendable {
        var fingerprint: String
        var connections: Int
        var findings: [Tally]?
        enum CodingKeys: String, CodingKey { case fingerprint, connections, findings }
    }
    public struct ProfileShare: Decodable, Sendable {
        var connections: Int
        var connectionsPassing: Int
        enum CodingKeys: String, CodingKey { case connections, connectionsPassing = "connections_passing" }
    }
    public struct Audit: Decodable, Sendable {
        var policy: String?
        var suppressed: [String: Int]?
        var profiles: [String: ProfileShare]?
        var servers: [ServerGroup]?
        var clients: [ClientGroup]?
        enum CodingKeys: String, CodingKey { case policy, suppressed, profiles, servers, clients }
    }

    var files: Int?
    var packets: Int?
    var bytes: Int?
    var connections: Int?
    var tlsConnections: Int?
    var established: Int?
    var versions: [String: Int]?
    var cipherSuites: [String: Int]?
    var groups: [String: Int]?
    var alpn: [String: Int]?
    var findings: [String: Int]?
    var anomalies: [String: Int]?
    var framesUndecodable: [String: Int]?
    var flows: Flows?
    var ipFragments: Fragments?
    var errors: [String]?
    var elapsedSeconds: Double?
    var audit: Audit?
    var capture: Capture?

    enum CodingKeys: String, CodingKey {
        case files, packets, bytes, connections, tlsConnections = "tls_connections", established, versions
        case cipherSuites = "cipher_suites", groups, alpn, findings, anomalies, framesUndecodable = "frames_undecodable"
        case flows, ipFragments = "ip_fragments", errors, elapsedSeconds = "elapsed_seconds", audit, capture
    }

    /// The counts only a capture run knows (files, packets, bytes, TCP connections, what could not be
    /// decoded or followed, errors, time, libpcap's counters): what a summary adds to the records it follows.
    public var runCounters: RunSummary {
        var summary = RunSummary()
        summary.files = files ?? 0
        var counters = AnalysisCounters()
        counters.packets = packets ?? 0
        counters.bytes = bytes ?? 0
        counters.connections = connections ?? 0
        for (reason, count) in framesUndecodable ?? [:] { counters.undecodableFramesByReason[reason] = count }
        counters.undecodableFrames = counters.undecodableFramesByReason.values.reduce(0, +)
        if let flows {
            counters.flowsEvicted = flows.evicted
            counters.flowsTimedOut = flows.timedOut
            counters.flowsReused = flows.reused
            counters.rstIgnored = flows.rstIgnored
            counters.gaps = flows.gaps
            counters.gapBytes = flows.gapBytes
        }
        counters.fragments = ipFragments?.fragments ?? 0
        counters.datagramsReassembled = ipFragments?.reassembled ?? 0
        counters.datagramsDropped = ipFragments?.dropped ?? 0
        summary.add(counters)
        for error in errors ?? [] { summary.addError(error) }
        summary.elapsedSeconds = elapsedSeconds ?? 0
        if let capture {
            summary.capture = LiveCaptureCounters(
                interface: capture.interface ?? "", received: capture.received ?? 0, dropped: capture.dropped ?? 0,
                interfaceDropped: capture.interfaceDropped ?? 0, recordsDropped: capture.recordsDropped ?? 0)
        }
        return summary
    }

    /// The whole summary: run counters, the connections' tables and, when written by `audit`, its groups.
    public var summary: RunSummary {
        var summary = runCounters
        summary.tlsConnections = tlsConnections ?? 0
        summary.established = established ?? 0
        for (table, counts) in [
            (\RunSummary.versions, versions), (\.cipherSuites, cipherSuites), (\.groups, groups), (\.alpn, alpn),
            (\.anomalies, anomalies),
        ] as [(WritableKeyPath<RunSummary, CountTable>, [String: Int]?)] {
            for (name, count) in (counts ?? [:]).sorted(by: { $0.key < $1.key }) { summary[keyPath: table].add(name, count: count) }
        }
        var severities: [Severity: Int] = [:]
        for (name, count) in findings ?? [:] {
            if let severity = Severity(parsing: name) { severities[severity, default: 0] += count }
        }
        summary.findings = severities
        if let audit {
            summary.audit = Self.auditSummary(audit, severities: severities, connections: summary.tlsConnections)
            summary.policyName = audit.policy
        }
        return summary
    }

    static func auditSummary(_ audit: Audit, severities: [Severity: Int], connections: Int) -> AuditSummary {
        var result = AuditSummary()
        func tallies(_ list: [Tally]?) -> [AuditSummary.Tally] {
            (list ?? []).map {
                AuditSummary.Tally(
                    id: $0.id, severity: Severity(parsing: $0.severity) ?? .info, count: $0.count, example: $0.example ?? "")
            }
        }
        for server in audit.servers ?? [] {
            let failing = Compliance.profiles.map { server.failing?[$0.name] ?? 0 }
            result.merge(server: AuditSummary.Group(
                key: AuditSummary.Server(address: server.serverIp ?? "", port: server.serverPort ?? 0, serverName: server.serverName),
                connections: server.connections, findings: tallies(server.findings), failing: failing, source: server.source,
                frame: server.frame))
        }
        for client in audit.clients ?? [] {
            result.merge(client: AuditSummary.Group(key: client.fingerprint, connections: client.connections, findings: tallies(client.findings)))
        }
        let shares = Compliance.profiles.map { audit.profiles?[$0.name] }
        let judged = shares.compactMap { $0?.connections }.max() ?? 0
        result.merge(
            connections: connections, severityCounts: severities, suppressed: audit.suppressed ?? [:],
            failing: shares.map { share in share.map { $0.connections - $0.connectionsPassing } ?? 0 }, judged: judged)
        return result
    }
}
