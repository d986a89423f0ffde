import WireCursor

/// Caps on what one direction's TLS parser buffers (RFC section cited for each).
public struct TLSLimits: Sendable, Hashable {
    /// RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048.
    public var maxRecordLength: Int = 16384 + 2048
    /// A single handshake message other than Certificate.
    public var maxHandshakeMessage: Int = 64 * 1024
    /// A Certificate message (a whole chain).
    public var maxCertificateMessage: Int = 256 * 1024
    /// Extensions in one hello.
    public var maxExtensions: Int = 256
    /// Certificates in one chain.
    public var maxCertificates: Int = 16
    public init() {}
}

/// What one direction's byte stream said, in order.
public enum TLSEvent: Sendable, Hashable {
    /// A handshake message sent in clear (reassembled across records).
    case handshake(HandshakeMessage)
    /// A handshake record after this direction's ChangeCipherSpec (or after `encryptHandshake()`):
    /// its content is encrypted (Finished, or TLS 1.3's encrypted flight).
    case encryptedHandshake(length: Int)
    case changeCipherSpec
    case alert(Alert)
    /// An alert record that is encrypted (after ChangeCipherSpec).
    case encryptedAlert(length: Int)
    /// One application_data record (in TLS 1.3 also the encrypted handshake: the session decides).
    case applicationData(length: Int)
    /// RFC 6520 heartbeat record: message type (1 request, 2 response), declared payload length,
    /// and the record's length (a response larger than its request is the Heartbleed pattern).
    case heartbeat(type: UInt8, payloadLength: Int, recordLength: Int)
    /// The stream stopped parsing: the bytes were not TLS, or malformed, or over a cap.
    case stopped(DecodeError)
}

/// Incremental parser of one direction of a TLS connection: records, then handshake messages
/// reassembled across records (Zeek's two parsers). Fed ordered bytes in any split; the events are
/// the same whether the bytes come all at once or one at a time.
public struct TLSStreamParser: Sendable {
    public let limits: TLSLimits
    /// True once the parser has stopped (not TLS, malformed, gap, or over a cap).
    public private(set) var isStopped: Bool = false

    public init(limits: TLSLimits = TLSLimits()) {
        self.limits = limits
    }

    /// Parses as much of `bytes` as forms whole records, buffering the rest, and calls `emit` for each event.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (TLSEvent) -> Void) {
        // PLACEHOLDER
    }

    /// From now on handshake records in this direction are encrypted (TLS 1.3 after ServerHello).
    public mutating func encryptHandshake() {}

    /// Bytes were lost: stop parsing this direction (never resynchronise on 0x16 0x03).
    public mutating func noteGap() { isStopped = true }
}
