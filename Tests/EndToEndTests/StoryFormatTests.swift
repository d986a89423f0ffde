import Foundation
import Testing

/// `analyze --format story`: each connection told step by step, with what the capture shows and what it
/// cannot, for the kinds of handshake the fixtures hold.
@Suite struct StoryFormatTests {
    static func story(_ fixture: String) throws -> String {
        let run = try Harness.run(["analyze", "--format", "story", Harness.pcaps.appendingPathComponent(fixture).path])
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdoutText
    }

    /// The steps in the order the handshake is taught, each in its place.
    static func steps(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard let dot = line.firstIndex(of: "."), line[..<dot].allSatisfy(\.isNumber), !line[..<dot].isEmpty else { return nil }
            return String(line[line.index(dot, offsetBy: 2)...].prefix { $0 != "—" }).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test func tls12WithDHEAndAChain() throws {
        let text = try Self.story("tls12-dhe1024-3des.pcap")
        #expect(Self.steps(text) == [
            "The client offers", "The server chooses", "The keys are agreed", "The server proves who it is",
            "The secrets become keys", "Both sides prove they have the keys", "What was on the wire", "What an auditor would say",
        ])
        #expect(text.contains("TLS 1.2 over TCP"))
        #expect(text.contains("taken apart   key exchange DHE · authentication RSA · encryption 3DES_EDE_CBC (112-bit key) · integrity HMAC-SHA"))
        #expect(text.contains("ephemeral finite-field Diffie-Hellman over dh1024"))
        #expect(text.contains("leaf     CN=example.test,O=tlsscope test,C=XX — RSA 2048"))
        #expect(text.contains("issuer 1 CN=tlsscope Test Intermediate CA"))
        #expect(text.contains("extended master secret (RFC 7627) agreed"))
        #expect(text.contains("high     cipher-3des: "))
    }

    @Test func tls13WithHelloRetryRequest() throws {
        let text = try Self.story("tls13-hrr.pcap")
        #expect(Self.steps(text).prefix(3) == ["The client offers", "The server asks again", "The server chooses"])
        #expect(text.contains("it names the group it wants, secp256r1"))
        #expect(text.contains("sent encrypted: in TLS 1.3 the Certificate follows the ServerHello"))
        #expect(text.contains("HKDF-Extract → handshake secret"))
        #expect(text.contains("server:hello_retry_request"))
    }

    @Test func rsaKeyTransportAndFailures() throws {
        #expect(try Self.story("tls10-rsa.pcap").contains("RSA key transport"))
        #expect(try Self.story("tls10-rsa.pcap").contains("(no forward secrecy)"))
        let failed = try Self.story("tls12-alert-handshake-failure.pcap")
        #expect(failed.contains("not established: the server sent a fatal handshake_failure alert"), "\(failed)")
        #expect(try Self.story("tls12-resumption-id.pcap").contains("resuming an earlier session"))
    }

    /// One story per record, for every fixture, and the summary after them.
    @Test func oneStoryPerRecord() throws {
        let captures = Harness.fixtureCaptures().map { Harness.pcaps.appendingPathComponent($0).path }
        let records = try Harness.run(["analyze", "--format", "ndjson"] + captures).stdoutText.split(separator: "\n").count
        let stories = try Harness.run(["analyze", "--format", "story", "--summary"] + captures).stdoutText
        #expect(stories.components(separatedBy: "━━ ").count - 1 == records)
        #expect(records > 60)
        #expect(try Harness.run(["audit", "--format", "story", captures[0]]).status == 2)
    }
}
