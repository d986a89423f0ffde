import DTLSWire
import FlowTracking
import PacketDecoding
import QUICWire
import TLSKeys
import TLSWire
import UDPFlows
import WireCursor

/// The consumer of one UDP flow: a DTLS or a QUIC connection, decided by the datagram that started the
/// flow. Held as two optionals (one set) rather than an enum so the session is mutated in place.
struct UDPSession: DatagramConsumer {
    private(set) var dtls: DTLSSession?
    private(set) var quic: QUICSession?

    /// The session a flow's first datagram starts, or nil when it starts neither a QUIC connection (a
    /// long-header Initial of a known version) nor a DTLS one (a plaintext handshake record): no flow then.
    static func starting(
        _ start: FlowStart, with datagram: UnsafeRawBufferPointer, limits: TLSLimits, keyLog: SharedKeyLog? = nil
    ) -> UDPSession? {
        if QUICConnectionReader.startsConnection(datagram) {
            return UDPSession(dtls: nil, quic: QUICSession(start: start, limits: limits, keyLog: keyLog))
        }
        if DTLSRecordParser.startsConnection(datagram) {
            return UDPSession(dtls: DTLSSession(start: start, limits: limits), quic: nil)
        }
        return nil
    }

    mutating func receive(_ datagram: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        if dtls != nil { return dtls?.receive(datagram, direction: direction) ?? .stopCollecting }
        return quic?.receive(datagram, direction: direction) ?? .stopCollecting
    }

    var retainedBytes: Int { dtls?.retainedBytes ?? quic?.retainedBytes ?? 0 }

    func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool {
        dtls?.startsAnotherConnection(datagram) ?? quic?.startsAnotherConnection(datagram) ?? false
    }

    /// The connection gets a record: a hello was seen, or (QUIC) an Initial was seen that did not decrypt.
    var isTLS: Bool { dtls?.recorder.isTLS ?? quic?.isReportable ?? false }
    var reported: Bool { dtls?.recorder.reported ?? quic?.recorder.reported ?? false }

    mutating func markReported() {
        dtls?.markReported()
        quic?.markReported()
    }

    func ended(_ extent: FlowExtent, endReason: FlowEndReason? = nil) -> EndedConnection? {
        dtls?.ended(extent, endReason: endReason) ?? quic?.ended(extent, endReason: endReason)
    }
}

/// A DTLS connection (RFC 6347, RFC 9147): a record parser per direction, the same events as TLS over TCP.
struct DTLSSession {
    var fromInitiator: DTLSRecordParser
    var fromResponder: DTLSRecordParser
    var recorder: HandshakeRecorder
    /// The random of the last ClientHello seen (kept after `markReported`): a ClientHello with another one,
    /// once the handshake is over, is a new connection on the same 5-tuple.
    var clientRandom: [UInt8]?

    init(start: FlowStart, limits: TLSLimits) {
        fromInitiator = DTLSRecordParser(limits: limits)
        fromResponder = DTLSRecordParser(limits: limits)
        recorder = HandshakeRecorder(start: start, transport: .udp, protocol: .dtls)
    }

    mutating func receive(_ datagram: UnsafeRawBufferPointer, direction: FlowDirection) -> StreamVerdict {
        if recorder.done { return .stopCollecting }
        // Events are handled after the parser returns, so the parser and the session are not borrowed at
        // once; they are few per connection (handshake only).
        var events: [TLSEvent] = []
        var problems: [DTLSProblem] = []
        switch direction {
        case .fromInitiator:
            fromInitiator.feed(datagram: datagram, problems: { problems.append($0) }) { events.append($0) }
        case .fromResponder:
            fromResponder.feed(datagram: datagram, problems: { problems.append($0) }) { events.append($0) }
        }
        take(events, problems, from: direction)
        if fromInitiator.isStopped && fromResponder.isStopped { recorder.done = true }
        return recorder.done ? .stopCollecting : .keepCollecting
    }

    private mutating func take(_ events: [TLSEvent], _ problems: [DTLSProblem], from direction: FlowDirection) {
        for problem in problems where !recorder.done {
            let (kind, detail) = Self.describe(problem)
            recorder.noteAnomaly(kind, direction, detail)
        }
        for event in events {
            if recorder.done { break }
            handle(event, direction: direction)
        }
    }

    /// The flow ended: messages a lost fragment left incomplete are said (and what was complete after them
    /// delivered).
    mutating func finishParsers() {
        for direction in [FlowDirection.fromInitiator, .fromResponder] {
            var events: [TLSEvent] = []
            var problems: [DTLSProblem] = []
            switch direction {
            case .fromInitiator: fromInitiator.finish(problems: { problems.append($0) }) { events.append($0) }
            case .fromResponder: fromResponder.finish(problems: { problems.append($0) }) { events.append($0) }
            }
            take(events, problems, from: direction)
        }
    }

    /// How a DTLS problem reads in the record's anomalies.
    static func describe(_ problem: DTLSProblem) -> (Anomaly.Kind, String) {
        switch problem {
        case .malformedRecord(let error):
            (.parseError, "a record was not valid DTLS (\(error)); it was dropped")
        case .malformedMessage(let type, let error):
            (.parseError, "\(type.name) did not parse (\(error)); it was dropped")
        case .incompleteMessage(let type, let messageSeq, let length, let received):
            (.gap, "\(type.name) (message_seq \(messageSeq)) incomplete: \(received) of \(length) bytes seen")
        case .missingMessages(let first, let count):
            (.gap, "\(count) handshake message(s) from message_seq \(first) never seen (lost datagrams)")
        case .fragmentDropped(let type, let messageSeq):
            (.tooLarge, "a fragment of \(type.name) (message_seq \(messageSeq)) was dropped for a reassembly cap")
        case .unexpectedUnifiedHeader:
            (.midstream, "an encrypted DTLS 1.3 record came before anything showed this side speaks DTLS")
        }
    }

    private mutating func handle(_ event: TLSEvent, direction: FlowDirection) {
        var event = event
        if case .handshake(.clientHello(let hello)) = event { clientRandom = hello.random }
        switch event {
        case .handshake(.clientHello(let hello)) where recorder.peer(for: direction) == .client:
            // After a HelloVerifyRequest the client sends its hello again, with the cookie: the one the
            // server answers is the one that counts (RFC 6347 §4.2.1).
            if recorder.record.serverHello == nil, recorder.record.clientHello != nil {
                recorder.replaceClientHello(hello)
            }
        case .encryptedHandshake(let length) where recorder.state.isTLS13:
            // DTLS 1.3 tells a handshake-epoch record by its header, but not a Finished from an encrypted
            // alert: that is told by length, as in TLS 1.3 over TCP. Between the two lie the client's ACKs.
            if recorder.peer(for: direction) == .client, Self.isACKLength(length, suite: recorder.record.cipherSuite) {
                return
            }
            event = .applicationData(length: length)
        case .applicationData where recorder.state.isTLS13:
            // DTLS 1.3 types its encrypted records by epoch: 1 (early data), 3 and later (application data)
            // are never the Finished nor an alert, whatever their length (RFC 9147 §6.1). Listed only.
            if let peer = recorder.peer(for: direction) { recorder.append(.applicationData, from: peer) }
            return
        default:
            break
        }
        recorder.handle(event, direction: direction)
        if let hello = recorder.serverHelloForClientParser.take() {
            switch recorder.clientDirection {
            case .fromInitiator: fromInitiator.notePeerServerHello(hello)
            case .fromResponder: fromResponder.notePeerServerHello(hello)
            case nil: break
            }
            noteConnectionIDs(serverHello: hello)
        }
    }

    /// RFC 9147 §7: an epoch-2 record longer than an encrypted alert (2 + content type + AEAD tag, a little
    /// padding) and shorter than the shortest Finished (4 + the suite's hash + 1 + tag) is an ACK of one or
    /// two of the server's records (2 + 16 each + 1 + tag): it says nothing of the outcome. Tag and hash
    /// lengths from the suite's registry name (CCM_8: 8-byte tag; _SHA384: 48-byte verify_data).
    static func isACKLength(_ length: Int, suite: CipherSuite?) -> Bool {
        let tag = suite?.parts?.encryption.hasSuffix("CCM_8") == true ? 8 : 16
        let hash = suite?.name.hasSuffix("_SHA384") == true ? 48 : 32
        return length > 2 + 1 + tag + 8 && length < 4 + hash + 1 + tag
    }

    /// RFC 9146 / RFC 9147: each peer's connection_id extension names the id it wants to receive, so the
    /// records the *other* side sends carry it. Used only when both hellos carry the extension.
    private mutating func noteConnectionIDs(serverHello: ServerHello) {
        guard let clientHello = recorder.record.clientHello,
            let clientWants = Self.connectionIDLength(clientHello.extensions),
            let serverWants = Self.connectionIDLength(serverHello.extensions),
            let clientDirection = recorder.clientDirection
        else { return }
        switch clientDirection {
        case .fromInitiator:
            fromInitiator.noteConnectionIDLength(serverWants)
            fromResponder.noteConnectionIDLength(clientWants)
        case .fromResponder:
            fromResponder.noteConnectionIDLength(serverWants)
            fromInitiator.noteConnectionIDLength(clientWants)
        }
    }

    /// The length of the connection id in a connection_id extension (`opaque cid<0..2^8-1>`).
    static func connectionIDLength(_ extensions: [TLSExtension]) -> Int? {
        connectionID(in: extensions)?.count
    }

    var retainedBytes: Int { recorder.keptBytes + fromInitiator.bufferedCapacity + fromResponder.bufferedCapacity }

    /// A ClientHello starting a handshake with a random other than this connection's (a retransmitted
    /// hello repeats it); when no ClientHello was seen (midstream), any.
    func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard let range = DTLSRecordParser.clientHelloRandomRange(datagram) else { return false }
        guard let clientRandom else { return true }
        return !clientRandom.elementsEqual(datagram[range])
    }

    func ended(_ extent: FlowExtent, endReason: FlowEndReason?) -> EndedConnection {
        var session = self
        if endReason != nil && !session.recorder.done { session.finishParsers() }
        return session.recorder.ended(extent, endReason: endReason, startMissed: "ClientHello")
    }

    mutating func markReported() {
        recorder.markReported()
        fromInitiator = DTLSRecordParser()
        fromResponder = DTLSRecordParser()
    }
}

/// A QUIC connection (RFC 9000, RFC 9001): its Initial packets opened with the keys every observer can
/// derive, the CRYPTO stream's hellos fed to the recorder as TLS events, the other packets counted by space.
struct QUICSession {
    var reader: QUICConnectionReader
    var recorder: HandshakeRecorder
    /// The reader's connection ids, kept when the reader is dropped (`markReported`).
    var reportedConnectionIDs: [[UInt8]] = []
    /// With a key log: the reader keeps the handshake until the ClientHello's random is looked up.
    var keys: KeyMatch?
    /// The client sent a 1-RTT packet (its Finished went before it).
    var clientSentOneRTT = false

    /// Over, but with keys the client's Finished is still to be kept (see `receive`).
    private var awaitingFinished: Bool {
        recorder.done && keys != nil && reader.isKeeping && !clientSentOneRTT && reader.keptBytes?.overCap == false
    }

    init(start: FlowStart, limits: TLSLimits, keyLog: SharedKeyLog? = nil) {
        reader = QUICConnectionReader(tlsLimits: limits)
        recorder = HandshakeRecorder(start: start, transport: .udp, protocol: .quic)
        if let keyLog {
            keys = KeyMatch(log: keyLog)
            reader.keepHandshakeBytes()
        }
    }

    mutating func receive(_ datagram: UnsafeRawBufferPointer, direction: FlowDirection) -> StreamVerdict {
        if recorder.done && !awaitingFinished { return .stopCollecting }
        var events: [QUICEvent] = []
        reader.feed(datagram, fromInitiator: direction == .fromInitiator) { events.append($0) }
        for event in events {
            if recorder.done { break }
            handle(event)
        }
        if var match = keys {
            if !match.decided {
                let keep = match.decide(
                    clientRandom: recorder.record.clientHello?.random,
                    over: recorder.record.serverHello != nil || recorder.done)
                if !keep { reader.stopKeeping() }
                keys = match
            }
            if events.contains(where: { if case .packet(.oneRTT, true, _) = $0 { true } else { false } }) {
                clientSentOneRTT = true
            }
            // The handshake is over with the client's first Handshake packet, but with keys its Finished is
            // wanted: the server's flight may go on after that packet (an ACK, under the amplification limit),
            // and the Finished come later. The client's first 1-RTT packet follows its Finished.
            if awaitingFinished { return .keepCollecting }
        }
        return recorder.done ? .stopCollecting : .keepCollecting
    }

    /// The flow direction a peer sends in: the reader knows which side sent the client's Initial.
    private func direction(fromClient: Bool) -> FlowDirection {
        fromClient == (reader.clientIsInitiator ?? true) ? .fromInitiator : .fromResponder
    }

    private mutating func handle(_ event: QUICEvent) {
        switch event {
        case .handshake(let message, let fromClient):
            recorder.handle(.handshake(message), direction: direction(fromClient: fromClient))
        case .packet(let type, let fromClient, let length):
            let direction = direction(fromClient: fromClient)
            guard let peer = recorder.peer(for: direction) else { return }
            switch type {
            case .handshake:
                // Handshake-space packets are the encrypted handshake; the client's completes it.
                recorder.handle(.encryptedHandshake(length: length), direction: direction)
            case .zeroRTT, .oneRTT:
                // Typed by their headers: listed, never taken for an alert by their length.
                recorder.append(.applicationData, from: peer)
            case .initial, .retry, .versionNegotiation:
                break
            }
        case .connectionClose(let close, let fromClient):
            // RFC 9001 §4.8: a CRYPTO_ERROR carries the TLS alert that ended the handshake.
            guard let description = close.tlsAlert else { return }
            recorder.handle(
                .alert(Alert(level: 2, description: AlertDescription(rawValue: description))),
                direction: direction(fromClient: fromClient))
        case .retry, .versionNegotiation:
            break
        case .initialNotDecrypted(let fromClient):
            recorder.noteAnomaly(
                .decryptFailed, fromClient.map { direction(fromClient: $0) },
                "an Initial packet did not decrypt with the Initial keys of this connection's ids"
                    + " (corrupted, or keyed by a Destination Connection ID not captured)")
        case .problem(let error, let fromClient):
            recorder.noteAnomaly(
                error.code == .tooLarge ? .tooLarge : .parseError, fromClient.map { direction(fromClient: $0) },
                error.description)
        }
    }

    var retainedBytes: Int {
        recorder.keptBytes + reader.retainedBytes + reportedConnectionIDs.reduce(0) { $0 + 32 + $1.count }
    }

    /// A client Initial to a connection id this connection never used: another connection (a late
    /// retransmitted Initial goes to the original DCID or, after the server's first Initial, its SCID).
    func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard let destination = QUICConnectionReader.initialDestinationConnectionID(datagram) else { return false }
        let known = reportedConnectionIDs.isEmpty ? reader.connectionIDs : reportedConnectionIDs
        return !known.contains { $0.elementsEqual(destination) }
    }

    /// A QUIC flow starts with a long-header Initial of a known version: it is reported when a hello was
    /// read, and also when Initials were seen that did not decrypt (the record says so) — a QUIC
    /// connection the analyzer could not open is not left out of the output.
    var isReportable: Bool { recorder.isTLS || reader.undecryptedInitials > 0 }

    func ended(_ extent: FlowExtent, endReason: FlowEndReason?) -> EndedConnection {
        // With no hello read because Initials did not decrypt, `decrypt_failed` says why, not `midstream`.
        let startMissed = !recorder.isTLS && reader.undecryptedInitials > 0 ? nil : "the client's first Initial"
        var result = recorder.ended(extent, endReason: endReason, startMissed: startMissed)
        if let version = reader.version ?? reader.firstInitialVersion,
            let id = reader.originalDestinationConnectionID ?? reader.firstInitialDestinationConnectionID
        {
            result.record.quic = QUICDetails(
                version: version.name, clientDestinationConnectionID: id,
                clientSourceConnectionID: reader.clientSourceConnectionID,
                serverSourceConnectionID: reader.serverSourceConnectionID, retry: reader.sawRetry)
        }
        if let match = keys, let kept = reader.keptBytes,
            let secrets = match.finalSecrets(clientRandom: result.record.clientHello?.random)
        {
            result.keyEvidence = KeyEvidence(capture: HandshakeCapture(quic: kept), secrets: secrets, overCap: kept.overCap)
        }
        return result
    }

    mutating func markReported() {
        recorder.markReported()
        reportedConnectionIDs = reader.connectionIDs
        reader = QUICConnectionReader()
    }
}
