import PacketDecoding
import Testing
import TLSWire

@testable import HandshakeAnalysis
import FlowTracking
@testable import TCPReassembly

// Handshakes built byte by byte and fed to one TLSSession, for the cases where today's captures are
// too polite: the TLS server opened the TCP connection, 0-RTT, a HelloRetryRequest, lost bytes.

private func record(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type, 0x03, 0x03] + u16(body.count) + body }
private func ext(_ type: Int, _ body: [UInt8]) -> [UInt8] { u16(type) + lp16(body) }

/// A ClientHello offering TLS 1.3 (x25519 key share), optionally early data.
private func clientHello13(earlyData: Bool = false, random: UInt8 = 0x11) -> [UInt8] {
    var extensions = ext(0, lp16([0] + lp16(Array("a.example".utf8))))
    extensions += ext(10, lp16(u16(0x001d)))
    extensions += ext(43, lp8(u16(0x0304) + u16(0x0303)))
    extensions += ext(51, lp16(u16(0x001d) + lp16([UInt8](repeating: 7, count: 32))))
    extensions += ext(45, lp8([1]))
    if earlyData { extensions += ext(42, []) }
    let body = u16(0x0303) + [UInt8](repeating: random, count: 32) + lp8([UInt8](repeating: 5, count: 32))
        + lp16(u16(0x1301)) + lp8([0]) + lp16(extensions)
    return record(0x16, [0x01] + lp24(body))
}

/// A TLS 1.3 ServerHello (x25519), or a HelloRetryRequest (its special random, RFC 8446 §4.1.3).
private func serverHello13(retry: Bool = false) -> [UInt8] {
    let hrrRandom: [UInt8] = [
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    ]
    let keyShare = retry ? u16(0x001d) : u16(0x001d) + lp16([UInt8](repeating: 9, count: 32))
    let extensions = ext(43, u16(0x0304)) + ext(51, keyShare)
    let body = u16(0x0303) + (retry ? hrrRandom : [UInt8](repeating: 0x22, count: 32))
        + lp8([UInt8](repeating: 5, count: 32)) + u16(0x1301) + [0] + lp16(extensions)
    return record(0x16, [0x02] + lp24(body))
}

private let changeCipherSpec = record(0x14, [1])
/// An encrypted TLS 1.3 record (outer type application_data) of `length` bytes.
private func encrypted(_ length: Int) -> [UInt8] { record(0x17, [UInt8](repeating: 0xee, count: length)) }

private func makeSession(sawSYN: Bool = true, limits: TLSLimits = TLSLimits()) -> TLSSession {
    session(sawSYN: sawSYN, limits: limits)
}

private extension TLSSession {
    mutating func feed(_ bytes: [UInt8], _ direction: FlowDirection) {
        _ = bytes.withUnsafeBytes { receive($0, direction: direction, timestamp: 0) }
    }
    /// The record as written when the flow ends now.
    var endedRecord: HandshakeRecord {
        ended(FlowExtent(firstTimestamp: 0, lastTimestamp: 0, packets: 0, bytes: 0), endReason: .fin).record
    }
    var messageNames: [String] { endedRecord.messages.map(\.name) }
}

@Suite struct SessionScenarioTests {
    /// FTPS active mode: the TLS server opened the TCP connection. The ClientHello sender is the client.
    @Test func clientIsTheClientHelloSenderWhateverTheSYNSaid() {
        var flow = makeSession(sawSYN: true)
        flow.feed(clientHello13(), .fromResponder)
        flow.feed(serverHello13(), .fromInitiator)
        flow.feed(encrypted(60), .fromResponder)
        let record = flow.endedRecord
        #expect(record.clientHello != nil)
        #expect(record.serverHello != nil)
        #expect(record.clientAddress == IPAddress(ipv4: 0x0a00_0002))
        #expect(record.serverPort == 40000)
        #expect(record.serverName == "a.example")
        #expect(record.established)
    }

    /// 0-RTT: EndOfEarlyData (a 21-byte record) then the client's Finished; the outcome must not depend on
    /// whether both records came in one segment.
    @Test(arguments: [false, true]) func earlyDataThenFinishedIsEstablished(oneSegment: Bool) {
        var flow = makeSession()
        flow.feed(clientHello13(earlyData: true), .fromInitiator)
        flow.feed(encrypted(200), .fromInitiator)  // early application data
        flow.feed(serverHello13() + changeCipherSpec + encrypted(1200), .fromResponder)
        let endOfEarlyData = encrypted(21)
        let finished = encrypted(53)
        if oneSegment {
            flow.feed(endOfEarlyData + finished, .fromInitiator)
        } else {
            flow.feed(endOfEarlyData, .fromInitiator)
            flow.feed(finished, .fromInitiator)
        }
        let record = flow.endedRecord
        #expect(record.established)
        #expect(record.alert == nil)
        #expect(!flow.messageNames.contains("client:alert"), "\(flow.messageNames)")
        #expect(!record.auditInput().handshakeIncomplete)
    }

    /// A short client record with nothing after it is an encrypted alert, early data offered or not.
    @Test(arguments: [false, true]) func shortClientRecordAloneIsAnAlert(earlyData: Bool) {
        var flow = makeSession()
        flow.feed(clientHello13(earlyData: earlyData), .fromInitiator)
        flow.feed(serverHello13() + encrypted(1200), .fromResponder)
        flow.feed(encrypted(19), .fromInitiator)
        let record = flow.endedRecord
        #expect(!record.established)
        #expect(flow.messageNames.last == "client:alert", "\(flow.messageNames)")
    }

    /// The server's HelloRetryRequest is remembered after the real ServerHello (contract: stays true).
    @Test func helloRetryRequestIsRememberedAfterTheServerHello() {
        var flow = makeSession()
        flow.feed(clientHello13(), .fromInitiator)
        flow.feed(serverHello13(retry: true), .fromResponder)
        flow.feed(clientHello13(random: 0x33), .fromInitiator)
        flow.feed(serverHello13() + encrypted(900), .fromResponder)
        flow.feed(encrypted(60), .fromInitiator)
        let record = flow.endedRecord
        #expect(record.helloRetryRequest != nil)
        #expect(record.serverHello?.isHelloRetryRequest == false)
        #expect(record.established)
        #expect(
            flow.messageNames.prefix(4) == [
                "client:client_hello", "server:hello_retry_request", "client:client_hello", "server:server_hello",
            ])
    }

    /// Lost bytes are said in the record: a gap anomaly naming the peer and the amount.
    @Test func aGapIsAnAnomalyOfThePeerThatLostBytes() {
        var flow = makeSession()
        flow.feed(clientHello13(), .fromInitiator)
        flow.gap(direction: .fromResponder, offset: 517, length: 1448, timestamp: 0)
        let anomalies = flow.endedRecord.anomalies
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.kind == .gap)
        #expect(anomalies.first?.from == .server)
        #expect(anomalies.first?.detail.hasPrefix("1448 bytes missing at stream offset 517") == true)
    }

    /// A connection seen from its ServerHello on, without a SYN, says its start was not seen.
    @Test func midstreamConnectionSaysSo() {
        var flow = makeSession(sawSYN: false)
        flow.feed(serverHello13(), .fromResponder)
        let record = flow.endedRecord
        #expect(record.serverHello != nil)
        #expect(record.anomalies.map(\.kind) == [.midstream])
    }

    /// Past 64 steps the list is cut, and the record says so.
    @Test func truncatedMessageListIsAnAnomaly() {
        // A connection that lists a step per record: warning alerts in clear, alternating peers.
        var other = makeSession()
        other.feed(clientHello13(), .fromInitiator)
        for index in 0..<80 {
            other.feed(record(0x15, [1, 0]), index % 2 == 0 ? .fromResponder : .fromInitiator)
        }
        let record = other.endedRecord
        #expect(record.messages.count == HandshakeRecorder.maxMessages)
        #expect(record.messagesTruncated)
        #expect(record.anomalies.map(\.kind) == [.messagesTruncated])
    }

    /// Evicted mid-handshake: said; evicted after the handshake was over: nothing was missed.
    @Test func evictionMidHandshakeIsAnAnomaly() {
        var flow = makeSession()
        flow.feed(clientHello13(), .fromInitiator)
        let extent = FlowExtent(firstTimestamp: 0, lastTimestamp: 0, packets: 0, bytes: 0)
        #expect(flow.ended(extent, endReason: .evicted).record.anomalies.map(\.kind) == [.evicted])
        flow.feed(serverHello13(), .fromResponder)
        flow.feed(encrypted(60), .fromInitiator)
        #expect(flow.ended(extent, endReason: .evicted).record.anomalies.isEmpty)
    }
}

/// A TLS 1.2 ServerHello choosing `suite`.
private func serverHello12(_ suite: Int) -> [UInt8] {
    let body = u16(0x0303) + [UInt8](repeating: 0x22, count: 32) + lp8([]) + u16(suite) + [0] + lp16(ext(0xff01, [0]))
    return record(0x16, [0x02] + lp24(body))
}

/// A ClientHello offering TLS 1.2 suites.
private func clientHello12(_ suites: [Int]) -> [UInt8] {
    let body = u16(0x0303) + [UInt8](repeating: 0x11, count: 32) + lp8([]) + lp16(suites.flatMap { u16($0) })
        + lp8([0]) + lp16(ext(0, lp16([0] + lp16(Array("a.example".utf8)))))
    return record(0x16, [0x01] + lp24(body))
}

/// A prime-sized field: `bits` long, top bit set.
private func prime(bits: Int) -> [UInt8] { [0x80] + [UInt8](repeating: 0xab, count: bits / 8 - 1) }

@Suite struct SessionKeyExchangeTests {
    /// TLS_DHE_PSK_*: psk_identity_hint first, then the DH parameters (RFC 4279 §3); not "dh119".
    @Test func dhePSKHintIsNotTakenForThePrime() {
        var flow = makeSession()
        flow.feed(clientHello12([0x00aa]), .fromInitiator)
        let ske = lp16(Array("tlsscope hint".utf8)) + lp16(prime(bits: 2048)) + lp16([2]) + lp16(prime(bits: 2048))
        flow.feed(serverHello12(0x00aa) + record(0x16, [0x0c] + lp24(ske)), .fromResponder)
        let record = flow.endedRecord
        #expect(record.group?.name == "dh2048")
        #expect(record.dhPrimeBits == 2048)
        #expect(record.anomalies.isEmpty)
    }

    /// A 6144-bit DHE prime gives dh6144, not a curve code read out of the prime's length bytes.
    @Test func largeDHEPrimeIsNamedByItsSize() {
        var flow = makeSession()
        flow.feed(clientHello12([0x009e]), .fromInitiator)
        let ske = lp16(prime(bits: 6144)) + lp16([2]) + lp16(prime(bits: 6144)) + u16(0x0401) + lp16([1, 2, 3])
        flow.feed(serverHello12(0x009e) + record(0x16, [0x0c] + lp24(ske)), .fromResponder)
        #expect(flow.endedRecord.group?.name == "dh6144")
    }

    /// ECDHE_PSK: hint, then ECParameters (RFC 5489): the group is named.
    @Test func ecdhePSKNamesItsGroup() {
        var flow = makeSession()
        flow.feed(clientHello12([0xc037]), .fromInitiator)
        let ske = lp16(Array("hint".utf8)) + [3] + u16(0x001d) + lp8([UInt8](repeating: 4, count: 32))
        flow.feed(serverHello12(0xc037) + record(0x16, [0x0c] + lp24(ske)), .fromResponder)
        #expect(flow.endedRecord.group?.name == "x25519")
    }

    /// A ServerKeyExchange that fits no layout is said, not guessed.
    @Test func unreadableServerKeyExchangeIsAnAnomaly() {
        var flow = makeSession()
        flow.feed(clientHello12([0xc02f]), .fromInitiator)
        flow.feed(serverHello12(0xc02f) + record(0x16, [0x0c] + lp24([9, 9])), .fromResponder)
        let record = flow.endedRecord
        #expect(record.group == nil)
        #expect(record.anomalies.map(\.kind) == [.parseError])
        #expect(record.anomalies.first?.from == .server)
    }
}

@Suite struct SessionBlindSpotTests {
    /// SSL 2.0: CLIENT-HELLO, SERVER-HELLO with its certificate: the version is reported.
    @Test func sslv2ServerHelloIsReported() {
        var flow = makeSession()
        let challenge = [UInt8](repeating: 0x42, count: 16)
        let clientBody: [UInt8] = [1] + u16(0x0002) + u16(3) + u16(0) + u16(16) + [0x01, 0x00, 0x80] + challenge
        flow.feed([0x80 | UInt8(clientBody.count >> 8), UInt8(clientBody.count & 0xff)] + clientBody, .fromInitiator)
        let certificate: [UInt8] = [0x30, 0x03, 0x02, 0x01, 0x00]
        let connectionID = [UInt8](repeating: 0x77, count: 16)
        var serverBody: [UInt8] = [4, 0, 1] + u16(0x0002) + u16(certificate.count) + u16(3) + u16(connectionID.count)
        serverBody += certificate + [0x01, 0x00, 0x80] + connectionID
        flow.feed([0x80 | UInt8(serverBody.count >> 8), UInt8(serverBody.count & 0xff)] + serverBody, .fromResponder)
        let ended = flow.ended(FlowExtent(firstTimestamp: 0, lastTimestamp: 0, packets: 0, bytes: 0), endReason: .fin)
        #expect(ended.record.version == .ssl2)
        #expect(ended.record.version?.name == "SSL 2.0")
        #expect(ended.record.established)
        #expect(ended.serverChain == [certificate])
        #expect(ended.record.auditInput().version == .ssl2)
    }

    /// RFC 8446 D.4: a client's dummy ChangeCipherSpec right after its first ClientHello does not hide the
    /// second ClientHello that a HelloRetryRequest asks for.
    @Test func dummyChangeCipherSpecBeforeHelloRetryRequest() {
        var flow = makeSession()
        flow.feed(clientHello13() + changeCipherSpec, .fromInitiator)
        flow.feed(serverHello13(retry: true), .fromResponder)
        flow.feed(clientHello13(random: 0x33), .fromInitiator)
        flow.feed(serverHello13() + encrypted(900), .fromResponder)
        flow.feed(encrypted(60), .fromInitiator)
        #expect(
            flow.messageNames.prefix(5) == [
                "client:client_hello", "client:change_cipher_spec", "server:hello_retry_request",
                "client:client_hello", "server:server_hello",
            ], "\(flow.messageNames)")
        #expect(flow.endedRecord.established)
    }

    /// A Certificate message past its cap is skipped by its length: the rest of the handshake is followed.
    @Test func oversizedCertificateIsSkippedAndTheHandshakeFollowed() {
        var limits = TLSLimits()
        limits.maxCertificateMessage = 4096
        var flow = makeSession(limits: limits)
        flow.feed(clientHello12([0xc02f]), .fromInitiator)
        let certificateBody = lp24(lp24([UInt8](repeating: 0x30, count: 6000)))
        let certificateMessage = [0x0b] + lp24(certificateBody)
        var serverFlight = serverHello12(0xc02f)
        for start in stride(from: 0, to: certificateMessage.count, by: 4000) {
            serverFlight += record(0x16, Array(certificateMessage[start..<min(start + 4000, certificateMessage.count)]))
        }
        serverFlight += record(0x16, [0x0e, 0, 0, 0])  // ServerHelloDone
        flow.feed(serverFlight, .fromResponder)
        flow.feed(record(0x16, [0x10] + lp24(lp8([1, 2, 3]))) + changeCipherSpec + record(0x16, [0xee]), .fromInitiator)
        flow.feed(changeCipherSpec + record(0x16, [0xee]), .fromResponder)
        let record = flow.endedRecord
        #expect(record.established)
        #expect(flow.messageNames.contains("server:server_hello_done"))
        #expect(record.anomalies.map(\.kind) == [.tooLarge])
        #expect(record.anomalies.first?.from == .server)
    }

    /// 32,000 suites are an attack: the first 512 are kept, and the record says the list was cut.
    @Test func hugeCipherSuiteListIsCutAndSaid() {
        var flow = makeSession()
        flow.feed(clientHello12(Array(0..<3000).map { 0x0100 + $0 }), .fromInitiator)
        let record = flow.endedRecord
        #expect(record.clientHello?.cipherSuites.count == TLSLimits().maxListEntries)
        #expect(record.anomalies.map(\.kind) == [.tooLarge])
        #expect(record.anomalies.first?.detail.contains("cipher_suites") == true)
    }
}

@Suite struct HandshakeStateTests {
    @Test func tls12FullHandshakeNeedsBothFinished() {
        var state = HandshakeState().clientHello(offeringEarlyData: false)
        state = state.serverHello(selecting: .tls12, pskAccepted: false, sessionIDEchoed: false, heartbeat: false)
        state = state.serverFullFlightMessage()
        state = state.changeCipherSpec(from: .client).encryptedHandshake(from: .client)
        #expect(!state.established)
        state = state.changeCipherSpec(from: .server).encryptedHandshake(from: .server)
        #expect(state.established && !state.resumed && state.isOver)
    }

    @Test func tls12ServerGoingStraightToChangeCipherSpecIsResumption() {
        var state = HandshakeState().clientHello(offeringEarlyData: false)
        state = state.serverHello(selecting: .tls12, pskAccepted: false, sessionIDEchoed: false, heartbeat: false)
        state = state.changeCipherSpec(from: .server)
        #expect(state.resumed)
    }

    @Test func aFatalAlertFailsAndAnEstablishedHandshakeStaysEstablished() {
        let start = HandshakeState().clientHello(offeringEarlyData: false)
        #expect(start.alert(fatal: true).outcome == .failed)
        #expect(start.alert(fatal: false).outcome == .inProgress)
        var state = start.serverHello(selecting: .tls13, pskAccepted: false, sessionIDEchoed: false, heartbeat: false)
        state = state.applicationData(from: .client, length: 60).next
        #expect(state.established)
        #expect(state.alert(fatal: true).established)
    }

    @Test func heldShortRecordIsDecidedByWhatFollows() {
        var state = HandshakeState().clientHello(offeringEarlyData: true)
        state = state.serverHello(selecting: .tls13, pskAccepted: true, sessionIDEchoed: false, heartbeat: false)
        let (held, meaning, decided) = state.applicationData(from: .client, length: 21)
        #expect(meaning == .held && decided == nil && held.outcome == .inProgress)
        let (afterFinished, finishedMeaning, decidedByFinished) = held.applicationData(from: .client, length: 53)
        #expect(finishedMeaning == .encryptedHandshake && decidedByFinished == .encryptedHandshake)
        #expect(afterFinished.established && afterFinished.resumed)
        let (atEnd, decidedAtEnd) = held.connectionEnded()
        #expect(decidedAtEnd == .encryptedAlert && atEnd.outcome == .failed)
    }

    @Test func heartbeatKeepsAnEstablishedHandshakeWatched() {
        var state = HandshakeState().clientHello(offeringEarlyData: false)
        state = state.serverHello(selecting: .tls13, pskAccepted: false, sessionIDEchoed: false, heartbeat: true)
        state = state.applicationData(from: .client, length: 60).next
        #expect(state.established && !state.isOver)
    }
}
