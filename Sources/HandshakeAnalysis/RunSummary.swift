import Fingerprints
import PacketDecoding
import TLSAudit
import TLSWire

/// Occurrences of each name, reported most frequent first (ties by name) so output is stable.
/// Bounded: past `maxNames` distinct names (a hostile capture or a months-long `monitor` run can bring
/// any number of ALPN strings or unregistered code points), new names are counted under `other`.
public struct CountTable: Sendable, Hashable {
    public static let other = "other"
    public let maxNames: Int
    /// Counts by name (`other` past `maxNames` names).
    public var counts: [String: Int] {
        var result = stored
        for entry in pending { Self.add(entry.name, entry.count, to: &result, maxNames: maxNames) }
        return result
    }
    private var stored: [String: Int] = [:]
    /// The names counted lately, in the order first seen, with their counts not yet in `stored`: a run
    /// counts the same few versions, suites and groups again and again, and comparing a name with a
    /// handful is cheaper than hashing it (which was most of adding a record to the summary). Moved into
    /// `stored` in order when a name that is not among them comes, which gives the same counts as adding
    /// each name as it came (names are added to `stored` in the order they were first seen).
    private var pending: [(name: String, count: Int)] = []
    private static let pendingCapacity = 16

    public init(maxNames: Int = 1000) { self.maxNames = maxNames }

    public mutating func add(_ name: String, count: Int = 1) {
        for index in pending.indices where pending[index].name == name {
            pending[index].count += count
            return
        }
        if pending.count >= Self.pendingCapacity {
            for entry in pending { Self.add(entry.name, entry.count, to: &stored, maxNames: maxNames) }
            pending.removeAll(keepingCapacity: true)
        }
        pending.append((name, count))
    }

    private static func add(_ name: String, _ count: Int, to counts: inout [String: Int], maxNames: Int) {
        if counts[name] == nil && counts.count >= maxNames {
            counts[other, default: 0] += count
        } else {
            counts[name, default: 0] += count
        }
    }

    public static func == (lhs: CountTable, rhs: CountTable) -> Bool {
        lhs.maxNames == rhs.maxNames && lhs.counts == rhs.counts
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(maxNames)
        hasher.combine(counts)
    }

    /// (name, count), most frequent first, ties in name order.
    public var sorted: [(name: String, count: Int)] {
        counts.map { (name: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
    }
}

/// libpcap's counters for a live capture.
public struct LiveCaptureCounters: Sendable, Hashable {
    public var interface: String
    public var received: UInt64
    public var dropped: UInt64
    public var interfaceDropped: UInt64
    /// Connections whose record was dropped because the writer was behind past its backlog budget (the
    /// capture thread never waits for it).
    public var recordsDropped: UInt64
    public init(interface: String, received: UInt64, dropped: UInt64, interfaceDropped: UInt64, recordsDropped: UInt64 = 0) {
        self.interface = interface
        self.received = received
        self.dropped = dropped
        self.interfaceDropped = interfaceDropped
        self.recordsDropped = recordsDropped
    }
}

/// The run's totals (the contract's summary object), accumulated record by record so memory does
/// not grow with the number of finished connections.
public struct RunSummary: Sendable {
    public var files = 0
    public var packets = 0
    public var bytes = 0
    public var connections = 0
    public var tlsConnections = 0
    public var established = 0
    public var versions = CountTable()
    public var cipherSuites = CountTable()
    public var groups = CountTable()
    public var alpn = CountTable()
    public var findings: [Severity: Int] = [:]
    /// Anomalies of the records, by kind.
    public var anomalies = CountTable()
    /// Frames that could not be decoded, by reason.
    public var framesUndecodable = CountTable()
    /// What the flow table and the fragment reassembler could not follow (the counters' figures).
    public var reassembly = AnalysisCounters()
    public var errors: [String] = []
    public var elapsedSeconds = 0.0
    public var capture: LiveCaptureCounters?
    /// Findings grouped by server and by client fingerprint (the `audit` command).
    public var audit: AuditSummary?
    /// The policy the findings were judged under.
    public var policyName: String?

    public init() {}

    /// Connections whose key exchange was post-quantum (an ML-KEM hybrid, ML-KEM alone, or a Kyber draft),
    /// by the group registry's kind of each group counted.
    public var postQuantum: Int {
        groups.counts.reduce(0) { total, entry in
            switch NamedGroup(recordName: entry.key)?.kind {
            case .pqHybrid, .purePQ, .obsoleteDraft: total + entry.value
            case .ecdhe, .ffdhe, .unknown, nil: total
            }
        }
    }

    /// Adds one connection: a record just completed, or one `tlsscope report` read back.
    public mutating func add(_ record: some SummarizedConnection) {
        tlsConnections += 1
        if record.established { established += 1 }
        if let version = record.versionName { versions.add(version) }
        if let suite = record.cipherSuiteName { cipherSuites.add(suite) }
        if let group = record.groupName { groups.add(group) }
        if let alpn = record.alpnName { self.alpn.add(alpn) }
        for finding in record.findings { findings[finding.severity, default: 0] += 1 }
        record.forEachAnomalyKind { anomalies.add($0) }
        if audit != nil {
            audit?.add(
                record.findings, server: record.auditServer, clientFingerprint: record.clientFingerprint,
                suppressed: record.suppressedFindings, compliance: record.compliance, source: record.source,
                frame: record.firstFrame)
        }
    }

    public mutating func add(_ counters: AnalysisCounters) {
        packets = counters.packets
        bytes = counters.bytes
        connections = counters.connections
        reassembly = counters
        framesUndecodable = CountTable()
        for (reason, count) in counters.undecodableFramesByReason { framesUndecodable.add(reason, count: count) }
    }
}

/// What the summary takes from one connection, whether its record was just completed (`HandshakeRecord`)
/// or read back from NDJSON by `tlsscope report`: one way of counting for both.
public protocol SummarizedConnection {
    var established: Bool { get }
    /// The contract's names: `version`, `cipher_suite`, `group`, `alpn`.
    var versionName: String? { get }
    var cipherSuiteName: String? { get }
    var groupName: String? { get }
    var alpnName: String? { get }
    var findings: [Finding] { get }
    /// Finding ids the policy's exceptions silenced.
    var suppressedFindings: [String] { get }
    var compliance: Compliance? { get }
    func forEachAnomalyKind(_ body: (String) -> Void)
    /// The server as the audit groups it, and the client's JA4 (else JA3) fingerprint.
    var auditServer: AuditSummary.Server { get }
    var clientFingerprint: String? { get }
    var source: String? { get }
    var firstFrame: UInt64? { get }
}

extension HandshakeRecord: SummarizedConnection {
    public var versionName: String? { version?.name }
    public var cipherSuiteName: String? { cipherSuite?.name }
    public var groupName: String? { group?.name }
    public var alpnName: String? { alpn.map { String(decoding: $0, as: UTF8.self) } }
    public func forEachAnomalyKind(_ body: (String) -> Void) {
        for anomaly in anomalies { body(anomaly.kind.rawValue) }
    }
    public var auditServer: AuditSummary.Server {
        AuditSummary.Server(address: serverAddress.description, port: Int(serverPort), serverName: serverName)
    }
    public var clientFingerprint: String? { ja4?.fingerprint ?? ja3?.hash }
    public var firstFrame: UInt64? { frames?.first }
}

extension CountTable {
    /// Adds another table's counts (names past `maxNames` go to `other`, as `add` does).
    public mutating func merge(_ other: CountTable) {
        for (name, count) in other.counts.sorted(by: { $0.key < $1.key }) { add(name, count: count) }
    }
}

extension RunSummary {
    /// Errors kept in one summary; past this many (thousands of damaged files in an archive) they are
    /// counted in the last line instead.
    public static let maxErrors = 1000

    /// Adds another run's summary: the summary of two halves of the input merged is the summary of the
    /// whole (files, packets, counts and tables add; the audit's groups merge; `elapsed_seconds` adds up the
    /// runs' times). Exact while the tables stay under their caps.
    public mutating func merge(_ other: RunSummary) {
        files += other.files
        packets += other.packets
        bytes += other.bytes
        connections += other.connections
        tlsConnections += other.tlsConnections
        established += other.established
        versions.merge(other.versions)
        cipherSuites.merge(other.cipherSuites)
        groups.merge(other.groups)
        alpn.merge(other.alpn)
        for (severity, count) in other.findings { findings[severity, default: 0] += count }
        anomalies.merge(other.anomalies)
        framesUndecodable.merge(other.framesUndecodable)
        reassembly.add(other.reassembly)
        for error in other.errors { addError(error) }
        elapsedSeconds += other.elapsedSeconds
        if let theirs = other.capture {
            if var mine = capture {
                mine.received += theirs.received
                mine.dropped += theirs.dropped
                mine.interfaceDropped += theirs.interfaceDropped
                mine.recordsDropped += theirs.recordsDropped
                if mine.interface != theirs.interface { mine.interface += "," + theirs.interface }
                capture = mine
            } else {
                capture = theirs
            }
        }
        if let theirs = other.audit {
            if audit == nil { audit = AuditSummary() }
            audit?.merge(theirs)
        }
        if policyName == nil { policyName = other.policyName }
    }

    /// Appends an error line, keeping at most `maxErrors`.
    public mutating func addError(_ error: String) {
        if errors.count < Self.maxErrors {
            errors.append(error)
        } else if errors.count == Self.maxErrors {
            errors.append("more errors not listed")
        }
    }
}
