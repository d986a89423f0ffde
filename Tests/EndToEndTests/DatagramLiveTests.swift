import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// DTLS through the command line: `monitor` and `audit --interface` on the loopback interface against a real
/// `openssl s_server -dtls1_2` / `s_client -dtls1_2` handshake, and `audit` on a DTLS 1.0 capture.
@Suite(.serialized) struct DatagramLiveTests {
    static let dtls10 = Harness.pcaps.appendingPathComponent("dtls10-openssl.pcap").path

    @Test func auditFailsOnADTLS10Capture() throws {
        let result = try AuditCommandTests.audit([Self.dtls10])
        #expect(result.findings["version-dtls10"] == "high", "\(result.findings)")
        #expect(result.status == 1)
        #expect(try AuditCommandTests.audit(["--fail-on", "critical", Self.dtls10]).status == 0)
        // analyze reports the same finding and does not fail on it.
        let analyze = try Harness.run(["analyze", "--format", "ndjson", Self.dtls10])
        #expect(analyze.status == 0)
        let first = try #require(analyze.stdoutText.split(separator: "\n").first)
        let record = try #require(try Harness.jsonObject(Data(first.utf8)) as? [String: Any])
        #expect(record["protocol"] as? String == "dtls")
        #expect(record["version"] as? String == "DTLS 1.0")
        let ids = (record["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids.contains("version-dtls10"), "\(ids)")
    }

    @Test(.enabled(if: MonitorTests.canCaptureLive, MonitorTests.liveReason), .timeLimit(.minutes(1)))
    func monitorSeesARealDTLS12Handshake() throws {
        let server = try DTLSServer.start()
        defer { server.stop() }
        // --immediate: per-frame delivery (TPACKET_V2); the other live tests run the default block mode.
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "udp port \(server.port)", "--count", "1", "--format", "ndjson",
            "--immediate",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        try server.connect()
        let line = try monitor.waitForLine(number: 0, timeout: 8)
        let record = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
        #expect(record["type"] as? String == "tls")
        #expect(record["transport"] as? String == "udp", "\(line)")
        #expect(record["protocol"] as? String == "dtls", "\(line)")
        #expect(record["version"] as? String == "DTLS 1.2", "\(line)")
        #expect(record["established"] as? Bool == true, "\(line)")
        #expect(record["server_port"] as? Int == Int(server.port))
        #expect(record["server_name"] as? String == "monitor.test")
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope did not stop after --count 1")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
    }

    @Test(.enabled(if: MonitorTests.canCaptureLive, MonitorTests.liveReason), .timeLimit(.minutes(1)))
    func liveAuditJudgesADTLSHandshake() throws {
        let server = try DTLSServer.start()
        defer { server.stop() }
        let audit = try BackgroundRun.start([
            "audit", "--interface", "lo", "--filter", "udp port \(server.port)", "--count", "1", "--format", "ndjson",
            "--fail-on", "critical",
        ])
        defer { audit.kill() }
        try audit.waitUntilListening()
        try server.connect(["-cipher", "ECDHE-ECDSA-AES256-SHA"])
        let status = try #require(audit.waitForExit(timeout: 8), "tlsscope audit did not stop after --count 1")
        #expect(status == 0, "stderr: \(audit.stderrText)")
        let lines = audit.lines
        #expect(lines.count == 2, "\(lines)")
        let record = try #require(try Harness.jsonObject(Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(record["protocol"] as? String == "dtls", "\(record)")
        let findings = (record["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        // A CBC suite with SHA-1 is outside Mozilla's intermediate profile.
        #expect(findings.contains("cipher-cbc"), "\(findings)")
        let summary = try #require(try Harness.jsonObject(Data((lines.last ?? "").utf8)) as? [String: Any])
        #expect(summary["audit"] != nil)
    }
}

/// QUIC through `monitor` on the loopback interface, against real aioquic peers (Fixtures/tools/quic_peer.py,
/// in the virtual environment `scripts/aioquic-venv` makes; `scripts/test` makes it).
@Suite(.serialized) struct QUICLiveTests {
    static var canRun: Bool { MonitorTests.canCaptureLive && QUICPeers.python != nil }
    static let reason: Comment =
        "live QUIC on lo needs root, openssl and aioquic in .build-aioquic (scripts/aioquic-venv makes it)"

    @Test(.enabled(if: canRun, reason), .timeLimit(.minutes(1)))
    func monitorSeesARealQUICHandshake() throws {
        let peers = try QUICPeers.start(versions: "v2,v1")
        defer { peers.stop() }
        let monitor = try BackgroundRun.start([
            "monitor", "--interface", "lo", "--filter", "udp port \(peers.port)", "--count", "1", "--format", "ndjson",
        ])
        defer { monitor.kill() }
        try monitor.waitUntilListening()
        try peers.connect()
        let line = try monitor.waitForLine(number: 0, timeout: 8)
        let record = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
        #expect(record["transport"] as? String == "udp", "\(line)")
        #expect(record["protocol"] as? String == "quic", "\(line)")
        #expect(record["version"] as? String == "TLS 1.3", "\(line)")
        #expect(record["established"] as? Bool == true, "\(line)")
        #expect(record["server_port"] as? Int == Int(peers.port))
        #expect(record["server_name"] as? String == "monitor.test")
        // The server's choice travels in EncryptedExtensions (Handshake space, not decrypted): null; the offer is seen.
        #expect(record["alpn"] is NSNull, "\(line)")
        let hello = try #require(record["client_hello"] as? [String: Any], "\(line)")
        #expect(hello["alpn"] as? [String] == ["h3"], "\(hello)")
        let quic = try #require(record["quic"] as? [String: Any], "\(line)")
        #expect(quic["version"] as? String == "2", "the client starts in v2: \(quic)")
        #expect((record["ja4"] as? String)?.hasPrefix("q13") == true, "\(line)")
        let status = try #require(monitor.waitForExit(timeout: 8), "tlsscope did not stop after --count 1")
        #expect(status == 0, "stderr: \(monitor.stderrText)")
    }
}

/// An aioquic server (one connection) on a free loopback UDP port with a fresh ECDSA P-256 certificate, and
/// the aioquic client that connects to it.
final class QUICPeers: @unchecked Sendable {
    let port: UInt16
    private let versions: String
    private let process: Process
    private let directory: URL

    /// The venv's python when aioquic is installed in it (`.build-aioquic`, or `$AIOQUIC_VENV`).
    static let python: String? = {
        let venv = ProcessInfo.processInfo.environment["AIOQUIC_VENV"]
            ?? Harness.packageRoot.appendingPathComponent(".build-aioquic").path
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python),
            (try? TLSServer.runQuietly(python, ["-c", "import aioquic"], timeout: 20)) == 0
        else { return nil }
        return python
    }()
    static let tool = Harness.fixtures.appendingPathComponent("tools/quic_peer.py").path

    private init(port: UInt16, versions: String, process: Process, directory: URL) {
        self.port = port
        self.versions = versions
        self.process = process
        self.directory = directory
    }

    private var certificate: String { directory.appendingPathComponent("cert.pem").path }

    static func start(versions: String) throws -> QUICPeers {
        guard let openssl = MonitorTests.openssl, let python else { throw HelperError("no openssl or aioquic") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-quic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let made = try TLSServer.runQuietly(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", certificate, "-days", "2", "-subj", "/CN=monitor.test", "-addext", "subjectAltName=DNS:monitor.test",
        ])
        guard made == 0 else { throw HelperError("openssl req failed (\(made))") }
        let port = try TLSServer.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            tool, "server", "127.0.0.1", "\(port)", "--cert", certificate, "--key", key, "--alpn", "h3",
            "--versions", versions, "--connections", "1", "--timeout", "30",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let peers = QUICPeers(port: port, versions: versions, process: process, directory: directory)
        // Ready when the UDP port is taken (nothing is sent, so nothing is captured).
        guard BackgroundRun.poll(timeout: 10, { !DTLSServer.canBindUDP(port: port) }) else {
            peers.stop()
            throw HelperError("the aioquic server did not start on port \(port)")
        }
        return peers
    }

    /// One client connection: a handshake, a line echoed on a stream, a close with NO_ERROR.
    func connect() throws {
        guard let python = Self.python else { throw HelperError("no aioquic") }
        let status = try TLSServer.runQuietly(
            python,
            [Self.tool, "client", "127.0.0.1", "\(port)", "--ca", certificate, "--sni", "monitor.test", "--alpn", "h3",
             "--versions", versions],
            timeout: 15)
        guard status == 0 else { throw HelperError("the aioquic client failed (\(status))") }
    }

    func stop() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `openssl s_server -dtls1_2` on a free loopback UDP port with a fresh ECDSA P-256 certificate.
final class DTLSServer: @unchecked Sendable {
    let port: UInt16
    private let process: Process
    private let directory: URL

    private init(port: UInt16, process: Process, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    static func start() throws -> DTLSServer {
        guard let openssl = MonitorTests.openssl else { throw HelperError("no openssl") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let made = try TLSServer.runQuietly(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", certificate, "-days", "2", "-subj", "/CN=monitor.test",
        ])
        guard made == 0 else { throw HelperError("openssl req failed (\(made))") }
        let port = try TLSServer.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-quiet",
            "-no_ticket",
        ]
        // Its standard input stays open (an s_server whose stdin ends shuts the association down).
        process.standardInput = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = DTLSServer(port: port, process: process, directory: directory)
        // Ready when the UDP port is taken (nothing is sent, so nothing is captured).
        guard BackgroundRun.poll(timeout: 5, { !canBindUDP(port: port) }) else {
            server.stop()
            throw HelperError("openssl s_server -dtls1_2 did not start on port \(port)")
        }
        return server
    }

    /// One `openssl s_client -dtls1_2` handshake; it leaves when its (empty) standard input ends.
    func connect(_ arguments: [String] = []) throws {
        guard let openssl = MonitorTests.openssl else { throw HelperError("no openssl") }
        let status = try TLSServer.runQuietly(
            openssl,
            ["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(port)", "-servername", "monitor.test"] + arguments,
            timeout: 8)
        guard status == 0 else { throw HelperError("openssl s_client -dtls1_2 \(arguments) failed (\(status))") }
    }

    func stop() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func canBindUDP(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
