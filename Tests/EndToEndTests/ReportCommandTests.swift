import Foundation
import Testing

/// `tlsscope report`: records written earlier give the summary and audit a direct run gives; summaries of
/// parts merge into the summary of the whole; bad lines are reported by number and the rest still counted.
@Suite struct ReportCommandTests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static var captures: [String] { Harness.fixtureCaptures().map { Harness.pcaps.appendingPathComponent($0).path } }

    /// The summary object of `--format json` output (tlsscope's own or report's), without the run time.
    static func summary(_ result: Harness.Result) throws -> [String: Any] {
        let document = try #require(try Harness.jsonObject(result.stdout) as? [String: Any], "stderr: \(result.stderr)")
        var summary = try #require(document["summary"] as? [String: Any])
        summary["elapsed_seconds"] = nil
        if let errors = summary["errors"] as? [String] { summary["errors"] = errors.sorted() }
        return summary
    }

    /// Records as `analyze --summary` writes them, in a file.
    static func records(of captures: [String], in directory: URL, name: String = "records.ndjson") throws -> URL {
        let run = try Harness.run(["analyze", "--format", "ndjson", "--summary"] + captures)
        #expect(run.status == 0 || run.status == 3, "stderr: \(run.stderr)")
        let file = directory.appendingPathComponent(name)
        try run.stdout.write(to: file)
        return file
    }

    /// Where two JSON values differ (key paths), so that a failure names the keys, not two whole dumps.
    static func differences(_ lhs: Any?, _ rhs: Any?, at path: String = "") -> [String] {
        if let left = lhs as? [String: Any], let right = rhs as? [String: Any] {
            return Set(left.keys).union(right.keys).sorted().flatMap { differences(left[$0], right[$0], at: path + "." + $0) }
        }
        if let left = lhs as? [Any], let right = rhs as? [Any], left.count == right.count {
            return zip(left, right).enumerated().flatMap { differences($1.0, $1.1, at: path + "[\($0)]") }
        }
        switch (lhs, rhs) {
        case (nil, nil): return []
        case (let left as NSObject, let right as NSObject) where left.isEqual(right): return []
        default: return ["\(path): \(lhs.map { "\($0)" } ?? "missing") vs \(rhs.map { "\($0)" } ?? "missing")"]
        }
    }

    static func expectEqual(_ lhs: [String: Any], _ rhs: [String: Any], _ comment: Comment) {
        let differing = differences(lhs, rhs)
        #expect(differing.isEmpty, "\(comment): \(differing.prefix(5).joined(separator: "; "))")
    }

    /// Over every fixture, `report --policy P` of `analyze`'s records (judged under intermediate) writes the
    /// summary `audit --policy P` writes from the captures, audit object and all — for each built-in profile
    /// and a policy file with overrides, a disabled id and an exception.
    @Test func rejudgedRecordsGiveTheAuditOfTheCaptures() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let records = try Self.records(of: Self.captures, in: directory)
        let lab = directory.appendingPathComponent("lab.json")
        try Data(
            """
            {"name": "lab", "base": "intermediate", "severity": {"cipher-cbc": "high"}, "disabled": ["pq-not-offered"],
             "exceptions": [{"id": "cipher-3des", "server_name": "example.test", "reason": "legacy lab box"}]}
            """.utf8
        ).write(to: lab)
        for policy in ["modern", "intermediate", "old", lab.path] {
            let direct = try Harness.run(["audit", "--format", "json", "--policy", policy] + Self.captures)
            let report = try Harness.run(["report", "--format", "json", "--policy", policy, records.path])
            #expect(direct.status == report.status || (direct.status == 3 && report.status == 1), "\(policy): \(direct.status) vs \(report.status)")
            let expected = try Self.summary(direct)
            let got = try Self.summary(report)
            #expect(got["audit"] != nil)
            Self.expectEqual(got, expected, "policy \(policy)")
        }
    }

    /// The same over the real-world captures of ../shared/fixtures/ja4 (browsers, curl, QUIC, and servers
    /// on the internet), when that folder is there.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: Harness.ja4Fixtures.path), "../shared/fixtures/ja4 is not beside the package"))
    func rejudgedRealWorldRecords() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let captures = Harness.ja4Fixtures.appendingPathComponent("pcap").path
        let records = try Self.records(of: [captures], in: directory)
        for policy in ["modern", "intermediate", "old"] {
            let direct = try Self.summary(try Harness.run(["audit", "--format", "json", "--policy", policy, captures]))
            let report = try Self.summary(try Harness.run(["report", "--format", "json", "--policy", policy, records.path]))
            #expect((report["tls_connections"] as? Int ?? 0) > 100)
            Self.expectEqual(report, direct, "policy \(policy)")
        }
    }

    /// Without --policy the findings stay as recorded: the summary is analyze's own, plus the audit roll-up.
    @Test func recordsAsRecordedGiveTheAnalyzeSummary() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let records = try Self.records(of: Self.captures, in: directory)
        var direct = try Self.summary(try Harness.run(["analyze", "--format", "json"] + Self.captures))
        var report = try Self.summary(try Harness.run(["report", "--format", "json", records.path]))
        let audit = try #require(report["audit"] as? [String: Any])
        #expect(audit["policy"] as? String == "as recorded")
        let servers = try #require(audit["servers"] as? [[String: Any]])
        #expect(servers.reduce(0) { $0 + ($1["connections"] as? Int ?? 0) } == direct["tls_connections"] as? Int)
        report["audit"] = nil
        direct["audit"] = nil
        Self.expectEqual(report, direct, "report of analyze's records")
    }

    /// Summaries merge: for random splits of the fixtures into two parts, the summaries `audit` writes of
    /// each part (alone, without records) merged by `report` equal `audit`'s summary of all of them.
    @Test func summariesOfTwoPartsMergeIntoTheWhole() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = Self.captures
        let whole = try Self.summary(try Harness.run(["audit", "--format", "json"] + all))
        var generator = SplitMix(seed: 0x7115_5c0e)
        for round in 0..<6 {
            var first: [String] = []
            var second: [String] = []
            for capture in all { if generator.next() & 1 == 0 { first.append(capture) } else { second.append(capture) } }
            var parts: [String] = []
            for (index, part) in [first, second].enumerated() where !part.isEmpty {
                let run = try Harness.run(["audit", "--format", "ndjson"] + part)
                let last = try #require(run.stdoutText.split(separator: "\n").last)
                let file = directory.appendingPathComponent("part-\(round)-\(index).ndjson")
                try Data((last + "\n").utf8).write(to: file)
                parts.append(file.path)
            }
            let merged = try Self.summary(try Harness.run(["report", "--format", "json"] + parts))
            // One run over every file keeps flows open from one file to the next (and times them out there);
            // separate runs end them at each file's end: the flow table's counters are the runs' own.
            var expected = whole
            expected["flows"] = nil
            var got = merged
            got["flows"] = nil
            Self.expectEqual(got, expected, "round \(round): \(first.count) + \(second.count) captures")
        }
    }

    /// A line that is not a record is reported with its number (exit 3) and the others still count; a file
    /// with no records at all (a capture given by mistake) is exit 2; an empty file is a run with no TLS.
    @Test func badInputIsReportedByLine() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let records = try Self.records(of: [Harness.pcaps.appendingPathComponent("multi-connection.pcapng").path], in: directory)
        var lines = try String(contentsOf: records, encoding: .utf8).split(separator: "\n").map(String.init)
        let recordCount = lines.count - 1
        lines.insert("{\"type\": \"tls\", \"established\": \"yes\"", at: 1)
        lines.insert("not json", at: 2)
        let damaged = directory.appendingPathComponent("damaged.ndjson")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: damaged)
        let result = try Harness.run(["report", "--format", "json", damaged.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("damaged.ndjson: line 2: "), "\(result.stderr)")
        #expect(result.stderr.contains("damaged.ndjson: line 3: not"), "\(result.stderr)")
        let summary = try Self.summary(result)
        #expect(summary["tls_connections"] as? Int == recordCount)

        let capture = try Harness.run(["report", Harness.pcaps.appendingPathComponent("tls13-x25519.pcap").path])
        #expect(capture.status == 2)
        #expect(capture.stderr.contains("no tlsscope records"), "\(capture.stderr)")
        let missing = try Harness.run(["report", directory.appendingPathComponent("nope.ndjson").path])
        #expect(missing.status == 2 && missing.stderr.contains("cannot open"))
        let empty = directory.appendingPathComponent("empty.ndjson")
        try Data().write(to: empty)
        let nothing = try Harness.run(["report", "--format", "json", empty.path])
        #expect(nothing.status == 0)
        #expect(try Self.summary(nothing)["tls_connections"] as? Int == 0)
    }

    /// Standard input, the exit status of --fail-on, and each format.
    @Test func formatsAndExitStatus() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let weak = Harness.pcaps.appendingPathComponent("tls12-dhe1024-3des.pcap").path
        let records = try Self.records(of: [weak], in: directory)
        let data = try Data(contentsOf: records)
        let high = try Harness.run(["report", "--format", "ndjson", "-"], stdin: data)
        #expect(high.status == 1)
        #expect(high.stderr.contains("at or above high"), "\(high.stderr)")
        let line = try #require(try Harness.jsonObject(high.stdout) as? [String: Any])
        #expect(line["type"] as? String == "summary")
        #expect(try Harness.run(["report", "--fail-on", "critical", records.path]).status == 0)
        let text = try Harness.run(["report", "--format", "text", "--policy", "old", records.path])
        #expect(text.stdoutText.contains("cipher-3des"), "\(text.stdoutText)")
        #expect(text.status == 0, "nothing reaches high under old")
        let sarif = try Harness.run(["report", "--format", "sarif", records.path])
        let document = try #require(try Harness.jsonObject(sarif.stdout) as? [String: Any])
        #expect(document["version"] as? String == "2.1.0")
        let html = try Harness.run(["report", "--format", "html", records.path])
        #expect(html.stdoutText.hasPrefix("<!DOCTYPE html>"))
        #expect(html.stdoutText.contains("cipher-3des"))
        let usage = try Harness.run(["report", "--now", "2030-01-01", records.path])
        #expect(usage.status == 2, "--now without --policy")
    }
}

/// A small deterministic generator for the splits (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var value = state
        value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
        value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
        return value ^ (value >> 31)
    }
}
