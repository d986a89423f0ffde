/// Findings of many connections grouped by server and by client fingerprint, worst first: what `audit`
/// prints after the per-connection findings.
public struct AuditSummary: Sendable, Hashable {
    /// A server as the records name it.
    public struct Server: Sendable, Hashable, Comparable {
        public var address: String
        public var port: Int
        /// SNI; nil when the client sent none.
        public var serverName: String?
        public init(address: String, port: Int, serverName: String?) {
            self.address = address
            self.port = port
            self.serverName = serverName
        }
        public static func < (lhs: Server, rhs: Server) -> Bool {
            (lhs.serverName ?? "", lhs.address, lhs.port) < (rhs.serverName ?? "", rhs.address, rhs.port)
        }
    }

    /// How often one finding id was seen in a group.
    public struct Tally: Sendable, Hashable {
        public var id: String
        /// The worst severity it had.
        public var severity: Severity
        /// Connections it was reported on.
        public var count: Int
        /// The message of its first (worst) occurrence.
        public var example: String
        public init(id: String, severity: Severity, count: Int, example: String) {
            self.id = id
            self.severity = severity
            self.count = count
            self.example = example
        }
    }

    /// Findings of the connections that share a key (a server, or a client fingerprint).
    public struct Group<Key: Sendable & Hashable>: Sendable, Hashable {
        public var key: Key
        public var connections: Int
        /// Worst first, then by id.
        public var findings: [Tally]
        /// Its connections that failed each built-in profile (`Compliance.profiles` order).
        public var failing: [Int] = [0, 0, 0]
        /// Where it was seen first: the earliest (source, first frame) of its connections, by name then frame
        /// (for SARIF locations). The earliest rather than the first added, so that merged summaries agree.
        public var source: String?
        public var frame: UInt64?
        /// nil when none of its connections had a finding.
        public var worst: Severity? { findings.first?.severity }
        public init(
            key: Key, connections: Int, findings: [Tally], failing: [Int] = [0, 0, 0], source: String? = nil,
            frame: UInt64? = nil
        ) {
            self.key = key
            self.connections = connections
            self.findings = findings.sorted { $0.severity != $1.severity ? $0.severity > $1.severity : $0.id < $1.id }
            self.failing = failing.count == 3 ? failing : [0, 0, 0]
            self.source = source
            self.frame = frame
        }
    }

    /// One finding id over the whole run: the roll-up a report leads with.
    public struct Rollup: Sendable, Hashable {
        public var id: String
        /// The worst severity it had.
        public var severity: Severity
        /// Connections it was reported on.
        public var connections: Int
        /// Servers and client fingerprints it was reported for (those past `maxGroups` count as one).
        public var servers: Int
        public var clients: Int
        /// Up to three servers with the most connections having it.
        public var examples: [Server]
        /// The message of a worst occurrence.
        public var example: String
    }

    /// How many servers and connections passed one built-in profile (the auditor's "what breaks if we move
    /// to modern?").
    public struct ProfileShare: Sendable, Hashable {
        public var profile: String
        public var serversPassing: Int
        public var servers: Int
        public var connectionsPassing: Int
        public var connections: Int
    }

    /// Servers and client fingerprints kept apart; past this many (a scan, or a months-long `monitor`),
    /// further ones are tallied together under `otherServer` / `otherClient`, so memory stays bounded.
    public let maxGroups: Int
    /// Where servers past `maxGroups` are tallied.
    public static let otherServer = Server(address: "other", port: 0, serverName: nil)
    public static let otherClient = "other"
    private var serverTable: [Server: Group<Server>] = [:]
    private var clientTable: [String: Group<String>] = [:]
    /// Findings by severity over every connection added.
    public private(set) var severityCounts: [Severity: Int] = [:]
    public private(set) var connections = 0
    /// Findings the policy's exceptions silenced, by id.
    public private(set) var suppressed: [String: Int] = [:]
    /// Connections that failed each built-in profile (`Compliance.profiles` order), over every connection
    /// whose record had a verdict.
    private var failing: [Int] = [0, 0, 0]
    private var judged = 0

    public init(maxGroups: Int = 10_000) {
        self.maxGroups = maxGroups
    }

    /// Adds one connection's findings. `clientFingerprint` is its JA3 or JA4 (nil: not grouped by client);
    /// `suppressed`: ids the policy's exceptions silenced; `compliance`: its verdicts, if judged.
    public mutating func add(
        _ findings: [Finding], server: Server, clientFingerprint: String?, suppressed: [String] = [],
        compliance: Compliance? = nil, source: String? = nil, frame: UInt64? = nil
    ) {
        connections += 1
        for finding in findings { severityCounts[finding.severity, default: 0] += 1 }
        for id in suppressed { self.suppressed[id, default: 0] += 1 }
        var fails = [0, 0, 0]
        if let compliance {
            judged += 1
            for (index, verdict) in compliance.verdicts.prefix(3).enumerated() where !verdict.passes {
                fails[index] = 1
                failing[index] += 1
            }
        }
        let server = serverTable[server] == nil && serverTable.count >= maxGroups ? Self.otherServer : server
        var serverGroup = serverTable[server] ?? Group(key: server, connections: 0, findings: [], source: source, frame: frame)
        Self.keepEarliest(source, frame, in: &serverGroup)
        for index in 0..<3 { serverGroup.failing[index] += fails[index] }
        Self.merge(findings, into: &serverGroup)
        serverTable[server] = serverGroup
        if var clientFingerprint {
            if clientTable[clientFingerprint] == nil && clientTable.count >= maxGroups {
                clientFingerprint = Self.otherClient
            }
            var clientGroup =
                clientTable[clientFingerprint] ?? Group(key: clientFingerprint, connections: 0, findings: [])
            Self.merge(findings, into: &clientGroup)
            clientTable[clientFingerprint] = clientGroup
        }
    }

    /// Servers, worst first (then most connections, then by name/address/port).
    public var servers: [Group<Server>] {
        serverTable.values.sorted { Self.ordered($0, $1, keyOrder: { $0.key < $1.key }) }
    }

    /// Client fingerprints, worst first (then most connections, then by fingerprint).
    public var clients: [Group<String>] {
        clientTable.values.sorted { Self.ordered($0, $1, keyOrder: { $0.key < $1.key }) }
    }

    /// The worst severity seen on any connection.
    public var worst: Severity? { severityCounts.keys.max() }

    /// Every finding id seen, worst first, then by connections, then by id.
    public var rollups: [Rollup] {
        var byID: [String: Rollup] = [:]
        var examples: [String: [(server: Server, count: Int)]] = [:]
        // In the report's server order (not the table's), so that the example message is the same every run.
        for group in servers {
            for tally in group.findings {
                var rollup = byID[tally.id]
                    ?? Rollup(id: tally.id, severity: tally.severity, connections: 0, servers: 0, clients: 0, examples: [], example: tally.example)
                rollup.connections += tally.count
                rollup.servers += 1
                if tally.severity > rollup.severity {
                    rollup.severity = tally.severity
                    rollup.example = tally.example
                }
                byID[tally.id] = rollup
                examples[tally.id, default: []].append((group.key, tally.count))
            }
        }
        for group in clientTable.values {
            for tally in group.findings { byID[tally.id]?.clients += 1 }
        }
        for (id, list) in examples {
            byID[id]?.examples = list.sorted { $0.count != $1.count ? $0.count > $1.count : $0.server < $1.server }
                .prefix(3).map(\.server)
        }
        return byID.values.sorted {
            if $0.severity != $1.severity { return $0.severity > $1.severity }
            if $0.connections != $1.connections { return $0.connections > $1.connections }
            return $0.id < $1.id
        }
    }

    /// For each built-in profile, the servers (every connection passing) and connections that pass it.
    /// Empty when no record carried a verdict.
    public var profileShares: [ProfileShare] {
        guard judged > 0 else { return [] }
        return Compliance.profiles.indices.map { index in
            ProfileShare(
                profile: Compliance.profiles[index].name,
                serversPassing: serverTable.values.filter { $0.failing[index] == 0 }.count, servers: serverTable.count,
                connectionsPassing: judged - failing[index], connections: judged)
        }
    }

    /// Findings at or above `threshold`, and the servers that had one (for the line `audit` ends with).
    public func count(atOrAbove threshold: Severity) -> (findings: Int, servers: Int) {
        let findings = severityCounts.filter { $0.key >= threshold }.values.reduce(0, +)
        let servers = serverTable.values.filter { $0.worst.map { $0 >= threshold } ?? false }.count
        return (findings, servers)
    }

    /// `--fail-on`: some finding is at or above `threshold`.
    public func hasFinding(atOrAbove threshold: Severity) -> Bool {
        severityCounts.contains { $0.key >= threshold && $0.value > 0 }
    }

    /// Adds another summary (of other connections): groups with the same key merge, counts add. The
    /// summary of two halves of a run merged is the summary of the whole run.
    public mutating func merge(_ other: AuditSummary) {
        for group in other.serverTable.values.sorted(by: { $0.key < $1.key }) { merge(server: group) }
        for group in other.clientTable.values.sorted(by: { $0.key < $1.key }) { merge(client: group) }
        merge(
            connections: other.connections, severityCounts: other.severityCounts, suppressed: other.suppressed,
            failing: other.failing, judged: other.judged)
    }

    /// Adds one server's group (from another summary, or read back from one by `tlsscope report`).
    public mutating func merge(server group: Group<Server>) {
        Self.merge(group, into: &serverTable, overflow: Self.otherServer, maxGroups: maxGroups)
    }

    /// Adds one client fingerprint's group.
    public mutating func merge(client group: Group<String>) {
        Self.merge(group, into: &clientTable, overflow: Self.otherClient, maxGroups: maxGroups)
    }

    /// Merges `group` into its key's group of `table`; a new key past `maxGroups` goes to `overflow`'s.
    private static func merge<Key: Sendable & Hashable>(
        _ group: Group<Key>, into table: inout [Key: Group<Key>], overflow: Key, maxGroups: Int
    ) {
        let key = table[group.key] == nil && table.count >= maxGroups ? overflow : group.key
        guard var mine = table[key] else {
            var group = group
            group.key = key
            table[key] = group
            return
        }
        merge(group, into: &mine)
        table[key] = mine
    }

    /// Adds the run-wide counts of other connections: how many, findings by severity, what exceptions
    /// suppressed, and (over `judged` connections with verdicts) how many failed each built-in profile.
    public mutating func merge(
        connections: Int, severityCounts: [Severity: Int], suppressed: [String: Int], failing: [Int], judged: Int
    ) {
        self.connections += connections
        for (severity, count) in severityCounts { self.severityCounts[severity, default: 0] += count }
        for (id, count) in suppressed { self.suppressed[id, default: 0] += count }
        for index in 0..<min(3, failing.count) { self.failing[index] += failing[index] }
        self.judged += judged
    }

    /// Connections with verdicts, and those failing each built-in profile (what `profileShares` counts).
    public var verdicts: (judged: Int, failing: [Int]) { (judged, failing) }

    /// Keeps the earlier of the group's location and (`source`, `frame`): by source name, then frame.
    private static func keepEarliest<Key: Sendable & Hashable>(_ source: String?, _ frame: UInt64?, in group: inout Group<Key>) {
        guard let source else { return }
        if let mine = group.source, (mine, group.frame ?? 0) <= (source, frame ?? 0) { return }
        (group.source, group.frame) = (source, frame)
    }

    private static func merge<Key: Sendable & Hashable>(_ group: Group<Key>, into mine: inout Group<Key>) {
        mine.connections += group.connections
        for index in 0..<3 { mine.failing[index] += group.failing[index] }
        keepEarliest(group.source, group.frame, in: &mine)
        for tally in group.findings {
            if let index = mine.findings.firstIndex(where: { $0.id == tally.id }) {
                mine.findings[index].count += tally.count
                if tally.severity > mine.findings[index].severity {
                    mine.findings[index].severity = tally.severity
                    mine.findings[index].example = tally.example
                }
            } else {
                mine.findings.append(tally)
            }
        }
        mine.findings.sort { $0.severity != $1.severity ? $0.severity > $1.severity : $0.id < $1.id }
    }

    private static func merge<Key: Sendable & Hashable>(_ findings: [Finding], into group: inout Group<Key>) {
        group.connections += 1
        for finding in findings {
            if let index = group.findings.firstIndex(where: { $0.id == finding.id }) {
                group.findings[index].count += 1
                if finding.severity > group.findings[index].severity {
                    group.findings[index].severity = finding.severity
                    group.findings[index].example = finding.message
                }
            } else {
                group.findings.append(
                    Tally(id: finding.id, severity: finding.severity, count: 1, example: finding.message))
            }
        }
        group.findings.sort { $0.severity != $1.severity ? $0.severity > $1.severity : $0.id < $1.id }
    }

    private static func ordered<Key: Sendable & Hashable>(
        _ lhs: Group<Key>, _ rhs: Group<Key>, keyOrder: (Group<Key>, Group<Key>) -> Bool
    ) -> Bool {
        let left = lhs.worst.map { $0.rawValue } ?? -1
        let right = rhs.worst.map { $0.rawValue } ?? -1
        if left != right { return left > right }
        if lhs.connections != rhs.connections { return lhs.connections > rhs.connections }
        return keyOrder(lhs, rhs)
    }
}
