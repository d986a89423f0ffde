import Testing

@testable import TLSAudit

@Suite struct AuditSummaryTests {
    let rc4 = Finding(id: "cipher-rc4", severity: .critical, message: "rc4")
    let cbc = Finding(id: "cipher-cbc", severity: .medium, message: "cbc")
    let pq = Finding(id: "pq-not-offered", severity: .info, message: "pq")

    @Test func groupsByServerAndClientWorstFirst() {
        var summary = AuditSummary()
        let good = AuditSummary.Server(address: "192.0.2.1", port: 443, serverName: "good.example")
        let bad = AuditSummary.Server(address: "192.0.2.2", port: 443, serverName: "bad.example")
        summary.add([pq], server: good, clientFingerprint: "ja3-a")
        summary.add([pq], server: good, clientFingerprint: "ja3-a")
        summary.add([rc4, cbc, pq], server: bad, clientFingerprint: "ja3-b")
        summary.add([cbc], server: bad, clientFingerprint: nil)

        #expect(summary.connections == 4)
        #expect(summary.servers.map(\.key) == [bad, good])
        #expect(summary.servers.first?.worst == .critical)
        #expect(summary.servers.first?.connections == 2)
        #expect(summary.servers.first?.findings.map(\.id) == ["cipher-rc4", "cipher-cbc", "pq-not-offered"])
        #expect(summary.servers.first?.findings.first { $0.id == "cipher-cbc" }?.count == 2)
        #expect(summary.clients.map(\.key) == ["ja3-b", "ja3-a"])
        #expect(summary.clients.last?.connections == 2)
        #expect(summary.severityCounts == [.critical: 1, .medium: 2, .info: 3])
        #expect(summary.worst == .critical)
        #expect(summary.hasFinding(atOrAbove: .high))
        #expect(summary.hasFinding(atOrAbove: .critical))
    }

    @Test func cleanRun() {
        var summary = AuditSummary()
        summary.add([], server: .init(address: "::1", port: 8443, serverName: nil), clientFingerprint: "x")
        #expect(summary.worst == nil)
        #expect(!summary.hasFinding(atOrAbove: .info))
        #expect(summary.servers.first?.worst == nil)
    }

    @Test func tiesGoToTheBusierServerThenByName() {
        var summary = AuditSummary()
        let a = AuditSummary.Server(address: "192.0.2.1", port: 443, serverName: "a.example")
        let b = AuditSummary.Server(address: "192.0.2.1", port: 443, serverName: "b.example")
        let c = AuditSummary.Server(address: "192.0.2.1", port: 443, serverName: "c.example")
        summary.add([cbc], server: c, clientFingerprint: nil)
        summary.add([cbc], server: b, clientFingerprint: nil)
        summary.add([cbc], server: a, clientFingerprint: nil)
        summary.add([cbc], server: c, clientFingerprint: nil)
        #expect(summary.servers.map(\.key) == [c, a, b])
    }
}
