import TLSWire

/// Where a connection's handshake stands, moved only by the peers' messages (RFC 5246 §7.3,
/// RFC 8446 §2): one pure function per event returns the next state. `TLSSession` keeps the record's
/// data (hellos, messages, certificates); this value alone decides `established`, `resumed`, failure,
/// and when the handshake is over, so a rule such as "a short encrypted client record is an alert"
/// lives in one place and is tested without packets.
///
/// The outcome never depends on how bytes were cut into segments: every transition is driven by whole
/// records and messages, and a record whose meaning depends on what follows (TLS 1.3's EndOfEarlyData
/// looks like an encrypted alert) is held as `pendingShortClientRecord` until the next client record or
/// the end of the connection decides.
struct HandshakeState: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        /// No hello yet.
        case awaitingHello
        /// The client has spoken (its ClientHello, perhaps the second one after a HelloRetryRequest).
        case clientHelloSent
        /// The server asked for another ClientHello (RFC 8446 §4.1.4).
        case helloRetryRequested
        /// A ServerHello chose TLS 1.2 or older (or SSL 3.0).
        case legacy(LegacyProgress)
        /// A ServerHello chose TLS 1.3 (or a draft of it).
        case tls13(TLS13Progress)
        /// An SSL 2.0 server answered with SERVER-HELLO. What follows (CLIENT-MASTER-KEY, then encrypted
        /// messages in SSL 2.0's own record format) is not followed: the server accepting the client's offer
        /// counts as established, and `session_id_hit` as resumption.
        case sslv2(sessionIDHit: Bool)
    }

    /// TLS 1.2 and older after the ServerHello.
    struct LegacyProgress: Sendable, Hashable {
        /// Certificate, ServerKeyExchange or ServerHelloDone came in clear: a full handshake.
        var serverSentFullFlight = false
        var clientChangedCipherSpec = false
        var serverChangedCipherSpec = false
        var clientFinished = false
        var serverFinished = false
        /// The ServerHello echoed the client's non-empty session id.
        var sessionIDEchoed = false
    }

    /// TLS 1.3 after the ServerHello.
    struct TLS13Progress: Sendable, Hashable {
        var pskAccepted = false
        /// A client record too short for any Finished: an encrypted alert, or EndOfEarlyData when the
        /// client offered early data. The next client record says which; the connection's end says alert.
        var pendingShortClientRecord = false
    }

    enum Outcome: Sendable, Hashable {
        case inProgress, established, failed
    }

    private(set) var phase: Phase = .awaitingHello
    private(set) var outcome: Outcome = .inProgress
    /// The client's ClientHello offered early data (RFC 8446 §4.2.10).
    private(set) var clientOfferedEarlyData = false
    /// The server sent a HelloRetryRequest at some point of this handshake.
    private(set) var sawHelloRetryRequest = false
    /// The ServerHello carried the heartbeat extension: after the handshake, records are still watched
    /// for the Heartbleed pattern.
    private(set) var heartbeatNegotiated = false

    /// Longest TLS 1.3 client record taken for an encrypted alert (or EndOfEarlyData) rather than the
    /// client's Finished, whose smallest form (SHA-256 verify_data) is 32 + 4 + 1 + 16 = 53 bytes;
    /// an alert is 2 + 1 + 16 = 19, EndOfEarlyData 4 + 1 + 16 = 21, with a little padding.
    static let maxShortRecordLength = 2 + 1 + 16 + 8

    var isTLS13: Bool { if case .tls13 = phase { true } else { false } }
    var isSSLv2: Bool { if case .sslv2 = phase { true } else { false } }

    var established: Bool { outcome == .established }

    /// An abbreviated handshake: TLS 1.3 with a PSK accepted, or an older one whose server went
    /// straight to ChangeCipherSpec (session id or ticket resumption).
    var resumed: Bool {
        switch phase {
        case .tls13(let progress): progress.pskAccepted
        case .sslv2(let sessionIDHit): sessionIDHit
        case .legacy(let progress):
            progress.sessionIDEchoed || (progress.serverChangedCipherSpec && !progress.serverSentFullFlight)
        default: false
        }
    }

    /// Nothing more of the handshake is to be learnt (the flow can stop being reassembled).
    var isOver: Bool {
        switch outcome {
        case .failed: true
        case .established: !heartbeatNegotiated
        case .inProgress: false
        }
    }

    // MARK: - Transitions (each returns the next state)

    func clientHello(offeringEarlyData: Bool) -> HandshakeState {
        var next = self
        switch phase {
        case .awaitingHello, .helloRetryRequested:
            next.phase = .clientHelloSent
            if case .awaitingHello = phase { next.clientOfferedEarlyData = offeringEarlyData }
        default:
            break  // a renegotiation's ClientHello (encrypted ones are not seen) changes nothing here
        }
        return next
    }

    func serverHello(selecting version: TLSVersion, pskAccepted: Bool, sessionIDEchoed: Bool, heartbeat: Bool)
        -> HandshakeState
    {
        var next = self
        guard outcome == .inProgress else { return next }
        switch phase {
        case .legacy, .tls13, .sslv2: return next  // only the first ServerHello counts
        default: break
        }
        next.heartbeatNegotiated = heartbeat
        if version == .tls13 || version == .dtls13 || version.tls13Draft != nil {
            next.phase = .tls13(TLS13Progress(pskAccepted: pskAccepted))
        } else if version == .ssl2 {
            next.phase = .sslv2(sessionIDHit: sessionIDEchoed)
            next.outcome = .established
        } else {
            next.phase = .legacy(LegacyProgress(sessionIDEchoed: sessionIDEchoed))
        }
        return next
    }

    func helloRetryRequest() -> HandshakeState {
        var next = self
        next.sawHelloRetryRequest = true
        switch phase {
        case .awaitingHello, .clientHelloSent: next.phase = .helloRetryRequested
        default: break
        }
        return next
    }

    /// Certificate, ServerKeyExchange or ServerHelloDone from the server in clear.
    func serverFullFlightMessage() -> HandshakeState {
        guard case .legacy(var progress) = phase else { return self }
        var next = self
        progress.serverSentFullFlight = true
        next.phase = .legacy(progress)
        return next
    }

    func changeCipherSpec(from peer: Peer) -> HandshakeState {
        guard case .legacy(var progress) = phase else { return self }  // TLS 1.3's is the compatibility dummy
        var next = self
        if peer == .client { progress.clientChangedCipherSpec = true } else { progress.serverChangedCipherSpec = true }
        next.phase = .legacy(progress)
        return next
    }

    /// A handshake record after this peer's ChangeCipherSpec (its Finished, in TLS 1.2 and older); in a
    /// TLS 1.3 handshake, an encrypted handshake message known to be one by its framing, not guessed from a
    /// record's length: a QUIC Handshake-space packet. The client's completes the handshake (RFC 9001 §4.1.2:
    /// the client sends its Finished there).
    func encryptedHandshake(from peer: Peer) -> HandshakeState {
        if case .tls13 = phase {
            var next = self
            if peer == .client && outcome == .inProgress { next.outcome = .established }
            return next
        }
        guard case .legacy(var progress) = phase else { return self }
        var next = self
        if peer == .client && progress.clientChangedCipherSpec { progress.clientFinished = true }
        if peer == .server && progress.serverChangedCipherSpec { progress.serverFinished = true }
        next.phase = .legacy(progress)
        if progress.clientFinished && progress.serverFinished && outcome == .inProgress { next.outcome = .established }
        return next
    }

    /// What one record means once the state has taken it in: TLS 1.3 sends its encrypted handshake under
    /// the outer type application_data, so before `established` such a record may be the server's
    /// encrypted flight, the client's Finished, an encrypted alert or EndOfEarlyData.
    enum RecordMeaning: Sendable, Hashable {
        case applicationData
        case encryptedHandshake
        case encryptedAlert
        /// Not decided yet: the next client record, or the connection's end, decides (`TLS13Progress`).
        case held
    }

    /// An application_data record of `length` bytes from `peer`: the next state, what the record is, and,
    /// when a held short client record was just decided by this one, what that was.
    func applicationData(from peer: Peer, length: Int)
        -> (next: HandshakeState, meaning: RecordMeaning, decidedHeld: RecordMeaning?)
    {
        var next = self
        switch phase {
        case .tls13(var progress) where outcome == .inProgress:
            guard peer == .client else { return (next, .encryptedHandshake, nil) }
            var decidedHeld: RecordMeaning?
            if progress.pendingShortClientRecord {
                // Something followed it: the held record was EndOfEarlyData, not an alert.
                decidedHeld = .encryptedHandshake
                progress.pendingShortClientRecord = false
            }
            let meaning: RecordMeaning
            if length > Self.maxShortRecordLength {
                meaning = .encryptedHandshake
                next.outcome = .established  // the client's Finished (RFC 8446 §4.4.4)
            } else if clientOfferedEarlyData && decidedHeld == nil {
                meaning = .held  // EndOfEarlyData (RFC 8446 §4.5) or an alert: wait and see
                progress.pendingShortClientRecord = true
            } else {
                meaning = .encryptedAlert
                next.outcome = .failed
            }
            next.phase = .tls13(progress)
            return (next, meaning, decidedHeld)
        default:
            return (next, .applicationData, nil)
        }
    }

    /// The connection ended (or the analysis stops following it): a held short client record with
    /// nothing after it was an encrypted alert, so the handshake failed.
    func connectionEnded() -> (next: HandshakeState, decidedHeld: RecordMeaning?) {
        guard case .tls13(var progress) = phase, progress.pendingShortClientRecord else { return (self, nil) }
        var next = self
        progress.pendingShortClientRecord = false
        next.phase = .tls13(progress)
        if outcome == .inProgress { next.outcome = .failed }
        return (next, .encryptedAlert)
    }

    /// An alert in clear; a fatal one before the handshake completed ends it.
    func alert(fatal: Bool) -> HandshakeState {
        var next = self
        if fatal && outcome == .inProgress { next.outcome = .failed }
        return next
    }
}
