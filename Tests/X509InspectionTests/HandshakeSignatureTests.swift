import Crypto
import Foundation
import Testing
import X509Inspection
import _CryptoExtras

/// `handshakeSignatureVerifies`: a TLS 1.3 CertificateVerify's signature checked with the certificate's key, for
/// the schemes TLS 1.3 uses (RSA-PSS, ECDSA P-256, Ed25519 out of scope of the fixtures), with the fixtures'
/// keys: a right signature verifies, one changed byte of the content does not, a key of the other family does not.
@Suite struct HandshakeSignatureTests {
    static let certs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/certs")

    static func der(_ name: String) throws -> [UInt8] {
        let pem = try String(contentsOf: certs.appendingPathComponent(name), encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return try #require(Data(base64Encoded: body).map { Array($0) })
    }

    static let content = [UInt8](repeating: 0x20, count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0]
        + [UInt8](repeating: 0x5a, count: 32)

    @Test func ecdsaP256() throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: Self.certs.appendingPathComponent("ecdsa.key"), encoding: .utf8))
        let signature = Array(try key.signature(for: SHA256.hash(data: Self.content)).derRepresentation)
        let certificate = try Self.der("ecdsa.pem")
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0403, signature: signature, content: Self.content) == true)
        var changed = Self.content
        changed[70] ^= 1
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0403, signature: signature, content: changed) == false)
        // An RSA scheme with an EC key: false.
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0804, signature: signature, content: Self.content) == false)
    }

    @Test func rsaPSS() throws {
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: String(contentsOf: Self.certs.appendingPathComponent("leaf.key"), encoding: .utf8))
        let signature = Array(try key.signature(for: SHA256.hash(data: Self.content), padding: .PSS).rawRepresentation)
        let certificate = try Self.der("leaf.pem")
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0804, signature: signature, content: Self.content) == true)
        var changed = Self.content
        changed[0] = 0x21
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0804, signature: signature, content: changed) == false)
        #expect(handshakeSignatureVerifies(certificate: certificate, scheme: 0x0403, signature: signature, content: Self.content) == false)
        #expect(handshakeSignatureVerifies(certificate: [1, 2, 3], scheme: 0x0804, signature: signature, content: Self.content) == nil)
    }
}
