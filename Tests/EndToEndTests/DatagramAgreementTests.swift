import Foundation
import Testing

/// QUIC against tshark, which opens QUIC Initial packets itself: for every QUIC connection of the fixture
/// captures (and of ../shared/fixtures/ja4's), the version, SNI, offered suites and groups, the key-share
/// group the server chose and the ALPN offered must be what tshark reads
/// (`Fixtures/tools/tshark-quic-facts.sh`, one line per client Destination Connection ID).
/// The ALPN the server *selected* is not compared: it travels in EncryptedExtensions, which tshark reads
/// only with the session's keys and tlsscope does not (docs/fingerprints.md).
@Suite struct DatagramAgreementTests {
    static var quicCaptures: [URL] {
        var captures = Harness.fixtureCaptures().filter { $0.hasPrefix("quic-") }.map { Harness.pcaps.appendingPathComponent($0) }
        if let fixtures = FingerprintAgreementTests.ja4Fixtures {
            for name in ["quic-tls-handshake.pcapng", "quic-with-several-tls-frames.pcapng",
                         "chrome-cloudflare-quic-with-secrets.pcapng", "tls-handshake.pcapng"] {
                captures.append(fixtures.appendingPathComponent("pcap/\(name)"))
            }
        }
        return captures
    }

    /// tshark's hex code of the groups tlsscope names in these captures.
    static let groupCodes: [String: String] = [
        "x25519": "0x001d", "secp256r1": "0x0017", "secp384r1": "0x0018", "secp521r1": "0x0019", "x448": "0x001e",
        "X25519MLKEM768": "0x11ec", "X25519Kyber768Draft00": "0x6399",
    ]

    @Test(.enabled(if: FingerprintAgreementTests.tshark != nil, "tshark is not installed"), arguments: quicCaptures)
    func quicAgreesWithTshark(_ capture: URL) throws {
        let tool = Harness.packageRoot.appendingPathComponent("Fixtures/tools/tshark-quic-facts.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [tool.path, capture.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let facts = String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        #expect(!facts.isEmpty, "tshark saw no QUIC connection in \(capture.lastPathComponent)")

        let result = try Harness.run(["analyze", "--format", "ndjson", capture.path])
        #expect(result.status == 0)
        let records = result.stdoutText.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["protocol"] as? String == "quic" }
        #expect(records.count == facts.count, "\(capture.lastPathComponent): QUIC connections")

        for fact in facts {
            try #require(fact.count == 8, "facts line: \(fact)")
            let dcid = fact[0]
            let record = try #require(
                records.first { ($0["quic"] as? [String: Any])?["client_dcid"] as? String == dcid },
                "\(capture.lastPathComponent): no record for client DCID \(dcid)")
            let name = "\(capture.lastPathComponent) \(dcid)"
            let quic = try #require(record["quic"] as? [String: Any])
            #expect(quic["version"] as? String == fact[1], "\(name): version")
            #expect((record["server_name"] as? String ?? "") == fact[2], "\(name): SNI")
            // JA3's fields list suites and groups in wire order, in decimal, GREASE left out.
            let ja3 = try #require(record["ja3_string"] as? String).split(separator: ",", omittingEmptySubsequences: false)
            #expect(String(ja3[1]) == Self.decimalList(fact[3]), "\(name): offered suites")
            #expect(String(ja3[3]) == Self.decimalList(fact[4]), "\(name): offered groups")
            let selected = ((record["server_hello"] as? [String: Any])?["selected_group"] as? String).map {
                Self.groupCodes[$0] ?? $0
            }
            #expect((selected ?? "") == fact[5], "\(name): key-share group selected")
            let alpn = ((record["client_hello"] as? [String: Any])?["alpn"] as? [String]) ?? []
            #expect(alpn.joined(separator: ",") == fact[6], "\(name): ALPN offered")
        }
    }

    /// "0x1301,0x1302" → "4865-4866", GREASE (0x?a?a) left out as JA3 does.
    static func decimalList(_ hexList: String) -> String {
        hexList.split(separator: ",").compactMap { UInt16($0.dropFirst(2), radix: 16) }
            .filter { !($0 & 0x0f0f == 0x0a0a && $0 >> 8 == $0 & 0xff) }
            .map(String.init).joined(separator: "-")
    }
}
