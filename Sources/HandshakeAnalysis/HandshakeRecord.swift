import Fingerprints
import PacketDecoding
import TLSAudit
import TLSWire
import X509Inspection

/// Which peer sent something.
public enum Peer: Sendable, Hashable {
    case client, server
    public var name: String { self == .client ? "client" : "server" }
}

/// One step of the handshake as seen on the wire (the contract's `messages` entries).
public struct HandshakeStep: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case handshake(HandshakeType)
        case helloRetryRequest
        case changeCipherSpec
        case encryptedHandshake
        case alert
        case applicationData
        case heartbeat
    }
    public var from: Peer
    public var kind: Kind

    /// One word a step (the writer's cache of messages arrays hashes whole arrays of them for every record;
    /// the synthesised hash fed the peer, the case and the type to the hasher one by one). Equal steps give
    /// equal words, as `==` (synthesised) needs.
    public func hash(into hasher: inout Hasher) {
        let kindCode: UInt16
        switch kind {
        case .handshake(let type): kindCode = UInt16(type.rawValue)
        case .helloRetryRequest: kindCode = 0x100
        case .changeCipherSpec: kindCode = 0x200
        case .encryptedHandshake: kindCode = 0x300
        case .alert: kindCode = 0x400
        case .applicationData: kindCode = 0x500
        case .heartbeat: kindCode = 0x600
        }
        hasher.combine(from == .client ? kindCode : kindCode | 0x8000)
    }

    /// "client:client_hello", "server:change_cipher_spec", ...
    public var name: String {
        let what: String
        switch kind {
        case .handshake(let type): what = type.name
        case .helloRetryRequest: what = "hello_retry_request"
        case .changeCipherSpec: what = "change_cipher_spec"
        case .encryptedHandshake: what = "encrypted_handshake"
        case .alert: what = "alert"
        case .applicationData: what = "application_data"
        case .heartbeat: what = "heartbeat"
        }
        return from.name + ":" + what
    }
}

/// The first alert seen in clear.
public struct AlertSighting: Sendable, Hashable {
    public var from: Peer
    public var alert: Alert
}

/// The key exchange group, as the contract names it.
public enum KeyExchangeGroup: Sendable, Hashable {
    case named(NamedGroup)
    /// Finite-field DHE with an explicit prime of this many bits ("dh2048").
    case explicitPrime(bits: Int)

    public var name: String {
        switch self {
        case .named(let group): group.name
        case .explicitPrime(let bits): "dh\(bits)"
        }
    }
}

/// Something that kept the analyzer from seeing all of a connection (the contract's `anomalies`), so a
/// reader can tell a lossy capture or a cap from a failed handshake, and why a field is null.
public struct Anomaly: Sendable, Hashable {
    /// The contract's `kind` values.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The connection's start was not seen (no SYN and no ClientHello).
        case midstream
        /// Bytes lost in the capture (reassembly skipped them).
        case gap
        /// A segment or RST outside the receiver's window was ignored.
        case outOfWindow = "out_of_window"
        /// The bytes were not valid TLS: that direction was not followed further.
        case parseError = "parse_error"
        /// A message or list past a cap (or past the run's memory budget) was skipped or cut.
        case tooLarge = "too_large"
        /// More handshake steps than `messages` keeps.
        case messagesTruncated = "messages_truncated"
        /// A certificate could not be parsed at all.
        case certificateUnparsable = "certificate_unparsable"
        /// The flow was pushed out of a full flow table (or ended by its idle timeout) mid-handshake.
        case evicted
        /// Keys were given but did not open the connection.
        case decryptFailed = "decrypt_failed"
    }

    public var kind: Kind
    /// The peer whose bytes were affected, when known.
    public var from: Peer?
    public var detail: String

    public init(_ kind: Kind, from: Peer?, _ detail: String) {
        self.kind = kind
        self.from = from
        self.detail = detail
    }
}

/// Where a connection's first and last packet were in their sources (the contract's `frames`).
public struct FrameNumbers: Sendable, Hashable {
    public var first: UInt64
    public var last: UInt64
    public init(first: UInt64, last: UInt64) {
        self.first = first
        self.last = last
    }
}

/// Which member of the TLS family a connection spoke (the contract's `protocol`).
public enum RecordProtocol: String, Sendable, Hashable {
    case tls, dtls, quic
}

/// What a QUIC connection's long headers showed (the contract's `quic` object).
public struct QUICDetails: Sendable, Hashable {
    /// The contract's spelling: "1", "2", "draft-29", or "0x" and eight hex digits.
    public var version: String
    /// The Destination Connection ID of the client's first Initial (the Initial keys come from it).
    public var clientDestinationConnectionID: [UInt8]
    public var clientSourceConnectionID: [UInt8]?
    public var serverSourceConnectionID: [UInt8]?
    /// The server answered with a Retry.
    public var retry: Bool

    public init(
        version: String, clientDestinationConnectionID: [UInt8], clientSourceConnectionID: [UInt8]?,
        serverSourceConnectionID: [UInt8]?, retry: Bool
    ) {
        self.version = version
        self.clientDestinationConnectionID = clientDestinationConnectionID
        self.clientSourceConnectionID = clientSourceConnectionID
        self.serverSourceConnectionID = serverSourceConnectionID
        self.retry = retry
    }
}

/// Everything tlsscope reports about one TLS connection.
public struct HandshakeRecord: Sendable {
    /// Capture time of the connection's first packet, nanoseconds since 1970.
    public var firstTimestamp: Int64
    public var lastTimestamp: Int64
    public var transport: TransportProtocol
    /// TLS over TCP, DTLS or QUIC (the contract's `protocol`).
    public var recordProtocol: RecordProtocol
    public var clientAddress: IPAddress
    public var clientPort: UInt16
    public var serverAddress: IPAddress
    public var serverPort: UInt16
    public var startTLS: String?
    public var version: TLSVersion?
    public var cipherSuite: CipherSuite?
    public var keyExchange: String?
    public var authentication: String?
    public var group: KeyExchangeGroup?
    public var serverName: String?
    public var alpn: [UInt8]?
    public var resumed: Bool
    public var established: Bool
    public var alert: AlertSighting?
    public var clientHello: ClientHello?
    public var serverHello: ServerHello?
    public var helloRetryRequest: ServerHello?
    public var certificates: [CertificateSummary]
    public var clientCertificates: [CertificateSummary]
    public var messages: [HandshakeStep]
    /// True when more steps happened than `maxMessages` kept.
    public var messagesTruncated: Bool
    public var ja3: JA3?
    public var ja3s: JA3?
    public var ja4: JA4?
    public var findings: [Finding]
    /// Ids of findings the active policy's exceptions silenced (not in `findings`; counted by the audit).
    public var suppressedFindings: [String] = []
    /// The verdict under every built-in profile, whatever the active policy (set when the record is completed).
    public var compliance: Compliance?
    public var anomalies: [Anomaly]
    /// DH prime size from a ServerKeyExchange (TLS 1.2 and older DHE).
    public var dhPrimeBits: Int?
    /// Heartbeat records seen (RFC 6520), at most a few.
    public var heartbeats: [AuditInput.HeartbeatRecord]
    /// QUIC connections only: the version and connection ids.
    public var quic: QUICDetails?
    /// Packets seen of the connection, both directions.
    public var packets: Int
    /// Transport payload bytes seen of the connection (TCP segments' or UDP datagrams' payloads, both
    /// directions, retransmissions included).
    public var bytes: Int
    /// The run's frame numbers (`HandshakeAnalyzer`'s frame ordinals, counted over every frame of every
    /// source) of the connection's first and latest packet seen; 0 when not known. `RecordCompletion`
    /// turns them into `source` and `frames`.
    public var firstFrameOrdinal: UInt64 = 0
    public var lastFrameOrdinal: UInt64 = 0
    /// The capture file the connection started in (`-` for standard input), or the interface when live.
    public var source: String?
    /// Frame numbers (1-based, as Wireshark numbers them) of the first and last packet seen, each in the
    /// source it was read from.
    public var frames: FrameNumbers?
    /// Community ID v1 of the connection's 5-tuple.
    public var communityID: String?
    /// What a key log opened and proved of this handshake (`--keylog`); nil without keys for it.
    public var keys: KeysSummary? {
        get { keysStorage.first }
        set { keysStorage = newValue.map { [$0] } ?? [] }
    }
    /// Out of line (an array of at most one): the summary is ~120 bytes that every record without keys would
    /// carry through each move.
    var keysStorage: [KeysSummary] = []

    /// Seconds from the first to the last packet seen.
    public var duration: Double {
        // Capture timestamps are input: a hostile pcapng can put a flow's packets further apart than Int64 holds.
        let (nanoseconds, overflow) = lastTimestamp.subtractingReportingOverflow(firstTimestamp)
        if overflow { return lastTimestamp > firstTimestamp ? Double(lastTimestamp) / 1e9 - Double(firstTimestamp) / 1e9 : 0 }
        return Double(max(0, nanoseconds)) / 1e9
    }

    /// The cipher suite taken apart, with the key exchange and authentication the handshake showed.
    public var cipher: CipherSuiteParts? {
        guard let suite = cipherSuite, var parts = suite.parts else { return nil }
        let isTLS13Suite = parts.keyExchange == "TLS13"  // (the registry's parts, looked up once)
        if let keyExchange { parts.keyExchange = keyExchange }
        if parts.keyExchange == "TLS13" { parts.keyExchange = keyExchange ?? "ECDHE" }
        if authentication != nil || isTLS13Suite { parts.authentication = authentication }
        return parts
    }
}

extension HandshakeRecord {
    /// What the audit rules see of this connection.
    public func auditInput(now: Int64? = nil) -> AuditInput {
        var namedGroup: NamedGroup?
        if case .named(let group) = group { namedGroup = group }
        return AuditInput(
            clientHello: clientHello, serverHello: serverHello, version: version, cipherSuite: cipherSuite,
            group: namedGroup, dhPrimeBits: dhPrimeBits, certificates: certificates, established: established,
            resumed: resumed, alert: alert?.alert, alertFrom: alert.map { $0.from == .client ? .client : .server },
            handshakeIncomplete: !established && alert == nil,
            heartbeatRecords: heartbeats,
            captureTime: now ?? (firstTimestamp >= 0 ? firstTimestamp / 1_000_000_000 : (firstTimestamp + 1) / 1_000_000_000 - 1),
            serverName: serverName, serverAddress: serverAddress.description, clientJA3: ja3?.hash,
            clientJA4: ja4?.fingerprint, judgedAtGivenTime: now != nil, keylogMismatch: keys?.mismatchMessage)
    }
}
