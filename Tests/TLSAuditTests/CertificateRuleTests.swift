import Foundation
import TLSWire
import Testing
import X509Inspection

@testable import TLSAudit

@Suite struct CertificateKeyTests {
    func with(_ leaf: CertificateSummary) -> AuditInput { tls12(certificates: [leaf]) }

    @Test func rsaThresholds() {
        #expect(finding("cert-key-weak", with(certificate(bits: 1023)))?.severity == .critical)
        #expect(finding("cert-key-weak", with(certificate(bits: 1024)))?.severity == .high)
        #expect(finding("cert-key-weak", with(certificate(bits: 2047)))?.severity == .high)
        #expect(finding("cert-key-weak", with(certificate(bits: 2048))) == nil)
        #expect(
            finding("cert-key-weak", with(certificate(bits: 1024)))?.message
                == "leaf certificate has a 1024-bit RSA key (< 2048)")
        // Critical under every policy.
        #expect(finding("cert-key-weak", with(certificate(bits: 1023)), .old)?.severity == .critical)
    }

    @Test func dsaCountsLikeRSA() {
        #expect(finding("cert-key-weak", with(certificate(keyType: "DSA", bits: 1024)))?.severity == .high)
    }

    @Test func ecThresholds() {
        let p223 = certificate(keyType: "EC", bits: 223, curve: "x", signature: "ecdsa-with-SHA256")
        let p224 = certificate(keyType: "EC", bits: 224, curve: "secp224r1", signature: "ecdsa-with-SHA256")
        #expect(finding("cert-key-weak", with(p223))?.severity == .high)
        #expect(finding("cert-key-weak", with(p224)) == nil)
        // secp224r1 is still outside Mozilla's certificate curves.
        #expect(
            finding("policy-cert", with(p224))?.message
                == "leaf certificate curve secp224r1 not allowed by policy intermediate")
    }

    @Test func keyTypesOutsideThePolicy() {
        #expect(finding("policy-cert", tls12(), .modern) != nil)
        #expect(
            finding("policy-cert", with(certificate(keyType: "Ed25519", bits: 256, signature: "ed25519")))?.message
                == "leaf certificate key type ed25519 (allowed: ecdsa, rsa) and signature ed25519 "
                + "not allowed by policy intermediate"
        )
        #expect(finding("policy-cert", with(certificate(signature: "sha384WithRSAEncryption"))) != nil)
    }
}

@Suite struct CertificateSignatureTests {
    @Test func sha1AndMD5() {
        let sha1 = tls12(certificates: [certificate(signature: "sha1WithRSAEncryption")])
        #expect(finding("cert-signature-weak", sha1)?.severity == .high)
        #expect(
            finding("cert-signature-weak", sha1)?.message
                == "leaf certificate is signed with sha1WithRSAEncryption (SHA-1)")
        // policy-cert does not repeat it.
        #expect(finding("policy-cert", sha1) == nil)
        let md5 = tls12(certificates: [certificate(signature: "md5WithRSAEncryption")])
        #expect(finding("cert-signature-weak", md5)?.severity == .critical)
        let ecdsaSHA1 = tls12(certificates: [certificate(signature: "ecdsa-with-SHA1")])
        #expect(finding("cert-signature-weak", ecdsaSHA1)?.severity == .high)
    }

    @Test func aTrustAnchorsOwnSignatureDoesNotCount() {
        let root = certificate(signature: "sha1WithRSAEncryption", selfSigned: true, subject: "CN=Old Root")
        #expect(finding("cert-signature-weak", tls12(certificates: [certificate(), root])) == nil)
    }
}

@Suite struct CertificateTimeTests {
    func leaf(notBefore: Int64 = now - 30 * day, notAfter: Int64) -> AuditInput {
        tls12(certificates: [certificate(notBefore: notBefore, notAfter: notAfter)])
    }

    @Test func expiry() {
        #expect(finding("cert-expired", leaf(notAfter: now - 1))?.severity == .high)
        #expect(finding("cert-expired", leaf(notAfter: now)) == nil)
        #expect(
            finding("cert-expired", leaf(notAfter: now - 12 * day))?.message
                == "leaf certificate expired 2027-01-03, 12 days before capture")
    }

    @Test func expiringWithinThirtyDays() {
        #expect(finding("cert-expiring", leaf(notAfter: now))?.severity == .medium)
        #expect(finding("cert-expiring", leaf(notAfter: now + 30 * day)) != nil)
        #expect(finding("cert-expiring", leaf(notAfter: now + 30 * day + 1)) == nil)
        #expect(finding("cert-expiring", leaf(notAfter: now - 1)) == nil)  // expired instead
        #expect(
            finding("cert-expiring", leaf(notAfter: now + 30 * day))?.message
                == "leaf certificate expires 2027-02-14, 30 days after capture")
    }

    @Test func notYetValid() {
        #expect(finding("cert-not-yet-valid", leaf(notBefore: now + 1, notAfter: now + 90 * day))?.severity == .high)
        #expect(finding("cert-not-yet-valid", leaf(notBefore: now, notAfter: now + 90 * day)) == nil)
    }

    @Test func chainCertificatesCountToo() {
        let ca = certificate(notAfter: now - day, subject: "CN=Example CA")
        #expect(
            finding("cert-expired", tls12(certificates: [certificate(), ca]))?.message.hasPrefix(
                "chain certificate 2 (CN=Example CA) expired") == true)
    }

    @Test func lifetimeAgainstEachPolicy() {
        let exact = leaf(notBefore: now - 100 * day, notAfter: now - 100 * day + 366 * day)
        let longer = leaf(notBefore: now - 100 * day, notAfter: now - 100 * day + 366 * day + 1)
        #expect(finding("cert-lifetime", exact) == nil)
        #expect(finding("cert-lifetime", longer)?.severity == .low)
        #expect(finding("cert-lifetime", longer)?.message == "leaf certificate is valid for 366 days (> 366)")
        #expect(finding("cert-lifetime", exact, .modern) != nil)
        #expect(finding("cert-lifetime", exact, .old) == nil)
    }

    @Test func selfSignedLeaf() {
        let input = tls12(certificates: [certificate(selfSigned: true)])
        #expect(finding("cert-self-signed", input)?.severity == .medium)
        #expect(finding("cert-self-signed", tls12()) == nil)
    }

    @Test func utcDates() {
        #expect(utcDate(0) == "1970-01-01")
        #expect(utcDate(951_782_400) == "2000-02-29")
        #expect(utcDate(-1) == "1969-12-31")
        #expect(utcDate(now) == "2027-01-15")
    }
}

/// The X509Inspection fixtures, summarised for real, through the rules.
@Suite struct RealCertificateTests {
    static let der = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/der")

    func summary(_ name: String) throws -> CertificateSummary {
        let bytes = try [UInt8](Data(contentsOf: Self.der.appendingPathComponent(name)))
        return try CertificateSummary(derEncoded: bytes)
    }

    @Test func md5SignedIsCritical() throws {
        let leaf = try summary("md5-signed.der")
        var input = tls12(certificates: [leaf])
        input.captureTime = leaf.notBefore + day
        #expect(finding("cert-signature-weak", input)?.severity == .critical)
    }

    @Test func rsa1024SelfSigned() throws {
        let leaf = try summary("rsa1024-selfsigned.der")
        var input = tls12(certificates: [leaf])
        input.captureTime = leaf.notBefore + day
        #expect(finding("cert-key-weak", input)?.severity == .high)
        #expect(finding("cert-self-signed", input) != nil)
    }

    @Test func expiredFixture() throws {
        let leaf = try summary("expired.der")
        var input = tls12(certificates: [leaf])
        input.captureTime = leaf.notAfter + 1
        #expect(finding("cert-expired", input) != nil)
    }
}

/// Times and limits from certificates, `--now` and policy files are not trusted to be sane.
@Suite struct ExtremeValueTests {
    @Test func extremeTimesDoNotTrap() {
        let wild = certificate(notBefore: Int64.min, notAfter: Int64.max)
        var input = tls12(certificates: [wild, certificate(notBefore: Int64.max, notAfter: Int64.min)])
        input.captureTime = Int64.min
        #expect(!audit(input, policy: .intermediate).isEmpty)
        input.captureTime = Int64.max
        #expect(ids(input).contains("cert-expired"))
        #expect(utcDate(Int64.max) == "292277026596-12-04")
        #expect(utcDate(Int64.min) == "-292277022657-01-27")
        #expect(difference(Int64.max, -1) == Int64.max)
        #expect(difference(Int64.min, 1) == Int64.min)
    }

    @Test func hugePolicyLimitsDoNotTrap() {
        var lax = AuditPolicy.intermediate
        lax.maximumCertificateLifetimeDays = Int.max
        lax.minimumRSABits = Int.max
        lax.minimumDHBits = Int.max
        let input = tls12(suite: 0x009e, group: nil, dhPrimeBits: 4096)
        let found = ids(input, lax)
        #expect(!found.contains("cert-lifetime"))
        #expect(found.contains("cert-key-weak"))
        #expect(found.contains("dh-weak"))
    }
}
