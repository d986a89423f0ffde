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
