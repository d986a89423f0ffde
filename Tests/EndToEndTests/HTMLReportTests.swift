import Foundation
import Testing

/// `--format html` in a real browser: Debian's chromium, headless, loads the page from a file (no
/// network), runs its script with no console error, and the DOM it leaves has the expected rows; sorting
/// and filtering are driven through the address (`#sort=TABLE:COLUMN:asc|desc`, `#filter=TABLE:TEXT`),
/// which runs the same code as a click.
@Suite struct HTMLReportTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    struct Page {
        var dom: String
        var console: [String]
    }

    /// Loads `file` (with `fragment`) in headless chromium: the DOM after its scripts ran, and its
    /// console messages.
    static func load(_ file: URL, fragment: String = "") throws -> Page {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let result = try Harness.runTool(
            URL(fileURLWithPath: try #require(chromium)),
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
                "--enable-logging=stderr", "--v=0", "--dump-dom", file.absoluteString + fragment,
            ])
        let console = result.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Page(dom: result.stdoutText, console: console)
    }

    static func html(_ arguments: [String]) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).html")
        let result = try Harness.run(arguments + ["--format", "html", "-o", file.path])
        #expect([0, 1].contains(result.status), "\(result.stderr)")
        return file
    }

    /// The body rows of the table with this id, as the browser left them (hidden ones marked).
    static func rows(_ dom: String, table: String) -> [String] {
        guard let start = dom.range(of: "<table id=\"\(table)\""),
            let body = dom.range(of: "<tbody>", range: start.upperBound..<dom.endIndex),
            let end = dom.range(of: "</tbody>", range: body.upperBound..<dom.endIndex)
        else { return [] }
        return dom[body.upperBound..<end.lowerBound].components(separatedBy: "</tr>").filter { $0.contains("<tr") }
    }

    /// The text of a row's cell `column` (tags stripped).
    static func cell(_ row: String, _ column: Int) -> String {
        let cells = row.components(separatedBy: "<td").dropFirst()
        guard column < cells.count else { return "" }
        let inner = cells[cells.index(cells.startIndex, offsetBy: column)]
        let text = inner.drop { $0 != ">" }.dropFirst()
        return String(text.replacing(/<[^>]*>/, with: "").prefix { $0 != "\n" }).replacingOccurrences(of: "</td", with: "")
    }

    static var captures: [String] {
        Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") }.map { Harness.pcaps.appendingPathComponent($0).path }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (scripts/install-deps --test installs it)"))
    func auditPageLoadsSortsAndFilters() throws {
        let file = try Self.html(["audit"] + Self.captures)
        defer { try? FileManager.default.removeItem(at: file) }
        let json = try Harness.run(["audit", "--format", "json"] + Self.captures)
        let audit = try #require(((try Harness.jsonObject(json.stdout) as? [String: Any])?["summary"] as? [String: Any])?["audit"] as? [String: Any])
        let servers = try #require(audit["servers"] as? [[String: Any]])
        let byFinding = try #require(audit["by_finding"] as? [[String: Any]])

        let page = try Self.load(file, fragment: "#sort=servers-table:2:desc")
        #expect(page.dom.contains("data-ready=\"1\""), "the page's script ran to its end")
        #expect(page.console.count == 1 && page.console.first?.contains("tlsscope report ready") == true, "\(page.console)")
        #expect(!page.dom.contains("http://") && !page.dom.contains("https://"), "nothing loaded from the network")
        let serverRows = Self.rows(page.dom, table: "servers-table")
        #expect(serverRows.count == servers.count)
        let connections = serverRows.map { Int(Self.cell($0, 2)) ?? -1 }
        #expect(connections == connections.sorted(by: >), "sorted by connections, descending")
        #expect(connections.first == servers.map { $0["connections"] as? Int ?? 0 }.max())
        #expect(Self.rows(page.dom, table: "findings-table").count == byFinding.count)
        #expect(Self.rows(page.dom, table: "clients-table").count == (audit["clients"] as? [Any])?.count)
        for item in byFinding.prefix(3) {
            let id = try #require(item["id"] as? String)
            #expect(page.dom.contains("id=\"fix-\(id)\""), "\(id) links to its remediation")
        }
        #expect(page.dom.contains("id=\"chart-versions\"") && page.dom.contains("id=\"chart-pq\""))

        let ascending = try Self.load(file, fragment: "#sort=servers-table:2:asc")
        let up = Self.rows(ascending.dom, table: "servers-table").map { Int(Self.cell($0, 2)) ?? -1 }
        #expect(up == up.sorted() && up != connections, "sorting is the script's, not the page's order")

        let filtered = try Self.load(file, fragment: "#filter=servers-table:weak.example.test")
        let shown = Self.rows(filtered.dom, table: "servers-table").filter { !$0.contains("display: none") }
        #expect(shown.count == 1 && shown.first?.contains("weak.example.test") == true, "\(shown.count)")
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (scripts/install-deps --test installs it)"))
    func analyzePageListsEveryConnection() throws {
        let file = try Self.html(["analyze"] + Self.captures)
        defer { try? FileManager.default.removeItem(at: file) }
        let records = try Harness.run(["analyze", "--format", "ndjson"] + Self.captures).stdoutText.split(separator: "\n")
        let page = try Self.load(file)
        #expect(page.console.count == 1, "\(page.console)")
        #expect(Self.rows(page.dom, table: "connections-table").count == records.count)
        #expect(Self.rows(page.dom, table: "servers-table").count > 10)
    }

    /// The console check above can fail: a page whose script throws is caught.
    @Test(.enabled(if: chromium != nil, "chromium is not installed (scripts/install-deps --test installs it)"))
    func aScriptErrorIsSeen() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("<!DOCTYPE html><html><body><script>notDefined();</script></body></html>".utf8).write(to: file)
        let page = try Self.load(file)
        #expect(page.console.contains { $0.contains("Uncaught ReferenceError") }, "\(page.console)")
    }
}
