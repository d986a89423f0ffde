import TLSWire
import WireCursor

/// A CONNECTION_CLOSE frame (RFC 9000 §19.19).
public struct QUICConnectionClose: Sendable, Hashable {
    /// The transport error code (type 0x1c) or the application's (type 0x1d).
    public var errorCode: UInt64
    /// The frame type that triggered the error (type 0x1c only; 0 when unknown).
    public var frameType: UInt64?
    /// Type 0x1d: closed by the application, not by the transport.
    public var isApplicationClose: Bool
    /// The reason phrase's bytes (UTF-8 by the RFC, not checked), at most `QUICLimits.maxReasonBytes`.
    public var reason: [UInt8]

    public init(errorCode: UInt64, frameType: UInt64?, isApplicationClose: Bool, reason: [UInt8]) {
        self.errorCode = errorCode
        self.frameType = frameType
        self.isApplicationClose = isApplicationClose
        self.reason = reason
    }

    /// RFC 9001 §4.8: a transport CRYPTO_ERROR (0x0100-0x01ff) carries a TLS alert description in its
    /// low byte; nil for any other code.
    public var tlsAlert: UInt8? {
        guard !isApplicationClose, errorCode & ~0xff == 0x0100 else { return nil }
        return UInt8(truncatingIfNeeded: errorCode)
    }
}

/// What one datagram of a QUIC connection said, in wire order.
public enum QUICEvent: Sendable, Hashable {
    /// One packet of the datagram (coalesced packets each give one); `length` is its bytes on the wire.
    /// Until the client is known (see `QUICConnectionReader.clientIsInitiator`), `fromClient` assumes the
    /// flow's initiator is the client.
    case packet(QUICPacketType, fromClient: Bool, length: Int)
    /// A handshake message from the Initial-level CRYPTO stream (ClientHello, ServerHello).
    case handshake(HandshakeMessage, fromClient: Bool)
    /// A CONNECTION_CLOSE in an Initial packet.
    case connectionClose(QUICConnectionClose, fromClient: Bool)
    /// A Retry whose integrity tag verified against the client's Destination Connection ID.
    case retry(fromClient: Bool)
    /// A Version Negotiation packet (always from the server): the versions it lists.
    case versionNegotiation(versions: [QUICVersion])
    /// An Initial packet whose AEAD tag did not verify with any keys this connection's ids give (corrupted
    /// on the wire, or keyed by a Destination Connection ID the capture never saw). `fromClient` is nil
    /// while the client is not known.
    case initialNotDecrypted(fromClient: Bool?)
    /// Something that could not be read or followed: a bad header or frame, a cap reached, a Retry that
    /// does not verify. `fromClient` is nil while the client is not known.
    case problem(DecodeError, fromClient: Bool?)
}

/// The caps that bound what one connection reader holds.
public struct QUICLimits: Sendable, Hashable {
    /// Highest CRYPTO stream offset kept per direction at the Initial level. A ClientHello with a
    /// post-quantum key share is ~1.8 KB; TLSLimits caps one message at 64 KiB.
    public var maxCryptoStreamBytes: Int = 64 * 1024
    /// Out-of-order CRYPTO frames held per direction, waiting for the bytes before them.
    public var maxPendingCryptoFrames: Int = 64
    /// Out-of-order CRYPTO bytes held per direction.
    public var maxPendingCryptoBytes: Int = 64 * 1024
    /// CONNECTION_CLOSE reason bytes kept (the rest are skipped).
    public var maxReasonBytes: Int = 256
    /// Versions kept from one Version Negotiation packet.
    public var maxNegotiationVersions: Int = 64
    /// Packets walked in one datagram (RFC 9000 §12.2 coalescing: at most one per packet type in practice).
    /// Each long-header packet may cost a trial decryption, so a datagram of tiny packets is cut short.
    public var maxPacketsPerDatagram: Int = 8
    public init() {}
}
