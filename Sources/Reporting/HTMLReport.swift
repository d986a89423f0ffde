import HandshakeAnalysis
import PacketDecoding
import TLSAudit
import TLSWire

/// `--format html`: one self-contained page (inline CSS, script and SVG; a Content-Security-Policy that
/// allows nothing from the network), readable offline and from an e-mail attachment. Charts of versions,
/// suites, groups, the post-quantum share and findings by severity; the profiles' shares; the findings
/// rolled up by id, each linked to what to change; sortable, filterable tables of servers, client
/// fingerprints and (analyze) connections.
///
/// Every value from the wire goes through `HTML.escape` once, where it is written; nothing else builds
/// markup from input.
public enum HTMLReport {
    /// Connections listed in the page at most (the charts and tables above count them all).
    public static let maxConnectionRows = 10_000

    /// One connection's table row (what a `RecordFormatter` of the html format makes).
    public static func row(_ record: HandshakeRecord) -> String {
        let worst = record.findings.map(\.severity).max()
        let findings = record.findings.map { finding in
            "<a class=\"sev \(finding.severity)\" href=\"#finding-\(HTML.escape(finding.id))\" title=\"\(HTML.escape(finding.message))\">\(HTML.escape(finding.id))</a>"
        }.joined(separator: " ")
        let cells: [(String, String?)] = [
            (HTML.escape(RFC3339.string(nanoseconds: record.firstTimestamp)), nil),
            (HTML.escape(record.recordProtocol.rawValue), nil),
            (HTML.escape(TextTable.endpoint(record.clientAddress.description, record.clientPort)), nil),
            (HTML.escape(TextTable.endpoint(record.serverAddress.description, record.serverPort)), nil),
            (HTML.escape(record.version?.name ?? "-"), nil),
            (HTML.escape(record.cipherSuite?.name ?? "-"), nil),
            (HTML.escape(record.group?.name ?? "-"), nil),
            (HTML.escape(record.serverName ?? "-"), nil),
            (HTML.escape(record.alpn.map { String(decoding: $0, as: UTF8.self) } ?? "-"), nil),
            (findings.isEmpty ? "-" : findings, worst.map { String($0.rawValue) } ?? "-1"),
            (HTML.escape(record.stateText), nil),
        ]
        return "<tr>" + cells.map { cell, sortKey in
            sortKey.map { "<td data-sort=\"\($0)\">\(cell)</td>" } ?? "<td>\(cell)</td>"
        }.joined() + "</tr>\n"
    }

    /// The whole page. `connectionRows`: the rows of the first connections (`row(_:)`), `connections` of
    /// them in all (nil: no connection table, as for `audit`).
    public static func page(
        _ summary: RunSummary, connectionRows: String?, connections: Int, tool: String, failOn: Severity?
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="tlsscope \(HTML.escape(tool))">
            <title>tlsscope report</title>
            <style>\(style)</style></head>
            <body>
            <header><h1>tlsscope report</h1>
            <p class="meta">\(summary.tlsConnections) TLS connections (\(summary.established) established) of \(summary.connections) connections in \(summary.packets) packets from \(summary.files) source(s)\(summary.policyName.map { " · policy <b>\(HTML.escape($0))</b>" } ?? "") · tlsscope \(HTML.escape(tool))</p>
            """
        for error in summary.errors { html += "<p class=\"error\">\(HTML.escape(error))</p>\n" }
        html += "</header>\n"
        if let audit = summary.audit, let failOn {
            let (failing, servers) = audit.count(atOrAbove: failOn)
            html += failing > 0
                ? "<p class=\"verdict fail\">\(failing) finding\(failing == 1 ? "" : "s") at or above \(failOn) on \(servers) of \(audit.servers.count) server\(audit.servers.count == 1 ? "" : "s")</p>\n"
                : "<p class=\"verdict pass\">Nothing at or above \(failOn)\(audit.worst.map { " (worst finding: \($0))" } ?? "")</p>\n"
        }

        html += "<section id=\"charts\"><h2>What is on the wire</h2><div class=\"charts\">\n"
        html += chart("TLS versions", summary.versions.sorted.map { ($0.name, $0.count) }, id: "chart-versions")
        html += chart("Cipher suites", Array(summary.cipherSuites.sorted.prefix(10)).map { ($0.name, $0.count) }, id: "chart-suites")
        html += chart("Key-exchange groups", Array(summary.groups.sorted.prefix(10)).map { ($0.name, $0.count) }, id: "chart-groups")
        let classical = summary.groups.sorted.reduce(0) { $0 + $1.count } - summary.postQuantum
        html += chart(
            "Post-quantum key exchange", [("post-quantum (ML-KEM)", summary.postQuantum), ("classical", classical)],
            id: "chart-pq")
        let severities = Severity.allCases.reversed().map { ($0.description, summary.findings[$0] ?? 0) }
        html += chart("Findings by severity", severities, id: "chart-severity", colored: true)
        html += "</div></section>\n"

        if let audit = summary.audit {
            let shares = audit.profileShares
            if !shares.isEmpty {
                html += "<section id=\"profiles\"><h2>Servers passing each profile</h2><div class=\"charts\">\n"
                html += chart(
                    "Mozilla profiles (servers whose every connection passes)",
                    shares.map { ("\($0.profile): \($0.serversPassing) of \($0.servers)", $0.serversPassing) },
                    id: "chart-profiles", maximum: shares.first?.servers ?? 1)
                html += "</div></section>\n"
            }
            html += findingsSection(audit)
            html += serversSection(audit)
            html += clientsSection(audit)
        }
        if let connectionRows {
            html += "<section id=\"connections\"><h2>Connections</h2>\n"
            if connections > maxConnectionRows {
                html += "<p class=\"meta\">The first \(maxConnectionRows) of \(connections) connections (the charts and tables above count all of them; `--format ndjson` lists every one).</p>\n"
            }
            html += filterBox("connections-table")
            html += "<table id=\"connections-table\" class=\"sortable\"><thead><tr>"
            for (title, kind) in [
                ("Time", "text"), ("Proto", "text"), ("Client", "text"), ("Server", "text"), ("Version", "text"),
                ("Cipher suite", "text"), ("Group", "text"), ("SNI", "text"), ("ALPN", "text"), ("Findings", "num"),
                ("State", "text"),
            ] {
                html += "<th data-type=\"\(kind)\">\(title)</th>"
            }
            html += "</tr></thead><tbody>\n" + connectionRows + "</tbody></table></section>\n"
        }
        html += "<footer>Generated by tlsscope \(HTML.escape(tool)). Severities follow the active policy; see docs/audit.md.</footer>\n"
        html += "<script>\(script)</script>\n</body></html>\n"
        return html
    }

    // MARK: Sections

    private static func findingsSection(_ audit: AuditSummary) -> String {
        let rollups = audit.rollups
        var html = "<section id=\"findings\"><h2>Findings by id</h2>\n"
        guard !rollups.isEmpty else { return html + "<p>No findings.</p></section>\n" }
        html += "<table id=\"findings-table\" class=\"sortable\"><thead><tr><th data-type=\"num\">Severity</th><th data-type=\"text\">Finding</th><th data-type=\"num\">Connections</th><th data-type=\"num\">Servers</th><th data-type=\"num\">Clients</th><th data-type=\"text\">Example servers</th><th data-type=\"text\">Example</th></tr></thead><tbody>\n"
        for rollup in rollups {
            let id = HTML.escape(rollup.id)
            html += "<tr id=\"finding-\(id)\"><td data-sort=\"\(rollup.severity.rawValue)\"><span class=\"sev \(rollup.severity)\">\(rollup.severity)</span></td>"
            html += "<td><a href=\"#fix-\(id)\">\(id)</a></td><td>\(rollup.connections)</td><td>\(rollup.servers)</td><td>\(rollup.clients)</td>"
            html += "<td>\(HTML.escape(rollup.examples.map(AuditReportText.serverName).joined(separator: ", ")))</td>"
            html += "<td>\(HTML.escape(rollup.example))</td></tr>\n"
        }
        html += "</tbody></table>\n"
        if !audit.suppressed.isEmpty {
            html += "<p class=\"meta\">Suppressed by the policy's exceptions (not counted above): "
            html += audit.suppressed.sorted { $0.key < $1.key }.map { "\(HTML.escape($0.key)) \($0.value)" }.joined(separator: ", ")
            html += "</p>\n"
        }
        html += "<h3 id=\"remediation\">What to change</h3><dl class=\"fixes\">\n"
        for rollup in rollups {
            let id = HTML.escape(rollup.id)
            html += "<dt id=\"fix-\(id)\"><span class=\"sev \(rollup.severity)\">\(rollup.severity)</span> \(id)</dt>"
            html += "<dd>\(HTML.escape(FindingCatalog.remediation(of: rollup.id) ?? ""))</dd>\n"
        }
        return html + "</dl></section>\n"
    }

    private static func serversSection(_ audit: AuditSummary) -> String {
        var html = "<section id=\"servers\"><h2>Servers</h2>\n" + filterBox("servers-table")
        html += "<table id=\"servers-table\" class=\"sortable\"><thead><tr><th data-type=\"text\">Server name</th><th data-type=\"text\">Address</th><th data-type=\"num\">Connections</th><th data-type=\"num\">Worst</th><th data-type=\"text\">Findings</th><th data-type=\"text\">Profiles passed</th></tr></thead><tbody>\n"
        for group in audit.servers {
            let profiles = zip(["modern", "intermediate", "old"], group.failing).filter { $0.1 == 0 }.map(\.0)
            html += "<tr><td>\(HTML.escape(group.key.serverName ?? "-"))</td>"
            html += "<td>\(HTML.escape(TextTable.endpoint(group.key.address, UInt16(clamping: group.key.port))))</td>"
            html += "<td>\(group.connections)</td>"
            html += worstCell(group.worst)
            html += "<td>\(tallies(group.findings))</td><td>\(profiles.isEmpty ? "none" : profiles.joined(separator: ", "))</td></tr>\n"
        }
        return html + "</tbody></table></section>\n"
    }

    private static func clientsSection(_ audit: AuditSummary) -> String {
        var html = "<section id=\"clients\"><h2>Client fingerprints (JA4, else JA3)</h2>\n" + filterBox("clients-table")
        html += "<table id=\"clients-table\" class=\"sortable\"><thead><tr><th data-type=\"text\">Fingerprint</th><th data-type=\"num\">Connections</th><th data-type=\"num\">Worst</th><th data-type=\"text\">Findings</th></tr></thead><tbody>\n"
        for group in audit.clients {
            html += "<tr><td><code>\(HTML.escape(group.key))</code></td><td>\(group.connections)</td>"
            html += worstCell(group.worst) + "<td>\(tallies(group.findings))</td></tr>\n"
        }
        return html + "</tbody></table></section>\n"
    }

    private static func worstCell(_ worst: Severity?) -> String {
        guard let worst else { return "<td data-sort=\"-1\">-</td>" }
        return "<td data-sort=\"\(worst.rawValue)\"><span class=\"sev \(worst)\">\(worst)</span></td>"
    }

    private static func tallies(_ findings: [AuditSummary.Tally]) -> String {
        findings.map { tally in
            "<a class=\"sev \(tally.severity)\" href=\"#finding-\(HTML.escape(tally.id))\" title=\"\(HTML.escape(tally.example))\">\(HTML.escape(tally.id)) ×\(tally.count)</a>"
        }.joined(separator: " ")
    }

    private static func filterBox(_ table: String) -> String {
        "<input class=\"filter\" type=\"search\" placeholder=\"Filter rows…\" data-filter-for=\"\(table)\" aria-label=\"Filter rows\">\n"
    }

    // MARK: Charts

    /// A horizontal bar chart in inline SVG: one bar per (label, count), scaled to `maximum` (default: the
    /// largest count).
    static func chart(_ title: String, _ bars: [(String, Int)], id: String, colored: Bool = false, maximum: Int? = nil)
        -> String
    {
        let top = max(1, maximum ?? bars.map(\.1).max() ?? 1)
        let rowHeight = 22
        let height = max(1, bars.count) * rowHeight + 8
        var svg = "<figure class=\"chart\" id=\"\(id)\"><figcaption>\(HTML.escape(title))</figcaption>"
        svg += "<svg role=\"img\" aria-label=\"\(HTML.escape(title))\" viewBox=\"0 0 600 \(height)\" width=\"600\" height=\"\(height)\">"
        if bars.isEmpty { svg += "<text x=\"0\" y=\"16\" class=\"label\">none seen</text>" }
        for (index, bar) in bars.enumerated() {
            let y = index * rowHeight + 4
            let width = bar.1 == 0 ? 0 : max(2, Int((Double(bar.1) / Double(top) * 200).rounded()))
            let fill = colored ? "sev-fill \(bar.0)" : "bar"
            // Labels get 330 of the 600 units (a 45-character suite name in 12 px type), bars 200.
            let label = bar.0.count > 48 ? String(bar.0.prefix(47)) + "…" : bar.0
            svg += "<text x=\"0\" y=\"\(y + 14)\" class=\"label\">\(HTML.escape(label))</text>"
            svg += "<rect x=\"340\" y=\"\(y + 2)\" width=\"\(width)\" height=\"16\" class=\"\(fill)\"><title>\(HTML.escape(bar.0)): \(bar.1)</title></rect>"
            svg += "<text x=\"\(346 + width)\" y=\"\(y + 14)\" class=\"count\">\(bar.1)</text>"
        }
        return svg + "</svg></figure>\n"
    }

    // MARK: Style and script

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1400px;padding:0 24px 40px;color:#1d2330;background:#fff}
        h1{margin:24px 0 4px}h2{margin-top:32px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
        .meta{color:#5a6372}.error{color:#b00020}
        .verdict{font-size:18px;font-weight:600;padding:10px 14px;border-radius:6px}
        .verdict.fail{background:#fdecec;color:#8a1020}.verdict.pass{background:#e8f6ec;color:#135c2a}
        .charts{display:flex;flex-wrap:wrap;gap:24px}.chart{margin:0}.chart figcaption{font-weight:600;margin-bottom:4px}
        .label,.count{font-size:12px;fill:#1d2330}.bar{fill:#3f6fd8}
        .sev-fill.critical{fill:#7a0019}.sev-fill.high{fill:#d3302f}.sev-fill.medium{fill:#e39b1b}.sev-fill.low{fill:#2f8fc4}.sev-fill.info{fill:#9aa3b2}
        table{border-collapse:collapse;width:100%;margin-top:8px;font-size:13px}
        th,td{border-bottom:1px solid #e6e9ef;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f3f5f9;cursor:pointer;user-select:none;position:sticky;top:0}
        th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
        .sev{display:inline-block;border-radius:3px;padding:0 5px;margin:1px 0;font-size:12px;text-decoration:none;color:#fff;background:#9aa3b2}
        .sev.critical{background:#7a0019}.sev.high{background:#d3302f}.sev.medium{background:#c98207}.sev.low{background:#2f8fc4}
        .filter{margin-top:8px;padding:4px 8px;width:320px;max-width:100%}
        dl.fixes dt{font-weight:600;margin-top:10px}dl.fixes dd{margin-left:16px}
        code{font-size:12px}footer{margin-top:40px;color:#5a6372;font-size:12px}
        """

    /// Sorting (click a header; `#sort=TABLE:COLUMN:asc|desc` in the address sorts on load) and filtering.
    static let script = """
        (function(){
        "use strict";
        function key(cell,type){var v=cell.getAttribute("data-sort");if(v===null){v=cell.textContent.trim();}
          if(type==="num"){var n=parseFloat(v);return isNaN(n)?-Infinity:n;}return v.toLowerCase();}
        function sortTable(table,column,descending){
          var th=table.tHead.rows[0].cells[column],type=th.getAttribute("data-type")||"text";
          var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
          rows.sort(function(a,b){var x=key(a.cells[column],type),y=key(b.cells[column],type);
            var c=x<y?-1:x>y?1:0;return descending?-c:c;});
          rows.forEach(function(r){body.appendChild(r);});
          Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.classList.remove("asc","desc");});
          th.classList.add(descending?"desc":"asc");}
        Array.prototype.forEach.call(document.querySelectorAll("table.sortable"),function(table){
          Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,column){
            th.addEventListener("click",function(){sortTable(table,column,th.classList.contains("asc"));});});});
        Array.prototype.forEach.call(document.querySelectorAll("input.filter"),function(input){
          input.addEventListener("input",function(){
            var table=document.getElementById(input.getAttribute("data-filter-for")),q=input.value.toLowerCase();
            Array.prototype.forEach.call(table.tBodies[0].rows,function(r){
              r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?"":"none";});});});
        var m=/sort=([\\w-]+):(\\d+):(asc|desc)/.exec(location.hash);
        if(m){var t=document.getElementById(m[1]);if(t){sortTable(t,parseInt(m[2],10),m[3]==="desc");}}
        var f=/filter=([\\w-]+):([^&]*)/.exec(location.hash);
        if(f){var i=document.querySelector("input[data-filter-for='"+f[1]+"']");
          if(i){i.value=decodeURIComponent(f[2]);i.dispatchEvent(new Event("input"));}}
        document.body.setAttribute("data-ready","1");
        console.log("tlsscope report ready");
        })();
        """
}

/// Escaping for HTML text and attribute values (quoted with `"`), done once where a value is written.
enum HTML {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters from the wire are shown as "?", as in the text format.
                if scalar.value < 0x20 || scalar.value == 0x7f { result += "?" } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
