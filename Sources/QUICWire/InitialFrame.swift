import WireCursor

/// A frame allowed in an Initial packet (RFC 9000 §12.4, Table 3): the others are a protocol violation
/// there and stop the packet's frames.
enum InitialFrame {
    /// One or more PADDING frames (a run of 0x00 bytes).
    case padding
    case ping
    case ack
    /// CRYPTO data at `offset` of the Initial-level stream (borrowed from the opened payload).
    case crypto(offset: Int, data: ByteCursor)
    case connectionClose(QUICConnectionClose)

    /// Reads the next frame; throws `.unsupported` for a frame type not allowed in an Initial packet.
    init(parsing cursor: inout ByteCursor, maxReasonBytes: Int) throws(DecodeError) {
        let typeOffset = cursor.position
        let type = try cursor.readQUICVarInt("QUIC frame type")
        switch type {
        case 0x00:
            while cursor.peekUInt8() == 0 { try cursor.skip(1, "PADDING") }
            self = .padding
        case 0x01:
            self = .ping
        case 0x02, 0x03:
            // ACK Frame {
            //   Type (i) = 0x02..0x03, Largest Acknowledged (i), ACK Delay (i), ACK Range Count (i),
            //   First ACK Range (i), ACK Range (..) ...,  [ECN Counts (..)]
            // }
            // ACK Range { Gap (i), ACK Range Length (i) }; ECN Counts { ECT0 (i), ECT1 (i), ECN-CE (i) }
            // Each range takes at least 2 bytes, so a huge count runs out of bytes, not time.
            _ = try cursor.readQUICVarInt("ACK.largest_acknowledged")
            _ = try cursor.readQUICVarInt("ACK.ack_delay")
            let rangeCount = try cursor.readQUICVarInt("ACK.ack_range_count")
            guard rangeCount <= UInt64(cursor.remaining / 2) else {
                throw DecodeError(.truncated, at: cursor.position, "ACK.ack_range_count")
            }
            _ = try cursor.readQUICVarInt("ACK.first_ack_range")
            for _ in 0..<rangeCount {
                _ = try cursor.readQUICVarInt("ACK.gap")
                _ = try cursor.readQUICVarInt("ACK.ack_range_length")
            }
            if type == 0x03 {
                for _ in 0..<3 { _ = try cursor.readQUICVarInt("ACK.ecn_counts") }
            }
            self = .ack
        case 0x06:
            // CRYPTO Frame { Type (i) = 0x06, Offset (i), Length (i), Crypto Data (..) }
            let offset = try cursor.readQUICLength("CRYPTO.offset")
            let length = try cursor.readQUICLength("CRYPTO.length")
            // RFC 9000 §19.6: the stream's largest offset cannot exceed 2^62 - 1.
            guard offset <= (1 << 62) - 1 - length else {
                throw DecodeError(.malformed, at: cursor.position, "CRYPTO.offset")
            }
            self = .crypto(offset: offset, data: try cursor.readCursor(count: length, "CRYPTO.crypto_data"))
        case 0x1c, 0x1d:
            // CONNECTION_CLOSE Frame {
            //   Type (i) = 0x1c..0x1d, Error Code (i), [Frame Type (i)],
            //   Reason Phrase Length (i), Reason Phrase (..)
            // }
            let errorCode = try cursor.readQUICVarInt("CONNECTION_CLOSE.error_code")
            let frameType = type == 0x1c ? try cursor.readQUICVarInt("CONNECTION_CLOSE.frame_type") : nil
            let reasonLength = try cursor.readQUICLength("CONNECTION_CLOSE.reason_phrase_length")
            var reason = try cursor.readCursor(count: reasonLength, "CONNECTION_CLOSE.reason_phrase")
            let kept = try reason.readBytes(count: min(reasonLength, max(0, maxReasonBytes)), "reason_phrase")
            self = .connectionClose(
                QUICConnectionClose(
                    errorCode: errorCode, frameType: frameType, isApplicationClose: type == 0x1d, reason: kept))
        default:
            throw DecodeError(.unsupported, at: typeOffset, "QUIC frame type not allowed in an Initial packet")
        }
    }
}
