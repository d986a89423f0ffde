import TLSWire
import WireCursor

/// One direction's Initial-level CRYPTO stream (RFC 9000 §19.6, RFC 9001 §4.1.3): frames put back in
/// order by offset, in any arrival order, duplicates and overlaps ignored (the bytes that came first
/// win), and the contiguous bytes framed as TLS handshake messages.
///
/// Bounded: nothing beyond `maxCryptoStreamBytes` of stream is kept, and at most
/// `maxPendingCryptoFrames` pieces and `maxPendingCryptoBytes` bytes wait for a hole to fill.
struct CryptoStream: Sendable {
    private struct Piece: Sendable {
        var offset: Int
        var bytes: [UInt8]
        var end: Int { offset + bytes.count }
    }

    /// Stream offset one past the last contiguous byte received.
    private(set) var contiguousEnd = 0
    /// The unfinished handshake message's bytes so far (from its header on).
    private var messageBytes: [UInt8] = []
    /// Pieces past `contiguousEnd`, in arrival order.
    private var pieces: [Piece] = []
    private var pendingBytes = 0
    /// A message could not be parsed: the rest of the stream is not framed.
    private(set) var stopped = false
    /// The stream cap was reported once already (later frames past it are dropped quietly).
    private var reportedOverCap = false

    /// Heap held, by capacity.
    var retainedBytes: Int {
        messageBytes.capacity + pieces.capacity * MemoryLayout<Piece>.stride
            + pieces.reduce(0) { $0 + $1.bytes.capacity }
    }

    /// Takes one CRYPTO frame's data and reports every handshake message it completes, or a problem.
    /// `raw` (when given) also gets each message's bytes whole, header first (kept for a key log).
    mutating func receive(
        offset: Int, data: ByteCursor, limits: QUICLimits, tlsLimits: TLSLimits,
        message: (HandshakeMessage) -> Void, problem: (DecodeError) -> Void, raw: (([UInt8]) -> Void)? = nil
    ) {
        guard !stopped else { return }
        let bytes = data.remainingBuffer
        let end = offset + bytes.count  // both below 2^62 (checked by the frame parser)
        if end > limits.maxCryptoStreamBytes {
            if !reportedOverCap {
                reportedOverCap = true
                problem(DecodeError(.tooLarge, at: data.position, "QUIC CRYPTO stream (over maxCryptoStreamBytes)"))
            }
            return
        }
        guard end > contiguousEnd else { return }  // a retransmission of bytes already taken
        if offset <= contiguousEnd {
            messageBytes += bytes[(contiguousEnd - offset)...]
            contiguousEnd = end
            fillFromPieces()
            frameMessages(tlsLimits: tlsLimits, message: message, problem: problem, raw: raw)
            return
        }
        // Ahead of a hole: keep it unless an earlier piece already covers it.
        if pieces.contains(where: { $0.offset <= offset && $0.end >= end }) { return }
        guard pieces.count < limits.maxPendingCryptoFrames, pendingBytes + bytes.count <= limits.maxPendingCryptoBytes else {
            problem(DecodeError(.tooLarge, at: data.position, "QUIC CRYPTO frames out of order (over the pending cap)"))
            return
        }
        pieces.append(Piece(offset: offset, bytes: Array(bytes)))
        pendingBytes += bytes.count
    }

    /// Appends every waiting piece that now touches the contiguous bytes.
    private mutating func fillFromPieces() {
        var progressed = true
        while progressed, !pieces.isEmpty {
            progressed = false
            var index = 0
            while index < pieces.count {
                let piece = pieces[index]
                guard piece.offset <= contiguousEnd else {
                    index += 1
                    continue
                }
                pieces.remove(at: index)
                pendingBytes -= piece.bytes.count
                if piece.end > contiguousEnd {
                    messageBytes += piece.bytes[(contiguousEnd - piece.offset)...]
                    contiguousEnd = piece.end
                    progressed = true
                }
            }
        }
        if pieces.isEmpty { pieces = [] }
    }

    // RFC 8446 §4: struct { HandshakeType msg_type; uint24 length; ... } Handshake;
    private mutating func frameMessages(
        tlsLimits: TLSLimits, message: (HandshakeMessage) -> Void, problem: (DecodeError) -> Void,
        raw: (([UInt8]) -> Void)?
    ) {
        while messageBytes.count >= 4 {
            let length = Int(messageBytes[1]) << 16 | Int(messageBytes[2]) << 8 | Int(messageBytes[3])
            guard length <= tlsLimits.maxHandshakeMessage else {
                stop()
                problem(DecodeError(.tooLarge, at: 1, "QUIC CRYPTO handshake message (over maxHandshakeMessage)"))
                return
            }
            guard messageBytes.count - 4 >= length else { return }
            let type = HandshakeType(rawValue: messageBytes[0])
            let parsed: Result<HandshakeMessage, DecodeError> = messageBytes.withUnsafeBytes { buffer in
                var body = ByteCursor(UnsafeRawBufferPointer(rebasing: buffer[4..<4 + length]))
                do throws(DecodeError) {
                    return .success(try HandshakeMessage(type: type, parsing: &body, limits: tlsLimits))
                } catch {
                    return .failure(error)
                }
            }
            switch parsed {
            case .success(let parsedMessage):
                raw?(Array(messageBytes[0..<4 + length]))
                messageBytes.removeFirst(4 + length)
                message(parsedMessage)
            case .failure(let error):
                stop()
                problem(error)
                return
            }
        }
        // Nothing unfinished: give the buffer back (an Initial-level stream rarely carries more).
        if messageBytes.isEmpty { messageBytes = [] }
    }

    private mutating func stop() {
        stopped = true
        messageBytes = []
        pieces = []
        pendingBytes = 0
    }
}
