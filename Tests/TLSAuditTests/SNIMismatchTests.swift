import Testing
import X509Inspection

@testable import TLSAudit

/// `sni-mismatch`: RFC 6125 §6.4 host-name matching of the SNI against the leaf certificate's names.
@Suite struct SNIMismatchTests {
    static func leaf(_ names: [String], san: [String]? = nil) -> CertificateSummary {
        var leaf = certificate()
        leaf.hostNames = names
        leaf.subjectAlternativeNames = san ?? names
        return leaf
    }

    static func mismatch(_ serverName: String, _ leaf: CertificateSummary) -> Bool {
        var input = tls12(certificates: [leaf])
        input.serverName = serverName
        return audit(input).contains { $0.id == "sni-mismatch" }
    }

    @Test func exactAndCaseInsensitiveNamesMatch() {
        #expect(!Self.mismatch("www.example.test", Self.leaf(["www.example.test"])))
        #expect(!Self.mismatch("WWW.Example.TEST.", Self.leaf(["www.example.test"])))
        #expect(Self.mismatch("mail.example.test", Self.leaf(["www.example.test", "example.test"])))
    }

    @Test func aWildcardStandsForExactlyOneLeftMostLabel() {
        let wildcard = Self.leaf(["*.example.test"])
        #expect(!Self.mismatch("www.example.test", wildcard))
        #expect(Self.mismatch("example.test", wildcard))
        #expect(Self.mismatch("a.b.example.test", wildcard))
        #expect(Self.mismatch("www.example.com", Self.leaf(["*.com"])))  // never a two-label wildcard
        #expect(Self.mismatch("www.example.test", Self.leaf(["w*.example.test"])))
    }

    @Test func anAddressLiteralMatchesAnAddressEntryOnly() {
        #expect(!Self.mismatch("192.0.2.7", Self.leaf(["www.example.test"], san: ["www.example.test", "192.0.2.7"])))
        #expect(Self.mismatch("192.0.2.8", Self.leaf(["www.example.test"], san: ["www.example.test", "192.0.2.7"])))
    }

    @Test func noNamesIsAMismatchAndTheMessageSaysWhatTheCertificateHolds() {
        var input = tls12(certificates: [Self.leaf([])])
        input.serverName = "www.example.test"
        let finding = audit(input).first { $0.id == "sni-mismatch" }
        #expect(finding?.severity == .medium)
        #expect(finding?.message == "server name www.example.test is not covered by the leaf certificate's names (none)")
        // Without an SNI, or without a certificate in clear (TLS 1.3), there is nothing to compare.
        input.serverName = nil
        input.clientHello?.serverName = nil
        #expect(!audit(input).contains { $0.id == "sni-mismatch" })
        #expect(!audit(tls13(certificates: [])).contains { $0.id == "sni-mismatch" })
    }
}
