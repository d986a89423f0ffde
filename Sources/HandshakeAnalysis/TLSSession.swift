import Fingerprints
import PacketDecoding
import Preambles
import FlowTracking
import TCPReassembly
import TLSAudit
import TLSKeys
import TLSWire
import WireCursor
import X509Inspection

/// The per-connection state: two TLS stream parsers (one per direction) and what their events
/// tell about the handshake. It decides which side is the client (the ClientHello sender), and
/// when the handshake is over, so the flow table can stop reassembling it.
struct TLSSession: TCPStreamConsumer {
    /// The session's state, out of line: inline it was 1,360 bytes that every move between the flow table,
    /// its callbacks and the hand-over copied (callgrind: ~30 copies of it per connection). Copy on write,
    /// so a `TLSSession` is still a value.
    private struct State {
        let start: FlowStart
        var fromInitiator: TLSStreamParser
        var fromResponder: TLSStreamParser
        /// What the events tell: client side, handshake state, the record being built.
        var recorder: HandshakeRecorder
        /// Whether each direction's bytes go to its TLS parser, to the preamble machine, or nowhere.
        var initiatorStage = Stage.unknown
        var responderStage = Stage.unknown
        /// Created only for a connection whose first bytes are not TLS (STARTTLS, proxies, plaintext).
        /// Held out of line (an array of at most one) so TLS sessions do not carry its ~160 bytes.
        var preambleStorage: [Preamble] = []
        /// The parsers' events of one segment, kept for the next (emptied, capacity kept).
        var eventBuffer: [TLSEvent]? = []
        /// With a key log: the log, and once the ClientHello was seen, the secrets it holds for it. Out of line
        /// (an array of at most one), as `preambleStorage`: sessions without a key log carry 8 bytes for it.
        var keyStorage: [KeyMatch] = []
    }


    /// One allocation holding the state; read and changed through its pointer (a class's stored property
    /// would cost a dynamic exclusivity check on every access).
    private typealias Box = ManagedBuffer<State, UInt8>
    private var box: Box

    private static func makeBox(_ state: State) -> Box {
        Box.create(minimumCapacity: 0) { _ in state }
    }

    private var state: UnsafeMutablePointer<State> {
        box.withUnsafeMutablePointerToHeader { $0 }
    }

    /// The state for changing: a shared box (a copy of the session was made) is copied first.
    private var unique: UnsafeMutablePointer<State> {
        mutating get {
            if !isKnownUniquelyReferenced(&box) { box = Self.makeBox(state.pointee) }
            return state
        }
    }

    var start: FlowStart { state.pointee.start }
    var fromInitiator: TLSStreamParser {
        _read { yield state.pointee.fromInitiator }
        _modify { yield &unique.pointee.fromInitiator }
    }
    var fromResponder: TLSStreamParser {
        _read { yield state.pointee.fromResponder }
        _modify { yield &unique.pointee.fromResponder }
    }
    var recorder: HandshakeRecorder {
        _read { yield state.pointee.recorder }
        _modify { yield &unique.pointee.recorder }
    }
    var initiatorStage: Stage {
        get { state.pointee.initiatorStage }
        set { unique.pointee.initiatorStage = newValue }
    }
    var responderStage: Stage {
        get { state.pointee.responderStage }
        set { unique.pointee.responderStage = newValue }
    }
    private var preambleStorage: [Preamble] {
        _read { yield state.pointee.preambleStorage }
        _modify { yield &unique.pointee.preambleStorage }
    }
    private var eventBuffer: [TLSEvent]? {
        _read { yield state.pointee.eventBuffer }
        _modify { yield &unique.pointee.eventBuffer }
    }
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

    init(start: FlowStart, limits: TLSLimits, keyLog: SharedKeyLog? = nil) {
        // Built in its box (a local State copied into it cost every connection a State copy).
        box = Self.makeBox(
            State(
                start: start, fromInitiator: TLSStreamParser(limits: limits),
                fromResponder: TLSStreamParser(limits: limits),
                recorder: HandshakeRecorder(start: start, transport: .tcp, protocol: .tls)))
        if let keyLog {
            let state = unique
            state.pointee.keyStorage = [KeyMatch(log: keyLog)]
            state.pointee.fromInitiator.keepHandshakeBytes()
            state.pointee.fromResponder.keepHandshakeBytes()
        }
    }

    private var keys: KeyMatch? {
        get { state.pointee.keyStorage.first }
        set { unique.pointee.keyStorage = newValue.map { [$0] } ?? [] }
    }
    private var hasKeyLog: Bool { !state.pointee.keyStorage.isEmpty }

    /// Looks the ClientHello's random up in the key log once it is known (or gives up when the connection
    /// was joined after it): without secrets, the parsers stop keeping bytes.
    private mutating func matchKeys() {
        guard var match = keys, !match.decided else { return }
        let keep = match.decide(
            clientRandom: recorder.record.clientHello?.random, over: recorder.record.serverHello != nil || done)
        if !keep {
            fromInitiator.stopKeeping()
            fromResponder.stopKeeping()
        }
        keys = match
    }

    /// What was kept for the key log, by peer, with the secrets to open it (nil: no secrets for this connection).
    private var keyEvidence: KeyEvidence? {
        guard let match = keys, let clientDirection = recorder.clientDirection,
            let secrets = match.finalSecrets(clientRandom: recorder.record.clientHello?.random)
        else { return nil }
        let fromClient = clientDirection == .fromInitiator ? fromInitiator : fromResponder
        let fromServer = clientDirection == .fromInitiator ? fromResponder : fromInitiator
        let client = fromClient.keptBytes ?? KeptHandshakeBytes()
        let server = fromServer.keptBytes ?? KeptHandshakeBytes()
        return KeyEvidence(
            capture: HandshakeCapture(client: client, server: server), secrets: secrets,
            overCap: client.overCap || server.overCap)
    }

    // Read straight from the state (through `recorder`'s read accessor, the flow's end copied the recorder).
    var isTLS: Bool { state.pointee.recorder.isTLS }
    var reported: Bool { state.pointee.recorder.reported }
    var done: Bool {
        get { state.pointee.recorder.done }
        set { recorder.done = newValue }
    }
    var record: HandshakeRecord {
        get { recorder.record }
        set { recorder.record = newValue }
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
            guard !bytes.isEmpty else { return .keepCollecting }
            // Cleartext against a peer that spoke TLS from its first byte is no preamble: the parser
            // stops on it as before (a plaintext error answer to a ClientHello is an anomaly).
            if stage(direction) == .unknown
                && (Preamble.beginsTLS(bytes) || (preambleStorage.isEmpty && stage(direction.reversed) == .tls))
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
        let verdict = preambleStorage[0].feed(bytes, from: direction.preambleSide)
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
            recorder.record.startTLS = name
            guard offset < bytes.count else { return .keepCollecting }
            return receiveTLS(UnsafeRawBufferPointer(rebasing: bytes[offset...]), direction: direction)
        }
    }

    private mutating func receiveTLS(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection) -> StreamVerdict {
        // Events are handled after the parser returns, so the parser and the session are not
        // borrowed at once; they are few per connection (handshake only). The buffer is the session's
        // own, reused (an array per segment was an allocation each), and events are handed on in place.
        var events = eventBuffer.take() ?? []
        // A flight brings a few events: room for them at once (growing from one took three allocations).
        if events.capacity == 0 { events.reserveCapacity(4) }
        defer {
            events.removeAll(keepingCapacity: true)
            eventBuffer = events
        }
        switch direction {
        case .fromInitiator: fromInitiator.feed(bytes) { events.append($0) }
        case .fromResponder: fromResponder.feed(bytes) { events.append($0) }
        }
        events.withUnsafeMutableBufferPointer { buffer in
            guard let first = buffer.baseAddress else { return }
            for index in 0..<buffer.count {
                // Moved out of the buffer (a payload-free event put in its place), so the event's hello or
                // chain goes into the record without a copy.
                // Once the handshake is over, what else the same bytes held changes nothing (so `messages` does
                // not depend on segmentation), except an SSL 2.0 SERVER-HELLO's certificate, which the parser
                // hands over as a second event of the same message.
                if done {
                    guard recorder.state.isSSLv2, case .handshake(.certificate) = first[index] else { break }
                }
                // Moved straight into the call: through a local, the event was copied and the local destroyed.
                recorder.handle((first + index).move(), direction: direction)
                (first + index).initialize(to: .changeCipherSpec)
                if let hello = recorder.serverHelloForClientParser.take() {
                    switch recorder.clientDirection {
                    case .fromInitiator: fromInitiator.notePeerServerHello(hello)
                    case .fromResponder: fromResponder.notePeerServerHello(hello)
                    case nil: break
                    }
                }
            }
        }
        if bothDirectionsOver { done = true }
        if hasKeyLog { matchKeys() }
        return done ? .stopCollecting : .keepCollecting
    }

    mutating func gap(direction: FlowDirection, offset: Int64, length: Int?, timestamp: Int64) {
        switch direction {
        case .fromInitiator: fromInitiator.noteGap()
        case .fromResponder: fromResponder.noteGap()
        }
        // Lost cleartext: where TLS would start can no longer be known.
        if stage(direction) != .tls { setStage(.off, direction) }
        if !done {
            let what = length.map { "\($0) bytes missing" } ?? "bytes missing"
            recorder.noteAnomaly(.gap, direction, "\(what) at stream offset \(offset); the rest of this direction is not followed")
        }
        if bothDirectionsOver { done = true }
    }

    /// A RST outside the window was ignored (RFC 5961's defence against blind resets): the connection goes on.
    mutating func resetIgnored(direction: FlowDirection, timestamp: Int64) {
        recorder.noteAnomaly(.outOfWindow, direction, "a RST outside the receiver's window was ignored")
    }

    /// What the record needs from this session, with the flow table's view of the connection's extent.
    /// `endReason` is nil when the record goes out before the flow ends (`reportAtHandshakeEnd`).
    func ended(_ extent: FlowExtent, endReason: FlowEndReason? = nil) -> EndedConnection {
        var connection = recorder.ended(extent, endReason: endReason, startMissed: start.sawSYN ? nil : "SYN and ClientHello")
        if hasKeyLog { connection.keyEvidence = keyEvidence }
        return connection
    }

    /// `ended` for a session that ends with it, into `ended` (an empty `EndedConnection()`): the record and
    /// chains are moved out of the session's state (a copy of the recorder and of its record retained and
    /// later released all their parts).
    consuming func end(_ extent: FlowExtent, endReason: FlowEndReason, into ended: inout EndedConnection) {
        var session = consume self
        let startMissed = session.start.sawSYN ? nil : "SYN and ClientHello"
        let evidence = session.hasKeyLog ? session.keyEvidence : nil
        session.recorder.takeEnded(extent, endReason: endReason, startMissed: startMissed, into: &ended)
        ended.keyEvidence = evidence
    }

    /// What the session holds on the heap, for the flow table's memory budget: messages being buffered by
    /// the parsers, and the hellos and chains kept for the record.
    var retainedBytes: Int {
        Self.boxBytes + recorder.keptBytes + fromInitiator.bufferedCapacity + fromResponder.bufferedCapacity
            + (eventBuffer?.capacity ?? 0) * MemoryLayout<TLSEvent>.stride
            + fromInitiator.keptByteCount + fromResponder.keptByteCount
    }

    /// The out-of-line state's own allocation (the flow table's entry no longer holds it).
    static let boxBytes = MemoryLayout<State>.stride + 16

    /// Marks the record emitted and drops what it was built from: the flow may stay in the table
    /// (quiet until FIN or idle) for a long time, and should cost little meanwhile.
    mutating func markReported() {
        recorder.markReported()
        fromInitiator = TLSStreamParser()
        fromResponder = TLSStreamParser()
        preambleStorage = []
        eventBuffer = []
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
    /// With a key log holding this connection's secrets: what was kept to open (`openWithKeys`).
    var keyEvidence: KeyEvidence?
    /// What the flow table said when the flow ended (nil for a record written at handshake end, live):
    /// its reason and the flow's first and last packet numbers, which order ends across flow tables.
    public internal(set) var flowEnd: FlowEnd?
    /// `RecordCompletion.complete(_:)` has run on it (it runs once: either thread of a run may complete a
    /// connection, and the record is the same whichever does).
    public internal(set) var isCompleted = false

    init(record: HandshakeRecord, serverChain: [[UInt8]], clientChain: [[UInt8]], isTLS13: Bool) {
        self.record = record
        self.serverChain = serverChain
        self.clientChain = clientChain
        self.isTLS13 = isTLS13
    }

    /// An empty value for `HandshakeRecorder.takeEnded(_:endReason:startMissed:into:)` to fill: every part
    /// of it is replaced there (its empty lists allocate nothing).
    init() {
        self.init(
            record: HandshakeRecord(
                firstTimestamp: 0, lastTimestamp: 0, transport: .tcp, recordProtocol: .tls,
                clientAddress: IPAddress(ipv4: 0), clientPort: 0, serverAddress: IPAddress(ipv4: 0), serverPort: 0,
                startTLS: nil, version: nil, cipherSuite: nil, keyExchange: nil, authentication: nil, group: nil,
                serverName: nil, alpn: nil, resumed: false, established: false, alert: nil, clientHello: nil,
                serverHello: nil, helloRetryRequest: nil, certificates: [], clientCertificates: [], messages: [],
                messagesTruncated: false, ja3: nil, ja3s: nil, ja4: nil, findings: [], compliance: nil, anomalies: [],
                dhPrimeBits: nil, heartbeats: [], quic: nil, packets: 0, bytes: 0),
            serverChain: [], clientChain: [], isTLS13: false)
    }

    /// Calls `body` with the record where it lies (complete once `RecordCompletion.complete(_:)` ran on
    /// it): read from another module, the property would hand out a copy. Mutating (the record is not
    /// changed) so that a caller holding the connection in a buffer reaches it in place: called on
    /// `buffer[index]` as a non-mutating method, the connection was copied out first (its record's ~30
    /// references retained and released).
    public mutating func withRecord<Result>(_ body: (HandshakeRecord) throws -> Result) rethrows -> Result {
        try body(record)
    }

    /// DTLS or QUIC (a UDP flow), not TLS over TCP.
    public var overUDP: Bool { record.recordProtocol != .tls }

    /// Heap this value holds, roughly: the hellos, the certificate chains, the record's lists (messages,
    /// anomalies). For a budget over connections waiting to be completed.
    public var estimatedBytes: Int {
        1024 + record.messages.count * 16 + record.anomalies.count * 128
            + (record.clientHello.map(HandshakeRecorder.estimatedBytes(of:)) ?? 0)
            + (record.serverHello.map(HandshakeRecorder.estimatedBytes(of:)) ?? 0)
            + HandshakeRecorder.estimatedBytes(of: serverChain) + HandshakeRecorder.estimatedBytes(of: clientChain)
            + (keyEvidence?.estimatedBytes ?? 0)
    }

    /// Summarises the certificates into the record (through `certificates`, which parses each distinct DER
    /// once), in place: a copy of the record retained and later released each of its ~30 references.
    mutating func summariseCertificates(_ certificates: inout CertificateCache) {
        record.certificates = Self.summaries(of: serverChain, from: .server, &certificates, anomalies: &record.anomalies)
        if let leaf = record.certificates.first, !isTLS13 || record.authentication == nil {
            record.authentication = HandshakeRecorder.authentication(of: leaf)
        }
        if !clientChain.isEmpty {
            record.clientCertificates = Self.summaries(
                of: clientChain, from: .client, &certificates, anomalies: &record.anomalies)
        }
    }

    private static func summaries(
        of chain: [[UInt8]], from peer: Peer, _ certificates: inout CertificateCache, anomalies: inout [Anomaly]
    ) -> [CertificateSummary] {
        var summaries: [CertificateSummary] = []
        summaries.reserveCapacity(chain.count)
        for der in chain {
            switch certificates.summary(of: der) {
            case .success(let summary): summaries.append(summary)
            case .failure(let error): anomalies.append(Anomaly(.certificateUnparsable, from: peer, error.reason))
            }
        }
        return summaries
    }
}
