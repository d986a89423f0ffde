import Foundation
import Testing

/// `tlsscope audit`: the same captures judged under each policy, policy files, and the exit status.
@Suite struct AuditCommandTests {
    static let weak = Harness.pcaps.appendingPathComponent("tls12-dhe1024-3des.pcap").path
    static let modernTLS13 = Harness.pcaps.appendingPathComponent("tls13-x25519.pcap").path

    /// The finding ids and severities of the first record, and the exit status.
    static func audit(_ arguments: [String]) throws -> (status: Int32, findings: [String: String], summary: [String: Any]) {
        let result = try Harness.run(["audit", "--format", "ndjson"] + arguments)
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count >= 2, "stderr: \(result.stderr)")
        var findings: [String: String] = [:]
        if let first = lines.first, let record = try Harness.jsonObject(Data(first.utf8)) as? [String: Any],
            let list = record["findings"] as? [[String: Any]]
        {
            for finding in list {
                if let id = finding["id"] as? String { findings[id] = finding["severity"] as? String }
            }
        }
        let last = try #require(lines.last)
        let summary = try #require(try Harness.jsonObject(Data(last.utf8)) as? [String: Any])
        return (result.status, findings, summary)
    }

    @Test func samCaptureUnderEachBuiltInPolicy() throws {
        let modern = try Self.audit(["--policy", "modern", Self.weak])
        let intermediate = try Self.audit(["--policy", "intermediate", Self.weak])
        let old = try Self.audit(["--policy", "old", Self.weak])
        #expect(modern.findings["cipher-3des"] == "high")
        #expect(intermediate.findings["cipher-3des"] == "high")
        #expect(old.findings["cipher-3des"] == "medium")
        #expect(intermediate.findings["dh-weak"] == "high")
        #expect(intermediate.findings["cipher-cbc"] == "medium")
        #expect(modern.findings["cipher-cbc"] == "high")
        #expect(modern.findings["policy-version"] == "medium", "TLS 1.2 is outside modern")
        #expect(intermediate.findings["policy-version"] == nil)
        #expect(modern.status == 1 && intermediate.status == 1)
        #expect(old.status == 0, "nothing reaches high under old")
        let audit = try #require(intermediate.summary["audit"] as? [String: Any])
        #expect(audit["policy"] as? String == "intermediate")
        #expect(audit["worst"] as? String == "high")
        let servers = try #require(audit["servers"] as? [[String: Any]])
        #expect(servers.first?["server_port"] as? Int == 44319)
    }

    @Test func failOnSetsTheExitStatus() throws {
        #expect(try Self.audit(["--fail-on", "critical", Self.weak]).status == 0)
        #expect(try Self.audit(["--fail-on", "high", Self.weak]).status == 1)
        #expect(try Self.audit(["--fail-on", "high", Self.modernTLS13]).status == 0)
        #expect(try Self.audit(["--fail-on", "info", Self.modernTLS13]).status == 1, "pq-not-offered is info")
        #expect(try Harness.run(["audit", "--fail-on", "severe", Self.weak]).status == 2)
    }

    @Test func customPolicyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("lab.json")
        try Data(
            """
            {"name": "lab", "base": "intermediate", "severity": {"cipher-cbc": "high"},
             "disabled": ["pq-not-offered"],
             "exceptions": [{"id": "cipher-3des", "server_name": "example.test", "reason": "legacy lab box"}]}
            """.utf8
        ).write(to: json)
        let custom = try Self.audit(["--policy", json.path, Self.weak])
        #expect(custom.findings["cipher-3des"] == nil, "allow-listed with a reason")
        // What an exception silenced is counted, never silent.
        let customAudit = try #require(custom.summary["audit"] as? [String: Any])
        #expect(customAudit["suppressed"] as? [String: Int] == ["cipher-3des": 1])
        let customText = try Harness.run(["audit", "--format", "text", "--policy", json.path, Self.weak])
        #expect(customText.stdoutText.contains("suppressed by the policy's exceptions (not counted above): cipher-3des 1"))
        #expect(custom.findings["cipher-cbc"] == "high", "severity override")
        #expect(custom.findings["pq-not-offered"] == nil, "disabled")
        #expect(custom.findings["dh-weak"] == "high")

        let yaml = directory.appendingPathComponent("lab.yaml")
        try Data("name: lab-yaml\nbase: old\nseverity:\n  cipher-3des: critical\n".utf8).write(to: yaml)
        let fromYAML = try Self.audit(["--policy", yaml.path, Self.weak])
        #expect(fromYAML.findings["cipher-3des"] == "critical")
        #expect(fromYAML.status == 1)

        let broken = directory.appendingPathComponent("broken.json")
        try Data(#"{"versions": ["TLS 1.2"], "colour": "blue"}"#.utf8).write(to: broken)
        let result = try Harness.run(["audit", "--policy", broken.path, Self.weak])
        #expect(result.status == 2)
        #expect(result.stderr.contains("colour"))
        #expect(try Harness.run(["audit", "--policy", "paranoid", Self.weak]).status == 2)
    }

    @Test func nowOverridesCaptureTimeForCertificates() throws {
        let atCapture = try Self.audit([Self.weak])
        #expect(atCapture.findings["cert-expired"] == nil)
        let later = try Self.audit(["--now", "2099-01-01T00:00:00Z", Self.weak])
        #expect(later.findings["cert-expired"] == "high")
        #expect(try Harness.run(["audit", "--now", "yesterday", Self.weak]).status == 2)
    }

    /// Issue #9: a year that overflows 64-bit seconds trapped (exit 132, a backtrace), and an impossible
    /// date was accepted. Both are now exit 2 with one line on stderr.
    @Test func impossibleNowIsOneLineAndExitTwo() throws {
        for now in ["999999999999999-01-01T00:00:00Z", "2025-02-31T00:00:00Z", "2025-02-31"] {
            let result = try Harness.run(["audit", "--now", now, Self.weak])
            #expect(result.status == 2, "\(now): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(now): \(result.stderr)")
            #expect(result.stderr.contains("--now \(now)"))
            #expect(result.stdout.isEmpty)
        }
        #expect(try Harness.run(["audit", "--now", "2025-02-28", Self.weak]).status != 2)
    }

    @Test func analyzeNoFindingsLeavesThemEmpty() throws {
        let result = try Harness.run(["analyze", "--format", "ndjson", "--no-findings", Self.weak])
        let record = try #require(try Harness.jsonObject(Data(result.stdoutText.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect((record["findings"] as? [Any])?.isEmpty == true)
    }

    /// The text audit is a report, not a table: a headline with the --fail-on count, the share of servers
    /// each profile passes, a roll-up by finding id with what to change, then the worst servers (--top);
    /// info findings only in the roll-up; exit 1 says why on stderr.
    @Test func textReportLeadsWithTheRollUp() throws {
        let files = Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") }.map { Harness.pcaps.appendingPathComponent($0).path }
        let result = try Harness.run(["audit", "--format", "text"] + files)
        #expect(result.status == 1)
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("audit (policy intermediate, fail on high): ") == true, "\(lines.first ?? "")")
        #expect(lines.first?.contains(" findings at or above high on ") == true)
        #expect(!result.stdoutText.contains("CIPHER SUITE"), "no per-connection table over files")
        #expect(lines[1].hasPrefix("profiles passed: modern "))
        let rollupStart = try #require(lines.firstIndex(of: "findings by id, worst first"))
        #expect(lines[rollupStart + 1].hasPrefix("  SEVERITY FINDING"))
        #expect(lines[rollupStart + 2].hasPrefix("  high     "))
        #expect(lines[rollupStart + 3].hasPrefix("           fix: "))
        #expect(result.stdoutText.contains("  info     pq-not-offered"))
        // Detail: 10 servers by default, none of their info findings.
        let serversLine = try #require(lines.first { $0.hasPrefix("servers, worst first (") })
        #expect(serversLine.hasSuffix("; --top 0 for all)"), "\(serversLine)")
        let detail = lines.drop { $0 != serversLine }.dropFirst().prefix { !$0.isEmpty }
        #expect(detail.filter { $0.hasPrefix("  ") && !$0.hasPrefix("    ") }.count == 10)
        #expect(!detail.contains { $0.contains("pq-not-offered") })
        #expect(lines.count < 200, "\(lines.count) lines")
        // The stderr line says what failed the run.
        #expect(result.stderr.hasSuffix(" servers (policy intermediate)\n"), "\(result.stderr)")
        #expect(result.stderr.hasPrefix("tlsscope: ") && result.stderr.contains(" findings at or above high on "))
        let all = try Harness.run(["audit", "--format", "text", "--top", "0"] + files)
        let allServers = try #require(all.stdoutText.split(separator: "\n").first { $0.hasPrefix("servers, worst first (") })
        #expect(allServers.hasPrefix("servers, worst first (all "))
        let three = try Harness.run(["audit", "--format", "text", "--top", "3"] + files)
        #expect(three.stdoutText.contains("servers, worst first (3 of "))
        #expect(try Harness.run(["audit", "--top", "-1", Self.weak]).status == 2)
        // Nothing at or above the threshold: exit 0 and a quiet stderr.
        let clean = try Harness.run(["audit", "--format", "text", "--fail-on", "critical", Self.weak])
        #expect(clean.status == 0 && clean.stderr.isEmpty, "\(clean.stderr)")
        #expect(clean.stdoutText.hasPrefix("audit (policy intermediate, fail on critical): nothing at or above critical (worst finding high)"))
    }

    /// The JSON audit carries the same roll-up, with each id's remediation, and the profiles' shares.
    @Test func jsonAuditHasTheRollUpAndProfiles() throws {
        let result = try Self.audit([Self.weak])
        let audit = try #require(result.summary["audit"] as? [String: Any])
        let byFinding = try #require(audit["by_finding"] as? [[String: Any]])
        #expect(byFinding.first?["severity"] as? String == "high")
        #expect(byFinding.allSatisfy { ($0["remediation"] as? String)?.isEmpty == false })
        let dh = try #require(byFinding.first { $0["id"] as? String == "dh-weak" })
        #expect(dh["connections"] as? Int == 1 && dh["servers"] as? Int == 1 && dh["clients"] as? Int == 1)
        #expect((dh["example_servers"] as? [[String: Any]])?.first?["server_port"] as? Int == 44319)
        let profiles = try #require(audit["profiles"] as? [String: [String: Int]])
        #expect(profiles["modern"] == ["servers": 1, "servers_passing": 0, "connections": 1, "connections_passing": 0])
        #expect(profiles["old"]?["servers_passing"] == 0, "3DES is medium under old: fails it")
        #expect(audit["suppressed"] as? [String: Int] == [:])
    }

    /// `--format sarif`: a SARIF 2.1.0 log with a rule per finding id and a result per server and finding
    /// (levels from severities), loaded by an independent SARIF object model when the tests' venv has it.
    @Test func sarifForCodeScanning() throws {
        let result = try Harness.run(["audit", "--format", "sarif", Self.weak])
        #expect(result.status == 1)
        let log = try #require(try Harness.jsonObject(result.stdout) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "tlsscope")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(rules.count >= 45)
        let intermediate = try Self.audit([Self.weak]).findings
        #expect(Set(results.compactMap { $0["ruleId"] as? String }) == Set(intermediate.keys))
        for item in results {
            let index = try #require(item["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == item["ruleId"] as? String)
            let severity = intermediate[item["ruleId"] as? String ?? ""]
            let level = item["level"] as? String
            #expect(level == (["critical", "high"].contains(severity) ? "error" : severity == "medium" ? "warning" : "note"))
            let location = (item["locations"] as? [[String: Any]])?.first
            let uri = ((location?["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any])?["uri"]
            #expect(uri as? String == Self.weak)
        }
        #expect(result.stderr.contains("at or above high"))
        #expect(try Harness.run(["analyze", "--format", "sarif", Self.weak]).status == 2)

        guard let python = QUICPeers.python,
            (try? TLSServer.runQuietly(python, ["-c", "import sarif_pydantic"], timeout: 20)) == 0
        else { return }  // the structural checks above still ran; CI's venv has sarif-pydantic
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).sarif")
        try result.stdout.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = "import sys; from sarif_pydantic import Sarif; s = Sarif.model_validate_json(open(sys.argv[1]).read()); "
            + "assert s.version == '2.1.0' and len(s.runs[0].results) == \(results.count) and s.runs[0].tool.driver.name == 'tlsscope'"
        #expect(try TLSServer.runQuietly(python, ["-c", check, file.path], timeout: 30) == 0)
    }
}
