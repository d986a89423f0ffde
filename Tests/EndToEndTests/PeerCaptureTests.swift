import Foundation
import Testing

/// One TCP TLS stream the JA4 reference implementation (Rust) found in a peer capture.
struct ReferenceStream: CustomStringConvertible {
    var src: String
    var dst: String
    var srcPort: Int
    var dstPort: Int
    var serverName: String?
    var ja4: String?
    var description: String { "\(src):\(srcPort) → \(dst):\(dstPort) sni=\(serverName ?? "-")" }

    /// Reads the `- stream:` items of an insta snapshot (a flat YAML list; nested lists are skipped).
    static func load(_ url: URL) throws -> [ReferenceStream] {
        var items: [[String: String]] = []
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("- ") {
                items.append([:])
            }
            guard !items.isEmpty, line.hasPrefix("- ") || line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let field = line.dropFirst(2)
            guard let colon = field.firstIndex(of: ":") else { continue }
            let key = String(field[..<colon])
            var value = field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
            }
            items[items.count - 1][key] = value
        }
        return items.compactMap { item in
            // TCP streams and QUIC ones ("udp").
            guard item["transport"] == "tcp" || item["transport"] == "udp", item["ja4"] != nil, let src = item["src"], let dst = item["dst"],
                let srcPort = item["src_port"].flatMap({ Int($0) }), let dstPort = item["dst_port"].flatMap({ Int($0) })
            else { return nil }
            return ReferenceStream(
                src: src, dst: dst, srcPort: srcPort, dstPort: dstPort, serverName: item["tls_server_name"],
                ja4: item["ja4"])
        }
    }
}

/// The peer captures in ../shared/fixtures/ja4: every TLS stream (TCP or QUIC) the reference found must be
/// found by tlsscope with the same endpoints and server_name. Skipped when ../shared is absent.
@Suite struct PeerCaptureTests {
    /// Captures still decoded only in part (none at present; tunnels and proxy preambles are handled).
    static let deferred: [String: String] = [:]

    static var snapshots: [String] {
        let directory = Harness.ja4Fixtures.appendingPathComponent("expected")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".rust.snap.yaml") }.map { String($0.dropLast(".rust.snap.yaml".count)) }.sorted()
    }

    @Test(
        .enabled(if: FileManager.default.fileExists(atPath: Harness.ja4Fixtures.path), "../shared/fixtures/ja4 is absent"),
        arguments: snapshots)
    func everyReferenceStreamIsFound(_ capture: String) throws {
        let snapshot = Harness.ja4Fixtures.appendingPathComponent("expected/\(capture).rust.snap.yaml")
        let reference = try ReferenceStream.load(snapshot)
        if let reason = Self.deferred[capture] {
            // Still must not fail or crash on them.
            let result = try Harness.run(["analyze", "--format", "ndjson", Harness.ja4Fixtures.appendingPathComponent("pcap/\(capture)").path])
            #expect(result.status == 0, "\(capture) (\(reason)): \(result.stderr)")
            return
        }
        let result = try Harness.run(["analyze", "--format", "ndjson", Harness.ja4Fixtures.appendingPathComponent("pcap/\(capture)").path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        var records: [[String: Any]] = []
        for line in result.stdoutText.split(separator: "\n") {
            let object = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
            records.append(object)
        }
        for stream in reference {
            let match = records.first {
                ($0["client_ip"] as? String) == stream.src && ($0["server_ip"] as? String) == stream.dst
                    && ($0["client_port"] as? Int) == stream.srcPort && ($0["server_port"] as? Int) == stream.dstPort
            }
            let record = try #require(match, "\(capture): no record for \(stream)")
            #expect((record["server_name"] as? String) == stream.serverName, "\(capture): \(stream)")
        }
    }
}
