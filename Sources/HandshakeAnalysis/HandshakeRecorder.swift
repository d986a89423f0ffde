import Fingerprints
import FlowTracking
import PacketDecoding
import TLSAudit
import TLSWire
import WireCursor
import X509Inspection

/// What a connection's handshake events tell, whatever carries them (a TCP stream, DTLS datagrams, QUIC
/// Initial packets): which side is the client (the ClientHello sender), the handshake's state, the steps in
/// order, what was kept for the record (hellos, chains) and what could not be seen (anomalies). The
/// sessions (`TLSSession` for TCP, `DTLSSession`, `QUICSession`) own the parsers and feed it `TLSEvent`s.
struct HandshakeRecorder {
    static let maxMessages = 64
    /// Heartbeat records kept per connection (enough to see request/response pairs).
    static let maxHeartbeats = 16
    /// Anomalies kept per connection; later ones are counted in the last entry's place.
    static let maxAnomalies = 16

    /// Which flow direction the client sends in: decided by the first ClientHello (or ServerHello), whatever
    /// the SYN said (an FTPS active-mode data connection is opened by the TLS server). nil until then.
    var clientDirection: FlowDirection?
    var record: HandshakeRecord
    /// Where the handshake stands; decides `established`, `resumed` and when it is over.
    var state = HandshakeState()
    /// Last step kind appended per peer, to collapse runs of application data records.
    var lastStep: HandshakeStep?
    var serverChain: [[UInt8]] = []
    var clientChain: [[UInt8]] = []
    /// What kept the analyzer from seeing all of the connection, by flow direction (the peer is known only
    /// once a hello was seen); turned into the record's `anomalies` when it is written.
    var anomalies: [(kind: Anomaly.Kind, direction: FlowDirection?, detail: String)] = []
    /// Anomalies past `maxAnomalies`, not listed.
    var anomaliesOverCap = 0
    /// Heap bytes of the hellos and certificate chains kept for the record (estimated when each is kept).
    var keptBytes = 0
    /// The handshake is over (or nothing more can be learnt): the flow table may stop feeding the session.
    var done = false
    /// The record was already emitted when the handshake ended (`AnalysisOptions.reportAtHandshakeEnd`).
    var reported = false
    /// A ServerHello the session must pass to the client direction's parser (set by `handle`).
    var serverHelloForClientParser: ServerHello?

    init(start: FlowStart, transport: TransportProtocol, protocol recordProtocol: RecordProtocol) {
        record = HandshakeRecord(
            firstTimestamp: start.timestamp, lastTimestamp: start.timestamp, transport: transport,
            recordProtocol: recordProtocol,
            clientAddress: start.initiatorAddress, clientPort: start.initiatorPort,
            serverAddress: start.responderAddress, serverPort: start.responderPort,
            startTLS: nil, version: nil, cipherSuite: nil, keyExchange: nil, authentication: nil, group: nil,
            serverName: nil, alpn: nil, resumed: false, established: false, alert: nil, clientHello: nil,
            serverHello: nil, helloRetryRequest: nil, certificates: [], clientCertificates: [], messages: [],
            messagesTruncated: false, ja3: nil, ja3s: nil, ja4: nil, findings: [], compliance: nil, anomalies: [],
            dhPrimeBits: nil, heartbeats: [], quic: nil, packets: 0, bytes: 0)
    }

    /// Keeps `hello` instead of the ClientHello kept so far (DTLS: the hello repeated with the server's
    /// cookie is the one the server answers).
    mutating func replaceClientHello(_ hello: ClientHello) {
        if let kept = record.clientHello { keptBytes -= Self.estimatedBytes(of: kept) }
        record.clientHello = hello
        record.serverName = hello.serverName
        keptBytes += Self.estimatedBytes(of: hello)
    }

    /// A connection is reported as TLS once a ClientHello or ServerHello was parsed.
    /// (The optionals' cases matched in place: `!= nil` copied each hello out to compare it.)
    var isTLS: Bool {
        if case .some = record.clientHello { return true }
        if case .some = record.serverHello { return true }
        return false
    }

    func peer(for direction: FlowDirection) -> Peer? {
        guard let clientDirection else { return nil }
        return direction == clientDirection ? .client : .server
    }

    func direction(of peer: Peer) -> FlowDirection? {
        peer == .client ? clientDirection : clientDirection?.reversed
    }

    static func describe(_ problem: ServerKeyExchangeProblem) -> String {
        switch problem {
        case .noServerHello: "no ServerHello before it in that direction"
        case .unknownSuite(let suite): "the negotiated suite \(suite.name) is unregistered, so its layout is unknown"
        case .unexpected(let keyExchange): "\(keyExchange.name) key exchange sends none this parser reads"
        case .malformed(let error): "the body does not fit the negotiated key exchange (\(error))"
        }
    }

    /// Keeps an anomaly (the first `maxAnomalies`; the rest are only counted).
    mutating func noteAnomaly(_ kind: Anomaly.Kind, _ direction: FlowDirection?, _ detail: String) {
        if anomalies.count < Self.maxAnomalies {
            anomalies.append((kind, direction, detail))
        } else {
            anomaliesOverCap += 1
        }
    }

    mutating func append(_ kind: HandshakeStep.Kind, from peer: Peer) {
        let step = HandshakeStep(from: peer, kind: kind)
        // application_data is listed once per run of records from the same peer.
        if kind == .applicationData || kind == .encryptedHandshake, lastStep == step { return }
        lastStep = step
        if record.messages.count < Self.maxMessages {
            // Most handshakes take 6-14 steps: one allocation for them, not one per doubling from 1.
            if record.messages.capacity == 0 { record.messages.reserveCapacity(16) }
            record.messages.append(step)
        } else if !record.messagesTruncated {
            record.messagesTruncated = true
            noteAnomaly(.messagesTruncated, nil, "more than \(Self.maxMessages) handshake steps; the first \(Self.maxMessages) are listed")
        }
    }

    /// Moves to the state an event led to, and copies what it decides into the record.
    mutating func enter(_ next: HandshakeState) {
        state = next
        record.established = next.established
        record.resumed = next.resumed
        if next.isOver { done = true }
    }

    /// Takes in one event of `direction`'s parser. After a ServerHello, `serverHelloForClientParser` holds it
    /// for the session to tell the client direction's parser (it cannot see the server's answer itself).
    mutating func handle(_ event: consuming TLSEvent, direction: FlowDirection) {
        // Until the client is known, a ClientHello (or a ServerHello) decides it.
        if clientDirection == nil {
            switch event {
            case .handshake(.clientHello): clientDirection = direction
            case .handshake(.serverHello): clientDirection = direction.reversed
            case .handshake(.other(.helloVerifyRequest, _)) where record.recordProtocol == .dtls:
                // RFC 6347 §4.2.1: only a server sends it (the capture missed the ClientHello before it).
                clientDirection = direction.reversed
            case .stopped(let error):
                return noteStop(error, direction)
            default:
                return  // nothing attributable before the first hello
            }
            if clientDirection == .fromResponder {
                swap(&record.clientAddress, &record.serverAddress)
                swap(&record.clientPort, &record.serverPort)
            }
        }
        guard let peer = peer(for: direction) else { return }
        // Switched on as consumed: its payload is moved into the binding (a borrowed subject copied it).
        switch consume event {
        case .handshake(let message):
            handleHandshake(message, from: peer)
        case .encryptedHandshake:
            append(.encryptedHandshake, from: peer)
            enter(state.encryptedHandshake(from: peer))
        case .changeCipherSpec:
            append(.changeCipherSpec, from: peer)
            enter(state.changeCipherSpec(from: peer))
        case .alert(let alert):
            append(.alert, from: peer)
            if record.alert == nil { record.alert = AlertSighting(from: peer, alert: alert) }
            enter(state.alert(fatal: alert.isFatal))
        case .encryptedAlert:
            append(.alert, from: peer)
        case .applicationData(let length):
            let (next, meaning, decidedHeld) = state.applicationData(from: peer, length: length)
            if let decidedHeld { append(Self.step(decidedHeld), from: .client) }
            if meaning != .held { append(Self.step(meaning), from: peer) }
            enter(next)
        case .heartbeat(let type, let payloadLength, let recordLength):
            append(.heartbeat, from: peer)
            if record.heartbeats.count < Self.maxHeartbeats {
                record.heartbeats.append(
                    AuditInput.HeartbeatRecord(
                        type: type == 0 && payloadLength < 0 ? nil : type,
                        payloadLength: payloadLength < 0 ? nil : payloadLength,
                        recordLength: recordLength, fromClient: peer == .client))
            }
        case .skippedHandshake(let type, let length):
            // Over its cap: listed as seen, skipped by its length, and the rest of the handshake followed.
            append(.handshake(type), from: peer)
            if peer == .server && type == .certificate { enter(state.serverFullFlightMessage()) }
            noteAnomaly(.tooLarge, direction, "\(type.name) of \(length) bytes is over the cap and was skipped")
        case .stopped(let error):
            noteStop(error, direction)
        }
    }

    /// A direction's parser stopped: what it could not read is said in the record.
    private mutating func noteStop(_ error: DecodeError, _ direction: FlowDirection) {
        guard !done else { return }
        let kind: Anomaly.Kind = error.code == .tooLarge ? .tooLarge : .parseError
        noteAnomaly(kind, direction, error.description + "; the rest of this direction is not followed")
    }

    /// How a record the state machine classified is listed in `messages`.
    static func step(_ meaning: HandshakeState.RecordMeaning) -> HandshakeStep.Kind {
        switch meaning {
        case .applicationData: .applicationData
        case .encryptedHandshake, .held: .encryptedHandshake
        case .encryptedAlert: .alert
        }
    }

    private mutating func handleHandshake(_ message: consuming HandshakeMessage, from peer: Peer) {
        let type = message.type
        // Switched on as consumed: a hello or chain is moved into the record (a borrowed subject copied it).
        switch consume message {
        case .clientHello(let hello) where peer == .client:
            append(.handshake(.clientHello), from: peer)
            let offersEarlyData = hello.extensions.contains { $0.type == .earlyData }
            if case .none = record.clientHello {
                record.serverName = hello.serverName
                keptBytes += Self.estimatedBytes(of: hello)
                if !hello.truncatedLists.isEmpty {
                    noteAnomaly(
                        .tooLarge, direction(of: peer),
                        "ClientHello lists cut to their first \(TLSLimits().maxListEntries) entries: "
                            + hello.truncatedLists.names.joined(separator: ", "))
                }
                // Stored as the last use of the hello, so it is moved into the record, not copied.
                record.clientHello = hello
            }
            enter(state.clientHello(offeringEarlyData: offersEarlyData))
        case .serverHello(let hello) where peer == .server:
            // The client's parser cannot know the server's answer: a TLS 1.3 ChangeCipherSpec is a
            // dummy, and after a TLS 1.3 ServerHello the client's handshake is encrypted.
            serverHelloForClientParser = hello
            if hello.isHelloRetryRequest {
                append(.helloRetryRequest, from: peer)
                if record.helloRetryRequest == nil {
                    record.helloRetryRequest = hello
                    keptBytes += Self.estimatedBytes(of: hello)
                }
                enter(state.helloRetryRequest())
                return
            }
            append(.handshake(.serverHello), from: peer)
            guard record.serverHello == nil else { return }
            record.serverHello = hello
            keptBytes += Self.estimatedBytes(of: hello)
            record.version = hello.negotiatedVersion
            // An SSL 2.0 SERVER-HELLO names cipher specs, not a TLS suite (its cipherSuite is a placeholder).
            if !hello.isSSLv2Format { record.cipherSuite = hello.cipherSuite }
            record.alpn = hello.alpn
            let pskAccepted = hello.extensions.contains { $0.type == .preSharedKey }
            let sessionIDEchoed =
                hello.isSSLv2Format
                ? hello.sslv2SessionIDHit
                : record.clientHello.map { !$0.sessionID.isEmpty && $0.sessionID == hello.sessionID } ?? false
            if hello.extensionsTruncated {
                noteAnomaly(.tooLarge, direction(of: peer), "ServerHello extensions cut to the first \(hello.extensions.count)")
            }
            enter(
                state.serverHello(
                    selecting: hello.negotiatedVersion, pskAccepted: pskAccepted, sessionIDEchoed: sessionIDEchoed,
                    heartbeat: hello.extensions.contains { $0.type == .heartbeat }))
            if state.isTLS13 {
                if let group = hello.selectedGroup {
                    record.group = .named(group)
                    record.keyExchange = group.tls13KeyExchangeName(pskAccepted: pskAccepted)
                } else if pskAccepted {
                    record.keyExchange = "PSK"
                }
            }
        case .certificate(let chain):
            append(.handshake(.certificate), from: peer)
            // Kept as DER; summarised once per distinct certificate when the record is emitted.
            if peer == .server {
                enter(state.serverFullFlightMessage())
                if serverChain.isEmpty {
                    serverChain = chain.certificates
                    keptBytes += Self.estimatedBytes(of: serverChain)
                }
            } else if clientChain.isEmpty {
                clientChain = chain.certificates
                keptBytes += Self.estimatedBytes(of: clientChain)
            }
        case .serverKeyExchange(let exchange):
            append(.handshake(.serverKeyExchange), from: peer)
            if peer == .server { enter(state.serverFullFlightMessage()) }
            // Read by the parser with the negotiated suite's layout (never guessed).
            switch exchange.parameters {
            case .success(let parameters):
                if let group = parameters.namedGroup {
                    record.group = .named(group)
                } else if let bits = parameters.dhPrimeBits {
                    record.group = .explicitPrime(bits: bits)
                    record.dhPrimeBits = bits
                }
            case .failure(let problem):
                noteAnomaly(.parseError, direction(of: peer), "ServerKeyExchange not read: " + Self.describe(problem))
            }
        case .other(let type, _):
            append(.handshake(type), from: peer)
            if peer == .server && type == .serverHelloDone { enter(state.serverFullFlightMessage()) }
        case .clientHello, .serverHello:
            // A hello from the wrong side: listed, not trusted.
            append(.handshake(type), from: peer)
        }
    }

    static func authentication(of leaf: CertificateSummary) -> String {
        switch leaf.keyType {
        case "EC": "ECDSA"
        case "DSA": "DSS"
        default: leaf.keyType
        }
    }


    /// The record as it stands, with the flow table's view of the connection's extent (`RecordCompletion`
    /// summarises the certificates, computes fingerprints and judges findings). `endReason` is nil when the
    /// record goes out before the flow ends (`reportAtHandshakeEnd`). `startMissed` names what of the
    /// connection's start was not captured when no ClientHello was seen either (nil: the start was seen).
    func ended(_ extent: FlowExtent, endReason: FlowEndReason?, startMissed: String?) -> EndedConnection {
        var recorder = self
        var ended = EndedConnection()
        recorder.takeEnded(extent, endReason: endReason, startMissed: startMissed, into: &ended)
        return ended
    }

    /// `ended` for a recorder that is done with, into `ended` (an empty `EndedConnection()`): worked out in
    /// place, the record and the chains swapped into it (the recorder keeps the empty record). Filled in
    /// place, not returned: a returned value was copied once more on its way.
    mutating func takeEnded(
        _ extent: FlowExtent, endReason: FlowEndReason?, startMissed: String?, into ended: inout EndedConnection
    ) {
        let wasOver = state.isOver
        // What was held for want of what follows is decided now: nothing followed.
        if endReason != nil || done {
            let (next, decidedHeld) = state.connectionEnded()
            if let decidedHeld { append(Self.step(decidedHeld), from: .client) }
            enter(next)
        }
        if endReason == .evicted && !wasOver {
            noteAnomaly(.evicted, nil, "the flow table was full: the connection was ended before its handshake was")
        }
        if let startMissed, record.clientHello == nil {
            noteAnomaly(.midstream, nil, "the connection's start (\(startMissed)) was not captured")
        }
        swap(&ended.record, &record)
        ended.record.firstTimestamp = extent.firstTimestamp
        ended.record.lastTimestamp = extent.lastTimestamp
        ended.record.packets = extent.packets
        ended.record.bytes = extent.bytes
        ended.record.firstFrameOrdinal = extent.firstSequence
        ended.record.lastFrameOrdinal = extent.lastSequence
        ended.record.anomalies = anomalies.map { Anomaly($0.kind, from: $0.direction.flatMap(peer(for:)), $0.detail) }
        if anomaliesOverCap > 0, var last = ended.record.anomalies.popLast() {
            last.detail += " (and \(anomaliesOverCap) more anomalies not listed)"
            ended.record.anomalies.append(last)
        }
        swap(&ended.serverChain, &serverChain)
        swap(&ended.clientChain, &clientChain)
        ended.isTLS13 = state.isTLS13
    }

    /// Heap bytes of a kept hello: its lists and extension bodies (each array with its ~32-byte header).
    static func estimatedBytes(of hello: ClientHello) -> Int {
        var bytes = 12 * 32 + hello.random.count + hello.sessionID.count + hello.cipherSuites.count * 2
            + hello.compressionMethods.count + hello.supportedGroups.count * 2 + hello.signatureAlgorithms.count * 2
            + hello.keyShareGroups.count * 2 + hello.supportedVersions.count * 2 + hello.ecPointFormats.count
            + hello.pskModes.count + (hello.serverName?.utf8.count ?? 0) + (hello.serverNameBytes?.count ?? 0)
            + hello.sslv2CipherSpecs.count * 4
        for protocolName in hello.alpn { bytes += 32 + protocolName.count }
        for item in hello.extensions { bytes += 48 + item.body.count }
        return bytes
    }

    static func estimatedBytes(of hello: ServerHello) -> Int {
        var bytes = 4 * 32 + hello.random.count + hello.sessionID.count + (hello.alpn?.count ?? 0)
        for item in hello.extensions { bytes += 48 + item.body.count }
        return bytes
    }

    static func estimatedBytes(of chain: [[UInt8]]) -> Int {
        chain.reduce(32) { $0 + 32 + $1.count }
    }

    /// Marks the record emitted and drops what it was built from: the flow may stay in the table
    /// (quiet until FIN or idle) for a long time, and should cost little meanwhile.
    mutating func markReported() {
        reported = true
        keptBytes = 0
        serverChain = []
        clientChain = []
        anomalies = []
        record.messages = []
        record.clientHello = nil
        record.serverHello = nil
        record.helloRetryRequest = nil
        record.heartbeats = []
    }
}
