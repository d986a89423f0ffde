import Foundation
import Testing

/// The habits tcpdump, tshark and testssl.sh users bring: short options, precise messages, help that
/// shows examples, exit statuses and defaults by name.
@Suite struct CommandLineHabitsTests {
    static let sample = Harness.pcaps.appendingPathComponent("tls13-x25519.pcap").path

    @Test func shortOptionsAsTcpdumpHasThem() throws {
        let named = try Harness.run(["analyze", "--format", "ndjson", Self.sample])
        let withR = try Harness.run(["analyze", "--format", "ndjson", "-r", Self.sample])
        #expect(withR.status == 0 && withR.stdout == named.stdout && !named.stdout.isEmpty)
        let filtered = try Harness.run(["analyze", "--format", "ndjson", "-f", "udp", "-r", Self.sample])
        #expect(filtered.status == 0 && filtered.stdout.isEmpty)
        for flag in ["-o", "-w"] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).ndjson")
            defer { try? FileManager.default.removeItem(at: file) }
            let written = try Harness.run(["analyze", "--format", "ndjson", flag, file.path, Self.sample])
            #expect(written.status == 0 && written.stdout.isEmpty)
            #expect(try Data(contentsOf: file) == named.stdout, "\(flag)")
        }
        let audit = try Harness.run(["audit", "--format", "ndjson", "-r", Self.sample])
        #expect(audit.status == 0 && audit.stdoutText.contains("\"type\":\"summary\""))
        #expect(try Harness.run(["analyze"]).stderr.contains("name at least one capture file"))
    }

    @Test func validationMessagesArePrecise() throws {
        let count = try Harness.run(["monitor", "-i", "lo", "--count", "-1"])
        #expect(count.status == 2 && count.stderr.contains("--count takes a positive number of connections, not -1"), "\(count.stderr)")
        let idle = try Harness.run(["monitor", "-i", "lo", "--idle-timeout", "0"])
        #expect(idle.status == 2 && idle.stderr.contains("--idle-timeout takes more than 0 and at most 86400 seconds"), "\(idle.stderr)")
        let top = try Harness.run(["audit", "--top", "-2", Self.sample])
        #expect(top.status == 2 && top.stderr.contains("--top takes 0 (all) or more, not -2"), "\(top.stderr)")
        #expect(try Harness.run(["audit", "--now", "-5", Self.sample]).status == 2)
        #expect(try Harness.run(["audit", "--now", "now", Self.sample]).status == 0)
        #expect(try Harness.run(["audit", "--now", "2026-01-01T09:00:00+09:00", Self.sample]).status == 0)
        // analyze has no --format sarif, audit has no --no-findings.
        #expect(try Harness.run(["analyze", "--format", "sarif", Self.sample]).stderr.contains("sarif is audit's"))
        #expect(try Harness.run(["audit", "--no-findings", Self.sample]).status == 2)
    }

    @Test func helpShowsExamplesExitStatusesAndDefaultsByName() throws {
        let root = try Harness.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdoutText.contains("Examples:") && root.stdoutText.contains("Exit status: 0 success; 1 audit"))
        let audit = try Harness.run(["audit", "--help"])
        #expect(audit.stdoutText.contains("(default: high)"))
        #expect(!audit.stdoutText.contains("default: 3"))
        #expect(!audit.stdoutText.contains("--no-findings"))
        #expect(audit.stdoutText.contains(".yaml"))
        #expect(audit.stdoutText.contains("-r <FILE>") && audit.stdoutText.contains("-i, --interface <IFACE>"))
        #expect(audit.stdoutText.contains("When several apply, the highest wins"))
        let analyze = try Harness.run(["analyze", "--help"])
        #expect(analyze.stdoutText.contains("-o, -w, --output <FILE>") && analyze.stdoutText.contains("-f, --filter <BPF>"))
        #expect(analyze.stdoutText.contains("tcpdump -U -w - -i eth0 port 443 | tlsscope analyze -"))
        let unknown = try Harness.run(["help", "nosuch"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no subcommand 'nosuch'"))
        #expect(try Harness.run(["help", "audit"]).status == 0)
    }

    /// --since/--until keep the frames captured in [since, until), as editcap -A/-B: frames keep their
    /// numbers in the file; a connection whose start falls before --since is seen midstream.
    @Test func sinceAndUntilSelectFramesByTime() throws {
        let capture = Harness.pcaps.appendingPathComponent("multi-connection.pcapng").path
        let all = try Harness.run(["analyze", "--format", "csv", "--fields", "ts,frames.first", capture]).stdoutText
        #expect(all.split(separator: "\r\n").count == 4)
        let window = try Harness.run([
            "analyze", "--format", "csv", "--fields", "ts,frames.first,frames.last", "--since", "2026-11-29T07:03:54Z",
            "--until", "2026-11-29 07:03:55Z", capture,
        ])
        #expect(window.status == 0)
        #expect(window.stdoutText == "ts,frames.first,frames.last\r\n2026-11-29T07:03:54.470777Z,21,32\r\n")
        let late = try Harness.run(["analyze", "--format", "ndjson", "--since", "2026-11-29T07:03:54.000Z", capture])
        #expect(late.stdoutText.split(separator: "\n").count == 2)
        #expect(try Harness.run(["analyze", "--since", "2026-12-01", "--until", "2026-11-01", capture]).stderr.contains("--since must be before --until"))
        #expect(try Harness.run(["analyze", "--since", "soon", capture]).status == 2)
        #expect(try Harness.run(["audit", "-i", "lo", "--since", "now"]).status == 2)
    }

    @Test func aJSONPolicySyntaxErrorSaysWhere() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("{\"name\": \"x\",\n  \"base\": intermediate}\n".utf8).write(to: file)
        let result = try Harness.run(["audit", "--policy", file.path, Self.sample])
        #expect(result.status == 2)
        #expect(result.stderr.contains("policy file is not valid JSON: invalid value at line 2, column 11"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}

/// Inputs as archives hold them: directories of rotated captures, gzip-compressed files.
@Suite struct CaptureArchiveTests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// `tool -c source > target` (gzip or zstd).
    static func compress(_ tool: String, _ source: URL, to target: URL) throws {
        let result = try Harness.runTool(URL(fileURLWithPath: tool), ["-q", "-c", source.path])
        #expect(result.status == 0)
        try result.stdout.write(to: target)
    }

    static let zstd: String? = ["/usr/bin/zstd", "/bin/zstd"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func directoriesAreReadRecursivelyInNameOrder() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let nested = root.appendingPathComponent("2026-12-01")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let hidden = root.appendingPathComponent(".partial")
        try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true)
        let first = Harness.pcaps.appendingPathComponent("tls12-resumption-id.pcap")
        let second = Harness.pcaps.appendingPathComponent("multi-connection.pcapng")
        try FileManager.default.copyItem(at: second, to: nested.appendingPathComponent("b.pcapng"))
        try FileManager.default.copyItem(at: first, to: nested.appendingPathComponent("a.pcap"))
        try FileManager.default.copyItem(at: first, to: hidden.appendingPathComponent("skipped.pcap"))
        try Data("notes".utf8).write(to: root.appendingPathComponent("README.txt"))
        let result = try Harness.run(["analyze", "--format", "ndjson", "--summary", root.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutText.split(separator: "\n").compactMap { try? Harness.jsonObject(Data($0.utf8)) as? [String: Any] }
        let sources = lines.compactMap { $0["source"] as? String }
        #expect(sources == Array(repeating: nested.appendingPathComponent("a.pcap").path, count: 2)
            + Array(repeating: nested.appendingPathComponent("b.pcapng").path, count: 3))
        #expect(lines.last?["files"] as? Int == 2)
        let empty = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: empty) }
        let none = try Harness.run(["analyze", empty.path])
        #expect(none.status == 2 && none.stderr.contains("a directory with no capture files"))
    }

    @Test func gzipCapturesAreReadDirectly() throws {
        try Self.checkCompressed(tool: "/bin/gzip", suffix: "gz", name: "gzip")
    }

    @Test(.enabled(if: zstd != nil, "the zstd tool is not installed (scripts/install-deps --test installs it)"))
    func zstdCapturesAreReadDirectly() throws {
        try Self.checkCompressed(tool: try #require(Self.zstd), suffix: "zst", name: "zstd")
    }

    /// The same records as from the plain file; cut short, the records before the cut, exit 3, and
    /// stderr says the compressed data is at fault.
    static func checkCompressed(tool: String, suffix: String, name: String) throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        for capture in ["tls12-resumption-id.pcap", "multi-connection.pcapng"] {
            let plain = Harness.pcaps.appendingPathComponent(capture)
            let compressed = root.appendingPathComponent(capture + "." + suffix)
            try Self.compress(tool, plain, to: compressed)
            let expected = try Harness.run(["analyze", "--format", "ndjson", plain.path])
            let actual = try Harness.run(["analyze", "--format", "ndjson", compressed.path])
            #expect(actual.status == 0, "\(actual.stderr)")
            #expect(actual.stdoutText == expected.stdoutText.replacingOccurrences(of: plain.path, with: compressed.path), "\(capture)")
        }
        // A capture of several connections, compressed in small blocks (zstd decompresses whole blocks).
        let source = Harness.pcaps.appendingPathComponent("multi-connection.pcapng")
        let whole = try Data(contentsOf: root.appendingPathComponent("multi-connection.pcapng." + suffix))
        let cut = root.appendingPathComponent("cut." + suffix)
        try whole.prefix(whole.count * 4 / 5).write(to: cut)
        let damaged = try Harness.run(["analyze", "--format", "ndjson", cut.path])
        let records = try Harness.run(["analyze", "--format", "ndjson", source.path]).stdoutText.split(separator: "\n")
        #expect([2, 3].contains(damaged.status), "\(damaged.stderr)")
        #expect(damaged.stderr.contains("the \(name) data is corrupt or truncated") || damaged.stderr.contains("Input/output error"), "\(damaged.stderr)")
        let got = damaged.stdoutText.split(separator: "\n")
        #expect(got.count < records.count)
        if damaged.status == 3 { #expect(got.count >= 1, "the connections before the cut") }
    }
}

/// The text view on a terminal: fitted to its width, coloured unless NO_COLOR; off a terminal, plain and
/// at natural widths. A pseudo-terminal comes from util-linux's `script`.
@Suite struct TerminalViewTests {
    static let script: String? = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// tlsscope's standard output on a pseudo-terminal of `columns` columns.
    static func onTerminal(_ arguments: [String], columns: Int, noColor: Bool) throws -> String {
        let command = ([Harness.binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = String(columns)
        environment["TERM"] = "xterm"
        if noColor { environment["NO_COLOR"] = "1" } else { environment.removeValue(forKey: "NO_COLOR") }
        let result = try Harness.runTool(
            URL(fileURLWithPath: try #require(script)), ["-qec", command, "/dev/null"], environment: environment)
        return result.stdoutText.replacingOccurrences(of: "\r", with: "")
    }

    static func withoutColor(_ text: String) -> String {
        text.replacing(/\u{1b}\[[0-9;]*m/, with: "")
    }

    @Test(.enabled(if: script != nil, "util-linux's script is not installed"))
    func fitsAndColoursATerminal() throws {
        let captures = ["tls12-weak-rsa1024-sha1.pcap", "tls12-ipv6.pcap"].map { Harness.pcaps.appendingPathComponent($0).path }
        let narrow = try Self.onTerminal(["analyze"] + captures, columns: 80, noColor: false)
        #expect(narrow.contains("\u{1b}[31mhigh 6"), "the worst severity in red")
        let rows = Self.withoutColor(narrow).split(separator: "\n").prefix(3)
        #expect(rows.first?.hasPrefix("SERVER ") == true, "\(rows)")
        for row in rows { #expect(row.count <= 80, "\(row)") }
        let plain = try Self.onTerminal(["analyze"] + captures, columns: 80, noColor: true)
        #expect(!plain.contains("\u{1b}["), "NO_COLOR")
        let wide = try Self.onTerminal(["analyze"] + captures, columns: 250, noColor: true)
        #expect(wide.hasPrefix("TIME                        PROTO CLIENT"))
        // Off a terminal: no colour, the natural columns, the findings column.
        let piped = try Harness.run(["analyze", "--format", "text"] + captures)
        #expect(!piped.stdoutText.contains("\u{1b}["))
        #expect(piped.stdoutText.hasPrefix("TIME                        PROTO CLIENT"))
        #expect(piped.stdoutText.contains(" high 6   established"))
        // The audit report colours severities on a terminal too.
        let audit = try Self.onTerminal(["audit", captures[0]], columns: 100, noColor: false)
        #expect(audit.contains("\u{1b}[31mhigh\u{1b}[0m"), "\(audit.prefix(400))")
    }
}
