import Foundation
import Testing
import TLSWire
import X509Inspection
@testable import TLSKeys

/// `HandshakeOpener` on every key-logged fixture: the capture a session will hand over (each side's
/// cleartext handshake messages and protected records, here cut from tshark's TCP payloads) opened with the
/// key log's secrets; both Finished verify, TLS 1.3's protected messages come out (the leaf as tshark
/// decrypts it), and a key log with one secret byte changed is a mismatch, not a crash or a wrong certificate.
@Suite(.enabled(if: tsharkPath != nil, "needs tshark (scripts/install-deps --test)"))
struct HandshakeOpenerTests {
    /// `tls13`: a ChangeCipherSpec is the compatibility dummy (RFC 8446 §D.4) and switches nothing.
    static func capture(_ name: String, serverPort: Int, tls13: Bool) throws -> HandshakeCapture {
        let (client, server) = try KeyLogFixtureTests.records(name, serverPort: serverPort)
        var capture = HandshakeCapture()
        func fill(_ records: [KeyLogFixtureTests.Record], client isClient: Bool) {
            var clear: [UInt8] = []
            var encrypted = false
            for record in records {
                switch record.type {
                case 20:
                    if !tls13 { encrypted = true }
                case 22 where !encrypted:
                    clear += record.payload
                case 22, 23:
                    let protected = HandshakeCapture.ProtectedRecord(header: record.header, payload: record.payload)
                    if isClient { capture.clientProtected.append(protected) } else { capture.serverProtected.append(protected) }
                default:
                    break
                }
            }
            let messages = KeyLogFixtureTests.messages(clear).map(\.bytes)
            if isClient { capture.clientMessages = messages } else { capture.serverMessages = messages }
        }
        fill(client, client: true)
        fill(server, client: false)
        return capture
    }

    @Test(arguments: [
        ("keylog-tls13-aes128gcm", 44360, true), ("keylog-tls13-aes256gcm", 44361, true), ("keylog-tls13-chacha20", 44362, true),
        ("keylog-tls13-hrr", 44369, true),
        ("keylog-tls12-aes128gcm", 44363, false), ("keylog-tls12-aes256gcm", 44364, false), ("keylog-tls12-chacha20", 44365, false),
        ("keylog-tls12-cbc-etm", 44366, false), ("keylog-tls12-cbc", 44367, false), ("keylog-tls10-cbc", 44368, false),
    ])
    func opensAndProves(name: String, port: Int, tls13: Bool) throws {
        let capture = try Self.capture(name, serverPort: port, tls13: tls13)
        let random = try #require(capture.clientRandom)
        let log = try KeyLogFixtureTests.keyLog(name)
        let secrets = try #require(log.secrets(clientRandom: random))
        let serverHello = try #require(capture.serverMessages.last { $0.first == 2 })
        let suite = CipherSuite(rawValue: UInt16(serverHello[38 + 1 + Int(serverHello[38])]) << 8
            | UInt16(serverHello[38 + 2 + Int(serverHello[38])]))
        let version: TLSVersion = tls13 ? .tls13 : TLSVersion(rawValue: UInt16(serverHello[4]) << 8 | UInt16(serverHello[5]))
        let proof = HandshakeOpener.open(version: version, suite: suite, capture: capture, secrets: secrets)
        #expect(proof.problems.isEmpty, "\(proof.problems)")
        #expect(proof.clientFinishedVerified == true && proof.serverFinishedVerified == true)
        #expect(!proof.mismatch)
        #expect(proof.steps.count >= 2)
        if tls13 {
            let chain = proof.serverMessages.compactMap { message -> CertificateChain? in
                if case .certificate(_, let chain) = message { return chain } else { return nil }
            }.first
            #expect(try CertificateSummary(derEncoded: try #require(chain?.certificates.first)).subject.hasPrefix("CN=example.test"))
        }
        // One secret byte changed: a mismatch, and no certificate taken from it.
        var text = try String(contentsOf: fixturesRoot.appendingPathComponent("keylog/\(name).keys"), encoding: .utf8)
        let lastDigit = try #require(text.lastIndex { $0.isHexDigit })
        text.replaceSubrange(lastDigit...lastDigit, with: text[lastDigit] == "0" ? "1" : "0")
        let wrong = try #require(KeyLog(parsing: Array(text.utf8)).secrets(clientRandom: random))
        let refused = HandshakeOpener.open(version: version, suite: suite, capture: capture, secrets: wrong)
        if tls13 {
            // The last line of a TLS 1.3 log is EXPORTER_SECRET or a traffic secret, which the handshake does
            // not use: change the server handshake secret instead.
            var changed = secrets
            changed.set(.serverHandshakeTrafficSecret, (secrets[.serverHandshakeTrafficSecret] ?? []).map { $0 ^ 1 })
            let mismatch = HandshakeOpener.open(version: version, suite: suite, capture: capture, secrets: changed)
            #expect(mismatch.mismatch)
            #expect(mismatch.serverMessages.isEmpty)
        } else {
            #expect(refused.mismatch)
        }
        // The last protected record of each side cut short (a gap, the capture's end): not a mismatch, the
        // Finished it held unchecked, and the record named as not captured whole.
        var cut = capture
        if let last = cut.serverProtected.indices.last(where: { cut.serverProtected[$0].contentType == (tls13 ? 23 : 22) }) {
            cut.serverProtected[last].payload.removeLast(5)
        }
        if let last = cut.clientProtected.indices.first(where: { cut.clientProtected[$0].contentType == (tls13 ? 23 : 22) }) {
            cut.clientProtected[last].payload.removeLast(5)
        }
        let partial = HandshakeOpener.open(version: version, suite: suite, capture: cut, secrets: secrets)
        #expect(!partial.mismatch, "\(partial.problems)")
        #expect(partial.problems.contains { $0.contains("not captured whole") }, "\(partial.problems)")
    }
}
