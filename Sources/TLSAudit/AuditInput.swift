import TLSWire
import X509Inspection

/// Everything the audit rules look at for one connection, taken from TLSWire and X509Inspection values.
/// The session builds it; the audit never parses anything itself.
public struct AuditInput: Sendable, Hashable {
    /// Which side sent something.
    public enum Peer: String, Sendable, Hashable {
        case client, server
    }

    /// One heartbeat record (content type 24) as seen on the wire.
    public struct HeartbeatRecord: Sendable, Hashable {
        /// HeartbeatMessageType (1 request, 2 response, RFC 6520 §3); nil when the record was encrypted.
        public var type: UInt8?
        /// The payload_length the message claims; nil when encrypted.
        public var payloadLength: Int?
        /// The record's length field (TLSPlaintext/TLSCiphertext.length).
        public var recordLength: Int
        public var fromClient: Bool

        public init(type: UInt8?, payloadLength: Int?, recordLength: Int, fromClient: Bool) {
            self.type = type
            self.payloadLength = payloadLength
            self.recordLength = recordLength
            self.fromClient = fromClient
        }
    }

    /// A finding's id and message as a record had it (see `carriedFindings`).
    public struct CarriedFinding: Sendable, Hashable {
        public var id: String
        public var message: String
        public init(id: String, message: String) {
            self.id = id
            self.message = message
        }
    }

    public var clientHello: ClientHello?
    /// The final ServerHello (not a HelloRetryRequest).
    public var serverHello: ServerHello?
    /// Negotiated version; when nil, the ServerHello's negotiated version is used.
    public var version: TLSVersion?
    /// Negotiated suite; when nil, the ServerHello's suite is used.
    public var cipherSuite: CipherSuite?
    /// Key-exchange group (TLS 1.3 key_share, TLS 1.2 ECDHE ServerKeyExchange curve, or a named FFDHE group).
    public var group: NamedGroup?
    /// Prime size of an explicit (unnamed) DH group from a TLS 1.2-or-older ServerKeyExchange.
    public var dhPrimeBits: Int?
    /// Server chain as sent, leaf first; empty when none was seen in clear.
    public var certificates: [CertificateSummary]
    public var established: Bool
    public var resumed: Bool
    /// The first alert seen in clear, and who sent it.
    public var alert: Alert?
    public var alertFrom: Peer?
    /// The connection ended before the handshake finished, without an alert.
    public var handshakeIncomplete: Bool
    /// The ServerHello carries the heartbeat extension (15).
    public var heartbeatNegotiated: Bool
    public var heartbeatRecords: [HeartbeatRecord]
    /// Seconds since 1970 UTC: the connection's first packet time (or the CLI's `--now`).
    public var captureTime: Int64
    /// `captureTime` is the CLI's `--now`, not the capture's: messages say "the audit time".
    public var judgedAtGivenTime: Bool
    /// The server chose a compression method other than null.
    public var compression: Bool
    /// For policy exceptions: SNI host name (defaults to the ClientHello's), server address (textual), and
    /// the client's JA3 / JA4 fingerprints.
    public var serverName: String?
    public var serverAddress: String?
    public var clientJA3: String?
    public var clientJA4: String?
    /// Findings about traffic a record does not describe (the sizes of heartbeat records), carried over
    /// from a record read back by `tlsscope report`: judged again under the policy (severity, exceptions),
    /// not detected again. Empty for a connection seen on the wire.
    public var carriedFindings: [CarriedFinding] = []
    /// Keys were given for the connection but a Finished did not verify with them: the `keylog-mismatch`
    /// finding's message (nil: no keys, or they verified).
    public var keylogMismatch: String?

    /// The ids `carriedFindings` may hold: what the rules see of heartbeat records' sizes.
    public static let carriedFindingIDs: Set<String> = ["heartbleed", "heartbleed-probe"]

    public init(
        clientHello: ClientHello? = nil, serverHello: ServerHello? = nil, version: TLSVersion? = nil,
        cipherSuite: CipherSuite? = nil, group: NamedGroup? = nil, dhPrimeBits: Int? = nil,
        certificates: [CertificateSummary] = [], established: Bool = false, resumed: Bool = false,
        alert: Alert? = nil, alertFrom: Peer? = nil, handshakeIncomplete: Bool = false,
        heartbeatNegotiated: Bool? = nil, heartbeatRecords: [HeartbeatRecord] = [], captureTime: Int64,
        compression: Bool? = nil, serverName: String? = nil, serverAddress: String? = nil,
        clientJA3: String? = nil, clientJA4: String? = nil, judgedAtGivenTime: Bool = false,
        keylogMismatch: String? = nil
    ) {
        // What is derived from the hellos is read before they are stored, through optional chaining (binding
        // a hello, or reading it back from `self`, copied the whole hello: 30 references retained, released).
        let heartbeatNegotiated =
            heartbeatNegotiated ?? serverHello?.extensions.contains { $0.type == .heartbeat } ?? false
        let compression = compression ?? ((serverHello?.compressionMethod ?? 0) != 0)
        let serverName = serverName ?? clientHello?.serverName
        self.judgedAtGivenTime = judgedAtGivenTime
        self.clientHello = clientHello
        self.serverHello = serverHello
        self.version = version
        self.cipherSuite = cipherSuite
        self.group = group
        self.dhPrimeBits = dhPrimeBits
        self.certificates = certificates
        self.established = established
        self.resumed = resumed
        self.alert = alert
        self.alertFrom = alertFrom
        self.handshakeIncomplete = handshakeIncomplete
        self.heartbeatNegotiated = heartbeatNegotiated
        self.heartbeatRecords = heartbeatRecords
        self.captureTime = captureTime
        self.compression = compression
        self.serverName = serverName
        self.serverAddress = serverAddress
        self.clientJA3 = clientJA3
        self.clientJA4 = clientJA4
        self.keylogMismatch = keylogMismatch
    }

    // The three read the hello in place (`a ?? b`'s autoclosure copied the whole ServerHello).
    /// `version`, else what the ServerHello negotiated.
    public var negotiatedVersion: TLSVersion? {
        if let version { return version }
        return serverHello?.negotiatedVersion
    }
    /// `cipherSuite`, else the ServerHello's.
    public var negotiatedCipherSuite: CipherSuite? {
        if let cipherSuite { return cipherSuite }
        return serverHello?.cipherSuite
    }
    /// `group`, else the ServerHello's key_share group.
    public var negotiatedGroup: NamedGroup? {
        if let group { return group }
        return serverHello?.selectedGroup
    }
}
