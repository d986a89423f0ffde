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
    /// Connections whose key exchange was post-quantum (an ML-KEM hybrid, ML-KEM alone, or a Kyber draft).
    public var postQuantum = 0
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

    public mutating func add(_ record: HandshakeRecord) {
        tlsConnections += 1
        if record.established { established += 1 }
        if let version = record.version { versions.add(version.name) }
        if let suite = record.cipherSuite { cipherSuites.add(suite.name) }
        if let group = record.group {
            groups.add(group.name)
            if case .named(let named) = group {
                switch named.kind {
                case .pqHybrid, .purePQ, .obsoleteDraft: postQuantum += 1
                case .ecdhe, .ffdhe, .unknown: break
                }
            }
        }
        if let alpn = record.alpn { self.alpn.add(String(decoding: alpn, as: UTF8.self)) }
        for finding in record.findings { findings[finding.severity, default: 0] += 1 }
        for anomaly in record.anomalies { anomalies.add(anomaly.kind.rawValue) }
        if audit != nil {
            audit?.add(
                record.findings,
                server: AuditSummary.Server(
                    address: record.serverAddress.description, port: Int(record.serverPort),
                    serverName: record.serverName),
                clientFingerprint: record.ja4?.fingerprint ?? record.ja3?.hash, suppressed: record.suppressedFindings,
                compliance: record.compliance, source: record.source, frame: record.frames?.first)
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
