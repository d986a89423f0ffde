import HandshakeAnalysis
import PacketDecoding
import TLSAudit
import TLSWire

/// The `text` format: one aligned line per connection, then a summary a person can scan.
///
/// Every cell fits its column: a longer value (an IPv6 endpoint, a long SNI) is cut in the middle with
/// "…", so the columns stay aligned. On a terminal (`layout.width`) the elastic columns shrink to their
/// minimums, and then ALPN, GROUP and PROTO are left out, until the line fits; colours (severities,
/// states) only when `layout.color`.
struct TextTable {
    struct Column {
        var title: String
        /// Natural width; 0 for the last column (as wide as its text).
        var width: Int
        /// What it may shrink to before any column is left out, and at the very least.
        var comfortable: Int
        var minimum: Int
        /// Cut at the end rather than in the middle (a timestamp keeps its date and time, loses the fraction).
        var cutsAtEnd = false
    }

    /// TIME, PROTO, CLIENT, SERVER, VERSION, CIPHER SUITE, GROUP, SNI, ALPN, FINDINGS, STATE.
    static let natural: [Column] = [
        Column(title: "TIME", width: 27, comfortable: 27, minimum: 19, cutsAtEnd: true),
        Column(title: "PROTO", width: 5, comfortable: 5, minimum: 5),
        Column(title: "CLIENT", width: 22, comfortable: 21, minimum: 15),
        Column(title: "SERVER", width: 22, comfortable: 21, minimum: 15),
        Column(title: "VERSION", width: 8, comfortable: 8, minimum: 8),
        Column(title: "CIPHER SUITE", width: 45, comfortable: 39, minimum: 22),
        Column(title: "GROUP", width: 15, comfortable: 9, minimum: 9),
        Column(title: "SNI", width: 24, comfortable: 16, minimum: 11),
        Column(title: "ALPN", width: 8, comfortable: 5, minimum: 5),
        Column(title: "FINDINGS", width: 8, comfortable: 8, minimum: 8),
        Column(title: "STATE", width: 0, comfortable: 11, minimum: 11),
    ]
    /// Left out in this order when the comfortable widths do not fit, and then when the minimums do not.
    static let droppable = ["ALPN", "GROUP", "PROTO"]
    static let droppableLast = ["TIME", "CLIENT"]

    let layout: TextLayout
    /// Width of each shown column (nil: left out).
    let widths: [Int?]

    init(layout: TextLayout = TextLayout()) {
        self.layout = layout
        widths = Self.fit(Self.natural, to: layout.width)
    }

    /// Column widths for a line of at most `available` characters (nil: natural widths): the elastic
    /// columns shrink to comfortable widths, then ALPN, GROUP and PROTO are left out, then the columns
    /// shrink to their minimums, then TIME and CLIENT are left out (80 columns show the server, version,
    /// suite, SNI, findings and state). Narrower than that, lines wrap.
    static func fit(_ columns: [Column], to available: Int?) -> [Int?] {
        var widths: [Int?] = columns.map { $0.width }
        guard let available else { return widths }
        // A line is the columns, a space between each, and the last column's minimum.
        func excess() -> Int {
            let total = zip(columns, widths).reduce(0) { sum, pair in
                guard let width = pair.1 else { return sum }
                return sum + (pair.0.width == 0 ? pair.0.minimum : width + 1)
            }
            return total - available
        }
        func shrink(to floor: (Column) -> Int) {
            // One character at a time from the column with the most room above its floor.
            while excess() > 0 {
                var best: (index: Int, room: Int)?
                for index in columns.indices where columns[index].width > 0 {
                    guard let width = widths[index] else { continue }
                    let room = width - floor(columns[index])
                    if room > 0 && room > (best?.room ?? 0) { best = (index, room) }
                }
                guard let best, let width = widths[best.index] else { return }
                widths[best.index] = width - 1
            }
        }
        shrink { $0.comfortable }
        for title in droppable where excess() > 0 {
            if let index = columns.firstIndex(where: { $0.title == title }) { widths[index] = nil }
        }
        shrink { $0.minimum }
        for title in droppableLast where excess() > 0 {
            if let index = columns.firstIndex(where: { $0.title == title }) { widths[index] = nil }
        }
        return widths
    }

    func header() -> String {
        line(Self.natural.map(\.title), paints: [])
    }

    func row(_ record: HandshakeRecord) -> String {
        let worst = record.findings.map(\.severity).max()
        let findings = worst.map { "\(Self.shortName($0)) \(record.findings.count)" } ?? "-"
        var paints: [(Int, String)] = []
        if layout.color {
            if let worst { paints.append((9, ANSI.severity(worst.description))) }
            paints.append((10, record.established ? "\u{1b}[32m" : record.alert != nil ? "\u{1b}[31m" : "\u{1b}[33m"))
        }
        return line(
            [
                RFC3339.string(nanoseconds: record.firstTimestamp),
                record.recordProtocol.rawValue,
                Self.endpoint(record.clientAddress.description, record.clientPort),
                Self.endpoint(record.serverAddress.description, record.serverPort),
                record.version?.name ?? "-",
                record.cipherSuite?.name ?? "-",
                record.group?.name ?? "-",
                record.serverName ?? "-",
                record.alpn.map { String(decoding: $0, as: UTF8.self) } ?? "-",
                findings,
                record.stateText,
            ], paints: paints)
    }

    /// Severity names that fit the FINDINGS column ("crit 12", "med 3").
    static func shortName(_ severity: Severity) -> String {
        switch severity {
        case .critical: "crit"
        case .medium: "med"
        default: severity.description
        }
    }

    static func endpoint(_ address: String, _ port: UInt16) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// The cells, each cleaned of control characters, cut to its column and padded; `paints`: (column,
    /// SGR code) to colour a cell's text (not its padding).
    private func line(_ cells: [String], paints: [(Int, String)]) -> String {
        var text = ""
        var first = true
        for (index, cell) in cells.enumerated() {
            guard let width = widths[index] else { continue }
            // Control characters from the wire never reach a terminal raw.
            var clean = String(cell.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
            if width > 0 && clean.count > width {
                clean = Self.natural[index].cutsAtEnd ? String(clean.prefix(width)) : TextCells.elided(clean, to: width)
            }
            if !first { text += " " }
            first = false
            if let paint = paints.first(where: { $0.0 == index }) {
                text += ANSI.paint(clean, paint.1, when: true)
            } else {
                text += clean
            }
            if width > 0 && index < cells.count - 1 {
                text += String(repeating: " ", count: max(0, width - clean.count))
            }
        }
        return text + "\n"
    }

    func summary(_ summary: RunSummary, layout auditLayout: AuditReportLayout = AuditReportLayout()) -> String {
        var text = "\n"
        // An audit leads with its verdict, roll-up and worst servers; the traffic's totals follow.
        if let audit = summary.audit {
            text = AuditReportText.render(audit, policy: summary.policyName, layout: auditLayout) + "\n"
        }
        text += "\(summary.tlsConnections) TLS connection(s), \(summary.established) established, "
        text += "of \(summary.connections) connection(s) in \(summary.packets) packet(s), \(summary.bytes) byte(s)"
        text += " from \(summary.files) source(s)\n"
        for (title, table) in [
            ("versions", summary.versions), ("cipher suites", summary.cipherSuites), ("groups", summary.groups),
            ("alpn", summary.alpn),
        ] where !table.counts.isEmpty {
            let line = title + ": " + table.sorted.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
            // On a terminal a long list wraps at its width with a hanging indent, not mid-word.
            text += layout.width.map { TextCells.wrapped(line, width: $0, indent: 2, firstIndent: 0) } ?? line + "\n"
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

extension HandshakeRecord {
    /// How the handshake ended, in the words of the text and HTML tables: "established", "resumed",
    /// "alert server handshake_failure", "incomplete" (with " (resumption)" when a resumption failed).
    var stateText: String {
        var state: String
        if established {
            state = resumed ? "resumed" : "established"
        } else if let alert {
            state = "alert " + alert.from.name + " " + alert.alert.description.name
        } else {
            state = "incomplete"
        }
        if resumed && !established { state += " (resumption)" }
        return state
    }
}
