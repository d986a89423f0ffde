import Fingerprints
import PacketDecoding
import TCPReassembly
import TLSAudit
import TLSWire
import WireCursor
import X509Inspection

/// The per-connection state: two TLS stream parsers (one per direction) and what their events
/// tell about the handshake. It decides which side is the client (the ClientHello sender), and
/// when the handshake is over, so the flow table can stop reassembling it.
struct TLSSession: TCPStreamConsumer {
    static let maxMessages = 64
    /// Heartbeat records kept per connection (enough to see request/response pairs).
    static let maxHeartbeats = 16
    /// Longest TLS 1.3 record taken for an encrypted alert rather than the client's Finished, whose
    /// smallest form (SHA-256 verify_data) is 32 + 1 + 16 = 49 bytes.
    static let maxEncryptedAlertLength = 2 + 1 + 16 + 8

    let start: FlowStart
    var fromInitiator: TLSStreamParser
    var fromResponder: TLSStreamParser
    /// Which flow direction the client sends in; nil until known.
    var clientDirection: FlowDirection?
    var record: HandshakeRecord
    /// The server's handshake flight in clear included certificate / key exchange (a full handshake).
    var serverSentFullHandshake = false
    var clientChangedCipherSpec = false
    var serverChangedCipherSpec = false
    var clientFinished = false
    var serverFinished = false
    var isTLS13 = false
    /// Last step kind appended per peer, to collapse runs of application data records.
    var lastStep: HandshakeStep?
    /// The ServerHello carried the heartbeat extension (RFC 6520).
    var heartbeatNegotiated: Bool {
        record.serverHello?.extensions.contains { $0.type == .heartbeat } ?? false
    }
    var serverChain: [[UInt8]] = []
    var clientChain: [[UInt8]] = []
    var done = false
    /// The record was already emitted when the handshake ended (`AnalysisOptions.reportAtHandshakeEnd`).
    var reported = false
    /// Whether each direction's bytes go to its TLS parser, to the preamble machine, or nowhere.
    var initiatorStage = Stage.unknown
    var responderStage = Stage.unknown
    /// Created only for a connection whose first bytes are not TLS (STARTTLS, proxies, plaintext).
    /// Held out of line (an array of at most one) so TLS sessions do not carry its ~160 bytes.
    private var preambleStorage: [Preamble] = []
    var preamble: Preamble? { preambleStorage.first }

    enum Stage: UInt8 {
        /// Nothing received yet: the first byte decides.
        case unknown
        /// The TLS parser reads this direction (from its first byte, or after the preamble).
        case tls
        /// Cleartext: the preamble machine looks for where TLS starts.
        case cleartext
        /// Cleartext that does not lead to TLS (or was lost): not looked at any more.
        case off
    }

    init(start: FlowStart, limits: TLSLimits) {
        self.start = start
        fromInitiator = TLSStreamParser(limits: limits)
        fromResponder = TLSStreamParser(limits: limits)
        clientDirection = start.sawSYN ? .fromInitiator : nil
        record = HandshakeRecord(
            firstTimestamp: start.timestamp, lastTimestamp: start.timestamp, transport: .tcp,
            clientAddress: start.initiatorAddress, clientPort: start.initiatorPort,
            serverAddress: start.responderAddress, serverPort: start.responderPort,
            startTLS: nil, version: nil, cipherSuite: nil, keyExchange: nil, authentication: nil, group: nil,
            serverName: nil, alpn: nil, resumed: false, established: false, alert: nil, clientHello: nil,
            serverHello: nil, helloRetryRequest: nil, certificates: [], clientCertificates: [], messages: [],
            messagesTruncated: false, ja3: nil, ja3s: nil, ja4: nil, findings: [], anomalies: [],
            dhPrimeBits: nil, heartbeats: [], packets: 0, bytes: 0)
    }

    /// A connection is reported as TLS once a ClientHello or ServerHello was parsed.
    var isTLS: Bool { record.clientHello != nil || record.serverHello != nil }

    func peer(for direction: FlowDirection) -> Peer? {
        guard let clientDirection else { return nil }
        return direction == clientDirection ? .client : .server
    }

    func stage(_ direction: FlowDirection) -> Stage {
        direction == .fromInitiator ? initiatorStage : responderStage
    }

    mutating func setStage(_ stage: Stage, _ direction: FlowDirection) {
        switch direction {
        case .fromInitiator: initiatorStage = stage
        case .fromResponder: responderStage = stage
        }
    }

    /// A direction is over once its parser stopped or its cleartext was given up on.
    var bothDirectionsOver: Bool {
        (initiatorStage == .off || fromInitiator.isStopped) && (responderStage == .off || fromResponder.isStopped)
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        if done { return .stopCollecting }
        // The one check a TLS connection pays: its first byte starts a TLS record.
        if stage(direction) != .tls {
            guard let first = bytes.first else { return .keepCollecting }
            // Cleartext against a peer that spoke TLS from its first byte is no preamble: the parser
            // stops on it as before (a plaintext error answer to a ClientHello is an anomaly).
            if stage(direction) == .unknown
                && (Preamble.beginsTLS(first) || (preambleStorage.isEmpty && stage(direction.reversed) == .tls))
            {
                setStage(.tls, direction)
            } else {
                return receiveCleartext(bytes, direction: direction)
            }
        }
        return receiveTLS(bytes, direction: direction)
    }

    /// Bytes before TLS: the preamble machine says whether and where TLS starts.
    private mutating func receiveCleartext(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection) -> StreamVerdict {
        if stage(direction) == .off { return bothDirectionsOver ? .stopCollecting : .keepCollecting }
        setStage(.cleartext, direction)
        if preambleStorage.isEmpty { preambleStorage.append(Preamble()) }
        // Mutated in place through the array's storage (no copy of its buffers).
        let verdict = preambleStorage[0].feed(bytes, from: direction)
        let name = preambleStorage[0].detected?.startTLSName
        switch verdict {
        case .pending:
            return .keepCollecting
        case .notTLS:
            setStage(.off, direction)
            // Plaintext that will not upgrade: stop at once, unless the other side already speaks TLS.
            if stage(direction.reversed) != .tls || bothDirectionsOver { done = true }
            return done ? .stopCollecting : .keepCollecting
        case .tls(let offset):
            setStage(.tls, direction)
            record.startTLS = name
            guard offset < bytes.count else { return .keepCollecting }
            return receiveTLS(UnsafeRawBufferPointer(rebasing: bytes[offset...]), direction: direction)
        }
    }

    private mutating func receiveTLS(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection) -> StreamVerdict {
        // Events are handled after the parser returns, so the parser and the session are not
        // borrowed at once; they are few per connection (handshake only).
        var events: [TLSEvent] = []
        switch direction {
        case .fromInitiator: fromInitiator.feed(bytes) { events.append($0) }
        case .fromResponder: fromResponder.feed(bytes) { events.append($0) }
        }
        for event in events { handle(event, direction: direction) }
        if bothDirectionsOver { done = true }
        return done ? .stopCollecting : .keepCollecting
    }

    mutating func gap(direction: FlowDirection, length: Int?, timestamp: Int64) {
        switch direction {
        case .fromInitiator: fromInitiator.noteGap()
        case .fromResponder: fromResponder.noteGap()
        }
        // Lost cleartext: where TLS would start can no longer be known.
        if stage(direction) != .tls { setStage(.off, direction) }
        if !done && isTLS { record.anomalies.append(.gapBeforeHandshakeEnd(peer(for: direction))) }
        if bothDirectionsOver { done = true }
    }

    private mutating func append(_ kind: HandshakeStep.Kind, from peer: Peer) {
        let step = HandshakeStep(from: peer, kind: kind)
        // application_data is listed once per run of records from the same peer.
        if kind == .applicationData || kind == .encryptedHandshake, lastStep == step { return }
        lastStep = step
        if record.messages.count < Self.maxMessages {
            record.messages.append(step)
        } else {
            record.messagesTruncated = true
        }
    }

    private mutating func handle(_ event: TLSEvent, direction: FlowDirection) {
        // Until the client is known, a ClientHello decides it.
        if clientDirection == nil {
            if case .handshake(.clientHello) = event {
                clientDirection = direction
            } else if case .handshake(.serverHello) = event {
                clientDirection = direction.reversed
            } else if case .stopped = event {
                return
            } else {
                return  // nothing attributable before the first hello
            }
            if clientDirection == .fromResponder {
                swap(&record.clientAddress, &record.serverAddress)
                swap(&record.clientPort, &record.serverPort)
            }
        }
        guard let peer = peer(for: direction) else { return }
        switch event {
        case .handshake(let message):
            handleHandshake(message, from: peer)
        case .encryptedHandshake:
            append(.encryptedHandshake, from: peer)
            noteFinished(from: peer)
        case .changeCipherSpec:
            append(.changeCipherSpec, from: peer)
            if peer == .client { clientChangedCipherSpec = true } else { serverChangedCipherSpec = true }
            if peer == .server && !isTLS13 && !serverSentFullHandshake && record.serverHello != nil {
                record.resumed = true
            }
        case .alert(let alert):
            append(.alert, from: peer)
            if record.alert == nil { record.alert = AlertSighting(from: peer, alert: alert) }
            if alert.isFatal && !record.established { done = true }
        case .encryptedAlert:
            append(.alert, from: peer)
        case .applicationData(let length):
            if isTLS13 && !record.established {
                // TLS 1.3: after the ServerHello, handshake messages travel as application_data records.
                // A client record too short to hold any Finished (RFC 8446 §5.2: 2-byte alert + content
                // type + 16-byte tag, a little padding) is an encrypted alert: the handshake failed.
                if peer == .client && length <= Self.maxEncryptedAlertLength {
                    append(.alert, from: peer)
                    done = true
                    return
                }
                append(.encryptedHandshake, from: peer)
                if peer == .client { record.established = true; done = !heartbeatNegotiated }
            } else {
                append(.applicationData, from: peer)
            }
        case .heartbeat(let type, let payloadLength, let recordLength):
            append(.heartbeat, from: peer)
            if record.heartbeats.count < Self.maxHeartbeats {
                record.heartbeats.append(
                    AuditInput.HeartbeatRecord(
                        type: type == 0 && payloadLength < 0 ? nil : type,
                        payloadLength: payloadLength < 0 ? nil : payloadLength,
                        recordLength: recordLength, fromClient: peer == .client))
            }
        case .skippedHandshake(let type, _):
            // Listed as seen; the too_large anomaly is the coordinator's to add (issue #9).
            append(.handshake(type), from: peer)
            if peer == .server && type == .certificate { serverSentFullHandshake = true }
        case .stopped(let error):
            if isTLS && !done {
                record.anomalies.append(.parserStopped(peer, error.description))
            }
        }
    }

    private mutating func noteFinished(from peer: Peer) {
        guard !isTLS13 else { return }
        if peer == .client && clientChangedCipherSpec { clientFinished = true }
        if peer == .server && serverChangedCipherSpec { serverFinished = true }
        if clientFinished && serverFinished && record.alert?.alert.isFatal != true {
            record.established = true
            // With heartbeat negotiated, records are still watched for the Heartbleed pattern.
            done = !heartbeatNegotiated
        }
    }

    private mutating func handleHandshake(_ message: HandshakeMessage, from peer: Peer) {
        switch message {
        case .clientHello(let hello) where peer == .client:
            append(.handshake(.clientHello), from: peer)
            if record.clientHello == nil {
                record.clientHello = hello
                record.serverName = hello.serverName
            }
        case .serverHello(let hello) where peer == .server:
            // The client's parser cannot know the server's answer: a TLS 1.3 ChangeCipherSpec is a
            // dummy, and after a TLS 1.3 ServerHello the client's handshake is encrypted.
            switch clientDirection {
            case .fromInitiator: fromInitiator.notePeerServerHello(hello)
            case .fromResponder: fromResponder.notePeerServerHello(hello)
            case nil: break
            }
            if hello.isHelloRetryRequest {
                append(.helloRetryRequest, from: peer)
                if record.helloRetryRequest == nil { record.helloRetryRequest = hello }
                return
            }
            append(.handshake(.serverHello), from: peer)
            guard record.serverHello == nil else { return }
            record.serverHello = hello
            record.version = hello.negotiatedVersion
            // An SSL 2.0 SERVER-HELLO names cipher specs, not a TLS suite (its cipherSuite is a placeholder).
            if !hello.isSSLv2Format { record.cipherSuite = hello.cipherSuite }
            record.alpn = hello.alpn
            let version = hello.negotiatedVersion
            isTLS13 = version == .tls13 || version.tls13Draft != nil
            if isTLS13 {
                let pskAccepted = hello.extensions.contains { $0.type == .preSharedKey }
                record.resumed = pskAccepted
                if let group = hello.selectedGroup {
                    record.group = .named(group)
                    record.keyExchange = group.tls13KeyExchangeName(pskAccepted: pskAccepted)
                } else if pskAccepted {
                    record.keyExchange = "PSK"
                }
            } else if let clientHello = record.clientHello, !clientHello.sessionID.isEmpty,
                clientHello.sessionID == hello.sessionID
            {
                record.resumed = true
            }
        case .certificate(let chain):
            append(.handshake(.certificate), from: peer)
            // Kept as DER; summarised once per distinct certificate when the record is emitted.
            if peer == .server {
                serverSentFullHandshake = true
                if serverChain.isEmpty { serverChain = chain.certificates }
            } else if clientChain.isEmpty {
                clientChain = chain.certificates
            }
        case .serverKeyExchange(let exchange):
            append(.handshake(.serverKeyExchange), from: peer)
            if peer == .server { serverSentFullHandshake = true }
            // Read by the parser with the negotiated suite's layout; a problem there leaves the group
            // unknown (the coordinator reports it, issue #9).
            if case .success(let parameters) = exchange.parameters {
                if let group = parameters.namedGroup {
                    record.group = .named(group)
                } else if let bits = parameters.dhPrimeBits {
                    record.group = .explicitPrime(bits: bits)
                    record.dhPrimeBits = bits
                }
            }
        case .other(let type, _):
            append(.handshake(type), from: peer)
            if peer == .server && type == .serverHelloDone { serverSentFullHandshake = true }
        case .clientHello, .serverHello:
            // A hello from the wrong side: listed, not trusted.
            append(.handshake(message.type), from: peer)
        }
    }

    /// TLS 1.3 key exchange named from the group (defined in TLSWire: `NamedGroup.tls13KeyExchangeName`).
    static func tls13KeyExchange(_ group: NamedGroup) -> String {
        group.tls13KeyExchangeName()
    }

    static func authentication(of leaf: CertificateSummary) -> String {
        switch leaf.keyType {
        case "EC": "ECDSA"
        case "DSA": "DSS"
        default: leaf.keyType
        }
    }

    /// What the record needs from this session, with the flow table's view of the connection's extent
    /// (`RecordCompletion` summarises the certificates, computes fingerprints and judges findings).
    func ended(_ extent: FlowExtent) -> EndedConnection {
        var result = record
        result.firstTimestamp = extent.firstTimestamp
        result.lastTimestamp = extent.lastTimestamp
        result.packets = extent.packets
        result.bytes = extent.bytes
        return EndedConnection(record: result, serverChain: serverChain, clientChain: clientChain, isTLS13: isTLS13)
    }

    /// Marks the record emitted and drops what it was built from: the flow may stay in the table
    /// (quiet until FIN or idle) for a long time, and should cost little meanwhile.
    mutating func markReported() {
        reported = true
        serverChain = []
        clientChain = []
        record.messages = []
        record.clientHello = nil
        record.serverHello = nil
        record.helloRetryRequest = nil
        record.heartbeats = []
        fromInitiator = TLSStreamParser()
        fromResponder = TLSStreamParser()
        preambleStorage = []
    }
}

/// A TLS connection whose record is due: what the flow table and the parsers gathered, before the
/// certificates are summarised, the fingerprints computed and the findings judged (`RecordCompletion`).
/// A value that can cross threads, so that this work can run beside the capture (`tlsscope analyze`).
public struct EndedConnection: Sendable {
    var record: HandshakeRecord
    var serverChain: [[UInt8]]
    var clientChain: [[UInt8]]
    var isTLS13: Bool

    /// The record with the certificates summarised (through `certificates`, which parses each distinct
    /// DER once).
    func summarisingCertificates(_ certificates: inout CertificateCache) -> HandshakeRecord {
        var result = record
        for (chain, isServer) in [(serverChain, true), (clientChain, false)] {
            var summaries: [CertificateSummary] = []
            for der in chain {
                switch certificates.summary(of: der) {
                case .success(let summary): summaries.append(summary)
                case .failure(let error): result.anomalies.append(.certificateUnparsable(error.reason))
                }
            }
            if isServer {
                result.certificates = summaries
                if let leaf = summaries.first, !isTLS13 || result.authentication == nil {
                    result.authentication = TLSSession.authentication(of: leaf)
                }
            } else {
                result.clientCertificates = summaries
            }
        }
        return result
    }
}
