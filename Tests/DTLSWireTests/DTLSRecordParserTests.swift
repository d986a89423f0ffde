import DTLSWire
import TLSWire
import Testing
import WireCursor

/// DTLSRecordParser: records, fragments, flights and DTLS 1.3 / CID headers, built byte by byte from
/// RFC 6347 §4.1 and §4.2.2, RFC 9147 §4 and RFC 9146 §4.
@Suite struct DTLSRecordParserTests {
    let certificate = certificateBody([[UInt8](repeating: 0x30, count: 700), [UInt8](repeating: 0x31, count: 300)])

    /// The server's first flight of a DTLS 1.2 full handshake, one record per message, two datagrams.
    var serverFlight: [[UInt8]] {
        [
            handshakeRecord(2, seq: 0, serverHelloBody(), recordSeq: 0) + handshakeRecord(11, seq: 1, certificate, recordSeq: 1),
            handshakeRecord(12, seq: 2, ecdheServerKeyExchange, recordSeq: 2) + handshakeRecord(14, seq: 3, [], recordSeq: 3),
        ]
    }

    @Test func dtls12FullHandshake() {
        var client = DTLSRecordParser()
        var server = DTLSRecordParser()
        let hello = client.run([handshakeRecord(1, seq: 0, clientHelloBody())])
        #expect(hello.shapes == [.clientHello(cookie: [])])
        let flight = server.run(serverFlight)
        #expect(flight.shapes == [.serverHello(.dtls12), .certificate(count: 2), .serverKeyExchange, .other(14, length: 0)])
        #expect(flight.problems.isEmpty)
        // The ServerKeyExchange was read with the suite of the server's own ServerHello.
        if case .handshake(.serverKeyExchange(let ske)) = flight.events[2] {
            #expect((try? ske.parameters.get())?.namedGroup?.rawValue == 29)
        } else {
            Issue.record("no ServerKeyExchange: \(flight.events)")
        }
        // Client: ClientKeyExchange, ChangeCipherSpec, Finished (epoch 1), all in one datagram.
        let finished = [UInt8](repeating: 0xee, count: 40)
        let second = client.run([
            handshakeRecord(16, seq: 1, lp8([UInt8](repeating: 7, count: 32)), recordSeq: 1)
                + record(20, seq: 2, [1]) + record(22, epoch: 1, seq: 0, finished)
        ])
        #expect(second.shapes == [.other(16, length: 33), .changeCipherSpec, .encryptedHandshake(40)])
        let last = server.run([record(20, seq: 4, [1]) + record(22, epoch: 1, seq: 0, finished), record(23, epoch: 1, seq: 1, [1, 2, 3])])
        #expect(last.shapes == [.changeCipherSpec, .encryptedHandshake(40), .applicationData(3)])
        #expect(client.looksLikeDTLS && server.looksLikeDTLS && !client.isStopped && !server.isStopped)
        #expect(client.bufferedCapacity == 0 && server.bufferedCapacity == 0)
    }

    @Test func helloVerifyRequestRound() {
        var client = DTLSRecordParser()
        var server = DTLSRecordParser()
        let cookie: [UInt8] = [0xc0, 0x0c, 0x1e]
        let clientEvents = client.run([
            handshakeRecord(1, seq: 0, clientHelloBody(), recordSeq: 0),
            handshakeRecord(1, seq: 1, clientHelloBody(cookie: cookie), recordSeq: 1),
        ])
        #expect(clientEvents.shapes == [.clientHello(cookie: []), .clientHello(cookie: cookie)])
        let serverEvents = server.run([
            handshakeRecord(3, seq: 0, helloVerifyRequestBody(cookie: cookie), recordSeq: 0),
            handshakeRecord(2, seq: 1, serverHelloBody(), recordSeq: 1),
        ])
        #expect(serverEvents.shapes == [.other(3, length: 6), .serverHello(.dtls12)])
        // A stateless server that restarts its numbering: the ServerHello after the HelloVerifyRequest is
        // message_seq 0 again, and still counts; a retransmitted HelloVerifyRequest does not.
        let restarted = run([
            handshakeRecord(3, seq: 0, helloVerifyRequestBody(cookie: cookie)),
            handshakeRecord(3, seq: 0, helloVerifyRequestBody(cookie: cookie)),
            handshakeRecord(2, seq: 0, serverHelloBody()),
            handshakeRecord(2, seq: 0, serverHelloBody()),
        ])
        #expect(restarted.shapes == [.other(3, length: 6), .serverHello(.dtls12)])
        // A malformed HelloVerifyRequest is dropped with a problem, not delivered.
        let bad = run([handshakeRecord(3, seq: 0, u16(0xfeff) + [9])])
        #expect(bad.shapes.isEmpty)
        #expect(bad.problems.count == 1)
    }

    @Test func certificateInThreeFragmentsOutOfOrderWithADuplicate() {
        let pieces = [0..<400, 400..<800, 800..<certificate.count]
        let outcome = run([
            handshakeRecord(2, seq: 0, serverHelloBody()),
            record(22, seq: 1, fragment(11, seq: 1, certificate, pieces[2])),
            record(22, seq: 2, fragment(11, seq: 1, certificate, pieces[0])),
            record(22, seq: 3, fragment(11, seq: 1, certificate, pieces[2])),  // duplicate
            record(22, seq: 4, fragment(11, seq: 1, certificate, 300..<500)),  // overlaps two
            record(22, seq: 5, fragment(11, seq: 1, certificate, pieces[1])),
            handshakeRecord(14, seq: 2, [], recordSeq: 6),
        ])
        #expect(outcome.shapes == [.serverHello(.dtls12), .certificate(count: 2), .other(14, length: 0)])
        if case .handshake(.certificate(let chain)) = outcome.events[1] {
            #expect(chain.certificates == [[UInt8](repeating: 0x30, count: 700), [UInt8](repeating: 0x31, count: 300)])
        }
        #expect(outcome.problems.isEmpty)
        // Every order of the three fragments gives the same events.
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        for order in orders {
            let shuffled = run(
                [handshakeRecord(2, seq: 0, serverHelloBody())]
                    + order.map { record(22, seq: 1 + $0, fragment(11, seq: 1, certificate, pieces[$0])) })
            #expect(shuffled.events == Array(outcome.events.prefix(2)), "order \(order)")
        }
    }

    @Test func severalRecordsAndSeveralFragmentsPerDatagram() {
        // Two records in one datagram, and a record holding two whole messages.
        let datagram =
            handshakeRecord(2, seq: 0, serverHelloBody(), recordSeq: 0)
            + record(22, seq: 1, fragment(11, seq: 1, certificate) + fragment(14, seq: 2, []))
        let outcome = run([datagram])
        #expect(outcome.shapes == [.serverHello(.dtls12), .certificate(count: 2), .other(14, length: 0)])
    }

    @Test func retransmittedFlightGivesNoDuplicateEvents() {
        var server = DTLSRecordParser()
        let first = server.run(serverFlight)
        // The whole flight again, under new record sequence numbers, then CCS + Finished twice.
        let retransmitted = serverFlight.map { datagram in
            var copy = datagram
            copy[10] &+= 9  // the low byte of the first record's sequence number
            return copy
        }
        let again = server.run(retransmitted)
        #expect(first.events.count == 4)
        #expect(again.events.isEmpty)
        let finished = [UInt8](repeating: 1, count: 40)
        let end = server.run([
            record(20, seq: 10, [1]) + record(22, epoch: 1, seq: 0, finished),
            record(20, seq: 11, [1]) + record(22, epoch: 1, seq: 1, finished),
        ])
        #expect(end.shapes == [.changeCipherSpec, .encryptedHandshake(40)])
    }

    @Test func plaintextFatalAlertAndEncryptedOnes() {
        let outcome = run([
            handshakeRecord(1, seq: 0, clientHelloBody()),
            record(21, seq: 1, [2, 40]),
            record(21, epoch: 1, seq: 0, [UInt8](repeating: 0, count: 26)),
        ])
        #expect(outcome.shapes == [.clientHello(cookie: []), .alert(level: 2, description: 40), .changeCipherSpec, .encryptedAlert(26)])
        if case .alert(let alert) = outcome.events[1] { #expect(alert.isFatal) }
        // An odd-length alert record in clear is a problem, not an event, and does not stop the direction.
        let odd = run([handshakeRecord(1, seq: 0, clientHelloBody()), record(21, seq: 1, [2])])
        #expect(odd.shapes == [.clientHello(cookie: [])])
        #expect(odd.problems.count == 1)
    }

    @Test func dtls10() {
        let client = run([handshakeRecord(1, seq: 0, clientHelloBody(version: 0xfeff), version: 0xfeff)])
        if case .handshake(.clientHello(let hello)) = client.events.first {
            #expect(hello.version == .dtls10)
        } else {
            Issue.record("no ClientHello: \(client.events)")
        }
        // DTLS 1.0 ServerKeyExchange signatures have no algorithm field (TLS 1.1's layout).
        let dtls10SKE: [UInt8] = [3] + u16(23) + lp8([UInt8](repeating: 4, count: 32)) + lp16([1, 2])
        let server = run([
            handshakeRecord(2, seq: 0, serverHelloBody(version: 0xfeff, suite: 0xc013), version: 0xfeff)
                + handshakeRecord(12, seq: 1, dtls10SKE, recordSeq: 1, version: 0xfeff)
        ])
        #expect(server.shapes == [.serverHello(.dtls10), .serverKeyExchange])
        if case .handshake(.serverKeyExchange(let ske)) = server.events.last {
            #expect((try? ske.parameters.get())?.namedGroup?.rawValue == 23)
        }
    }

    /// RFC 9147 §4: a DTLS 1.3 handshake's plaintext hellos, then unified-header records.
    @Test func dtls13HellosThenUnifiedHeaders() {
        var client = DTLSRecordParser()
        var server = DTLSRecordParser()
        let clientHello = clientHelloBody(suites: [0x1301], extensions: [ext(43, lp8(u16(0xfefc) + u16(0xfefd))), ext(51, lp16(u16(29) + lp16([UInt8](repeating: 9, count: 32))))])
        #expect(client.run([handshakeRecord(1, seq: 0, clientHello)]).shapes == [.clientHello(cookie: [])])
        let serverHello = serverHelloBody(suite: 0x1301, extensions: [ext(43, u16(0xfefc)), ext(51, u16(29) + lp16([UInt8](repeating: 8, count: 32)))])
        let encryptedFlight = [UInt8](repeating: 0x55, count: 300)
        // 0x2e = 0b00101110: no CID, 16-bit sequence, length present, epoch bits 2 (handshake).
        let unified = [0x2e] + u16(0) + u16(encryptedFlight.count) + encryptedFlight
        // 0x23 = 0b00100011: 8-bit sequence, no length (the rest of the datagram), epoch bits 3.
        let application = [0x23, 0x00] + [UInt8](repeating: 0x66, count: 50)
        let flight = server.run([handshakeRecord(2, seq: 0, serverHello) + unified, application])
        #expect(flight.shapes == [.serverHello(.dtls13), .encryptedHandshake(300), .applicationData(50)])
        #expect(server.isDTLS13)
        if case .handshake(.serverHello(let hello)) = flight.events[0] {
            #expect(hello.selectsTLS13)
            client.notePeerServerHello(hello)
        }
        #expect(client.isDTLS13)
        // The client's Finished with a 4-byte connection id: 0x3e = C, S, L, epoch bits 2; then an 8-bit
        // sequence with length (0x35 = C, L, epoch bits 1: early data counts as application data).
        client.noteConnectionIDLength(4)
        let cid: [UInt8] = [1, 2, 3, 4]
        let finished = [0x3e] + cid + u16(1) + u16(40) + [UInt8](repeating: 0x77, count: 40)
        let early = [0x35] + cid + [7] + u16(20) + [UInt8](repeating: 0x78, count: 20)
        let both = client.run([finished + early])
        #expect(both.shapes == [.encryptedHandshake(40), .applicationData(20)])
        // An ACK record in clear (type 26) gives no event.
        #expect(client.run([record(26, seq: 3, u16(0))]).shapes.isEmpty)
        // A unified header whose length overruns the datagram is a problem, not an event.
        let overrun = client.run([[0x2e] + u16(5) + u16(100) + [1, 2, 3]])
        #expect(overrun.shapes.isEmpty)
        #expect(overrun.problems.count == 1)
    }

    @Test func unifiedHeaderBeforeAnythingIsDropped() {
        let outcome = run([[0x2f, 0, 0, 0, 3, 1, 2, 3]])
        #expect(outcome.events.isEmpty)
        #expect(outcome.problems == [.unexpectedUnifiedHeader])
    }

    /// RFC 9146 §4: tls12_cid records carry the connection id before the length.
    @Test func connectionIDRecords() {
        var server = DTLSRecordParser()
        _ = server.run(serverFlight)
        server.noteConnectionIDLength(3)
        let cid: [UInt8] = [0xa, 0xb, 0xc]
        let outcome = server.run([
            record(20, seq: 4, [1]) + cidRecord(epoch: 1, seq: 0, cid: cid, [UInt8](repeating: 1, count: 40))
                + cidRecord(epoch: 1, seq: 1, cid: cid, [UInt8](repeating: 2, count: 30)),
            cidRecord(epoch: 1, seq: 2, cid: cid, [UInt8](repeating: 3, count: 100)),
        ])
        #expect(outcome.shapes == [.changeCipherSpec, .encryptedHandshake(40), .applicationData(30), .applicationData(100)])
        // Without the length noted, it is inferred from a record that ends its datagram.
        var other = DTLSRecordParser()
        _ = other.run(serverFlight)
        let inferred = other.run([cidRecord(epoch: 1, seq: 0, cid: [1, 2, 3, 4, 5, 6, 7, 8], [UInt8](repeating: 1, count: 61))])
        #expect(inferred.shapes == [.changeCipherSpec, .encryptedHandshake(61)])  // its CCS was not seen
    }

    /// RFC 7983: STUN, TURN ChannelData and RTP share the 5-tuple in WebRTC and are skipped silently.
    @Test func stunAndRTPInterleavedAreSkipped() {
        let stunBindingRequest: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42] + [UInt8](repeating: 1, count: 12)
        let stunResponse: [UInt8] = [0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42] + [UInt8](repeating: 2, count: 12)
        let rtp: [UInt8] = [0x80, 0x60, 0x00, 0x01] + [UInt8](repeating: 3, count: 40)
        let turnChannel: [UInt8] = [0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]
        var parser = DTLSRecordParser()
        let outcome = parser.run([stunBindingRequest, serverFlight[0], stunResponse, rtp, serverFlight[1], turnChannel])
        #expect(outcome.events == run(serverFlight).events)
        #expect(outcome.problems.isEmpty)
        #expect(parser.skippedDatagrams == 4)
        #expect(!parser.isStopped)
    }

    @Test func truncatedAndGarbageDatagramsNeverTrap() {
        let whole = serverFlight[0]
        // Every prefix of a valid datagram, after a valid one: problems at most, never a stop.
        for cut in 0..<whole.count {
            var parser = DTLSRecordParser()
            _ = parser.run([handshakeRecord(1, seq: 0, clientHelloBody())])
            _ = parser.run([Array(whole.prefix(cut))])
            #expect(!parser.isStopped)
        }
        // A record that is not DTLS (a TLS record's 0x0303 version) as the first datagram: stopped.
        let notDTLS = run([[0x17, 0x03, 0x03, 0x00, 0x10] + [UInt8](repeating: 1, count: 16)])
        #expect(notDTLS.shapes == [.stopped(.malformed)])
        // Text whose first byte falls in the unified header's range is dropped, not taken for DTLS 1.3.
        let text = run([Array("%PDF-1.7 not dtls at all".utf8)])
        #expect(text.events.isEmpty)
        #expect(text.problems == [.unexpectedUnifiedHeader])
        // Random garbage after a valid start: never a trap, never a stop.
        var generator = SystemRandomNumberGenerator()
        var parser = DTLSRecordParser()
        _ = parser.run([handshakeRecord(1, seq: 0, clientHelloBody())])
        for _ in 0..<2000 {
            let count = Int.random(in: 0...80, using: &generator)
            var garbage = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !garbage.isEmpty { garbage[0] = UInt8.random(in: 20...63, using: &generator) }
            _ = parser.run([garbage])
        }
        #expect(!parser.isStopped)
        #expect(parser.bufferedCapacity <= DTLSReassemblyLimits().maxBufferedBytes + 64 * 1024)
        // A record with a bad length after a good one: the good one counts, the walk ends with a problem.
        let tail = run([handshakeRecord(1, seq: 0, clientHelloBody()) + [22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 1]])
        #expect(tail.shapes == [.clientHello(cookie: [])])
        #expect(tail.problems.count == 1)
    }

    @Test func messageOverItsCapIsSkipped() {
        var limits = TLSLimits()
        limits.maxCertificateMessage = 500
        // In one fragment, and fragmented: skipped by its length, and the flight goes on.
        let whole = run([handshakeRecord(2, seq: 0, serverHelloBody()) + handshakeRecord(11, seq: 1, certificate) + handshakeRecord(14, seq: 2, [])], limits: limits)
        #expect(whole.shapes == [.serverHello(.dtls12), .skipped(11, length: certificate.count), .other(14, length: 0)])
        var parser = DTLSRecordParser(limits: limits)
        let fragmented = parser.run([
            handshakeRecord(2, seq: 0, serverHelloBody()),
            record(22, seq: 1, fragment(11, seq: 1, certificate, 0..<300)),
            record(22, seq: 2, fragment(11, seq: 1, certificate, 300..<certificate.count)),
            handshakeRecord(14, seq: 2, [], recordSeq: 3),
        ])
        #expect(fragmented.shapes == whole.shapes)
        #expect(parser.bufferedCapacity == 0)
    }

    @Test func reassemblyCapsBoundMemory() {
        // A hostile peer announcing 1 MiB Certificates at many message_seqs, one late fragment each.
        var parser = DTLSRecordParser()
        var datagrams: [[UInt8]] = [handshakeRecord(2, seq: 0, serverHelloBody())]
        let big = 1024 * 1024 - 10
        for seq in 2..<40 {
            datagrams.append(record(22, seq: seq, [11] + u24(big) + u16(seq) + u24(big - 100) + u24(100) + [UInt8](repeating: 1, count: 100)))
        }
        let outcome = parser.run(datagrams)
        #expect(outcome.shapes == [.serverHello(.dtls12)])
        #expect(parser.pendingMessageCount <= DTLSReassemblyLimits().maxPendingMessages)
        #expect(parser.bufferedCapacity <= DTLSReassemblyLimits().maxBufferedBytes + 64 * 1024)
        #expect(outcome.problems.contains { if case .fragmentDropped = $0 { true } else { false } })
        // The flight's end gives up what is incomplete: reported, and nothing held any more.
        let end = parser.run([record(20, seq: 50, [1])])
        #expect(end.shapes.first == .changeCipherSpec || end.shapes.contains(.changeCipherSpec))
        #expect(end.problems.contains { if case .incompleteMessage = $0 { true } else { false } })
        #expect(parser.bufferedCapacity == 0)
        // Too many disjoint ranges in one message: given up as skipped.
        var reassembly = DTLSReassemblyLimits()
        reassembly.maxFragmentRanges = 4
        var ranges = DTLSRecordParser(reassemblyLimits: reassembly)
        var pieces: [[UInt8]] = [handshakeRecord(2, seq: 0, serverHelloBody())]
        for start in stride(from: 900, to: 0, by: -100) {  // every other 50 bytes, backwards
            pieces.append(record(22, seq: start, fragment(11, seq: 1, certificate, start..<start + 50)))
        }
        pieces.append(record(20, seq: 1000, [1]))
        #expect(ranges.run(pieces).shapes == [.serverHello(.dtls12), .skipped(11, length: certificate.count), .changeCipherSpec])
    }

    /// A message_seq lost for good: at the flight's end the complete messages after it are delivered.
    @Test func lostMessageIsReportedAtTheFlightsEnd() {
        var parser = DTLSRecordParser()
        let outcome = parser.run([
            handshakeRecord(2, seq: 0, serverHelloBody()),
            // seq 1 (Certificate) lost; seq 2 and 3 arrive.
            handshakeRecord(12, seq: 2, ecdheServerKeyExchange, recordSeq: 2) + handshakeRecord(14, seq: 3, [], recordSeq: 3),
        ])
        #expect(outcome.shapes == [.serverHello(.dtls12)])
        #expect(parser.pendingMessageCount == 2)
        let end = parser.run([record(20, seq: 4, [1])])
        #expect(end.shapes == [.serverKeyExchange, .other(14, length: 0), .changeCipherSpec])
        #expect(end.problems == [.missingMessages(firstMessageSeq: 1, count: 1)])
        // A late retransmission of the lost message changes nothing now.
        #expect(parser.run([handshakeRecord(11, seq: 1, certificate, recordSeq: 9)]).events.isEmpty)
        // Or the connection ends: `finish` does the same, an incomplete message reported with what arrived.
        var other = DTLSRecordParser()
        _ = other.run([handshakeRecord(2, seq: 0, serverHelloBody()), record(22, seq: 1, fragment(11, seq: 1, certificate, 0..<100))])
        let finished = other.finish()
        #expect(finished.events.isEmpty)
        #expect(finished.problems == [.incompleteMessage(type: .certificate, messageSeq: 1, length: certificate.count, received: 100)])
    }

    /// Messages before the first hello wait; the hello fixes the numbering.
    @Test func messagesOvertakingTheFirstHello() {
        let outcome = run([
            handshakeRecord(11, seq: 1, certificate, recordSeq: 1),
            handshakeRecord(14, seq: 2, [], recordSeq: 2),
            handshakeRecord(2, seq: 0, serverHelloBody(), recordSeq: 0),
        ])
        #expect(outcome.shapes == [.serverHello(.dtls12), .certificate(count: 2), .other(14, length: 0)])
    }

    @Test func recognisesTheFirstDatagram() {
        #expect(startsConnection(handshakeRecord(1, seq: 0, clientHelloBody())))
        #expect(startsConnection(handshakeRecord(1, seq: 0, clientHelloBody(version: 0xfeff), version: 0xfeff)))
        #expect(startsConnection(handshakeRecord(3, seq: 0, helloVerifyRequestBody(cookie: [1]))))
        #expect(startsConnection(handshakeRecord(2, seq: 1, serverHelloBody())))
        #expect(!startsConnection(handshakeRecord(11, seq: 1, certificate)))
        #expect(!startsConnection(record(22, epoch: 1, fragment(1, seq: 0, clientHelloBody()))))
        #expect(!startsConnection([0x16, 0x03, 0x01, 0x00, 0x40] + [UInt8](repeating: 1, count: 64)))  // TLS over TCP
        #expect(!startsConnection([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42] + [UInt8](repeating: 1, count: 20)))  // STUN
        let hello = handshakeRecord(1, seq: 0, clientHelloBody())
        #expect(!startsConnection(Array(hello.prefix(24))))
        #expect(!startsConnection(Array(hello.dropLast())))  // the record does not fit
    }

    @Test func heartbeatsInClearAndEncrypted() {
        let outcome = run([
            handshakeRecord(1, seq: 0, clientHelloBody()),
            record(24, seq: 1, [1] + u16(16) + [UInt8](repeating: 0, count: 32)),
            record(24, epoch: 1, seq: 0, [UInt8](repeating: 0, count: 48)),
        ])
        #expect(outcome.shapes == [.clientHello(cookie: []), .heartbeat(type: 1, payloadLength: 16), .changeCipherSpec, .heartbeat(type: 0, payloadLength: -1)])
    }

    @Test func abandoningBufferedMessagesFreesThem() {
        var parser = DTLSRecordParser()
        _ = parser.run([handshakeRecord(2, seq: 0, serverHelloBody()), record(22, seq: 1, fragment(11, seq: 1, certificate, 0..<500))])
        #expect(parser.bufferedCapacity >= 500)
        var events: [TLSEvent] = []
        parser.abandonBufferedMessages { events.append($0) }
        #expect(events.map(Shape.init) == [.skipped(11, length: certificate.count)])
        #expect(parser.bufferedCapacity == 0)
    }
}

/// RFC 9146 §3: the connection_id extension, read from both hellos for `noteConnectionIDLength`.
@Suite struct ConnectionIDExtensionTests {
    @Test func readsTheCID() {
        let client = ClientHello(version: .dtls12, extensions: [TLSExtension(type: .connectionID, body: lp8([1, 2, 3]))])
        #expect(client.connectionID == [1, 2, 3])
        let server = ServerHello(version: .dtls12, cipherSuite: CipherSuite(rawValue: 0xc02f), extensions: [TLSExtension(type: ExtensionType(rawValue: 54), body: [0])])
        #expect(server.connectionID == [])
        #expect(ClientHello(version: .dtls12).connectionID == nil)
        // Malformed: the length overruns, or bytes trail.
        #expect(connectionID(in: [TLSExtension(type: .connectionID, body: [4, 1])]) == nil)
        #expect(connectionID(in: [TLSExtension(type: .connectionID, body: [1, 1, 0])]) == nil)
    }
}

/// Any order of a flight's datagrams, with duplicates, gives the events of the flight in order.
@Suite struct DTLSReorderingTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<40)
    func shuffledFlightWithDuplicates(seed: Int) {
        var generator = SplitMix64(state: UInt64(seed))
        let chain = certificateBody((0..<3).map { [UInt8](repeating: UInt8($0), count: 400 + 50 * $0) })
        // The Certificate cut at random points into fragments, one record per datagram.
        var cuts = Set((0..<Int.random(in: 1...8, using: &generator)).map { _ in Int.random(in: 1..<chain.count, using: &generator) })
        cuts.insert(0)
        cuts.insert(chain.count)
        let bounds = cuts.sorted()
        var datagrams = [handshakeRecord(2, seq: 0, serverHelloBody())]
        for index in 0..<bounds.count - 1 {
            datagrams.append(record(22, seq: 1 + index, fragment(11, seq: 1, chain, bounds[index]..<bounds[index + 1])))
        }
        datagrams.append(handshakeRecord(12, seq: 2, ecdheServerKeyExchange) + handshakeRecord(14, seq: 3, []))
        let inOrder = run(datagrams + [record(20, seq: 99, [1])])
        #expect(inOrder.shapes == [.serverHello(.dtls12), .certificate(count: 3), .serverKeyExchange, .other(14, length: 0), .changeCipherSpec])
        var shuffled = datagrams + (0..<3).map { _ in datagrams[Int.random(in: 0..<datagrams.count, using: &generator)] }
        shuffled.shuffle(using: &generator)
        let outcome = run(shuffled + [record(20, seq: 99, [1])])
        #expect(outcome.events == inOrder.events)
        #expect(outcome.problems.isEmpty)
    }
}

/// The epoch proves the ChangeCipherSpec was sent: a lost or overtaken one is reported before the Finished.
@Suite struct DTLSChangeCipherSpecTests {
    let finished = [UInt8](repeating: 0xee, count: 40)

    @Test func finishedOvertakesItsChangeCipherSpec() {
        var parser = DTLSRecordParser()
        _ = parser.run([handshakeRecord(1, seq: 0, clientHelloBody())])
        let outcome = parser.run([record(22, epoch: 1, seq: 0, finished), record(20, seq: 1, [1])])
        #expect(outcome.shapes == [.changeCipherSpec, .encryptedHandshake(40)])
    }

    @Test func lostChangeCipherSpec() {
        let outcome = run([handshakeRecord(1, seq: 0, clientHelloBody()), record(22, epoch: 1, seq: 0, finished), record(23, epoch: 1, seq: 1, [1])])
        #expect(outcome.shapes == [.clientHello(cookie: []), .changeCipherSpec, .encryptedHandshake(40), .applicationData(1)])
        // DTLS 1.3 has no ChangeCipherSpec: unified headers never make one up.
        var dtls13 = DTLSRecordParser()
        _ = dtls13.run([handshakeRecord(1, seq: 0, clientHelloBody())])
        #expect(dtls13.run([[0x2e] + u16(0) + u16(40) + finished]).shapes == [.encryptedHandshake(40)])
    }
}
