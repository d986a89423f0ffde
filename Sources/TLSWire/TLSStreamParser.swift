import WireCursor

/// Caps on what one direction's TLS parser buffers (RFC section cited for each).
public struct TLSLimits: Sendable, Hashable {
    /// RFC 5246 §6.2.3: TLSCiphertext.length ≤ 2^14 + 2048.
    public var maxRecordLength: Int = 16384 + 2048
    /// A single handshake message other than Certificate (its body length, the Handshake.length field).
    /// A longer message is skipped (`.skippedHandshake`), not parsed.
    public var maxHandshakeMessage: Int = 64 * 1024
    /// A Certificate message (a whole chain; its body length). Real chains with many intermediates and
    /// big keys reach ~360 KB. The buffer grows as the bytes arrive, never reserved from the length field.
    public var maxCertificateMessage: Int = 1024 * 1024
    /// Extensions kept per hello (the rest are walked, not kept: `ClientHello.truncatedLists`).
    public var maxExtensions: Int = 256
    /// Entries kept per list in a hello (cipher suites, groups, signature algorithms, key shares, ALPN,
    /// supported versions, SSL 2.0 cipher specs). A real hello offers fewer than 100 suites.
    public var maxListEntries: Int = 512
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
    /// A handshake message over its cap (`maxHandshakeMessage`, `maxCertificateMessage`), or abandoned
    /// by `abandonBufferedMessage()`: its bytes are skipped by its length and the stream followed on.
    /// `length` is its Handshake.length. For an SSL 2.0 hello the type is client_hello / server_hello.
    case skippedHandshake(type: HandshakeType, length: Int)
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
///   type 1) is accepted there, and so is an SSL 2.0 SERVER-HELLO (type 4): it gives a `ServerHello`
///   with `isSSLv2Format` and, when it carries one, a `.certificate` event; after it the parser stops
///   quietly (`isStopped`, no event: the rest of an SSL 2.0 session is SSL 2.0 records, mostly
///   encrypted). SSL 2.0 records after an SSL 2.0-format ClientHello stop with `.malformed`, unless the
///   session passed the peer's SSL 2.0 ServerHello to `notePeerServerHello(_:)`, which stops it quietly.
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
///   `notePeerServerHello(_:)` (the client side). A client's CCS is also the dummy when its own
///   ClientHello offered TLS 1.3 and no TLS 1.2-or-older ServerHello was noted: D.4 lets it come
///   right after the first ClientHello, before any answer, and a second ClientHello may follow a
///   HelloRetryRequest. So the session must pass every ServerHello to `notePeerServerHello(_:)`.
/// - A handshake message must not span a ChangeCipherSpec (RFC 8446 §5.1): `.malformed`.
/// - A handshake message over its cap is skipped by its length (`.skippedHandshake`, emitted when its
///   header is read), and parsing goes on with the next message. Only an incomplete message is buffered
///   (`bufferedBytes`), the buffer growing with the bytes that arrive; a caller enforcing a global budget
///   can turn it into a skip with `abandonBufferedMessage()`.
/// - A ServerKeyExchange is read with the layout of the suite this direction's ServerHello chose
///   (`ServerKeyExchange.parameters`; a failure there is reported in the value and does not stop).
/// - `DecodeError.offset` is a stream offset for record-level errors and an offset within the
///   handshake body for message errors, so it does not depend on how the bytes were split.
public struct TLSStreamParser: Sendable {
    public let limits: TLSLimits
    /// True once the parser has stopped (not TLS, malformed, gap, or an SSL 2.0 session after its hellos).
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
        /// A protected record kept whole for a key log (`keepHandshakeBytes`); its events are as for `.skip`.
        case keep
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
    /// This direction sent a ClientHello offering TLS 1.3 (or a draft): its CCS may be the dummy.
    private var offeredTLS13 = false
    /// The peer's ServerHello chose TLS 1.2 or older (`notePeerServerHello`): a CCS is real again.
    private var peerChoseLegacyVersion = false
    /// Handshake bytes still to skip of a message over its cap (or abandoned).
    private var skipRemaining = 0
    /// This direction's own ServerHello: the layout of its ServerKeyExchange.
    private var keyExchangeContext: KeyExchangeContext?
    /// The incomplete handshake message (its 4-byte header first), or the SSL 2.0 hello being read.
    private var handshakeBuffer: [UInt8] = []
    /// What is kept for a key log (`keepHandshakeBytes()`): empty, or one value (8 bytes when not asked).
    private var keptStorage: [KeptHandshakeBytes] = []

    /// Bytes held for the incomplete handshake message being reassembled (0 when none). Its capacity
    /// is at most twice this (the buffer grows as bytes arrive, up to the message's declared length).
    public var bufferedBytes: Int { handshakeBuffer.count }
    /// The buffer's capacity: what it really costs (a memory budget counts this; tests check that a length
    /// field alone reserves nothing).
    public var bufferedCapacity: Int { handshakeBuffer.capacity }

    public init(limits: TLSLimits = TLSLimits()) {
        self.limits = limits
    }

    /// From now on, keeps this direction's handshake messages and first protected records (`KeptHandshakeBytes`)
    /// for a key log to open: call before the first bytes are fed. The events are the same either way.
    public mutating func keepHandshakeBytes() {
        if keptStorage.isEmpty { keptStorage = [KeptHandshakeBytes()] }
    }

    /// Stops keeping and drops what was kept (the connection is not in the key log).
    public mutating func stopKeeping() {
        keptStorage = []
        if mode == .keep { mode = .skip }
    }

    /// What was kept so far (nil: not keeping).
    public var keptBytes: KeptHandshakeBytes? { keptStorage.first }

    /// Whether bytes are being kept.
    public var isKeeping: Bool { !keptStorage.isEmpty }

    /// Bytes kept for a key log so far, for a memory budget.
    public var keptByteCount: Int { keptStorage.isEmpty ? 0 : keptStorage[0].byteCount }


    /// Parses as much of `bytes` as forms whole records, buffering the rest, and calls `emit` for each event.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (consuming TLSEvent) -> Void) {
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
        skipRemaining = 0
        if mode == .handshake { mode = .skip }
    }

    /// Drops the incomplete handshake message being buffered and skips the rest of it as it arrives
    /// (for a caller whose global buffer budget is spent); returns the `.skippedHandshake` event for
    /// the caller to handle as if the parser had emitted it, or nil when nothing is being buffered
    /// (or only part of a 4-byte header, which is kept).
    public mutating func abandonBufferedMessage() -> TLSEvent? {
        guard let type = handshakeBuffer.first else { return nil }
        if mode == .sslv2Hello {
            // The rest of the SSL 2.0 record is skipped by the record layer.
            let length = recordLength
            handshakeBuffer = []
            mode = .skip
            return .skippedHandshake(type: type == 4 ? .serverHello : .clientHello, length: length)
        }
        guard handshakeBuffer.count >= 4 else { return nil }
        let length = bufferedLength
        skipRemaining = 4 + length - handshakeBuffer.count  // > 0: a complete message is never buffered
        handshakeBuffer = []
        return .skippedHandshake(type: HandshakeType(rawValue: type), length: length)
    }

    /// Tells the client direction's parser what the server answered (call it when the other direction
    /// emits a ServerHello). A HelloRetryRequest or a TLS 1.3 ServerHello makes ChangeCipherSpec the
    /// compatibility dummy (so a second ClientHello after it is still read in clear); a TLS 1.3 ServerHello
    /// also switches this direction to encrypted. Anything else changes nothing.
    /// A TLS 1.2-or-older ServerHello makes a later ChangeCipherSpec real again (even if this side's
    /// ClientHello offered TLS 1.3); an SSL 2.0 ServerHello stops this parser quietly (the client's next
    /// message is an SSL 2.0 record).
    public mutating func notePeerServerHello(_ hello: ServerHello) {
        if hello.isSSLv2Format {
            isStopped = true
            handshakeBuffer = []
        } else if hello.isHelloRetryRequest {
            ccsIsDummy = true
        } else if hello.selectsTLS13 {
            ccsIsDummy = true
            encryptHandshake()
        } else {
            peerChoseLegacyVersion = true
        }
    }

    /// Bytes were lost: stop parsing this direction (never resynchronise on 0x16 0x03).
    public mutating func noteGap() {
        isStopped = true
        handshakeBuffer = []
        skipRemaining = 0
    }

    // MARK: - Records

    /// TLS content types 20...24, or the SSL 2.0 2-byte header's high bit.
    private static func plausibleFirstByte(_ byte: UInt8) -> Bool {
        (20...24).contains(byte) || byte & 0x80 != 0
    }

    private mutating func stop(_ error: DecodeError, _ emit: (consuming TLSEvent) -> Void) {
        isStopped = true
        handshakeBuffer = []
        emit(.stopped(error))
    }

    private mutating func startRecord(_ emit: (consuming TLSEvent) -> Void) {
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
        // A protected handshake record (TLS 1.2's Finished) or an application_data one (TLS 1.3's encrypted
        // flight): kept whole for a key log, header and all.
        if mode == .skip, !keptStorage.isEmpty, isEncrypted, type == 22 || type == 23, !isStopped,
            keptStorage[0].startRecord(header: header, length: length)
        {
            mode = .keep
        }
    }

    private mutating func consumeBody(_ chunk: UnsafeRawBufferPointer, _ emit: (consuming TLSEvent) -> Void) {
        switch mode {
        case .skip:
            break
        case .keep:
            if !keptStorage.isEmpty { keptStorage[0].appendToRecord(chunk) }
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
            guard handshakeBuffer.isEmpty, skipRemaining == 0 else {
                return stop(DecodeError(.malformed, at: streamOffset - 1, "handshake message spans ChangeCipherSpec"), emit)
            }
            emit(.changeCipherSpec)
            // RFC 8446 D.4: a client that offered TLS 1.3 may send the dummy before any answer.
            if !ccsIsDummy && !(offeredTLS13 && !peerChoseLegacyVersion) { isEncrypted = true }
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
    private mutating func handshakeBytes(_ chunk: UnsafeRawBufferPointer, _ emit: (consuming TLSEvent) -> Void) {
        var index = 0
        let count = chunk.count
        while index < count, mode == .handshake, !isStopped {
            if skipRemaining > 0 {
                let take = min(skipRemaining, count - index)
                skipRemaining -= take
                index += take
                continue
            }
            if handshakeBuffer.isEmpty {
                let available = count - index
                guard available >= 4 else {  // part of a header
                    appendBuffered(UnsafeRawBufferPointer(rebasing: chunk[index..<count]), messageTotal: 4)
                    return
                }
                // chunk[index...index + 3] exist.
                let type = chunk[index]
                let length = Int(chunk[index + 1]) << 16 | Int(chunk[index + 2]) << 8 | Int(chunk[index + 3])
                index += 4
                guard length <= cap(type) else {
                    emit(.skippedHandshake(type: HandshakeType(rawValue: type), length: length))
                    skipRemaining = length
                    continue
                }
                if available - 4 >= length {
                    // The whole message is here: parse it in place.
                    let body = UnsafeRawBufferPointer(rebasing: chunk[index..<index + length])
                    index += length
                    deliver(type, body, emit)
                    continue
                }
                appendBuffered(UnsafeRawBufferPointer(rebasing: chunk[index - 4..<count]), messageTotal: 4 + length)
                return
            }
            if handshakeBuffer.count < 4 {
                let take = min(4 - handshakeBuffer.count, count - index)
                appendBuffered(UnsafeRawBufferPointer(rebasing: chunk[index..<index + take]), messageTotal: 4)
                index += take
                guard handshakeBuffer.count == 4 else { return }
                let length = bufferedLength
                guard length <= cap(handshakeBuffer[0]) else {
                    emit(.skippedHandshake(type: HandshakeType(rawValue: handshakeBuffer[0]), length: length))
                    handshakeBuffer = []
                    skipRemaining = length
                    continue
                }
            }
            let total = 4 + bufferedLength
            let needed = total - handshakeBuffer.count
            let take = min(needed, count - index)
            appendBuffered(UnsafeRawBufferPointer(rebasing: chunk[index..<index + take]), messageTotal: total)
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

    /// Appends to the incomplete message, growing the buffer geometrically from what has arrived and
    /// never past the message's declared size (`messageTotal` ≥ the bytes held after this append):
    /// a length field alone never reserves memory, a 1 MiB Certificate costs ~20 reallocations.
    private mutating func appendBuffered(_ bytes: UnsafeRawBufferPointer, messageTotal: Int) {
        let needed = handshakeBuffer.count + bytes.count
        if needed > handshakeBuffer.capacity {
            handshakeBuffer.reserveCapacity(min(max(messageTotal, needed), max(needed, 2 * handshakeBuffer.capacity)))
        }
        handshakeBuffer.append(contentsOf: bytes)
    }

    /// Handshake.length of the buffered message (its header is complete).
    private var bufferedLength: Int {
        handshakeBuffer.count >= 4
            ? Int(handshakeBuffer[1]) << 16 | Int(handshakeBuffer[2]) << 8 | Int(handshakeBuffer[3])
            : 0
    }

    private mutating func deliver(_ type: UInt8, _ body: UnsafeRawBufferPointer, _ emit: (consuming TLSEvent) -> Void) {
        if !keptStorage.isEmpty { keptStorage[0].keep(message: type, body: body) }
        var cursor = ByteCursor(body)
        let message: HandshakeMessage
        do throws(DecodeError) {
            message = try HandshakeMessage(
                type: HandshakeType(rawValue: type), parsing: &cursor, limits: limits, keyExchangeContext: keyExchangeContext)
        } catch {
            return stop(error, emit)
        }
        // What this direction learns from its own hello is noted first, so the message can be handed on
        // (moved, not copied) as the last thing done with it.
        switch message {
        case .serverHello(let hello):
            // This is the server direction. After a HelloRetryRequest a dummy CCS may come before the
            // real ServerHello; after a TLS 1.3 ServerHello everything else this side sends is encrypted.
            if hello.isHelloRetryRequest {
                ccsIsDummy = true
            } else {
                keyExchangeContext = hello.keyExchangeContext
                if hello.selectsTLS13 {
                    ccsIsDummy = true
                    encryptHandshake()
                }
            }
        case .clientHello(let hello):
            if hello.supportedVersions.contains(where: \.isTLS13Family) { offeredTLS13 = true }
        default:
            break
        }
        emit(.handshake(consume message))
    }

    // MARK: - SSL 2.0-compatible ClientHello

    private mutating func startSSLv2(_ emit: (consuming TLSEvent) -> Void) {
        // The 5 header bytes are: 2-byte SSL 2.0 header (high bit, 15-bit length), msg_type, version.
        let length = Int(header >> 24 & 0x7fff)
        let messageType = UInt8(truncatingIfNeeded: header >> 16)
        let recordStart = streamOffset - 5
        switch messageType {
        case 1:
            // msg_type + version + three uint16 lengths.
            guard length >= 9 else { return stop(DecodeError(.malformed, at: recordStart, "V2ClientHello.msg_length"), emit) }
            guard length <= limits.maxHandshakeMessage else {
                return stop(DecodeError(.tooLarge, at: recordStart, "V2ClientHello.msg_length (maxHandshakeMessage)"), emit)
            }
        case 4:
            // msg_type, session_id_hit, certificate_type, version, three uint16 lengths. It carries the
            // certificate, so the certificate cap applies (the 15-bit length is far below it anyway).
            guard length >= 11 else { return stop(DecodeError(.malformed, at: recordStart, "SERVER-HELLO length"), emit) }
            guard length <= limits.maxCertificateMessage else {
                return stop(DecodeError(.tooLarge, at: recordStart, "SERVER-HELLO length (maxCertificateMessage)"), emit)
            }
        default:
            return stop(DecodeError(.malformed, at: recordStart + 2, "not TLS (SSL 2.0 msg_type)"), emit)
        }
        looksLikeTLS = true
        handshakeBuffer = [messageType, UInt8(truncatingIfNeeded: header >> 8), UInt8(truncatingIfNeeded: header)]
        handshakeBuffer.reserveCapacity(length)
        recordLength = length
        recordRemaining = length - 3
        mode = .sslv2Hello
    }

    private mutating func finishSSLv2(_ emit: (consuming TLSEvent) -> Void) {
        let message = handshakeBuffer
        handshakeBuffer = []
        mode = .skip
        message.withUnsafeBytes { buffer in
            var cursor = ByteCursor(buffer)
            do throws(DecodeError) {
                if buffer.first == 4 {
                    let (hello, certificate) = try ServerHello.parsingSSLv2(&cursor, limits: limits)
                    emit(.handshake(.serverHello(hello)))
                    if let certificate { emit(.handshake(.certificate(CertificateChain(certificates: [certificate])))) }
                    // An SSL 2.0 session: nothing after the hello is parsed (see the type's summary).
                    isStopped = true
                } else {
                    let hello = try ClientHello(parsingSSLv2: &cursor, limits: limits)
                    emit(.handshake(.clientHello(hello)))
                }
            } catch {
                stop(error, emit)
            }
        }
    }
}
