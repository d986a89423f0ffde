import Foundation
import Testing

/// `tlsscope audit` on the captures recorded for the certificate-date and client-offer findings
/// (Fixtures/make-fixtures.sh step 19): each one must raise its finding, at the severity the contract
/// gives it under the default (intermediate) policy, and the finding must not leak into the others.
@Suite struct CertificateFindingsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var capture: String
        var id: String
        var severity: String
        /// The leaf's subject CN (also the SNI the client sent).
        var host: String
        /// Words the message must contain (which certificate, the date, or the suites).
        var messageParts: [String]
        var testDescription: String { capture }
    }

    static let cases: [Case] = [
        Case(
            capture: "tls12-expired-cert.pcap", id: "cert-expired", severity: "high", host: "expired.example.test",
            messageParts: ["leaf certificate", "2021-01-01"]),
        Case(
            capture: "tls12-expiring-cert.pcap", id: "cert-expiring", severity: "medium", host: "expiring.example.test",
            messageParts: ["leaf certificate", "2026-12-09"]),
        Case(
            capture: "tls12-not-yet-valid.pcap", id: "cert-not-yet-valid", severity: "high", host: "notyet.example.test",
            messageParts: ["leaf certificate", "2030-01-01"]),
        Case(
            capture: "tls12-client-offers-weak.pcap", id: "client-offers-weak", severity: "medium", host: "example.test",
            messageParts: ["18 weak suites", "TLS_DH_anon_WITH_AES_256_GCM_SHA384"]),
    ]

    /// The date findings each capture is built to raise; none of them may appear in another capture.
    static let dateFindings: Set<String> = ["cert-expired", "cert-expiring", "cert-not-yet-valid"]

    /// The records of `audit --format ndjson` over one capture (connection lines, then the summary).
    static func audit(_ capture: String, _ extra: [String] = []) throws -> (status: Int32, records: [[String: Any]]) {
        let path = Harness.pcaps.appendingPathComponent(capture).path
        let result = try Harness.run(["audit", "--format", "ndjson"] + extra + [path])
        var records: [[String: Any]] = []
        for line in result.stdoutText.split(separator: "\n") {
            records.append(try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any], "stderr: \(result.stderr)"))
        }
        return (result.status, records)
    }

    static func findings(_ record: [String: Any]) -> [[String: Any]] {
        record["findings"] as? [[String: Any]] ?? []
    }

    @Test(arguments: cases)
    func captureRaisesItsFinding(_ expected: Case) throws {
        let (status, records) = try Self.audit(expected.capture)
        let connections = records.filter { $0["type"] as? String != "summary" }
        try #require(connections.count == 1, "one connection in \(expected.capture)")
        let connection = connections[0]
        #expect(connection["established"] as? Bool == true, "the handshake completes despite the certificate")
        #expect(connection["version"] as? String == "TLS 1.2")
        #expect(connection["server_name"] as? String == expected.host)
        let chain = try #require(connection["certificates"] as? [[String: Any]])
        #expect(chain.count == 2, "leaf + intermediate")
        #expect(chain.first?["subject"] as? String == "CN=\(expected.host),O=tlsscope test,C=XX")

        let list = Self.findings(connection)
        let matching = list.filter { $0["id"] as? String == expected.id }
        try #require(matching.count == 1, "\(expected.id) in \(list.compactMap { $0["id"] as? String })")
        #expect(matching[0]["severity"] as? String == expected.severity)
        let message = try #require(matching[0]["message"] as? String)
        for part in expected.messageParts {
            #expect(message.contains(part), "message \(message.debugDescription) lacks \(part)")
        }
        // The other date findings must stay silent (an expired certificate is not also "expiring").
        let ids = Set(list.compactMap { $0["id"] as? String })
        #expect(ids.intersection(Self.dateFindings).subtracting([expected.id]).isEmpty, "\(ids)")

        // high fails the audit under the default --fail-on high; medium does not.
        let worst = list.compactMap { $0["severity"] as? String }
        let hasHigh = worst.contains("high") || worst.contains("critical")
        #expect(status == (hasHigh ? 1 : 0))
        let summary = try #require(records.last)
        #expect(summary["type"] as? String == "summary")
        let bySeverity = try #require(summary["findings"] as? [String: Any])
        #expect((bySeverity[expected.severity] as? Int ?? 0) >= 1)
    }

    /// The server side of the client-offers-weak capture is clean: only the client's offer is at fault.
    @Test func weakOfferIsOnlyTheClient() throws {
        let (status, records) = try Self.audit("tls12-client-offers-weak.pcap")
        let connection = try #require(records.first)
        let ids = Set(Self.findings(connection).compactMap { $0["id"] as? String })
        #expect(!ids.contains("cipher-null") && !ids.contains("cipher-anon"), "the server chose AES-GCM: \(ids)")
        #expect(connection["cipher_suite"] as? String == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        #expect(ids.intersection(Self.dateFindings).isEmpty)
        #expect(status == 0, "client-offers-weak is medium, under the default --fail-on high")
    }

    /// The certificate findings are judged at capture time, not at the time the test runs: moving
    /// --now changes them (the expiring leaf counts as expired a year later; the 2030 one becomes valid).
    @Test func datesFollowTheCaptureClockOrNow() throws {
        let later = try Self.audit("tls12-expiring-cert.pcap", ["--now", "2027-11-29T00:00:00Z"])
        let laterIDs = Set(Self.findings(try #require(later.records.first)).compactMap { $0["id"] as? String })
        #expect(laterIDs.contains("cert-expired") && !laterIDs.contains("cert-expiring"), "\(laterIDs)")

        let valid = try Self.audit("tls12-not-yet-valid.pcap", ["--now", "2030-06-01T00:00:00Z"])
        let validIDs = Set(Self.findings(try #require(valid.records.first)).compactMap { $0["id"] as? String })
        #expect(!validIDs.contains("cert-not-yet-valid"), "\(validIDs)")
    }
}
