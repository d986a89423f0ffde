import Foundation
import Testing

/// Golden tests (Zeek btest / insta style): `tlsscope analyze --format json` over every capture in
/// Fixtures/pcap must equal Fixtures/expected/<capture>.json, with the wall-clock field masked.
/// `UPDATE_GOLDENS=1 swift test --filter GoldenTests` rewrites the expected files.
@Suite struct GoldenTests {
    /// elapsed_seconds is wall-clock time: mask it so the comparison is about the capture only; records'
    /// `source` is the path as given, which holds where the checkout is: keep the file's name.
    static func normalise(_ text: String) -> String {
        text.replacingOccurrences(
            of: #""elapsed_seconds": *[0-9.eE+-]+"#, with: #""elapsed_seconds": 0"#, options: .regularExpression
        ).replacingOccurrences(of: "\"source\":\"" + Harness.pcaps.path + "/", with: "\"source\":\"")
    }

    /// Captures committed before their golden (a recording whose analysis lands later): they must still
    /// analyse cleanly to valid JSON. `UPDATE_GOLDENS=1` writes their goldens like any other's; then take
    /// the names out of this list (`everyCaptureHasAGolden` insists).
    static let awaitingGolden: Set<String> = []

    /// Fixtures/keylog/<capture name without its extension>.keys, when the capture was recorded with a key log.
    static func keyLog(for name: String) -> URL? {
        let url = Harness.packageRoot.appendingPathComponent("Fixtures/keylog")
            .appendingPathComponent((name as NSString).deletingPathExtension + ".keys")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    @Test(arguments: Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") })
    func captureMatchesGolden(_ name: String) throws {
        // A capture recorded with a key log is analysed with it (the record's `keys`, TLS 1.3 opened).
        let keys = Self.keyLog(for: name).map { ["--keylog", $0.path] } ?? []
        let result = try Harness.run(["analyze", "--format", "json"] + keys + [Harness.pcaps.appendingPathComponent(name).path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let actual = Self.normalise(result.stdoutText)
        // The output must be valid JSON with the contract's top level.
        let object = try #require(try Harness.jsonObject(result.stdout) as? [String: Any])
        #expect(object["connections"] is [Any])
        #expect(object["summary"] is [String: Any])

        let goldenURL = Harness.expected.appendingPathComponent(name + ".json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
            try FileManager.default.createDirectory(at: Harness.expected, withIntermediateDirectories: true)
            try actual.write(to: goldenURL, atomically: true, encoding: .utf8)
            return
        }
        if Self.awaitingGolden.contains(name) { return }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(actual == golden, "differs from \(goldenURL.path); rerun with UPDATE_GOLDENS=1 if the change is intended")
    }

    @Test func everyCaptureHasAGolden() throws {
        let captures = Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") }
        #expect(captures.count >= 10, "Fixtures/pcap should hold the recorded scenarios")
        for name in captures {
            let hasGolden = FileManager.default.fileExists(
                atPath: Harness.expected.appendingPathComponent(name + ".json").path)
            if Self.awaitingGolden.contains(name) {
                #expect(!hasGolden, "\(name) has a golden now: take it out of GoldenTests.awaitingGolden")
            } else {
                #expect(hasGolden, "no golden for \(name)")
            }
        }
        #expect(Self.awaitingGolden.isSubset(of: captures), "awaitingGolden names a capture that does not exist")
    }
}
