import WireCursor

/// Caps on what one direction's TLS parser buffers (RFC section cited for each).
public struct TLSLimits: Sendable, Hashable {
    /// RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048.
    public var maxRecordLength: Int = 16384 + 2048
    /// A single handshake message other than Certificate (its body length, the Handshake.length field).
    public var maxHandshakeMessage: Int = 64 * 1024
    /// A Certificate message (a whole chain; its body length).
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
    /// When the record is encrypted, type is 0 and payloadLength is -1 (unknown).
    case heartbeat(type: UInt8, payloadLength: Int, recordLength: Int)
    /// The stream stopped parsing: the bytes were not TLS, or malformed, or over a cap.
    case stopped(DecodeError)
}

/// Incremental parser of one direction of a TLS connection: records, then handshake messages
/// reassembled across records (Zeek's two parsers). Fed ordered bytes in any split; the events are
/// the same whether the bytes come all at once or one at a time.
///
/// Records (RFC 8446 §5.1):
///
///     struct {
///         ContentType type;
///         ProtocolVersion legacy_record_version;
///         uint16 length;
///         opaque fragment[TLSPlaintext.length];
///     } TLSPlaintext;
///
/// Nothing is buffered at the record level: only the 5-byte header is kept across feeds. Record bodies
/// are consumed as they arrive: application data and encrypted records are skipped by counting
/// (their event is emitted when the header is read, so a 16 KB record split over many segments is
/// never stored), alerts are read two bytes at a time, and handshake bytes stream into a second-level
/// parser that parses each message in place when it is whole within the fed bytes and otherwise
/// copies only the incomplete message (capped by `maxHandshakeMessage` / `maxCertificateMessage`).
///
/// Rules worth knowing:
/// - The first record must look like TLS: content type 20...24 and major version 3; its first byte
///   alone already decides for most non-TLS data (e.g. "GET /"), so such flows cost one `.stopped`
///   event and nothing after. An SSL 2.0-format ClientHello (high bit set in the first byte, message
///   type 1) is accepted there; an SSL 2.0 ServerHello stops with `.unsupported`; SSL 2.0 records after
///   that hello (an SSL 2.0 session) stop with `.malformed`.
/// - Later records: types 20...24 are reported, 25 (tls12_cid) and 26 (ack) are skipped silently,
///   anything else or a major version other than 3 stops with `.malformed`.
/// - A record longer than `maxRecordLength` stops with `.tooLarge`.
/// - In clear, ChangeCipherSpec must be the single byte 1 and an alert record a positive even
///   length (several alerts per record allowed); otherwise `.malformed`.
/// - ChangeCipherSpec switches this direction to encrypted (handshake → `.encryptedHandshake`,
///   alert → `.encryptedAlert`, heartbeat → payload length -1), except in TLS 1.3 where it is the
///   middlebox-compatibility dummy (RFC 8446 Appendix D.4): this direction's parser knows it is in
///   TLS 1.3 when it parsed a HelloRetryRequest or a ServerHello selecting TLS 1.3 (the server side;
///   after such a ServerHello it switches to encrypted by itself), or when the session calls
///   `notePeerServerHello(_:)` (the client side).
/// - A handshake message must not span a ChangeCipherSpec (RFC 8446 §5.1): `.malformed`.
/// - `DecodeError.offset` is a stream offset for record-level errors and an offset within the
///   handshake body for message errors, so it does not depend on how the bytes were split.
public struct TLSStreamParser: Sendable {
    public let limits: TLSLimits
    /// True once the parser has stopped (not TLS, malformed, gap, or over a cap).
    public private(set) var isStopped: Bool = false
    /// True once this direction's handshake records are encrypted.
    public private(set) var isEncrypted: Bool = false
    /// Bytes of this direction consumed so far.
    public private(set) var streamOffset: Int = 0
    /// True once the first record header looked like TLS (or an SSL 2.0 ClientHello): a parser that
    /// stopped with this still false saw a flow that is not TLS at all.
    public private(set) var looksLikeTLS: Bool = false

    private enum RecordMode: UInt8, Sendable {
        case skip, handshake, alert, changeCipherSpec, heartbeat, sslv2Hello
    }

    private var sawFirstRecord = false
    /// The record header being read (big-endian, `headerCount` bytes so far).
    private var header: UInt64 = 0
    private var headerCount = 0
    private var mode: RecordMode = .skip
    private var recordLength = 0
    /// Bytes of the current record body not yet consumed (0: the next byte starts a header).
    private var recordRemaining = 0
    /// An alert's level byte waiting for its description, or the first bytes of a heartbeat.
    private var partial: UInt32 = 0
    private var partialCount = 0
    /// TLS 1.3: ChangeCipherSpec is the compatibility dummy and does not switch to encrypted.
    private var ccsIsDummy = false
    /// The incomplete handshake message (its 4-byte header first), or the SSL 2.0 hello being read.
    private var handshakeBuffer: [UInt8] = []

    public init(limits: TLSLimits = TLSLimits()) {
        self.limits = limits
    }

    /// Parses as much of `bytes` as forms whole records, buffering the rest, and calls `emit` for each event.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (TLSEvent) -> Void) {
        let count = bytes.count
        var offset = 0
        while offset < count, !isStopped {
            if recordRemaining > 0 {
                let take = min(recordRemaining, count - offset)
                recordRemaining -= take
                streamOffset += take
                if mode != .skip {
                    consumeBody(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]), emit)
                }
                offset += take
                continue
            }
            // Indexing below: offset < count (loop condition), and the fast path checks for 5 bytes.
            if headerCount == 0, !sawFirstRecord, !Self.plausibleFirstByte(bytes[offset]) {
                return stop(DecodeError(.malformed, at: streamOffset, "not TLS (first byte)"), emit)
            }
            if headerCount == 0, count - offset >= 5 {
                // Fast path: the whole header is here.
                header = UInt64(bytes[offset]) << 32 | UInt64(bytes[offset + 1]) << 24 | UInt64(bytes[offset + 2]) << 16
                    | UInt64(bytes[offset + 3]) << 8 | UInt64(bytes[offset + 4])
                offset += 5
                streamOffset += 5
            } else {
                header = header << 8 | UInt64(bytes[offset])
                headerCount += 1
                offset += 1
                streamOffset += 1
                if headerCount < 5 { continue }
            }
            headerCount = 0
            startRecord(emit)
        }
    }

    /// From now on handshake records in this direction are encrypted (TLS 1.3 after ServerHello).
    /// An incomplete handshake message is dropped, and the rest of a handshake record being read is skipped.
    public mutating func encryptHandshake() {
        isEncrypted = true
        if mode == .sslv2Hello { return }  // finish the SSL 2.0 hello being read; later records are encrypted
        handshakeBuffer = []
        if mode == .handshake { mode = .skip }
    }

    /// Tells the client direction's parser what the server answered (call it when the other direction
    /// emits a ServerHello). A HelloRetryRequest or a TLS 1.3 ServerHello makes ChangeCipherSpec the
    /// compatibility dummy (so a second ClientHello after it is still read in clear); a TLS 1.3 ServerHello
    /// also switches this direction to encrypted. Anything else changes nothing.
    public mutating func notePeerServerHello(_ hello: ServerHello) {
        if hello.isHelloRetryRequest {
            ccsIsDummy = true
        } else if hello.selectsTLS13 {
            ccsIsDummy = true
            encryptHandshake()
        }
    }

    /// Bytes were lost: stop parsing this direction (never resynchronise on 0x16 0x03).
    public mutating func noteGap() {
        isStopped = true
        handshakeBuffer = []
    }

    // MARK: - Records

    /// TLS content types 20...24, or the SSL 2.0 2-byte header's high bit.
    private static func plausibleFirstByte(_ byte: UInt8) -> Bool {
        (20...24).contains(byte) || byte & 0x80 != 0
    }

    private mutating func stop(_ error: DecodeError, _ emit: (TLSEvent) -> Void) {
        isStopped = true
        handshakeBuffer = []
        emit(.stopped(error))
    }

    private mutating func startRecord(_ emit: (TLSEvent) -> Void) {
        let type = UInt8(truncatingIfNeeded: header >> 32)
        let major = UInt8(truncatingIfNeeded: header >> 24)
        let length = Int(header & 0xffff)
        let recordStart = streamOffset - 5
        if !sawFirstRecord {
            sawFirstRecord = true
            if type & 0x80 != 0 { return startSSLv2(emit) }
            guard major == 3 else { return stop(DecodeError(.malformed, at: recordStart + 1, "not TLS (record version)"), emit) }
            looksLikeTLS = true
        }
        guard major == 3 else { return stop(DecodeError(.malformed, at: recordStart + 1, "TLSPlaintext.legacy_record_version"), emit) }
        guard length <= limits.maxRecordLength else {
            return stop(DecodeError(.tooLarge, at: recordStart + 3, "TLSPlaintext.length (maxRecordLength)"), emit)
        }
        recordLength = length
        recordRemaining = length
        mode = .skip
        switch ContentType(rawValue: type) {
        case .changeCipherSpec:
            if isEncrypted {
                emit(.changeCipherSpec)  // TLS 1.3 dummy after the switch, or an encrypted one (renegotiation)
            } else {
                guard length == 1 else { return stop(DecodeError(.malformed, at: recordStart + 3, "ChangeCipherSpec length"), emit) }
                mode = .changeCipherSpec
            }
        case .alert:
            // In TLS 1.3 every encrypted record has the outer type application_data (RFC 8446 §5.2), so an
            // alert record is in clear even after the switch (OpenSSL sends one when it fails mid-handshake).
            if isEncrypted && !ccsIsDummy {
                emit(.encryptedAlert(length: length))
            } else {
                guard length > 0, length % 2 == 0 else { return stop(DecodeError(.malformed, at: recordStart + 3, "Alert record length"), emit) }
                mode = .alert
                partialCount = 0
            }
        case .handshake:
            if isEncrypted { emit(.encryptedHandshake(length: length)) } else { mode = .handshake }
        case .applicationData:
            emit(.applicationData(length: length))
        case .heartbeat:
            if isEncrypted {
                emit(.heartbeat(type: 0, payloadLength: -1, recordLength: length))
            } else {
                // RFC 6520 §4: struct { HeartbeatMessageType type; uint16 payload_length; opaque payload[..]; opaque padding[..]; }
                guard length >= 3 else { return stop(DecodeError(.malformed, at: recordStart + 3, "HeartbeatMessage length"), emit) }
                mode = .heartbeat
                partial = 0
                partialCount = 0
            }
        case .tls12CID, .ack:
            break  // DTLS content types: skipped without an event
        default:
            stop(DecodeError(.malformed, at: recordStart, "TLSPlaintext.type"), emit)
        }
    }

    private mutating func consumeBody(_ chunk: UnsafeRawBufferPointer, _ emit: (TLSEvent) -> Void) {
        switch mode {
        case .skip:
            break
        case .handshake:
            handshakeBytes(chunk, emit)
        case .alert:
            // RFC 8446 §6: struct { AlertLevel level; AlertDescription description; } Alert;
            for byte in chunk {
                if partialCount == 0 {
                    partial = UInt32(byte)
                    partialCount = 1
                } else {
                    partialCount = 0
                    emit(.alert(Alert(level: UInt8(truncatingIfNeeded: partial), description: AlertDescription(rawValue: byte))))
                }
            }
        case .changeCipherSpec:
            // RFC 5246 §7.1: struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;
            guard chunk.first == 1 else { return stop(DecodeError(.malformed, at: streamOffset - 1, "ChangeCipherSpec.type"), emit) }
            guard handshakeBuffer.isEmpty else {
                return stop(DecodeError(.malformed, at: streamOffset - 1, "handshake message spans ChangeCipherSpec"), emit)
            }
            emit(.changeCipherSpec)
            if !ccsIsDummy { isEncrypted = true }
        case .heartbeat:
            for byte in chunk where partialCount < 3 {
                partial = partial << 8 | UInt32(byte)
                partialCount += 1
                if partialCount == 3 {
                    emit(.heartbeat(type: UInt8(truncatingIfNeeded: partial >> 16), payloadLength: Int(partial & 0xffff), recordLength: recordLength))
                }
            }
        case .sslv2Hello:
            handshakeBuffer.append(contentsOf: chunk)
            if recordRemaining == 0 { finishSSLv2(emit) }
        }
    }

    // MARK: - Handshake messages

    /// Handshake.length cap for a message type.
    private func cap(_ type: UInt8) -> Int {
        type == HandshakeType.certificate.rawValue ? limits.maxCertificateMessage : limits.maxHandshakeMessage
    }

    /// Streams one record's worth (or part) of handshake bytes into the message parser.
    private mutating func handshakeBytes(_ chunk: UnsafeRawBufferPointer, _ emit: (TLSEvent) -> Void) {
        var index = 0
        let count = chunk.count
        while index < count, mode == .handshake, !isStopped {
            if handshakeBuffer.isEmpty {
                let available = count - index
                if available >= 4 {  // so chunk[index...index + 3] exist
                    let type = chunk[index]
                    let length = Int(chunk[index + 1]) << 16 | Int(chunk[index + 2]) << 8 | Int(chunk[index + 3])
                    guard length <= cap(type) else { return stop(Self.overCap(type), emit) }
                    if available - 4 >= length {
                        // The whole message is here: parse it in place.
                        let body = UnsafeRawBufferPointer(rebasing: chunk[index + 4..<index + 4 + length])
                        index += 4 + length
                        deliver(type, body, emit)
                        continue
                    }
                    handshakeBuffer.reserveCapacity(4 + length)
                }
                handshakeBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<count]))
                return
            }
            if handshakeBuffer.count < 4 {
                let take = min(4 - handshakeBuffer.count, count - index)
                handshakeBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<index + take]))
                index += take
                guard handshakeBuffer.count == 4 else { return }
                let length = bufferedLength
                guard length <= cap(handshakeBuffer[0]) else { return stop(Self.overCap(handshakeBuffer[0]), emit) }
                handshakeBuffer.reserveCapacity(4 + length)
            }
            let needed = 4 + bufferedLength - handshakeBuffer.count
            let take = min(needed, count - index)
            handshakeBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<index + take]))
            index += take
            if take == needed {
                let message = handshakeBuffer
                handshakeBuffer = []
                message.withUnsafeBytes { buffer in
                    // buffer.count == 4 + length ≥ 4: the header is complete.
                    deliver(buffer[0], UnsafeRawBufferPointer(rebasing: buffer[4...]), emit)
                }
            }
        }
    }

    /// Handshake.length of the buffered message (its header is complete).
    private var bufferedLength: Int {
        handshakeBuffer.count >= 4
            ? Int(handshakeBuffer[1]) << 16 | Int(handshakeBuffer[2]) << 8 | Int(handshakeBuffer[3])
            : 0
    }

    private static func overCap(_ type: UInt8) -> DecodeError {
        type == HandshakeType.certificate.rawValue
            ? DecodeError(.tooLarge, at: 1, "Handshake.length (maxCertificateMessage)")
            : DecodeError(.tooLarge, at: 1, "Handshake.length (maxHandshakeMessage)")
    }

    private mutating func deliver(_ type: UInt8, _ body: UnsafeRawBufferPointer, _ emit: (TLSEvent) -> Void) {
        var cursor = ByteCursor(body)
        let message: HandshakeMessage
        do throws(DecodeError) {
            message = try HandshakeMessage(type: HandshakeType(rawValue: type), parsing: &cursor, limits: limits)
        } catch {
            return stop(error, emit)
        }
        emit(.handshake(message))
        if case .serverHello(let hello) = message {
            // This is the server direction. After a HelloRetryRequest a dummy CCS may come before the
            // real ServerHello; after a TLS 1.3 ServerHello everything else this side sends is encrypted.
            if hello.isHelloRetryRequest {
                ccsIsDummy = true
            } else if hello.selectsTLS13 {
                ccsIsDummy = true
                encryptHandshake()
            }
        }
    }

    // MARK: - SSL 2.0-compatible ClientHello

    private mutating func startSSLv2(_ emit: (TLSEvent) -> Void) {
        // The 5 header bytes are: 2-byte SSL 2.0 header (high bit, 15-bit length), msg_type, version.
        let length = Int(header >> 24 & 0x7fff)
        let messageType = UInt8(truncatingIfNeeded: header >> 16)
        let recordStart = streamOffset - 5
        guard messageType == 1 else {
            return messageType == 4
                ? stop(DecodeError(.unsupported, at: recordStart + 2, "SSL 2.0 ServerHello"), emit)
                : stop(DecodeError(.malformed, at: recordStart + 2, "not TLS (SSL 2.0 msg_type)"), emit)
        }
        // msg_type + version + three uint16 lengths.
        guard length >= 9 else { return stop(DecodeError(.malformed, at: recordStart, "V2ClientHello.msg_length"), emit) }
        guard length <= limits.maxHandshakeMessage else {
            return stop(DecodeError(.tooLarge, at: recordStart, "V2ClientHello.msg_length (maxHandshakeMessage)"), emit)
        }
        looksLikeTLS = true
        handshakeBuffer = [messageType, UInt8(truncatingIfNeeded: header >> 8), UInt8(truncatingIfNeeded: header)]
        handshakeBuffer.reserveCapacity(length)
        recordLength = length
        recordRemaining = length - 3
        mode = .sslv2Hello
    }

    private mutating func finishSSLv2(_ emit: (TLSEvent) -> Void) {
        let message = handshakeBuffer
        handshakeBuffer = []
        mode = .skip
        message.withUnsafeBytes { buffer in
            var cursor = ByteCursor(buffer)
            do throws(DecodeError) {
                let hello = try ClientHello(parsingSSLv2: &cursor)
                emit(.handshake(.clientHello(hello)))
            } catch {
                stop(error, emit)
            }
        }
    }
}
