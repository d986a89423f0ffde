import Testing
import WireCursor

@testable import TLSWire

/// `keepHandshakeBytes`: what a parser keeps for a key log is the stream's own bytes (messages whole, protected
/// records with their headers), the events are the same as without keeping, and the caps hold.
@Suite struct KeptHandshakeBytesTests {
    static func events(_ parser: inout TLSStreamParser, _ bytes: [UInt8], chunk: Int) -> [String] {
        var events: [String] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            bytes[offset..<end].withUnsafeBytes { buffer in parser.feed(buffer) { events.append("\($0)") } }
            offset = end
        }
        return events
    }

    /// A TLS 1.2 server flight: ServerHello and a ServerHelloDone in one record, ChangeCipherSpec, a protected
    /// Finished, then application data.
    static let serverHelloMessage = handshake(2, serverHelloBody(suite: 0xc02f))
    static let doneMessage = handshake(14, [])
    static let finishedRecord = record(22, [UInt8](repeating: 0x5a, count: 40))
    static let stream =
        record(22, serverHelloMessage + doneMessage) + record(20, [1]) + finishedRecord
        + record(23, [UInt8](repeating: 0x33, count: 100))

    @Test(arguments: [1, 3, 7, 64, 4096])
    func keptBytesAreTheStreamsOwn(chunk: Int) {
        var plain = TLSStreamParser()
        var keeping = TLSStreamParser()
        keeping.keepHandshakeBytes()
        #expect(Self.events(&plain, Self.stream, chunk: chunk) == Self.events(&keeping, Self.stream, chunk: chunk))
        let kept = keeping.keptBytes
        #expect(kept?.messages == [Self.serverHelloMessage, Self.doneMessage])
        #expect(kept?.protectedRecords.count == 2)
        #expect(kept?.protectedRecords.first?.header == Array(Self.finishedRecord.prefix(5)))
        #expect(kept?.protectedRecords.first?.payload == Array(Self.finishedRecord.dropFirst(5)))
        #expect(kept?.protectedRecords.last?.contentType == 23)
        #expect(kept?.overCap == false)
        #expect(plain.keptBytes == nil && plain.keptByteCount == 0)
    }

    @Test func stopKeepingDropsWhatWasKept() {
        var parser = TLSStreamParser()
        parser.keepHandshakeBytes()
        _ = Self.events(&parser, Self.stream, chunk: 10)
        #expect(parser.keptByteCount > 0)
        parser.stopKeeping()
        #expect(parser.keptBytes == nil && parser.keptByteCount == 0 && !parser.isKeeping)
    }

    @Test func capsHold() {
        var parser = TLSStreamParser()
        parser.keepHandshakeBytes()
        var stream = record(22, Self.serverHelloMessage) + record(20, [1])
        for _ in 0..<(KeptHandshakeBytes.maxProtectedRecords + 5) { stream += record(23, [UInt8](repeating: 1, count: 16_000)) }
        _ = Self.events(&parser, stream, chunk: 1500)
        let kept = parser.keptBytes
        #expect((kept?.protectedRecords.count ?? 0) <= KeptHandshakeBytes.maxProtectedRecords)
        #expect((kept?.byteCount ?? 0) <= KeptHandshakeBytes.maxBytes)
        #expect(kept?.overCap == true)
        // Every record kept is whole.
        for record in kept?.protectedRecords ?? [] { #expect(record.payload.count == 16_000) }
    }
}
