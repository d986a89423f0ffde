import FlowTracking
import TLSKeys
import Testing

@testable import HandshakeAnalysis

/// A session with a key log keeps its handshake bytes only for a connection the log has secrets for: memory
/// follows the log's connections, not the capture's.
@Suite struct SessionKeyLogTests {
    static func log(random: UInt8) -> SharedKeyLog {
        let hex = String(repeating: String(format: "%02x", random), count: 32)
        let line = "CLIENT_RANDOM \(hex) \(String(repeating: "ab", count: 48))\n"
        return SharedKeyLog(KeyLog(parsing: Array(line.utf8)))
    }

    static let extent = FlowExtent(firstTimestamp: 0, lastTimestamp: 0, packets: 2, bytes: 0, firstSequence: 1, lastSequence: 2)

    @Test func aConnectionInTheLogKeepsItsHandshake() {
        var tls = session(keyLog: Self.log(random: 0x11))  // clientHello(name:)'s random is 32 × 0x11
        _ = tls.send(clientHello(name: "a.example"), .fromInitiator)
        _ = tls.send(serverHello, .fromResponder)
        #expect(tls.fromInitiator.isKeeping && tls.fromResponder.isKeeping)
        #expect(tls.retainedBytes > session().retainedBytes)
        let ended = tls.ended(Self.extent)
        #expect(ended.keyEvidence?.capture.clientMessages.count == 1)
        #expect(ended.keyEvidence?.capture.serverMessages.count == 1)
        #expect(ended.keyEvidence?.secrets.masterSecret?.count == 48)
    }

    @Test func aConnectionNotInTheLogKeepsNothing() {
        var tls = session(keyLog: Self.log(random: 0x99))
        #expect(tls.fromInitiator.isKeeping)
        _ = tls.send(clientHello(name: "a.example"), .fromInitiator)
        #expect(!tls.fromInitiator.isKeeping && !tls.fromResponder.isKeeping)
        _ = tls.send(serverHello, .fromResponder)
        #expect(tls.fromResponder.keptByteCount == 0)
        #expect(tls.ended(Self.extent).keyEvidence == nil)
    }

    @Test func withoutAKeyLogNothingIsKept() {
        var tls = session()
        #expect(!tls.fromInitiator.isKeeping)
        _ = tls.send(clientHello(name: "a.example"), .fromInitiator)
        #expect(tls.ended(Self.extent).keyEvidence == nil)
    }
}
