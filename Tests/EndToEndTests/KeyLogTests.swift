import Crypto
import Foundation
import Testing

/// `--keylog` end to end (issue #14): every key-logged fixture (openssl, curl, gnutls; TLS 1.0–1.3; client
/// certificates, HelloRetryRequest, resumption) opened and both Finished verified; TLS 1.3 certificates the
/// same as tshark decrypts with the same log; a wrong key log a `keylog-mismatch`, never a wrong certificate.
@Suite struct KeyLogTests {
    static let keyLogs = Harness.fixtures.appendingPathComponent("keylog")

    /// The TCP key-logged fixtures (the DTLS and QUIC ones carry logs too, which `--keylog` does not open yet).
    static let fixtures: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: keyLogs.path)) ?? []
        return names.filter { $0.hasPrefix("keylog-") && $0.hasSuffix(".keys") }.map { String($0.dropLast(5)) }.sorted()
    }()

    static func records(_ arguments: [String]) throws -> (records: [[String: Any]], result: Harness.Result) {
        let result = try Harness.run(["analyze", "--format", "ndjson"] + arguments)
        let records = try result.stdoutText.split(separator: "\n").map {
            try #require(try Harness.jsonObject(Data($0.utf8)) as? [String: Any])
        }
        return (records, result)
    }

    static func analyze(_ name: String, keys: URL? = nil, extra: [String] = []) throws -> [[String: Any]] {
        let keys = keys ?? keyLogs.appendingPathComponent(name + ".keys")
        let (records, result) = try records(
            ["--keylog", keys.path] + extra + [Harness.pcaps.appendingPathComponent(name + ".pcap").path])
        #expect(result.status == 0, "\(name): \(result.stderr)")
        return records
    }

    @Test func fixturesCoverTheIssue() {
        // Each suite of TLS 1.3, TLS 1.2 GCM/ChaCha20/CBC, client certificates, HRR, resumption, three clients.
        for name in [
            "keylog-tls13-aes128gcm", "keylog-tls13-aes256gcm", "keylog-tls13-chacha20", "keylog-tls12-aes128gcm",
            "keylog-tls12-chacha20", "keylog-tls12-cbc", "keylog-tls12-cbc-etm", "keylog-tls10-cbc",
            "keylog-tls13-client-cert", "keylog-tls13-hrr", "keylog-tls13-resumption", "keylog-tls12-resumption",
            "keylog-curl-tls13", "keylog-gnutls-tls13", "keylog-gnutls-tls12", "keylog-tls13-0rtt",
        ] {
            #expect(Self.fixtures.contains(name), "\(name)")
        }
    }

    @Test(arguments: fixtures)
    func everyFinishedVerifies(_ name: String) throws {
        let records = try Self.analyze(name)
        #expect(!records.isEmpty)
        for record in records {
            let keys = try #require(record["keys"] as? [String: Any], "\(name): keys")
            #expect(keys["source"] as? String == "keylog")
            let finished = try #require(keys["finished_verified"] as? [String: Any])
            #expect(finished["client"] as? Bool == true, "\(name): client Finished")
            #expect(finished["server"] as? Bool == true, "\(name): server Finished")
            #expect((keys["problems"] as? [String])?.isEmpty == true, "\(name): \(keys["problems"] ?? "")")
            #expect(keys["secrets"] is NSNull, "secrets only with --show-secrets")
            let steps = try #require(keys["steps"] as? [[String: Any]])
            #expect(steps.count >= 2)
            let findings = (record["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(!findings.contains("keylog-mismatch"))
            let messages = record["messages"] as? [String] ?? []
            #expect(messages.contains("client:finished") && messages.contains("server:finished"), "\(name): \(messages)")
            #expect(!messages.contains("client:encrypted_handshake"), "\(name): \(messages)")
            // A full TLS 1.3 handshake shows its server's certificates once opened, and its CertificateVerify
            // signature verifies with the leaf's key (the client's too when it sent one).
            let verify = keys["certificate_verify"] as? [String: Any]
            if record["version"] as? String == "TLS 1.3", record["resumed"] as? Bool == false {
                #expect((record["certificates"] as? [Any])?.count == 2, "\(name)")
                #expect(messages.contains("server:certificate_verify"))
                #expect((verify?["server"] as? [String: Any])?["verified"] as? Bool == true, "\(name)")
                if !(record["client_certificates"] as? [Any] ?? []).isEmpty {
                    #expect((verify?["client"] as? [String: Any])?["verified"] as? Bool == true, "\(name)")
                }
            } else {
                #expect(verify?["server"] is NSNull)
            }
        }
    }

    @Test func tls13ClientCertificatesAndALPNComeOutOfTheEncryptedFlight() throws {
        let record = try #require(try Self.analyze("keylog-tls13-client-cert").first)
        #expect(record["alpn"] as? String == "h2")
        #expect((record["client_certificates"] as? [Any])?.count == 2)
        let without = try #require(try Self.records([Harness.pcaps.appendingPathComponent("keylog-tls13-client-cert.pcap").path]).records.first)
        #expect(without["keys"] is NSNull)
        #expect((without["certificates"] as? [Any])?.isEmpty == true)
        #expect(without["alpn"] is NSNull)
    }

    /// The TLS 1.3 chains tlsscope opens are the ones tshark decrypts with the same key log (SHA-256 of each DER).
    @Test(
        .enabled(if: FingerprintAgreementTests.tshark != nil, "needs tshark (scripts/install-deps --test)"),
        arguments: fixtures)
    func certificatesAgreeWithTshark(_ name: String) throws {
        let tshark = try #require(FingerprintAgreementTests.tshark)
        let pcap = Harness.pcaps.appendingPathComponent(name + ".pcap").path
        let listing = try Harness.runTool(tshark, [
            "-r", pcap, "-o", "tls.keylog_file:" + Self.keyLogs.appendingPathComponent(name + ".keys").path,
            "-Y", "tls.handshake.certificate", "-T", "fields", "-E", "occurrence=a", "-e", "tls.handshake.certificate",
        ])
        var theirs: [String] = []
        for line in listing.stdoutText.split(separator: "\n") {
            for der in line.split(separator: ",") {
                let bytes = Self.hex(String(der).replacingOccurrences(of: ":", with: ""))
                theirs.append(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            }
        }
        var ours: [String] = []
        for record in try Self.analyze(name) {
            for key in ["certificates", "client_certificates"] {
                ours += (record[key] as? [[String: Any]] ?? []).compactMap { $0["sha256"] as? String }
            }
        }
        #expect(Set(ours) == Set(theirs), "\(name)")
        #expect(!ours.isEmpty || name.contains("resumption"))
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex), next > index {
            if let byte = UInt8(text[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        return bytes
    }

    /// A key log whose secrets were changed: the Finished does not verify, the `keylog-mismatch` finding
    /// fires (high, so `audit` fails), and nothing is read from records that did not open.
    @Test(arguments: ["keylog-tls13-aes128gcm", "keylog-tls12-aes128gcm", "keylog-tls12-cbc", "keylog-tls10-cbc"])
    func aWrongKeyLogIsAMismatch(_ name: String) throws {
        let original = try String(contentsOf: Self.keyLogs.appendingPathComponent(name + ".keys"), encoding: .utf8)
        let wrong = original.split(separator: "\n").map { line -> String in
            var fields = line.split(separator: " ").map(String.init)
            guard fields.count == 3, let last = fields[2].last else { return String(line) }
            fields[2] = String(fields[2].dropLast()) + (last == "0" ? "1" : "0")
            return fields.joined(separator: " ")
        }.joined(separator: "\n")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-wrong-\(name).keys")
        try wrong.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let record = try #require(try Self.analyze(name, keys: url).first)
        let keys = try #require(record["keys"] as? [String: Any])
        let finished = try #require(keys["finished_verified"] as? [String: Any])
        #expect(finished["client"] as? Bool == false || finished["server"] as? Bool == false)
        #expect(finished["client"] as? Bool != true && finished["server"] as? Bool != true)
        let mismatch = (record["findings"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "keylog-mismatch" }
        #expect(mismatch?["severity"] as? String == "high")
        if record["version"] as? String == "TLS 1.3" {
            #expect((record["certificates"] as? [Any])?.isEmpty == true, "no certificate from records that did not open")
        }
        let audit = try Harness.run(["audit", "--keylog", url.path, Harness.pcaps.appendingPathComponent(name + ".pcap").path])
        #expect(audit.status == 1)
        // `report` judges it again from the record alone.
        let line = try Harness.run(["analyze", "--format", "ndjson", "--keylog", url.path, Harness.pcaps.appendingPathComponent(name + ".pcap").path])
        let report = try Harness.run(["report", "--policy", "intermediate", "--format", "json", "-"], stdin: line.stdout)
        let summary = try #require((try Harness.jsonObject(report.stdout) as? [String: Any])?["summary"] as? [String: Any])
        let findings = try #require(summary["findings"] as? [String: Int])
        #expect((findings["high"] ?? 0) >= 1)
    }

    @Test func malformedLinesAreNamedAndSkipped() throws {
        let name = "keylog-tls13-chacha20"
        let original = try String(contentsOf: Self.keyLogs.appendingPathComponent(name + ".keys"), encoding: .utf8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-malformed.keys")
        try ("# a comment\nNOT_A_LABEL 00 11\nCLIENT_RANDOM abc def\n" + original).write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let (records, result) = try Self.records(["--keylog", url.path, Harness.pcaps.appendingPathComponent(name + ".pcap").path])
        #expect(result.status == 0)
        #expect(result.stderr.contains("line 2: unknown label NOT_A_LABEL"), "\(result.stderr)")
        #expect(result.stderr.contains("line 3:"), "\(result.stderr)")
        let keys = try #require(records.first?["keys"] as? [String: Any])
        #expect((keys["finished_verified"] as? [String: Any])?["server"] as? Bool == true)
    }

    @Test func anUnreadableKeyLogIsExitTwo() throws {
        let result = try Harness.run([
            "analyze", "--keylog", "/nonexistent/keys.log", Harness.pcaps.appendingPathComponent("keylog-tls13-aes128gcm.pcap").path,
        ])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("tlsscope: /nonexistent/keys.log: cannot read the key log"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// 0-RTT accepted: the EndOfEarlyData (under the early keys) is in the client Finished's transcript.
    @Test func earlyDataIsInTheTranscript() throws {
        let records = try Self.analyze("keylog-tls13-0rtt")
        #expect(records.count == 2)
        let resumed = try #require(records.last)
        #expect(resumed["resumed"] as? Bool == true)
        let messages = resumed["messages"] as? [String] ?? []
        #expect(messages.contains("client:application_data") && messages.contains("client:end_of_early_data"), "\(messages)")
    }

    /// The story view tells the schedule and the proof with the keys.
    @Test func storyTellsTheProof() throws {
        let name = "keylog-tls13-client-cert"
        let result = try Harness.run([
            "analyze", "--format", "story", "--keylog", Self.keyLogs.appendingPathComponent(name + ".keys").path,
            Harness.pcaps.appendingPathComponent(name + ".pcap").path,
        ])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("server handshake traffic secret → HKDF-Expand-Label → server handshake key, iv (256-bit key, 12-byte IV)"))
        #expect(result.stdoutText.contains("the server's Finished opened and its verify_data matches the transcript"))
        #expect(result.stdoutText.contains("client:certificate → client:certificate_verify → client:finished"))
    }

    /// QUIC (aioquic, v1 and v2; a ClientHello split over Initials; 0-RTT): the Handshake packets opened with
    /// QUIC's labels, the CRYPTO frames put in order, both Finished verified, and the certificates the ones
    /// tshark decrypts with the same key log. (quic-retry's key log is another run's: nothing matches it.)
    @Test(arguments: ["quic-v1", "quic-v2", "quic-split-clienthello", "quic-0rtt"])
    func quicHandshakesOpen(_ name: String) throws {
        let records = try Self.analyze(name)
        #expect(!records.isEmpty)
        var ours: [String] = []
        for record in records {
            #expect(record["protocol"] as? String == "quic")
            let keys = try #require(record["keys"] as? [String: Any], "\(name)")
            let finished = try #require(keys["finished_verified"] as? [String: Any])
            #expect(finished["client"] as? Bool == true && finished["server"] as? Bool == true, "\(name): \(keys)")
            let steps = keys["steps"] as? [[String: Any]] ?? []
            #expect((steps.last?["function"] as? String ?? "").contains(name == "quic-v2" ? "quicv2 key" : "quic key"))
            #expect(record["alpn"] as? String == "h3")
            let messages = record["messages"] as? [String] ?? []
            #expect(messages.contains("server:finished") && messages.contains("client:finished"), "\(messages)")
            ours += (record["certificates"] as? [[String: Any]] ?? []).compactMap { $0["sha256"] as? String }
        }
        #expect(!ours.isEmpty)
        if let tshark = FingerprintAgreementTests.tshark {
            let listing = try Harness.runTool(tshark, [
                "-r", Harness.pcaps.appendingPathComponent(name + ".pcap").path,
                "-o", "tls.keylog_file:" + Self.keyLogs.appendingPathComponent(name + ".keys").path,
                "-Y", "tls.handshake.certificate", "-T", "fields", "-E", "occurrence=a", "-e", "tls.handshake.certificate",
            ])
            let theirs = listing.stdoutText.split(separator: "\n").flatMap { $0.split(separator: ",") }.map {
                SHA256.hash(data: Self.hex(String($0).replacingOccurrences(of: ":", with: ""))).map { String(format: "%02x", $0) }.joined()
            }
            #expect(Set(ours) == Set(theirs), "\(name)")
        }
    }

    /// A real Chrome ↔ Cloudflare capture with its secrets block (../shared): the TLS 1.3 connection over TCP and
    /// the QUIC one both proven; their chains are compressed (RFC 8879), which the record says.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: Harness.ja4Fixtures.path), "needs ../shared/fixtures/ja4"))
    func realBrowserCaptureWithSecretsIsProven() throws {
        let (records, result) = try Self.records([
            Harness.ja4Fixtures.appendingPathComponent("pcap/chrome-cloudflare-quic-with-secrets.pcapng").path,
        ])
        #expect(result.status == 0)
        let keyed = records.filter { $0["keys"] is [String: Any] }
        #expect(Set(keyed.compactMap { $0["protocol"] as? String }) == ["tls", "quic"])
        for record in keyed {
            let keys = try #require(record["keys"] as? [String: Any])
            #expect(keys["source"] as? String == "pcapng")
            let finished = try #require(keys["finished_verified"] as? [String: Any])
            #expect(finished["client"] as? Bool == true && finished["server"] as? Bool == true)
            #expect((keys["problems"] as? [String] ?? []).contains { $0.contains("RFC 8879") })
        }
    }

    /// Secrets in a pcapng Decryption Secrets Block are used without `--keylog` (source "pcapng").
    @Test func secretsBlocksAreUsed() throws {
        let (records, result) = try Self.records([Harness.pcaps.appendingPathComponent("keylog-tls13-dsb.pcapng").path])
        #expect(result.status == 0)
        let keys = try #require(records.first?["keys"] as? [String: Any])
        #expect(keys["source"] as? String == "pcapng")
        #expect((keys["finished_verified"] as? [String: Any])?["client"] as? Bool == true)
    }

    /// `--show-secrets` lists the log's secrets for the connection, as the log has them.
    @Test func showSecretsListsTheLogsSecrets() throws {
        let name = "keylog-tls13-aes256gcm"
        let record = try #require(try Self.analyze(name, extra: ["--show-secrets"]).first)
        let secrets = try #require((record["keys"] as? [String: Any])?["secrets"] as? [String: String])
        let log = try String(contentsOf: Self.keyLogs.appendingPathComponent(name + ".keys"), encoding: .utf8)
        var expected: [String: String] = [:]
        for line in log.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3 { expected[String(fields[0])] = fields[2].lowercased() }
        }
        #expect(secrets == expected)
        #expect(secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"] != nil)
    }

    /// CSV/TSV fields for the proof, beside the TLS 1.3 leaf the keys opened.
    @Test func csvFieldsCarryTheProof() throws {
        let name = "keylog-tls13-client-cert"
        let result = try Harness.run([
            "analyze", "--format", "csv", "--fields",
            "version,keys.source,keys.finished_verified.client,keys.finished_verified.server,keys.certificate_verify.server.verified,leaf.subject",
            "--keylog", Self.keyLogs.appendingPathComponent(name + ".keys").path, Harness.pcaps.appendingPathComponent(name + ".pcap").path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.split(whereSeparator: \.isNewline).last == "TLS 1.3,keylog,true,true,true,\"CN=example.test,O=tlsscope test,C=XX\"")
    }

    /// A key log for other connections changes nothing but `keys` staying null.
    @Test func connectionsNotInTheLogAreUnchanged() throws {
        let pcap = Harness.pcaps.appendingPathComponent("tls13-x25519.pcap").path
        let plain = try Harness.run(["analyze", "--format", "ndjson", pcap])
        let keyed = try Harness.run([
            "analyze", "--format", "ndjson", "--keylog", Self.keyLogs.appendingPathComponent("keylog-tls13-hrr.keys").path, pcap,
        ])
        #expect(plain.stdoutText == keyed.stdoutText)
        #expect(plain.stdoutText.contains("\"keys\":null"))
    }
}
