import Foundation
import Testing

/// The command line's contract: exit statuses, formats, standard input, filters.
@Suite struct CommandLineTests {
    static let sample = Harness.pcaps.appendingPathComponent("tls13-x25519.pcap")

    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func notACaptureExitsTwoWithOneLineNamingTheFile() throws {
        let file = try Self.temporaryFile("notes.txt", Array("this is not a capture file\n".utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Harness.run(["analyze", "--format", "ndjson", file.path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(file.path))
    }

    @Test func missingFileExitsTwo() throws {
        let result = try Harness.run(["analyze", "/nonexistent/capture.pcap"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/capture.pcap"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Harness.run(["analyze"]).status == 2)
        #expect(try Harness.run(["analyze", "--format", "yaml", Self.sample.path]).status == 2)
        #expect(try Harness.run(["frobnicate"]).status == 2)
    }

    @Test func versionAndHelpExitZero() throws {
        let version = try Harness.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdoutText.contains("0."))
        let help = try Harness.run(["analyze", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("--filter"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sample.path)))
    func truncatedCaptureExitsThreeAndKeepsEarlierRecords() throws {
        let truncated = Harness.pcaps.appendingPathComponent("truncated.pcap")
        let result = try Harness.run(["analyze", "--format", "ndjson", "--summary", truncated.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("truncated.pcap"))
        #expect(result.stderr.contains("offset"), "stderr should name the byte offset: \(result.stderr)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count >= 2, "the connection before the damage and the summary")
        let lastLine = try #require(lines.last)
        let summary = try #require(try Harness.jsonObject(Data(lastLine.utf8)) as? [String: Any])
        #expect(summary["type"] as? String == "summary")
        #expect((summary["errors"] as? [String])?.count == 1)
        let first = try #require(try Harness.jsonObject(Data(lines[0].utf8)) as? [String: Any])
        #expect(first["type"] as? String == "tls")
    }

    /// `--threads`: the binary's output (all fixtures in one run, and standard input, whose frames a sharded
    /// run copies) is the same whatever N; out-of-range counts and live captures are refused.
    @Test func threadsGiveTheSameBytes() throws {
        let files = Harness.fixtureCaptures().filter { $0 != "truncated.pcap" }.map { Harness.pcaps.appendingPathComponent($0).path }
        let one = try Harness.run(["analyze", "--threads", "1", "--format", "ndjson"] + files)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdoutText.split(separator: "\n").count > 40)
        for threads in ["2", "4"] {
            let sharded = try Harness.run(["analyze", "--threads", threads, "--format", "ndjson"] + files)
            #expect(sharded.status == 0)
            #expect(sharded.stdout == one.stdout, "--threads \(threads)")
        }
        let viaStdin = try Harness.run(["analyze", "--threads", "3", "--format", "ndjson", "-"], stdin: try Data(contentsOf: Self.sample))
        let fromFile = try Harness.run(["analyze", "--threads", "1", "--format", "ndjson", Self.sample.path])
        #expect(viaStdin.status == 0 && !viaStdin.stdout.isEmpty)
        // The records name their source: the path, or - for standard input.
        #expect(viaStdin.stdoutText == fromFile.stdoutText.replacing("\"source\":\"\(Self.sample.path)\"", with: "\"source\":\"-\""))
        let audited = try Harness.run(["audit", "--threads", "2", "--format", "ndjson"] + files)
        let auditedOnce = try Harness.run(["audit", "--threads", "1", "--format", "ndjson"] + files)
        // The audit's summary line says how long the run took: compared without it.
        func withoutElapsed(_ text: String) -> String {
            text.replacing(/"elapsed_seconds":[0-9.e+-]+/, with: "")
        }
        #expect(audited.status == auditedOnce.status)
        #expect(audited.stdout.count > 1000)
        #expect(withoutElapsed(audited.stdoutText) == withoutElapsed(auditedOnce.stdoutText))
        let zero = try Harness.run(["analyze", "--threads", "0", Self.sample.path])
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("--threads"))
        let live = try Harness.run(["monitor", "--interface", "lo", "--threads", "2"])
        #expect(live.status == 2)
        #expect(live.stderr.contains("--threads applies to capture files"))
    }

    @Test func standardInputGivesTheSameRecordsAsTheFile() throws {
        let fromFile = try Harness.run(["analyze", "--format", "ndjson", Self.sample.path])
        let fromStdin = try Harness.run(["analyze", "--format", "ndjson", "-"], stdin: try Data(contentsOf: Self.sample))
        #expect(fromFile.status == 0 && fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(!fromFile.stdout.isEmpty)
        #expect(fromFile.stdoutText.contains("\"source\":\"\(Self.sample.path)\""))
        #expect(fromStdin.stdoutText == fromFile.stdoutText.replacing("\"source\":\"\(Self.sample.path)\"", with: "\"source\":\"-\""))
    }

    /// `tcpdump -U -w - | tlsscope analyze -`: a record is written as soon as its connection ends, while the
    /// pipe is still open, not when the input ends; the whole output is the file's.
    @Test func recordsStreamFromAPipe() throws {
        let capture = Harness.pcaps.appendingPathComponent("tls12-resumption-id.pcap")
        let fromFile = try Harness.run(["analyze", "--format", "ndjson", capture.path])
        let records = fromFile.stdoutText.split(separator: "\n")
        #expect(records.count == 2)
        let first = try #require(try Harness.jsonObject(Data(records[0].utf8)) as? [String: Any])
        let lastFrame = try #require((first["frames"] as? [String: Int])?["last"])
        // Classic pcap: a 24-byte file header, then a 16-byte header per frame (captured length at 8, little
        // endian in this capture) and the frame.
        let bytes = [UInt8](try Data(contentsOf: capture))
        #expect(bytes.prefix(4) == [0xd4, 0xc3, 0xb2, 0xa1])
        var end = 24
        for _ in 0..<lastFrame {
            let length = Int(bytes[end + 8]) | Int(bytes[end + 9]) << 8 | Int(bytes[end + 10]) << 16 | Int(bytes[end + 11]) << 24
            end += 16 + length
        }
        #expect(end < bytes.count)
        for format in ["ndjson", "text"] {
            let run = try BackgroundRun.start(["analyze", "--format", format, "-"], feedingStandardInput: true)
            defer { run.kill() }
            let input = try #require(run.input)
            input.write(Data(bytes[0..<end]))
            // The first connection has ended: its record comes out with the pipe still open.
            let line = try run.waitForLine(number: format == "text" ? 1 : 0, timeout: 10)
            #expect(run.isRunning)
            if format == "ndjson" { #expect(line == String(records[0]).replacing("\"source\":\"\(capture.path)\"", with: "\"source\":\"-\"")) }
            input.write(Data(bytes[end...]))
            try input.close()
            #expect(run.waitForExit(timeout: 10) == 0, "\(run.stderrText)")
            if format == "ndjson" {
                #expect(run.lines.joined(separator: "\n") == fromFile.stdoutText.dropLast().replacing("\"source\":\"\(capture.path)\"", with: "\"source\":\"-\""))
            }
        }
    }

    @Test func severalFilesInOneRun() throws {
        let second = Harness.pcaps.appendingPathComponent("tls12-ecdhe-rsa-chain.pcap")
        let result = try Harness.run(["analyze", "--format", "json", Self.sample.path, second.path])
        #expect(result.status == 0)
        let object = try #require(try Harness.jsonObject(result.stdout) as? [String: Any])
        let connections = try #require(object["connections"] as? [[String: Any]])
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["files"] as? Int == 2)
        #expect(connections.count == summary["tls_connections"] as? Int)
        let versions = Set(connections.compactMap { $0["version"] as? String })
        #expect(versions.contains("TLS 1.3") && versions.contains("TLS 1.2"))
        // Each record names the file it came from, and its frames are numbered within that file.
        let alone = try Harness.run(["analyze", "--format", "json", second.path])
        let aloneConnections = try #require((try Harness.jsonObject(alone.stdout) as? [String: Any])?["connections"] as? [[String: Any]])
        let fromSecond = connections.filter { $0["source"] as? String == second.path }
        #expect(fromSecond.count == aloneConnections.count && !fromSecond.isEmpty)
        #expect(fromSecond.map { $0["frames"] as? [String: Int] } == aloneConnections.map { $0["frames"] as? [String: Int] })
        #expect(connections.filter { $0["source"] as? String == Self.sample.path }.count == connections.count - fromSecond.count)
    }

    @Test func bpfFilterSelectsConnections() throws {
        let all = try Harness.run(["analyze", "--format", "ndjson", Self.sample.path])
        let none = try Harness.run(["analyze", "--format", "ndjson", "--filter", "udp", Self.sample.path])
        #expect(all.status == 0 && none.status == 0)
        #expect(!all.stdout.isEmpty)
        #expect(none.stdout.isEmpty)
        let bad = try Harness.run(["analyze", "--filter", "tcp port nonsense((", Self.sample.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }

    @Test func textFormatIsATableWithASummary() throws {
        let result = try Harness.run(["analyze", "--format", "text", Self.sample.path])
        #expect(result.status == 0)
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.first?.hasPrefix("TIME") == true)
        #expect(result.stdoutText.contains("TLS 1.3"))
        #expect(result.stdoutText.contains("TLS connection(s)"))
    }

    @Test func outputFileOption() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-\(UUID().uuidString).ndjson")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try Harness.run(["analyze", "--format", "ndjson", "--summary", "--output", out.path, Self.sample.path])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        let written = try String(contentsOf: out, encoding: .utf8)
        #expect(written.contains("\"type\":\"summary\"") || written.contains("\"type\": \"summary\""))
    }
}
