import Testing
import WireCursor

@testable import TLSWire

@Suite struct RecordLayerTests {
    let hello = record(22, handshake(1, clientHelloBody()))

    @Test func applicationDataRecordsAreCountedNotParsed() {
        let input = hello + record(23, [UInt8](repeating: 0x42, count: 300)) + record(23, []) + record(23, [1, 2, 3])
        let got = streamEvents(input)
        #expect(got.count == 4)
        #expect(got.first?.clientHello != nil)
        #expect(Array(got.dropFirst()) == [.applicationData(length: 300), .applicationData(length: 0), .applicationData(length: 3)])
    }

    @Test func largeRecordSplitOverManySegmentsIsSkipped() {
        // A full-size record fed in 100-byte segments: one event, and the parser keeps going after it.
        let big = record(23, [UInt8](repeating: 7, count: 16384))
        let input = hello + big + record(21, [1, 0], version: 0x0303)
        let result = events(input, pieces: Array(repeating: 100, count: input.count / 100 + 1))
        #expect(result.events.count == 3)
        #expect(result.events[1] == .applicationData(length: 16384))
        #expect(result.events[2] == .alert(Alert(level: 1, description: AlertDescription(rawValue: 0))))
        #expect(streamEvents(input, randomSplits: 3) == result.events)
    }

    @Test func alertsInClearSeveralPerRecord() {
        let input = hello + record(21, [1, 0, 2, 40])
        let got = streamEvents(input)
        #expect(Array(got.dropFirst()) == [
            .alert(Alert(level: 1, description: AlertDescription(rawValue: 0))),
            .alert(Alert(level: 2, description: AlertDescription(rawValue: 40))),
        ])
        #expect(got[2] == .alert(Alert(level: 2, description: AlertDescription(rawValue: 40))))
        if case .alert(let alert) = got[2] { #expect(alert.isFatal) }
    }

    @Test(arguments: [[UInt8](), [2], [2, 40, 1]])
    func clearAlertRecordOfOddOrZeroLengthStops(body: [UInt8]) {
        let got = streamEvents(hello + record(21, body) + record(23, [1]))
        #expect(got.count == 2)
        #expect(got.last?.stopCode == .malformed)
    }

    @Test func changeCipherSpecEncryptsHandshakeAndAlerts() {
        let input = hello + record(20, [1]) + record(22, [UInt8](repeating: 0x99, count: 40)) + record(21, [9, 9, 9])
            + record(21, [5, 5]) + record(24, [1, 2, 3, 4]) + record(23, [0])
        let got = streamEvents(input)
        #expect(Array(got.dropFirst()) == [
            .changeCipherSpec, .encryptedHandshake(length: 40), .encryptedAlert(length: 3), .encryptedAlert(length: 2),
            .heartbeat(type: 0, payloadLength: -1, recordLength: 4), .applicationData(length: 1),
        ])
    }

    @Test func encryptHandshakeWithoutChangeCipherSpec() {
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        hello.withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(!parser.isEncrypted)
        parser.encryptHandshake()
        #expect(parser.isEncrypted)
        (record(22, [1, 2, 3]) + record(21, [2, 40])).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(Array(got.dropFirst()) == [.encryptedHandshake(length: 3), .encryptedAlert(length: 2)])
    }

    @Test(arguments: [[UInt8](), [2], [1, 1]])
    func malformedChangeCipherSpecStops(body: [UInt8]) {
        let got = streamEvents(hello + record(20, body) + record(23, [1]))
        #expect(got.count == 2)
        #expect(got.last?.stopCode == .malformed)
    }

    @Test func heartbeatInClear() {
        // RFC 6520: type 2 (response) claiming a 16384-byte payload in a 19-byte record: the Heartbleed shape.
        let input = hello + record(24, [2] + u16(16384) + [UInt8](repeating: 0, count: 16)) + record(24, [1] + u16(3) + [1, 2, 3])
        let got = streamEvents(input)
        #expect(Array(got.dropFirst()) == [
            .heartbeat(type: 2, payloadLength: 16384, recordLength: 19),
            .heartbeat(type: 1, payloadLength: 3, recordLength: 6),
        ])
        #expect(streamEvents(hello + record(24, [1, 0])).last?.stopCode == .malformed)
    }

    @Test(arguments: ["GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "SSH-2.0-OpenSSH_9.6\r\n", "G"])
    func nonTLSStopsAtOnce(text: String) {
        let input = Array(text.utf8)
        let got = streamEvents(input)
        #expect(got.count == 1)
        #expect(got.first?.stopCode == .malformed)
        let result = events(input, pieces: [1])
        #expect(result.parser.isStopped)  // decided on the first byte
        #expect(!result.parser.looksLikeTLS)
    }

    @Test func looksLikeTLSAfterAPlausibleFirstHeader() {
        #expect(!events(Array(hello[0..<4]), pieces: [4]).parser.looksLikeTLS)
        #expect(events(Array(hello[0..<5]), pieces: [5]).parser.looksLikeTLS)
        // Malformed later on: still TLS.
        let result = events(hello + record(21, [1]), pieces: [1000])
        #expect(result.parser.isStopped && result.parser.looksLikeTLS)
    }

    @Test func encryptHandshakeMidRecordSkipsTheRest() {
        // Two messages in one record; the switch happens between feeds, inside the first message.
        let input = record(22, handshake(16, [1, 2, 3, 4]) + handshake(20, [5])) + record(22, [9])
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        input[0..<8].withUnsafeBytes { parser.feed($0) { got.append($0) } }
        parser.encryptHandshake()
        input[8...].withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got == [.encryptedHandshake(length: 1)])
        #expect(!parser.isStopped)
    }

    @Test func firstRecordMustHaveMajorVersion3() {
        #expect(streamEvents([22, 0xfe, 0xfd, 0, 1, 1]).map(\.stopCode) == [.malformed])
        #expect(streamEvents([22, 2, 0, 0, 1, 1]).map(\.stopCode) == [.malformed])
        #expect(streamEvents([30, 3, 3, 0, 1, 1]).map(\.stopCode) == [.malformed])
        // Later records too, and unknown content types stop.
        #expect(streamEvents(hello + [23, 4, 0, 0, 0]).last?.stopCode == .malformed)
        #expect(streamEvents(hello + [27, 3, 3, 0, 0]).last?.stopCode == .malformed)
    }

    @Test func dtlsOnlyContentTypesAreSkippedSilently() {
        let got = streamEvents(hello + record(25, [1, 2, 3]) + record(26, []) + record(23, [1]))
        #expect(Array(got.dropFirst()) == [.applicationData(length: 1)])
    }

    @Test func recordLengthCapJustUnderAndOver() {
        var limits = TLSLimits()
        limits.maxRecordLength = 100
        let under = streamEvents(hello + record(23, [UInt8](repeating: 1, count: 100)), limits: limits)
        #expect(under.last == .applicationData(length: 100))
        let over = streamEvents(hello + record(23, [UInt8](repeating: 1, count: 101)) + record(23, []), limits: limits)
        #expect(over.count == 2)
        #expect(over.last?.stopCode == .tooLarge)
        // The default: RFC 5246 §6.2.3 ciphertext bound, 2^14 + 2048.
        #expect(streamEvents(hello + [23, 3, 3] + u16(18432)).count == 2)
        #expect(streamEvents(hello + [23, 3, 3] + u16(18433)).last?.stopCode == .tooLarge)
    }

    @Test func onceStoppedFeedDoesNothing() {
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        Array("GET /".utf8).withUnsafeBytes { parser.feed($0) { got.append($0) } }
        hello.withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got.count == 1)
        #expect(parser.isStopped)
    }

    @Test func gapStops() {
        var parser = TLSStreamParser()
        var got: [TLSEvent] = []
        let input = hello + record(23, [1])
        input[0..<20].withUnsafeBytes { parser.feed($0) { got.append($0) } }
        parser.noteGap()
        #expect(parser.isStopped)
        input[20...].withUnsafeBytes { parser.feed($0) { got.append($0) } }
        #expect(got.isEmpty)
    }

    @Test func streamOffsetCountsConsumedBytes() {
        let input = hello + record(23, [1, 2])
        let result = events(input, pieces: [3, 50, 7])
        #expect(result.parser.streamOffset == input.count)
    }

    @Test func truncatedStreamsProduceNoEventsAndDoNotStop() {
        // Every proper prefix of a record is "need more data": no event, not stopped.
        for length in 0..<hello.count {
            let result = events(Array(hello[0..<length]), pieces: [length])
            #expect(result.events.isEmpty, "prefix \(length)")
            #expect(!result.parser.isStopped, "prefix \(length)")
        }
    }
}
