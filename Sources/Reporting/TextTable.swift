import HandshakeAnalysis
import PacketDecoding
import TLSAudit
import TLSWire

/// The `text` format: one aligned line per connection, then a summary a person can scan.
struct TextTable {
    private static let columns: [(title: String, width: Int)] = [
        ("TIME", 27), ("PROTO", 5), ("CLIENT", 22), ("SERVER", 22), ("VERSION", 8), ("CIPHER SUITE", 40), ("GROUP", 15),
        ("SNI", 24), ("ALPN", 8), ("STATE", 0),
    ]

    func header() -> String {
        Self.line(Self.columns.map(\.title))
    }

    func row(_ record: HandshakeRecord) -> String {
        var state: String
        if record.established {
            state = record.resumed ? "resumed" : "established"
        } else if let alert = record.alert {
            state = "alert " + alert.from.name + " " + alert.alert.description.name
        } else {
            state = "incomplete"
        }
        if record.resumed && !record.established { state += " (resumption)" }
        return Self.line([
            RFC3339.string(nanoseconds: record.firstTimestamp),
            record.recordProtocol.rawValue,
            Self.endpoint(record.clientAddress.description, record.clientPort),
            Self.endpoint(record.serverAddress.description, record.serverPort),
            record.version?.name ?? "-",
            record.cipherSuite?.name ?? "-",
            record.group?.name ?? "-",
            record.serverName ?? "-",
            record.alpn.map { String(decoding: $0, as: UTF8.self) } ?? "-",
            state,
        ])
    }

    static func endpoint(_ address: String, _ port: UInt16) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    private static func line(_ cells: [String]) -> String {
        var text = ""
        for (index, cell) in cells.enumerated() {
            let width = columns[index].width
            // Control characters from the wire never reach a terminal raw.
            let clean = String(cell.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
            text += clean
            if width > 0 && index < cells.count - 1 {
                text += String(repeating: " ", count: max(1, width - clean.count + 1))
            }
        }
        return text + "\n"
    }

    static func summary(_ summary: RunSummary, layout: AuditReportLayout = AuditReportLayout()) -> String {
        var text = "\n"
        // An audit leads with its verdict, roll-up and worst servers; the traffic's totals follow.
        if let audit = summary.audit {
            text = AuditReportText.render(audit, policy: summary.policyName, layout: layout) + "\n"
        }
        text += "\(summary.tlsConnections) TLS connection(s), \(summary.established) established, "
        text += "of \(summary.connections) connection(s) in \(summary.packets) packet(s), \(summary.bytes) byte(s)"
        text += " from \(summary.files) source(s)\n"
        for (title, table) in [
            ("versions", summary.versions), ("cipher suites", summary.cipherSuites), ("groups", summary.groups),
            ("alpn", summary.alpn),
        ] where !table.counts.isEmpty {
            text += title + ": " + table.sorted.map { "\($0.name) \($0.count)" }.joined(separator: ", ") + "\n"
        }
        if !summary.findings.isEmpty {
            text += "findings: "
                + summary.findings.sorted { $0.key > $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + "\n"
        }
        for error in summary.errors { text += "error: " + error + "\n" }
        return text
    }
}
