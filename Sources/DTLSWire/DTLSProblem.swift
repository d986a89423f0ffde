import TLSWire
import WireCursor

/// Caps on what one direction's DTLS handshake reassembly holds (per-message caps are `TLSLimits`').
public struct DTLSReassemblyLimits: Sendable, Hashable {
    /// Handshake messages waiting at once (out of order, or incomplete). A flight has at most ~8 messages
    /// (RFC 6347 §4.2.4's flights); a fragment of a further message is dropped (`.fragmentDropped`).
    public var maxPendingMessages: Int = 16
    /// How far a message_seq may run ahead of the next one expected (a garbage or hostile message_seq
    /// must not hold a slot until the flight ends).
    public var maxMessageSeqAhead: Int = 32
    /// Disjoint byte ranges received per message (fragments delivered out of order and not yet joined).
    /// Past it the message is given up (`.skippedHandshake`).
    public var maxFragmentRanges: Int = 64
    /// Bytes held by all pending messages together (buffer capacity). A message whose fragment would pass
    /// it is given up (`.skippedHandshake`). Default: one maximal Certificate and four other messages.
    public var maxBufferedBytes: Int = 1024 * 1024 + 4 * 64 * 1024
    public init() {}
}

/// Something a DTLS direction could not use, that does not stop it (DTLS drops bad datagrams and goes on,
/// RFC 6347 §4.1.2.7). Reported through `DTLSRecordParser.feed(datagram:problems:_:)`'s `problems`.
public enum DTLSProblem: Sendable, Hashable {
    /// A record whose header or framing does not fit (the rest of its datagram is dropped), or a record
    /// whose body is invalid in clear (that record is dropped).
    case malformedRecord(DecodeError)
    /// A reassembled handshake message whose body did not parse: it was dropped, the direction goes on.
    case malformedMessage(HandshakeType, DecodeError)
    /// The flight ended (ChangeCipherSpec, a record of a later epoch, or `finish`) before every fragment
    /// of this message arrived: it is given up; the complete messages after it were delivered.
    case incompleteMessage(type: HandshakeType, messageSeq: Int, length: Int, received: Int)
    /// The flight ended with no fragment at all of these message_seq values seen (lost datagrams).
    case missingMessages(firstMessageSeq: Int, count: Int)
    /// A fragment dropped for a reassembly cap (too many messages pending, or a message_seq too far ahead).
    case fragmentDropped(type: HandshakeType, messageSeq: Int)
    /// A datagram in DTLS's range that starts with a DTLS 1.3 unified header before anything showed this
    /// direction is DTLS (the capture began mid-connection, or it is not DTLS): dropped.
    case unexpectedUnifiedHeader
}
