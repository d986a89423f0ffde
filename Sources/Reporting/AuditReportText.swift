import HandshakeAnalysis
import TLSAudit

/// How much of the audit a text report details, and against what threshold.
public struct AuditReportLayout: Sendable {
    /// Servers and client fingerprints detailed, worst first (0: all).
    public var top = 10
    /// `--fail-on`: the headline counts findings at or above it.
    public var failOn: Severity = .high
    /// Columns the report is wrapped to (the terminal's, or 100 off a terminal).
    public var width = 100
    /// Severities in colour (a terminal without NO_COLOR).
    public var color = false
    public init() {}
}

/// The text form of an audit: a headline, the share of servers each built-in profile passes, a roll-up by
/// finding id (worst first, with counts, example servers and what to change), then the worst servers and
/// client fingerprints in detail. Sized for a screen whatever the capture: info findings appear in the
/// roll-up only, and the detail stops at `layout.top`.
enum AuditReportText {
    static func render(_ audit: AuditSummary, policy: String?, layout: AuditReportLayout) -> String {
        var text = "audit (policy \(policy ?? "intermediate"), fail on \(layout.failOn)): "
        let (failing, failingServers) = audit.count(atOrAbove: layout.failOn)
        let servers = audit.servers
        if failing > 0 {
            text += "\(failing) \(plural(failing, "finding")) at or above \(layout.failOn) on \(failingServers) of "
            text += "\(servers.count) \(plural(servers.count, "server"))\n"
        } else {
            text += "nothing at or above \(layout.failOn)"
            text += audit.worst.map { " (worst finding \($0))" } ?? " (no findings)"
            text += " in \(audit.connections) \(plural(audit.connections, "connection"))\n"
        }
        let shares = audit.profileShares
        if !shares.isEmpty {
            text += "profiles passed: "
            text += shares.map { share in
                "\(share.profile) \(share.serversPassing)/\(share.servers) servers (\(percent(share.serversPassing, share.servers)))"
            }.joined(separator: ", ")
            text += "\n"
        }

        let rollups = audit.rollups
        if !rollups.isEmpty {
            text += "\nfindings by id, worst first\n"
            let idWidth = max(7, rollups.map(\.id.count).max() ?? 7)
            text += "  " + pad("SEVERITY", 9) + pad("FINDING", idWidth + 1) + left("CONNS", 7) + left("SERVERS", 8)
                + left("CLIENTS", 8) + "  EXAMPLES\n"
            for rollup in rollups {
                text += "  " + paint(pad(rollup.severity.description, 9), rollup.severity, layout) + pad(rollup.id, idWidth + 1)
                text += left(String(rollup.connections), 7) + left(String(rollup.servers), 8)
                text += left(String(rollup.clients), 8) + "  "
                // Whole names, as many as fit; "…" says there are more.
                let room = max(24, layout.width - (2 + 9 + idWidth + 1 + 7 + 8 + 8 + 2))
                var examples = ""
                var shown = 0
                for name in rollup.examples.map(serverName) {
                    let next = examples.isEmpty ? name : examples + ", " + name
                    guard next.count <= room - 3 || (shown == 0 && next.count <= room) else { break }
                    examples = next
                    shown += 1
                }
                if shown == 0, let first = rollup.examples.first { examples = TextCells.elided(serverName(first), to: room) }
                if rollup.servers > max(shown, 1) { examples += examples.isEmpty ? "…" : ", …" }
                text += examples + "\n"
                if let fix = FindingCatalog.remediation(of: rollup.id) {
                    text += TextCells.wrapped("fix: " + fix, width: layout.width, indent: 11)
                }
            }
        }
        if !audit.suppressed.isEmpty {
            text += "suppressed by the policy's exceptions (not counted above): "
            text += audit.suppressed.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }

        let withFindings = servers.filter { group in group.findings.contains { $0.severity > .info } }
        if !withFindings.isEmpty {
            let shown = layout.top > 0 ? Array(withFindings.prefix(layout.top)) : withFindings
            text += "\nservers, worst first (\(counted(shown.count, of: withFindings.count, layout)))\n"
            for group in shown {
                text += "  \(serverName(group.key)): \(group.connections) \(plural(group.connections, "connection"))"
                text += group.worst.map { ", worst \($0)" } ?? ""
                text += "\n"
                for tally in group.findings where tally.severity > .info {
                    let severity = tally.severity.description
                    text += "    " + paint(pad(severity, 9), tally.severity, layout)
                    text += "\(tally.id) ×\(tally.count): \(tally.example)\n"
                }
            }
        }
        let clients = audit.clients.filter { group in group.findings.contains { $0.severity > .info } }
        if !clients.isEmpty {
            let shown = layout.top > 0 ? Array(clients.prefix(layout.top)) : clients
            text += "\nclient fingerprints, worst first (\(counted(shown.count, of: clients.count, layout)))\n"
            for group in shown {
                text += "  \(group.key): \(group.connections) \(plural(group.connections, "connection")): "
                text += group.findings.filter { $0.severity > .info }.map { "\($0.id) (\($0.severity))" }
                    .joined(separator: ", ") + "\n"
            }
        }
        return text
    }

    /// "10 of 64; --top 0 for all", or "all 5".
    private static func counted(_ shown: Int, of total: Int, _ layout: AuditReportLayout) -> String {
        shown < total ? "\(shown) of \(total); --top 0 for all" : "all \(total)"
    }

    static func serverName(_ server: AuditSummary.Server) -> String {
        let endpoint = TextTable.endpoint(server.address, UInt16(clamping: server.port))
        return server.serverName.map { "\($0) (\(endpoint))" } ?? endpoint
    }

    /// The padded severity cell in its colour (the padding stays outside the colour codes' count).
    private static func paint(_ cell: String, _ severity: Severity, _ layout: AuditReportLayout) -> String {
        guard layout.color else { return cell }
        let trimmed = String(cell.reversed().drop { $0 == " " }.reversed())
        return ANSI.paint(trimmed, ANSI.severity(severity.description), when: true)
            + String(repeating: " ", count: cell.count - trimmed.count)
    }

    static func plural(_ count: Int, _ word: String) -> String { count == 1 ? word : word + "s" }

    static func percent(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "-" }
        return "\(Int((Double(part) * 100 / Double(whole)).rounded()))%"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    private static func left(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
