import TLSWire
import Testing
import WireCursor

@testable import QUICWire

/// Connections built packet by packet with TestPacket (the mirror of the opener).
@Suite struct ScenarioTests {
    let dcid = RFCVectors.clientDCID
    let keys = rfcKeys()
    let clientSCID: [UInt8] = [0xc1, 0xc2, 0xc3, 0xc4]
    let serverSCID: [UInt8] = [0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e]
    /// The ServerHello of RFC 9001 A.3 (after its ACK and CRYPTO frame headers).
    let serverHello = Array(RFCVectors.serverPayload.dropFirst(9))

    func clientInitial(_ frames: [UInt8], packetNumber: UInt64 = 0, dcid: [UInt8]? = nil, keys: InitialKeys? = nil,
                       version: QUICVersion = .v1) -> [UInt8] {
        TestPacket.initial(
            version: version, dcid: dcid ?? self.dcid, scid: clientSCID, packetNumber: packetNumber, frames: frames,
            keys: (keys ?? self.keys).client, padTo: 1162)
    }

    func serverInitial(_ frames: [UInt8], packetNumber: UInt64 = 0, keys: InitialKeys? = nil,
                       version: QUICVersion = .v1) -> [UInt8] {
        TestPacket.initial(
            version: version, dcid: clientSCID, scid: serverSCID, packetNumber: packetNumber, frames: frames,
            keys: (keys ?? self.keys).server)
    }

    func parsed(_ hello: [UInt8]) -> ClientHello? {
        hello.withUnsafeBytes { buffer -> ClientHello? in
            var body = ByteCursor(UnsafeRawBufferPointer(rebasing: buffer[4...]))
            if case .clientHello(let parsed)? = try? HandshakeMessage(type: .clientHello, parsing: &body) { return parsed }
            return nil
        }
    }

    /// A small deterministic generator for shuffles.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<6)
    func cryptoFramesOutOfOrderDuplicatedOverlapping(seed: Int) throws {
        let hello = Hellos.clientHello(padding: 600)
        let expected = try #require(parsed(hello))
        let count = hello.count
        var frames: [[UInt8]] = [
            Frame.crypto(offset: 300, hello[300...]),
            Frame.crypto(offset: 100, hello[100..<250]),
            Frame.crypto(offset: 0, hello[0..<150]),
            Frame.crypto(offset: 0, hello[0..<100]),  // duplicate of bytes already there
            Frame.crypto(offset: 200, hello[200..<320]),  // overlaps two others
            Frame.crypto(offset: count - 10, hello[(count - 10)...]),  // retransmitted tail
        ]
        var generator = SplitMix(state: UInt64(seed))
        if seed > 0 { frames.shuffle(using: &generator) }
        var reader = QUICConnectionReader()
        var events: [QUICEvent] = []
        // Three frames per packet, in two packets (two datagrams).
        events += reader.read(clientInitial(frames[0..<3].flatMap { $0 }, packetNumber: 0))
        events += reader.read(clientInitial(frames[3...].flatMap { $0 }, packetNumber: 1))
        #expect(events.problems.isEmpty)
        #expect(events.clientHellos == [expected])
        #expect(expected.serverName == "pq.example")
    }

    @Test(arguments: [false, true])
    func clientHelloOverTwoInitials(secondFirst: Bool) throws {
        // A post-quantum-sized hello (~1.7 KB) cannot fit one 1200-byte Initial.
        let hello = Hellos.clientHello(padding: 1600)
        let expected = try #require(parsed(hello))
        let first = clientInitial(Frame.crypto(offset: 0, hello[0..<1000]), packetNumber: 0)
        let second = clientInitial(Frame.crypto(offset: 1000, hello[1000...]), packetNumber: 1)
        var reader = QUICConnectionReader()
        let events = secondFirst
            ? reader.read(second) + reader.read(first)
            : reader.read(first) + reader.read(second)
        #expect(events.packets == [.initial, .initial])
        #expect(events.problems.isEmpty)
        #expect(events.clientHellos == [expected])
        #expect(reader.retainedBytes < 4096)  // nothing pending once the hello is out
    }

    @Test func coalescedInitialHandshakeAndOneRTT() {
        var reader = QUICConnectionReader()
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        let serverDatagram =
            serverInitial(Frame.ack(largest: 0) + Frame.crypto(offset: 0, serverHello))
            + TestPacket.opaque(.handshake, dcid: clientSCID, scid: serverSCID, payloadLength: 300)
            + TestPacket.oneRTT(dcid: clientSCID)
        let events = reader.read(serverDatagram, fromInitiator: false)
        #expect(events.packets == [.initial, .handshake, .oneRTT])
        #expect(events.serverHellos.count == 1)
        #expect(events.problems.isEmpty)
        let serverHandshakeLength = 1 + 4 + 1 + 4 + 1 + 6 + 2 + 300
        #expect(events.contains(.packet(.handshake, fromClient: false, length: serverHandshakeLength)))

        // The client's Handshake packet (what makes a QUIC handshake `established`) and its 1-RTT.
        let clientDatagram =
            TestPacket.opaque(.handshake, dcid: serverSCID, scid: clientSCID) + TestPacket.oneRTT(dcid: serverSCID)
        let clientEvents = reader.read(clientDatagram, fromInitiator: true)
        #expect(clientEvents.count == 2)
        let clientHandshakeLength = 1 + 4 + 1 + 6 + 1 + 4 + 2 + 40
        let clientOneRTTLength = 1 + 6 + 30
        #expect(clientEvents.first == .packet(.handshake, fromClient: true, length: clientHandshakeLength))
        #expect(clientEvents.last == .packet(.oneRTT, fromClient: true, length: clientOneRTTLength))

        // Zero bytes after the last packet pad the datagram: no event for them.
        let padded = TestPacket.opaque(.handshake, dcid: serverSCID, scid: clientSCID) + [UInt8](repeating: 0, count: 50)
        #expect(reader.read(padded, fromInitiator: true).count == 1)
    }

    @Test func shortHeadersMatchTheKnownConnectionIDs() {
        var reader = QUICConnectionReader()
        // Before any long header nothing says how long the DCID is.
        #expect(reader.read(TestPacket.oneRTT(dcid: serverSCID)).problems.map(\.code) == [.unsupported])
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        _ = reader.read(serverInitial(Frame.crypto(offset: 0, serverHello)), fromInitiator: false)
        #expect(reader.serverSourceConnectionID == serverSCID)
        #expect(reader.read(TestPacket.oneRTT(dcid: serverSCID)) == [.packet(.oneRTT, fromClient: true, length: 37)])
        #expect(reader.read(TestPacket.oneRTT(dcid: clientSCID), fromInitiator: false).packets == [.oneRTT])
        // An id this reader never saw (a NEW_CONNECTION_ID's, sent encrypted): reported, not counted.
        let unknown = reader.read(TestPacket.oneRTT(dcid: [9, 9, 9, 9, 9, 9]))
        #expect(unknown.packets.isEmpty)
        #expect(unknown.problems.map(\.code) == [.unsupported])
        // A short header shorter than the id.
        #expect(reader.read([0x40, 0x5e]).problems.map(\.code) == [.unsupported])
    }

    @Test func retryRekeysAndRestartsTheCryptoStream() {
        var reader = QUICConnectionReader()
        let first = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        #expect(first.clientHellos.count == 1)
        let retrySCID: [UInt8] = [0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00]
        let retry = TestPacket.retry(dcid: clientSCID, scid: retrySCID, token: Array("token".utf8), originalDCID: dcid)
        #expect(reader.read(retry, fromInitiator: false).contains(.retry(fromClient: false)))
        #expect(reader.sawRetry)

        // The client's next Initial goes to the Retry's SCID, with keys derived from it.
        let retryKeys = InitialKeys(protection: QUICVersion.v1.protection!, destinationConnectionID: retrySCID)
        let again = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), packetNumber: 1,
                                              dcid: retrySCID, keys: retryKeys))
        #expect(again.problems.isEmpty)
        #expect(again.clientHellos.count == 1)  // the stream started over
        #expect(reader.originalDestinationConnectionID == dcid)

        // The server's Initial now opens with the server keys from the Retry's SCID, not the original ones.
        let stale = reader.read(serverInitial(Frame.crypto(offset: 0, serverHello)), fromInitiator: false)
        #expect(stale.problems.isEmpty && stale.notDecrypted == 1)
        let server = reader.read(serverInitial(Frame.crypto(offset: 0, serverHello), keys: retryKeys), fromInitiator: false)
        #expect(server.serverHellos.count == 1)

        // A Retry whose tag was made for another DCID is not followed.
        var other = QUICConnectionReader()
        _ = other.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        let forged = TestPacket.retry(dcid: clientSCID, scid: retrySCID, token: [1], originalDCID: retrySCID)
        #expect(other.read(forged, fromInitiator: false).problems.map(\.code) == [.malformed])
        #expect(!other.sawRetry)
        // A Retry from the client is not one.
        #expect(other.read(retry, fromInitiator: true).problems.map(\.code) == [.malformed])
    }

    @Test func versionNegotiationThenRestartInAnotherVersion() {
        var reader = QUICConnectionReader()
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        let negotiation = TestPacket.versionNegotiation(
            dcid: clientSCID, scid: dcid, versions: [.v2, QUICVersion(rawValue: 0x0a1a_2a3a)])
        let events = reader.read(negotiation, fromInitiator: false)
        #expect(events == [
            .packet(.versionNegotiation, fromClient: false, length: negotiation.count),
            .versionNegotiation(versions: [.v2, QUICVersion(rawValue: 0x0a1a_2a3a)]),
        ])
        #expect(reader.negotiationVersions == [.v2, QUICVersion(rawValue: 0x0a1a_2a3a)])

        // The client starts again in v2 with a new DCID.
        let newDCID: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let v2Keys = InitialKeys(protection: QUICVersion.v2.protection!, destinationConnectionID: newDCID)
        let restarted = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), dcid: newDCID,
                                                  keys: v2Keys, version: .v2))
        #expect(restarted.clientHellos.count == 1)
        #expect(reader.version == .v2)
        let server = reader.read(serverInitial(Frame.crypto(offset: 0, serverHello), keys: v2Keys, version: .v2),
                                 fromInitiator: false)
        #expect(server.serverHellos.count == 1)
    }

    @Test func restartInAnotherVersionToTheSameDCID() {
        // After Version Negotiation a client may keep its DCID: the new version still starts the
        // CRYPTO stream over, so its ClientHello (new version, new transport parameters) is read again.
        var reader = QUICConnectionReader()
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        _ = reader.read(TestPacket.versionNegotiation(dcid: clientSCID, scid: dcid, versions: [.v2]), fromInitiator: false)
        let again = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), keys: rfcKeys(.v2),
                                              version: .v2))
        #expect(again.clientHellos.count == 1)
        #expect(again.problems.isEmpty)
        #expect(reader.version == .v2)
        // Later v2 Initials of the same attempt continue the stream.
        let retransmitted = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), packetNumber: 1,
                                                      keys: rfcKeys(.v2), version: .v2))
        #expect(retransmitted.clientHellos.isEmpty)
        #expect(retransmitted.problems.isEmpty)
    }

    @Test func compatibleVersionNegotiationServerAnswersInV2() {
        // RFC 9368: a v1 client Initial answered by a v2 server Initial, keys from the same DCID.
        var reader = QUICConnectionReader()
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        #expect(reader.version == .v1)
        let server = reader.read(serverInitial(Frame.crypto(offset: 0, serverHello), keys: rfcKeys(.v2), version: .v2),
                                 fromInitiator: false)
        #expect(server.serverHellos.count == 1)
        #expect(reader.version == .v2)
        // The client follows in v2 with the same keys' source: no restart, no second ClientHello.
        let client = reader.read(clientInitial(Frame.ack(largest: 0), packetNumber: 1, keys: rfcKeys(.v2), version: .v2))
        #expect(client.problems.isEmpty)
        #expect(client.packets == [.initial])
        // A late v1 Initial of the same client (reordered) continues the stream: no restart.
        let late = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), packetNumber: 2))
        #expect(late.problems.isEmpty)
        #expect(late.clientHellos.isEmpty)
        #expect(reader.version == .v2)
    }

    @Test func draft29InitialAndRetry() {
        // draft-ietf-quic-tls-29: its own salt and Retry keys; the Retry is the draft's A.4 sample.
        let draftKeys = rfcKeys(.draft29)
        var reader = QUICConnectionReader()
        let events = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), keys: draftKeys,
                                               version: .draft29))
        #expect(events.clientHellos.count == 1)
        #expect(reader.version?.name == "draft-29")
        let retry = hex("ffff00001d0008f067a5502a4262b5746f6b656ed16926d81f6f9ca2953a8aa4575e1e49")
        #expect(reader.read(retry, fromInitiator: false).contains(.retry(fromClient: false)))
        // v1 keys do not open a draft-29 packet.
        var v1Reader = QUICConnectionReader()
        let wrongKeys = v1Reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello), keys: keys,
                                                    version: .draft29))
        #expect(wrongKeys.problems.isEmpty && wrongKeys.notDecrypted == 1)
    }

    @Test func connectionCloseWithCryptoErrorIsATLSAlert() {
        var reader = QUICConnectionReader()
        _ = reader.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        let close = Frame.connectionClose(errorCode: 0x128, frameType: 0x06, reason: "handshake failure")
        let events = reader.read(serverInitial(Frame.ack(largest: 0) + close), fromInitiator: false)
        let expected = QUICConnectionClose(
            errorCode: 0x128, frameType: 0x06, isApplicationClose: false, reason: Array("handshake failure".utf8))
        #expect(events.count == 2)
        #expect(events.packets == [.initial])
        #expect(events.last == .connectionClose(expected, fromClient: false))
        #expect(expected.tlsAlert == 40)
        #expect(QUICConnectionClose(errorCode: 0x0a, frameType: 0, isApplicationClose: false, reason: []).tlsAlert == nil)
        #expect(QUICConnectionClose(errorCode: 0x128, frameType: nil, isApplicationClose: true, reason: []).tlsAlert == nil)
        #expect(QUICConnectionClose(errorCode: 0x1ff, frameType: 0, isApplicationClose: false, reason: []).tlsAlert == 0xff)
        #expect(QUICConnectionClose(errorCode: 0x200, frameType: 0, isApplicationClose: false, reason: []).tlsAlert == nil)

        // A long reason is cut to maxReasonBytes.
        var limits = QUICLimits()
        limits.maxReasonBytes = 4
        var capped = QUICConnectionReader(limits: limits)
        _ = capped.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        let cut = capped.read(serverInitial(close), fromInitiator: false)
        #expect(cut.contains(.connectionClose(
            QUICConnectionClose(errorCode: 0x128, frameType: 0x06, isApplicationClose: false, reason: Array("hand".utf8)),
            fromClient: false)))
    }

    @Test func framesNotAllowedInInitialStopThePacket() {
        var reader = QUICConnectionReader()
        // STREAM (0x08) is not allowed in an Initial; the CRYPTO frame after it is not read.
        let events = reader.read(clientInitial([0x08, 0x00, 0x01, 0xaa] + Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        #expect(events.packets == [.initial])
        #expect(events.problems.map(\.code) == [.unsupported])
        #expect(events.clientHellos.isEmpty)
        // ACK with ECN counts and several ranges, PING, then CRYPTO: all read.
        let ack: [UInt8] = [0x03, 0x0a, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x02, 0x05, 0x06, 0x07]
        let fine = reader.read(clientInitial(ack + [0x01] + Frame.crypto(offset: 0, Hellos.rfcClientHello), packetNumber: 1))
        #expect(fine.problems.isEmpty)
        #expect(fine.clientHellos.count == 1)
        // An ACK whose range count cannot fit in the packet is truncated, not looped over.
        let huge: [UInt8] = [0x02, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff, 0x00]
        #expect(reader.read(clientInitial(huge, packetNumber: 2)).problems.map(\.code) == [.truncated])
    }

    @Test func malformedHeaders() {
        var reader = QUICConnectionReader()
        var longID = RFCVectors.v1ClientInitial
        longID[5] = 21  // DCID length over 20 in v1
        #expect(reader.read(longID).problems.map(\.code) == [.malformed])
        var unknown = RFCVectors.v1ClientInitial
        unknown[4] = 0x09  // version 0x00000009
        let events = reader.read(unknown)
        #expect(events.problems.map(\.code) == [.unsupported])
        #expect(events.packets.isEmpty)
        #expect(reader.version == nil)
        // A Length past the datagram's end.
        var long = RFCVectors.v1ClientInitial
        long[16] = 0x4f
        #expect(reader.read(long).problems.map(\.code) == [.truncated])
    }

    @Test func truncatedAndGarbageDatagramsNeverTrap() {
        var reader = QUICConnectionReader()
        let packet = RFCVectors.v1ClientInitial
        for length in 0..<packet.count {
            let events = reader.read(Array(packet.prefix(length)))
            if length > 0 { #expect(!events.problems.isEmpty) }
        }
        for index in 0..<64 {
            var flipped = packet
            flipped[index] ^= 0xff
            _ = reader.read(flipped, fromInitiator: index % 2 == 0)
        }
        var generator = SplitMix(state: 42)
        for round in 0..<2000 {
            var bytes = (0..<Int(generator.next() % 80)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if round % 3 == 0, !bytes.isEmpty { bytes[0] |= 0xc0 }  // long headers
            if round % 5 == 0, bytes.count > 5 { bytes[1...4] = [0, 0, 0, 1] }  // of version 1
            _ = reader.read(bytes, fromInitiator: round % 2 == 0)
        }
        // A random-payload Initial in the right format: it does not open, and the keys tried are cached.
        let fake = TestPacket.opaque(.initial, dcid: dcid, scid: [], payloadLength: 100)
        var fresh = QUICConnectionReader()
        for _ in 0..<3 { #expect(fresh.read(fake).notDecrypted == 1) }
        #expect(fresh.clientIsInitiator == nil)
        #expect(fresh.retainedBytes < 2048)
    }

    @Test func capsAreReportedAndBoundMemory() {
        var limits = QUICLimits()
        limits.maxPendingCryptoFrames = 4
        var reader = QUICConnectionReader(limits: limits)
        var events: [QUICEvent] = []
        for index in 1...6 {
            events += reader.read(clientInitial(Frame.crypto(offset: index * 100, [UInt8](repeating: 1, count: 10)),
                                                packetNumber: UInt64(index)))
        }
        #expect(events.problems.map(\.code) == [.tooLarge, .tooLarge])

        // Offsets past maxCryptoStreamBytes are not kept (reported once).
        var far = QUICConnectionReader()
        let beyond = far.read(clientInitial(Frame.crypto(offset: 64 * 1024, [1, 2, 3])))
            + far.read(clientInitial(Frame.crypto(offset: 1 << 40, [1, 2, 3]), packetNumber: 1))
        #expect(beyond.problems.map(\.code) == [.tooLarge])

        // Many out-of-order pieces under the default caps: memory stays near maxPendingCryptoBytes.
        var flood = QUICConnectionReader()
        for index in 0..<200 {
            _ = flood.read(clientInitial(Frame.crypto(offset: 10 + index * 300, [UInt8](repeating: 7, count: 290)),
                                         packetNumber: UInt64(index)))
        }
        #expect(flood.retainedBytes < QUICLimits().maxPendingCryptoBytes + 16 * 1024)

        // A handshake message longer than TLSLimits.maxHandshakeMessage stops the stream.
        var tlsLimits = TLSLimits()
        tlsLimits.maxHandshakeMessage = 100
        var small = QUICConnectionReader(tlsLimits: tlsLimits)
        let big = small.read(clientInitial(Frame.crypto(offset: 0, Hellos.rfcClientHello)))
        #expect(big.problems.map(\.code) == [.tooLarge])
        #expect(big.clientHellos.isEmpty)

        // Packets per datagram.
        let many = (0..<10).flatMap { _ in TestPacket.opaque(.handshake, dcid: dcid, scid: [], payloadLength: 20) }
        var walker = QUICConnectionReader()
        let walked = walker.read(many)
        #expect(walked.packets.count == QUICLimits().maxPacketsPerDatagram)
        #expect(walked.problems.map(\.code) == [.tooLarge])

        // Versions kept from a Version Negotiation packet.
        let versions = (0..<100).map { QUICVersion(rawValue: UInt32($0) + 1) }
        var negotiation = QUICConnectionReader()
        _ = negotiation.read(TestPacket.versionNegotiation(dcid: [], scid: dcid, versions: versions), fromInitiator: false)
        #expect(negotiation.negotiationVersions?.count == QUICLimits().maxNegotiationVersions)
    }

    @Test func helloThatDoesNotParseIsAProblem() {
        var reader = QUICConnectionReader()
        var hello = Hellos.rfcClientHello
        hello[4 + 2 + 32] = 0xff  // session id length past the body
        let events = reader.read(clientInitial(Frame.crypto(offset: 0, hello)))
        #expect(events.problems.count == 1)
        #expect(events.clientHellos.isEmpty)
        // The stream has stopped: a retransmission does not parse it again.
        #expect(reader.read(clientInitial(Frame.crypto(offset: 0, hello), packetNumber: 1)).problems.isEmpty)
    }
}
