import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `tlsscope monitor` on the loopback interface against real `openssl s_server` / `s_client` runs, and
/// the analyzer's report-at-handshake-end mode it relies on.
@Suite(.serialized) struct MonitorTests {
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static var isRoot: Bool { geteuid() == 0 }
    /// Live tests need to open `lo` (root) and an openssl binary for both ends.
    static var canCaptureLive: Bool { isRoot && openssl != nil }
    static let liveReason: Comment = "live capture on lo needs root and openssl"

    // MARK: Live capture

    @Test(.enabled(if: canCaptureLive, liveReason), .timeLimit(.minutes(1)))
    func countStopsAfterNRecordsOfRealHandshakes() throws {
        let server = try TLSServer.start()
        defer { server.stop() }
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "tcp port \(server.port)", "--count", "3",
            "--format", "ndjson",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()

        let clients: [(arguments: [String], version: String, suite: String)] = [
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
            (["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"], "TLS 1.3", "TLS_AES_256_GCM_SHA384"),
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
        ]
        for (index, client) in clients.enumerated() {
            try server.connect(client.arguments)
            // Each record appears before the next client starts: written at handshake end, flushed at once.
            let line = try monitor.waitForLine(number: index, timeout: 8)
            let record = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
            #expect(record["type"] as? String == "tls")
            #expect(record["version"] as? String == client.version, "\(line)")
            #expect(record["cipher_suite"] as? String == client.suite, "\(line)")
            #expect(record["server_port"] as? Int == Int(server.port))
            #expect(record["established"] as? Bool == true, "\(line)")
            #expect(record["server_name"] as? String == "monitor.test")
            // Live, the source is the interface and frames count the frames captured since the start.
            #expect(record["source"] as? String == "lo")
            let frames = try #require(record["frames"] as? [String: Int], "\(line)")
            #expect((frames["first"] ?? 0) >= 1 && (frames["last"] ?? 0) > (frames["first"] ?? 0), "\(line)")
            #expect((record["packets"] as? Int ?? 0) >= 4 && (record["community_id"] as? String)?.hasPrefix("1:") == true)
        }
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope did not stop after --count 3")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
        #expect(monitor.lines.count == 3, "\(monitor.lines)")
        // Without --summary, the kernel's counters still end the run, on stderr, as tcpdump's do.
        let last = monitor.stderrText.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("tlsscope: lo: "), "\(monitor.stderrText)")
        #expect(last.contains(" packets received, 0 dropped by the kernel, 0 dropped by the interface; 3 TLS connections reported"),
                "\(last)")
    }

    /// `monitor --keylog` follows the file as clients append to it (it starts empty): each live handshake,
    /// TLS 1.3 and 1.2, is opened and both Finished verified with secrets written after tlsscope started.
    @Test(.enabled(if: canCaptureLive, liveReason), .timeLimit(.minutes(1)))
    func keyLogIsFollowedLive() throws {
        let server = try TLSServer.start()
        defer { server.stop() }
        let keyLog = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-live-\(UUID().uuidString).keys")
        try Data().write(to: keyLog)
        defer { try? FileManager.default.removeItem(at: keyLog) }
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "tcp port \(server.port)", "--count", "2", "--format", "ndjson",
            "--keylog", keyLog.path,
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        let clients: [(arguments: [String], version: String)] = [
            (["-tls1_3", "-keylogfile", keyLog.path], "TLS 1.3"),
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-keylogfile", keyLog.path], "TLS 1.2"),
        ]
        for (index, client) in clients.enumerated() {
            try server.connect(client.arguments)
            let line = try monitor.waitForLine(number: index, timeout: 8)
            let record = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
            #expect(record["version"] as? String == client.version)
            let keys = try #require(record["keys"] as? [String: Any], "\(line)")
            let finished = try #require(keys["finished_verified"] as? [String: Any])
            #expect(finished["client"] as? Bool == true && finished["server"] as? Bool == true, "\(line)")
            if client.version == "TLS 1.3" {
                // The server's certificate, encrypted on the wire.
                #expect((record["certificates"] as? [[String: Any]])?.first?["subject"] as? String == "CN=monitor.test", "\(line)")
                // Its CertificateVerify, an ECDSA P-256 signature, checked with the certificate's key.
                let verify = (keys["certificate_verify"] as? [String: Any])?["server"] as? [String: Any]
                #expect(verify?["scheme"] as? String == "ecdsa_secp256r1_sha256" && verify?["verified"] as? Bool == true, "\(line)")
            }
        }
        let status = try #require(monitor.waitForExit(timeout: 8))
        #expect(status == 0, "stderr: \(monitor.stderrText)")
    }

    @Test(.enabled(if: canCaptureLive, liveReason), .timeLimit(.minutes(1)))
    func sigintFlushesAndEndsWithTheCaptureSummary() throws {
        let server = try TLSServer.start()
        defer { server.stop() }
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "tcp port \(server.port)", "--format", "ndjson", "--summary",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        // The client stays connected: the record must come at handshake end, not when the connection closes,
        // and show up while tlsscope still runs (flushed record by record through the pipe).
        let client = try server.openClient(["-tls1_3"])
        defer { client.close() }
        let first = try monitor.waitForLine(number: 0, timeout: 8)
        #expect(client.isConnected, "the client left before the record came")
        #expect(monitor.isRunning)
        monitor.signal(SIGINT)
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope did not stop on SIGINT")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
        let lines = monitor.lines
        #expect(lines.first == first)
        #expect(lines.count == 2, "\(lines)")
        var objects: [[String: Any]] = []
        for line in lines {
            objects.append(try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any], "\(line)"))
        }
        #expect(objects.first?["established"] as? Bool == true)
        let summary = try #require(objects.last)
        #expect(summary["type"] as? String == "summary")
        #expect(summary["tls_connections"] as? Int == 1)
        let capture = try #require(summary["capture"] as? [String: Any], "\(summary)")
        #expect(capture["interface"] as? String == "lo")
        #expect((capture["received"] as? Int ?? 0) >= 6, "\(capture)")
        #expect(capture["dropped"] as? Int == 0)
        #expect(capture["records_dropped"] as? Int == 0)
        let received = capture["received"] as? Int ?? -1
        #expect(monitor.stderrText.contains("tlsscope: lo: \(received) packets received, 0 dropped by the kernel"),
                "\(monitor.stderrText)")
    }

    @Test(.enabled(if: canCaptureLive, liveReason), .timeLimit(.minutes(1)))
    func liveAuditJudgesAndStopsOnCount() throws {
        let server = try TLSServer.start()
        defer { server.stop() }
        let monitor = try BackgroundRun.start([
            "audit", "--interface", "lo", "--filter", "tcp port \(server.port)", "--count", "1", "--format", "ndjson",
            "--fail-on", "critical",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        try server.connect(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA"])
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope audit did not stop after --count 1")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
        let lines = monitor.lines
        #expect(lines.count == 2, "\(lines)")
        let record = try #require(try Harness.jsonObject(Data((lines.first ?? "").utf8)) as? [String: Any])
        let findings = (record["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        // A CBC suite with SHA-1 is outside Mozilla's intermediate profile.
        #expect(!findings.isEmpty, "\(record)")
        let summary = try #require(try Harness.jsonObject(Data((lines.last ?? "").utf8)) as? [String: Any])
        #expect(summary["audit"] != nil)
        #expect(summary["capture"] != nil)
    }

    @Test(.enabled(if: isRoot, "needs root to capture at all"), .timeLimit(.minutes(1)))
    func sigtermStopsAJSONReportCleanly() throws {
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "tcp port 9", "--format", "json",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        // The document is opened at once, then closed properly on SIGTERM.
        #expect(BackgroundRun.poll(timeout: 5) { monitor.outputText.hasPrefix("{\"connections\": [") })
        monitor.signal(SIGTERM)
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope did not stop on SIGTERM")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
        let text = monitor.outputText
        let document = try #require(try Harness.jsonObject(Data(text.utf8)) as? [String: Any], "\(text)")
        let summary = try #require(document["summary"] as? [String: Any])
        #expect((summary["capture"] as? [String: Any])?["interface"] as? String == "lo")
    }

    /// Without privileges the error names the capabilities and the setcap command (run as nobody).
    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv"))
    func permissionDeniedNamesTheCapabilities() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", Harness.binary.path,
            "monitor", "--interface", "lo", "--duration", "1",
        ]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
        #expect(stderr.contains("CAP_NET_RAW") && stderr.contains("CAP_NET_ADMIN") && stderr.contains("setcap"), "\(stderr)")
    }

    /// A veth pair left down: exit 2, one line saying so.
    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"), "needs root and ip"))
    func interfaceDownExitsTwo() throws {
        let name = "tsdn\(getpid() % 100_000)"
        guard try TLSServer.runQuietly("/usr/sbin/ip", ["link", "add", name, "type", "veth", "peer", "name", name + "p"]) == 0
        else { throw HelperError("cannot create a veth pair") }
        defer { _ = try? TLSServer.runQuietly("/usr/sbin/ip", ["link", "del", name]) }
        let result = try Harness.run(["monitor", "--interface", name, "--duration", "1"])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(name): interface is not up"), "\(result.stderr)")
    }

    @Test(.enabled(if: isRoot, "needs root to capture at all"), .timeLimit(.minutes(1)))
    func anyInterfaceCaptures() throws {
        let result = try Harness.run([
            "monitor", "--interface", "any", "--filter", "tcp port 9", "--duration", "0.5", "--format", "ndjson",
            "--summary", "--no-promisc",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("listening on any"), "\(result.stderr)")
        let summary = try #require(try Harness.jsonObject(result.stdout) as? [String: Any])
        #expect((summary["capture"] as? [String: Any])?["interface"] as? String == "any")
    }

    @Test func unknownInterfaceExitsTwoWithOneLine() throws {
        let result = try Harness.run(["monitor", "--interface", "nosuchif0", "--format", "ndjson"])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("nosuchif0"))
        if Self.isRoot { #expect(result.stderr.contains("no such capture interface"), "\(result.stderr)") }
        #expect(result.stdout.isEmpty)
    }

    @Test func liveOptionsAreValidated() throws {
        #expect(try Harness.run(["monitor"]).status == 2)
        #expect(try Harness.run(["monitor", "--interface", "lo", "--count", "0"]).status == 2)
        #expect(try Harness.run(["monitor", "--interface", "lo", "--duration", "-1"]).status == 2)
        let both = try Harness.run(["audit", "--interface", "lo", CommandLineTests.sample.path])
        #expect(both.status == 2)
        #expect(try Harness.run(["audit", "--count", "1", CommandLineTests.sample.path]).status == 2)
    }

    @Test(.enabled(if: canCaptureLive, liveReason), .timeLimit(.minutes(1)))
    func durationStopsAQuietCapture() throws {
        let started = Date()
        let result = try Harness.run([
            "monitor", "--interface", "lo", "--filter", "tcp port 9", "--duration", "1", "--format", "json", "--quiet",
        ])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(elapsed >= 1 && elapsed < 5, "took \(elapsed) s")
        let document = try #require(try Harness.jsonObject(result.stdout) as? [String: Any])
        #expect((document["connections"] as? [Any])?.isEmpty == true)
        let summary = try #require(document["summary"] as? [String: Any])
        #expect((summary["capture"] as? [String: Any])?["interface"] as? String == "lo")
    }

    // MARK: Report at handshake end, offline

    /// Every fixture gives the same records whether reported at handshake end or at connection end, apart
    /// from how much of the connection they cover (duration); each exactly once.
    @Test func reportingAtHandshakeEndGivesTheSameRecordsEarlier() throws {
        var sawEarlier = false
        for name in Harness.fixtureCaptures() {
            let path = Harness.pcaps.appendingPathComponent(name).path
            let whole = try Self.analyze(path, atHandshakeEnd: false)
            let early = try Self.analyze(path, atHandshakeEnd: true)
            #expect(whole.count == early.count, "\(name)")
            let key = { (record: [String: Any]) in "\(record["ts"] ?? "") \(record["client_port"] ?? "")" }
            let earlyByKey = Dictionary(early.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
            for record in whole {
                let match = try #require(earlyByKey[key(record)], "\(name): \(key(record)) not reported early")
                let differing = Self.withoutExtent(record).keys.filter { field in
                    Self.canonical(record[field]) != Self.canonical(match[field])
                }
                #expect(differing.isEmpty, "\(name): \(key(record)): \(differing.map { "\($0): \(record[$0] ?? "nil") vs \(match[$0] ?? "nil")" })")
                let wholeDuration = try #require(record["duration"] as? Double)
                let earlyDuration = try #require(match["duration"] as? Double)
                #expect(earlyDuration <= wholeDuration, "\(name)")
                if earlyDuration < wholeDuration { sawEarlier = true }
            }
        }
        #expect(sawEarlier, "no fixture's record was emitted before its connection ended")
    }

    /// A JSON value as canonical text (sorted keys), for comparing decoded records.
    static func canonical(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(
            withJSONObject: ["v": value], options: [.sortedKeys, .fragmentsAllowed])
        else { return "nil" }
        return String(decoding: data, as: UTF8.self)
    }

    static func withoutExtent(_ record: [String: Any]) -> [String: Any] {
        var record = record
        for key in ["duration", "packets", "bytes"] { record[key] = nil }
        return record
    }

    /// The records of one capture as JSON objects, through the library (as the CLI would).
    static func analyze(_ path: String, atHandshakeEnd: Bool) throws -> [[String: Any]] {
        var source = try PcapSource(file: path)
        let decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        var options = AnalysisOptions()
        options.reportAtHandshakeEnd = atHandshakeEnd
        var analyzer = HandshakeAnalyzer(options: options)
        var records: [[String: Any]] = []
        var json = JSONWriter()
        func keep(_ record: HandshakeRecord) {
            json.reset()
            RecordEncoder.encode(record, into: &json)
            if let object = try? JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any] {
                records.append(object)
            }
        }
        // A damaged fixture is read up to the damage, as the CLI does.
        while case .frame(let frame)? = try? source.next() {
            analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder, emit: keep)
        }
        analyzer.finish(emit: keep)
        return records
    }
}

// MARK: Helpers

/// A tlsscope run in the background whose standard output is read line by line as it comes.
final class BackgroundRun: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var outLines: [String] = []
    private var partial = Data()
    private var errData = Data()
    /// The write end of standard input, when started with `feedingStandardInput`.
    private(set) var input: FileHandle?

    /// `feedingStandardInput`: standard input is a pipe the test writes to (`input`), not /dev/null.
    static func start(_ arguments: [String], feedingStandardInput: Bool = false) throws -> BackgroundRun {
        let run = BackgroundRun()
        let out = Pipe()
        let err = Pipe()
        run.process.executableURL = Harness.binary
        run.process.arguments = arguments
        run.process.standardOutput = out
        run.process.standardError = err
        if feedingStandardInput {
            let pipe = Pipe()
            run.process.standardInput = pipe
            run.input = pipe.fileHandleForWriting
        } else {
            run.process.standardInput = FileHandle.nullDevice
        }
        out.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            run.lock.lock()
            defer { run.lock.unlock() }
            run.partial.append(chunk)
            while let newline = run.partial.firstIndex(of: UInt8(ascii: "\n")) {
                run.outLines.append(String(decoding: run.partial[run.partial.startIndex..<newline], as: UTF8.self))
                run.partial.removeSubrange(run.partial.startIndex...newline)
            }
            if chunk.isEmpty { handle.readabilityHandler = nil }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            run.lock.lock()
            run.errData.append(chunk)
            run.lock.unlock()
            if chunk.isEmpty { handle.readabilityHandler = nil }
        }
        try run.process.run()
        return run
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return outLines
    }

    /// Everything written to standard output so far, the unfinished last line included.
    var outputText: String {
        lock.lock()
        defer { lock.unlock() }
        return (outLines + [String(decoding: partial, as: UTF8.self)]).joined(separator: "\n")
    }

    var stderrText: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errData, as: UTF8.self)
    }

    var isRunning: Bool { process.isRunning }

    /// Waits for tlsscope's "listening on" line: from then on, frames are captured.
    func waitUntilListening(timeout: TimeInterval = 10) throws {
        guard Self.poll(timeout: timeout, { self.stderrText.contains("listening on") || !self.isRunning }),
            isRunning
        else {
            throw HelperError("tlsscope is not capturing: \(stderrText)")
        }
    }

    /// The line with this index (0-based) of standard output, waiting for it up to `timeout`.
    func waitForLine(number: Int, timeout: TimeInterval) throws -> String {
        guard Self.poll(timeout: timeout, { self.lines.count > number }) else {
            throw HelperError("no line \(number + 1) on stdout after \(timeout) s; stderr: \(stderrText); lines: \(lines)")
        }
        return lines[number]
    }

    /// The exit status, or nil if the process still runs after `timeout`. Output is drained first.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        guard Self.poll(timeout: timeout, { !self.isRunning }) else { return nil }
        process.waitUntilExit()
        _ = Self.poll(timeout: 2) {
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.partial.isEmpty
        }
        Thread.sleep(forTimeInterval: 0.1)  // the pipe's last bytes
        return process.terminationStatus
    }

    func signal(_ number: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, number) }
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func poll(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}

struct HelperError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `openssl s_server` on a free loopback port with a fresh ECDSA P-256 certificate.
final class TLSServer: @unchecked Sendable {
    let port: UInt16
    private let process: Process
    private let directory: URL

    private init(port: UInt16, process: Process, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    static func start() throws -> TLSServer {
        guard let openssl = MonitorTests.openssl else { throw HelperError("no openssl") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-monitor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let made = try runQuietly(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", certificate, "-days", "2", "-subj", "/CN=monitor.test",
        ])
        guard made == 0 else { throw HelperError("openssl req failed (\(made))") }
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-www", "-quiet",
            "-no_ticket",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = TLSServer(port: port, process: process, directory: directory)
        // Ready when it accepts TCP (probed before tlsscope starts, so the probe is not captured).
        guard BackgroundRun.poll(timeout: 5, { canConnect(port: port) }) else {
            server.stop()
            throw HelperError("openssl s_server did not start on port \(port)")
        }
        return server
    }

    /// One `openssl s_client` handshake (standard input empty: it closes right after).
    func connect(_ arguments: [String]) throws {
        guard let openssl = MonitorTests.openssl else { throw HelperError("no openssl") }
        let status = try Self.runQuietly(
            openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "monitor.test"] + arguments,
            timeout: 8)
        guard status == 0 else { throw HelperError("openssl s_client \(arguments) failed (\(status))") }
    }

    /// An `openssl s_client` that stays connected (its standard input held open) until `close()`.
    func openClient(_ arguments: [String]) throws -> OpenClient {
        guard let openssl = MonitorTests.openssl else { throw HelperError("no openssl") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "monitor.test"] + arguments
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return OpenClient(process: process, input: input)
    }

    func stop() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func runQuietly(_ executable: String, _ arguments: [String], timeout: TimeInterval = 10) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if !BackgroundRun.poll(timeout: timeout, { !process.isRunning }) {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A port the kernel has just handed out for 127.0.0.1 (free again once closed).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HelperError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
        guard bound else { throw HelperError("bind failed") }
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard named else { throw HelperError("getsockname failed") }
        return UInt16(bigEndian: address.sin_port)
    }

    static func canConnect(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A connected `openssl s_client` (see `TLSServer.openClient`).
final class OpenClient: @unchecked Sendable {
    private let process: Process
    private let input: Pipe

    init(process: Process, input: Pipe) {
        self.process = process
        self.input = input
    }

    var isConnected: Bool { process.isRunning }

    func close() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
