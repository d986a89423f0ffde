import Foundation
import Testing

/// integrations/spark/tlsscope_spark.py on a real Spark (pyspark from PyPI, Java 17), in `local[2]` and in
/// `local-cluster[2,1,1024]` (separate executor JVMs and Python workers), over the fixtures, generated
/// captures and a damaged one: its Spark SQL totals equal `tlsscope report` over the per-file records and the
/// sum of the per-file `analyze --summary`; its summary, through `tlsscope report`, is the report of the
/// records; every file has its line in files.ndjson; the Parquet holds every record.
@Suite(.serialized) struct SparkJobTests {
    static let venv = Harness.packageRoot.appendingPathComponent(".build-spark")
    static let sparkSubmit = venv.appendingPathComponent("bin/spark-submit")
    static let python = venv.appendingPathComponent("bin/python")
    static let job = Harness.packageRoot.appendingPathComponent("integrations/spark/tlsscope_spark.py")
    static let schema = Harness.packageRoot.appendingPathComponent("integrations/spark/record.schema.json")

    static var javaFound: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/java")
        }
    }
    static var ready: Bool { FileManager.default.isExecutableFile(atPath: sparkSubmit.path) && javaFound }
    static let reason: Comment = "needs pyspark in .build-spark (scripts/spark-venv) and java (openjdk-17-jre-headless)"

    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = venv.appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["PYSPARK_PYTHON"] = python.path
        environment["SPARK_LOCAL_IP"] = "127.0.0.1"
        return environment
    }

    /// Fixtures (the damaged truncated.pcap among them), three captures of 21 connections each, made by
    /// bench/replicate.py from fixtures (each copy with its own addresses), and a file that is no capture.
    static func input(in directory: URL) throws -> [URL] {
        let input = directory.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: input.appendingPathComponent("day2"), withIntermediateDirectories: true)
        var files: [URL] = []
        for name in Harness.fixtureCaptures() {
            let target = input.appendingPathComponent(name)
            try FileManager.default.copyItem(at: Harness.pcaps.appendingPathComponent(name), to: target)
            files.append(target)
        }
        for seed in ["tls13-x25519", "tls12-ecdhe-rsa-chain", "tls12-dhe1024-3des"] {
            let source = Harness.pcaps.appendingPathComponent("\(seed).pcap")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
            let target = input.appendingPathComponent("day2/generated-\(seed).pcap")
            let made = try Harness.runTool(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["python3", Harness.packageRoot.appendingPathComponent("bench/replicate.py").path, source.path, target.path, "\(size * 20)"])
            #expect(made.status == 0, "replicate.py: \(made.stderr)")
            files.append(target)
        }
        let garbage = input.appendingPathComponent("day2/garbage.pcap")
        var generator = SplitMix(seed: 0x9a4b)
        try Data((0..<300).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: garbage)
        files.append(garbage)
        return files
    }

    static func runJob(master: String, input: URL, output: URL) throws {
        let run = try Harness.runTool(
            sparkSubmit,
            // No web UI in a test (its start is a second of the run); the job picks its own partition count.
            ["--master", master, "--conf", "spark.ui.enabled=false", job.path, "--binary", Harness.binary.path, "--input", input.path, "--output", output.path],
            environment: environment)
        #expect(run.status == 0, "spark-submit \(master): \(run.stderr.suffix(3000))")
    }

    static func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try Harness.jsonObject(Data($0.utf8)) as? [String: Any])
        }
    }

    static func table(_ summary: [String: Any], _ key: String) -> [String: Int] {
        summary[key] as? [String: Int] ?? [:]
    }

    @Test(.enabled(if: ready, reason), arguments: ["local[2]", "local-cluster[2,1,1024]"])
    func jobAgreesWithTheDirectRuns(master: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-spark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try Self.input(in: directory)
        let output = directory.appendingPathComponent("out")
        try Self.runJob(master: master, input: directory.appendingPathComponent("archive"), output: output)

        // The direct runs: analyze --summary per file, all of it in one NDJSON file. Each file goes in through
        // standard input, as the job streams it (a pcapng's secrets blocks are read from named files only), and
        // its records are named after it, as the job names them.
        var allRecords = Data()
        var summed: [String: [String: Int]] = [:]
        var summedFiles = 0
        for file in files {
            let run = try Harness.run(["analyze", "--format", "ndjson", "--summary", "-"], stdin: try Data(contentsOf: file))
            allRecords.append(Data(run.stdoutText.replacingOccurrences(
                of: "\"source\":\"-\"", with: "\"source\":\"" + file.path + "\"").utf8))
            let last = try #require(run.stdoutText.split(separator: "\n").last)
            let summary = try #require(try Harness.jsonObject(Data(last.utf8)) as? [String: Any])
            summedFiles += summary["files"] as? Int ?? 0
            for key in ["versions", "cipher_suites", "groups", "findings"] {
                summed[key, default: [:]].merge(Self.table(summary, key), uniquingKeysWith: +)
            }
        }
        let recordsFile = directory.appendingPathComponent("all.ndjson")
        try allRecords.write(to: recordsFile)
        let reportRun = try Harness.run(["report", "--format", "json", recordsFile.path])
        let report = try #require((try Harness.jsonObject(reportRun.stdout) as? [String: Any])?["summary"] as? [String: Any])

        let sparkLines = try Self.lines(output.appendingPathComponent("summary.ndjson"))
        #expect(sparkLines.count == 1)
        let spark = try #require(sparkLines.first)
        #expect(spark["type"] as? String == "summary")
        for key in ["versions", "cipher_suites", "groups", "findings"] {
            #expect(Self.table(spark, key) == Self.table(report, key), "\(master): \(key) of Spark vs tlsscope report")
            #expect(Self.table(spark, key) == summed[key] ?? [:], "\(master): \(key) of Spark vs the per-file summaries")
        }
        #expect(spark["files"] as? Int == summedFiles, "files read, as tlsscope counts them (not the garbage one)")
        #expect(summedFiles == files.count - 1)
        #expect((spark["tls_connections"] as? Int ?? 0) >= 130)
        #expect(spark["tls_connections"] as? Int == report["tls_connections"] as? Int)
        #expect(spark["packets"] as? Int == report["packets"] as? Int)

        // Spark's summary through `tlsscope report` is the report of the records (sources are URIs there).
        let merged = try Harness.run(["report", "--format", "json", output.appendingPathComponent("summary.ndjson").path])
        var fromSpark = try #require((try Harness.jsonObject(merged.stdout) as? [String: Any])?["summary"] as? [String: Any])
        var fromRecords = report
        for key in ["elapsed_seconds", "errors", "flows"] {
            fromSpark[key] = nil
            fromRecords[key] = nil
        }
        func withoutSources(_ summary: [String: Any]) -> [String: Any] {
            var summary = summary
            guard var audit = summary["audit"] as? [String: Any], let servers = audit["servers"] as? [[String: Any]] else { return summary }
            audit["servers"] = servers.map { server in
                var server = server
                server["source"] = (server["source"] as? String).map { URL(string: $0)?.path ?? $0 }.map { URL(fileURLWithPath: $0).lastPathComponent }
                return server
            }
            audit["policy"] = nil
            summary["audit"] = audit
            return summary
        }
        let differing = ReportCommandTests.differences(withoutSources(fromSpark), withoutSources(fromRecords))
        #expect(differing.isEmpty, "\(master): \(differing.prefix(5).joined(separator: "; "))")

        // One line per file; the damaged capture keeps the record before its damage.
        let fileLines = try Self.lines(output.appendingPathComponent("files.ndjson"))
        #expect(fileLines.count == files.count)
        let damaged = try #require(fileLines.first { ($0["path"] as? String ?? "").hasSuffix("/truncated.pcap") })
        #expect(damaged["exit_status"] as? Int == 3)
        #expect(damaged["records"] as? Int == 1)
        #expect((damaged["error"] as? String ?? "").contains("damaged or truncated at byte offset"))
        let notCapture = try #require(fileLines.first { ($0["path"] as? String ?? "").hasSuffix("/garbage.pcap") })
        #expect(notCapture["exit_status"] as? Int == 2)
        #expect((notCapture["error"] as? String ?? "").contains("not a pcap or pcapng capture"), "\(notCapture)")
        #expect(fileLines.filter { $0["exit_status"] as? Int != 0 }.count == 2)

        // The Parquet: every record, partitioned by date, with each record's file as its source.
        let check = try Harness.runTool(
            Self.python,
            ["-c", """
                import sys
                from pyspark.sql import SparkSession
                spark = SparkSession.builder.master("local[1]").getOrCreate()
                frame = spark.read.parquet(sys.argv[1])
                print(frame.count(), frame.select("date").distinct().count(), frame.select("source").distinct().count(),
                      frame.where(frame.source.endswith("generated-tls13-x25519.pcap")).count())
                """, output.appendingPathComponent("records").path],
            environment: Self.environment)
        let counts = check.stdoutText.split(separator: "\n").last.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        #expect(counts.count == 4, "\(check.stderr.suffix(2000))")
        if counts.count == 4 {
            #expect(counts[0] == spark["tls_connections"] as? Int)
            #expect(counts[1] >= 1)
            #expect(counts[2] == fileLines.filter { ($0["records"] as? Int ?? 0) > 0 }.count)
            #expect(counts[3] == 21)
        }
    }

    /// record.schema.json (the one place the record's schema is written down, which the job turns into its
    /// Spark schema) accepts every record of the fixtures and of the shared captures, and names every key.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python.path), reason))
    func schemaDescribesEveryRecord() throws {
        var inputs = [Harness.pcaps.path]
        if FileManager.default.fileExists(atPath: Harness.ja4Fixtures.path) { inputs.append(Harness.ja4Fixtures.appendingPathComponent("pcap").path) }
        let run = try Harness.run(["analyze", "--format", "ndjson"] + inputs)
        let check = try Harness.runTool(
            Self.python,
            ["-c", """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1]))
                validator = jsonschema.Draft202012Validator(schema)
                count = 0
                for line in sys.stdin:
                    record = json.loads(line)
                    for error in validator.iter_errors(record):
                        print("invalid:", "/".join(map(str, error.path)), error.message[:200])
                    count += 1
                print("records", count)
                """, Self.schema.path],
            stdin: run.stdout)
        #expect(check.stdoutText.contains("records "), "\(check.stderr)")
        #expect(!check.stdoutText.contains("invalid:"), "\(check.stdoutText.prefix(2000))")
        let count = Int(check.stdoutText.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(count >= 60)
    }
}
