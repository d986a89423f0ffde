import TLSWire
import WireCursor

/// Parser of one direction of a DTLS association (DTLS 1.0 RFC 4347, 1.2 RFC 6347, 1.3 RFC 9147; connection
/// ids RFC 9146), fed one UDP payload at a time, emitting the same `TLSEvent`s as `TLSStreamParser` so the
/// session's handshake state machine follows DTLS unchanged.
///
/// Records (RFC 6347 §4.1; RFC 9147 §4 calls it DTLSPlaintext, and DTLSCiphertext for RFC 9146's CID form):
///
///     struct {
///         ContentType type;
///         ProtocolVersion version;
///         uint16 epoch;
///         uint48 sequence_number;
///         opaque cid[cid_length];               // only in tls12_cid (25) records, RFC 9146 §4
///         uint16 length;
///         opaque fragment[DTLSPlaintext.length];
///     } DTLSPlaintext;
///
/// DTLS 1.3 unified header (RFC 9147 §4, Figure 3): first byte `0b001CSLEE`, then the connection id if C,
/// an 8-bit (S = 0) or 16-bit (S = 1) sequence number, a 16-bit length if L (else the record takes the rest
/// of the datagram), then the encrypted record. Always encrypted.
///
/// Handshake messages in clear (RFC 6347 §4.2.2):
///
///     struct {
///         HandshakeType msg_type;
///         uint24 length;
///         uint16 message_seq;
///         uint24 fragment_offset;
///         uint24 fragment_length;
///         select (HandshakeType) { ... } body;   // the fragment's bytes
///     } Handshake;
///
/// Rules (see docs/dtls-notes.md):
/// - RFC 7983 demultiplexing: a datagram whose first byte is not in 20...63 (STUN, TURN ChannelData,
///   RTP/RTCP, ZRTP) is skipped silently (`skippedDatagrams`).
/// - Each datagram is walked record by record. A record that does not fit stops that datagram's walk with a
///   `.malformedRecord` problem; the direction goes on. Only when nothing valid was ever seen in this
///   direction does a bad record stop it (`.stopped`: not DTLS).
/// - Epoch 0 handshake fragments are reassembled per message_seq in any order (overlaps and duplicates
///   fine) and delivered in message_seq order; a message_seq already delivered (a retransmitted flight) is
///   ignored. A whole in-order message is parsed in place (no copy). Bounded by `TLSLimits`' per-message
///   caps (over them: `.skippedHandshake`) and `DTLSReassemblyLimits`.
/// - The message_seq numbering starts at the first hello seen (ClientHello, ServerHello or
///   HelloVerifyRequest; messages before it wait). A ServerHello right after a HelloVerifyRequest is taken
///   even if its message_seq does not follow (stateless cookie exchanges restart the numbering).
/// - A flight ends at a ChangeCipherSpec or a record of a later epoch: then the complete messages still
///   waiting behind a lost one are delivered, and the lost ones reported (`.incompleteMessage`,
///   `.missingMessages`). `finish(problems:_:)` does the same at the connection's end.
/// - Epoch ≥ 1 (DTLS 1.0/1.2): handshake → `.encryptedHandshake` (once per epoch: the Finished; a
///   retransmitted flight repeats it under a new record sequence number), alert → `.encryptedAlert`,
///   application data → `.applicationData`. ChangeCipherSpec → `.changeCipherSpec` once per epoch; a record
///   of epoch e ≥ 1 whose ChangeCipherSpec (sent in epoch e - 1) was not seen yet — lost, or overtaken by a
///   reordered datagram — emits `.changeCipherSpec` before its own event, and the late one emits nothing.
/// - tls12_cid (25) records: the first of an epoch is the Finished (`.encryptedHandshake`), later ones
///   `.applicationData` (the inner type is encrypted). The CID length comes from
///   `noteConnectionIDLength(_:)`; when unknown it is inferred from a record that ends its datagram.
/// - DTLS 1.3 unified headers: epoch bits 2 → `.encryptedHandshake`, 1 (early data), 3 and 0 (epoch 4,
///   8, ... after key updates) → `.applicationData`, each record reported (encrypted retransmissions cannot
///   be told apart). ACK records (26) in clear are skipped without an event.
/// - Record sequence numbers are not used: jumps and reordering change nothing.
public struct DTLSRecordParser: Sendable {
    public let limits: TLSLimits
    public let reassemblyLimits: DTLSReassemblyLimits
    /// True once a record showed the stream is not DTLS (the only way the parser stops).
    public private(set) var isStopped = false
    /// True once a well-formed DTLS record header was seen in this direction.
    public private(set) var looksLikeDTLS = false
    /// Datagrams that were not DTLS by their first byte (RFC 7983: STUN, TURN, RTP/RTCP), skipped.
    public private(set) var skippedDatagrams = 0
    /// DTLS 1.3 was negotiated (this direction's ServerHello, or `notePeerServerHello`), or a unified header seen.
    public private(set) var isDTLS13 = false

    /// One handshake message being reassembled or waiting for its turn.
    private struct PendingMessage: Sendable {
        var messageSeq: Int
        var type: UInt8
        var length: Int
        /// The message body so far, up to the furthest fragment end (holes zero until filled).
        var bytes: [UInt8] = []
        /// Received byte ranges, sorted, disjoint and not adjacent.
        var ranges: [Range<Int>] = []
        /// Over a cap: reported as `.skippedHandshake` when its turn comes, its bytes not kept.
        var skipped = false
        /// A fragment of it was seen (a 0-length message is complete then).
        var seen = false

        var isComplete: Bool {
            skipped || (seen && length == 0) || (ranges.count == 1 && ranges[0].lowerBound == 0 && ranges[0].upperBound == length)
        }
        var received: Int { ranges.reduce(0) { $0 + $1.count } }
        var cost: Int { bytes.capacity + ranges.capacity * MemoryLayout<Range<Int>>.stride }
    }

    /// The message_seq to deliver next; nil until the first hello fixes the numbering.
    private var nextMessageSeq: Int?
    /// Waiting messages, sorted by message_seq.
    private var pending: [PendingMessage] = []
    /// The last delivered message was a HelloVerifyRequest (a ServerHello may restart the numbering).
    private var lastDeliveredWasHelloVerifyRequest = false
    /// The epochs a ChangeCipherSpec / an encrypted handshake record was last reported for (-1: none).
    private var changeCipherSpecEpoch = -1
    private var encryptedHandshakeEpoch = -1
    /// Bytes of connection id in records this direction sends (RFC 9146), nil while unknown.
    private var connectionIDLength: Int?
    /// This direction's own ServerHello: the layout of its ServerKeyExchange.
    private var keyExchangeContext: KeyExchangeContext?

    public init(limits: TLSLimits = TLSLimits(), reassemblyLimits: DTLSReassemblyLimits = DTLSReassemblyLimits()) {
        self.limits = limits
        self.reassemblyLimits = reassemblyLimits
    }

    /// Heap held for messages being reassembled (capacity), for a memory budget.
    public var bufferedCapacity: Int {
        pending.reduce(pending.capacity * MemoryLayout<PendingMessage>.stride) { $0 + $1.cost }
    }

    /// Messages waiting (incomplete, or behind a missing message_seq).
    public var pendingMessageCount: Int { pending.count }

    // MARK: - Recognising a connection

    /// Cheap check that a UDP payload starts a DTLS connection: a plaintext handshake record (type 22) of
    /// version 0xfeff or 0xfefd (DTLS 1.3 hellos carry 0xfefd on the record; 0x0100 is OpenSSL's pre-RFC
    /// DTLS, still used by Cisco AnyConnect) at epoch 0, fitting the datagram, whose first handshake
    /// fragment is a ClientHello, or a HelloVerifyRequest / ServerHello (the client's datagram was lost).
    public static func startsConnection(_ datagram: UnsafeRawBufferPointer) -> Bool {
        // 13-byte record header + 12-byte handshake header; indexes below are < 25 ≤ count.
        guard datagram.count >= 25, datagram[0] == ContentType.handshake.rawValue else { return false }
        guard isDTLSVersion(UInt16(datagram[1]) << 8 | UInt16(datagram[2])), datagram[3] == 0, datagram[4] == 0 else {
            return false
        }
        let recordLength = Int(datagram[11]) << 8 | Int(datagram[12])
        guard recordLength >= 12, recordLength <= datagram.count - 13 else { return false }
        let type = datagram[13]
        guard type == HandshakeType.clientHello.rawValue || type == HandshakeType.serverHello.rawValue
            || type == HandshakeType.helloVerifyRequest.rawValue
        else { return false }
        let length = Int(datagram[14]) << 16 | Int(datagram[15]) << 8 | Int(datagram[16])
        let fragmentOffset = Int(datagram[19]) << 16 | Int(datagram[20]) << 8 | Int(datagram[21])
        let fragmentLength = Int(datagram[22]) << 16 | Int(datagram[23]) << 8 | Int(datagram[24])
        return fragmentOffset + fragmentLength <= length && fragmentLength <= recordLength - 12
    }

    /// Where the ClientHello's random lies in a datagram that `startsConnection` and whose first fragment is
    /// the start of a ClientHello (RFC 6347 §4.2.1: a client's hellos of one handshake share their random, so
    /// another random is another connection); nil otherwise.
    public static func clientHelloRandomRange(_ datagram: UnsafeRawBufferPointer) -> Range<Int>? {
        // Record header 13 + handshake header 12 + client_version 2, then 32 bytes of random.
        guard startsConnection(datagram), datagram.count >= 59, datagram[13] == HandshakeType.clientHello.rawValue,
            datagram[19] == 0, datagram[20] == 0, datagram[21] == 0
        else { return nil }
        let fragmentLength = Int(datagram[22]) << 16 | Int(datagram[23]) << 8 | Int(datagram[24])
        return fragmentLength >= 34 ? 27..<59 : nil
    }

    /// DTLS 1.0 / 1.2 record versions (DTLS 1.3 keeps 0xfefd there), and OpenSSL's DTLS1_BAD_VER 0x0100.
    private static func isDTLSVersion(_ version: UInt16) -> Bool {
        version == 0xfeff || version == 0xfefd || version == 0x0100
    }

    // MARK: - What the session tells

    /// Tells the client direction what the server answered (call it with every ServerHello the other
    /// direction emits): a DTLS 1.3 ServerHello sets `isDTLS13`.
    public mutating func notePeerServerHello(_ hello: ServerHello) {
        if hello.selectsTLS13, !hello.isHelloRetryRequest { isDTLS13 = true }
    }

    /// RFC 9146 §3 / RFC 9147 §9: the length of the connection id in the records THIS direction sends,
    /// which is the one the peer asked for in its connection_id extension (type 54). 0...255.
    public mutating func noteConnectionIDLength(_ length: Int) {
        guard (0...255).contains(length) else { return }
        connectionIDLength = length
    }

    /// The connection ended: the messages still waiting are delivered when complete, the rest reported.
    public mutating func finish(problems: (DTLSProblem) -> Void = { _ in }, _ emit: (TLSEvent) -> Void) {
        endFlight(problems, emit)
    }

    /// Gives up every incomplete message (for a caller whose global memory budget is spent): each is
    /// reported as `.skippedHandshake` in its turn, and its bytes are freed now.
    public mutating func abandonBufferedMessages(_ emit: (TLSEvent) -> Void) {
        for index in pending.indices where !pending[index].isComplete {
            pending[index].skipped = true
            pending[index].bytes = []
            pending[index].ranges = []
        }
        deliverReady({ _ in }, emit)
    }

    // MARK: - Datagrams

    /// One UDP payload: every record in it, in order. Events as `TLSStreamParser`'s; what could not be used
    /// goes to `problems` (see `DTLSProblem`).
    public mutating func feed(
        datagram: UnsafeRawBufferPointer, problems: (DTLSProblem) -> Void = { _ in }, _ emit: (TLSEvent) -> Void
    ) {
        guard !isStopped, let first = datagram.first else { return }
        // RFC 7983 §7 (as RFC 9443 extends it): 20...63 is DTLS; 0...3 STUN, 16...19 ZRTP, 64...79 TURN
        // channels, 128...191 RTP/RTCP share the 5-tuple in WebRTC.
        guard (20...63).contains(first) else {
            skippedDatagrams += 1
            return
        }
        var offset = 0
        while offset < datagram.count, !isStopped {
            // offset < datagram.count: the loop condition.
            let byte = datagram[offset]
            let next: Int?
            if byte & 0xe0 == 0x20 {
                next = unifiedRecord(datagram, at: offset, problems, emit)
            } else {
                next = plaintextRecord(datagram, at: offset, problems, emit)
            }
            guard let next else { return }
            offset = next
        }
    }

    /// A record that does not fit: ends this datagram's walk; stops the direction if nothing valid was seen.
    private mutating func badRecord(_ error: DecodeError, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void) {
        if looksLikeDTLS {
            problems(.malformedRecord(error))
        } else {
            isStopped = true
            pending = []
            emit(.stopped(error))
        }
    }

    /// A record with the 13-byte header (or RFC 9146's CID form) at `start`; returns where the next record
    /// starts, or nil when this datagram's walk ends.
    private mutating func plaintextRecord(
        _ datagram: UnsafeRawBufferPointer, at start: Int, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void
    ) -> Int? {
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: datagram[start...]))
        let type: UInt8
        let epoch: Int
        var length: Int
        do throws(DecodeError) {
            type = try cursor.readUInt8("DTLSPlaintext.type")
            guard (20...26).contains(type) else { throw DecodeError(.malformed, at: start, "not DTLS (DTLSPlaintext.type)") }
            let version = try cursor.readUInt16("DTLSPlaintext.version")
            guard Self.isDTLSVersion(version) else { throw DecodeError(.malformed, at: start + 1, "not DTLS (DTLSPlaintext.version)") }
            epoch = Int(try cursor.readUInt16("DTLSPlaintext.epoch"))
            try cursor.skip(6, "DTLSPlaintext.sequence_number")
            if type == ContentType.tls12CID.rawValue {
                var cidLength = connectionIDLength ?? 0
                if connectionIDLength == nil { cidLength = try Self.inferConnectionIDLength(cursor) }
                try cursor.skip(cidLength, "DTLSCiphertext.cid")
            }
            length = Int(try cursor.readUInt16("DTLSPlaintext.length"))
            guard length <= limits.maxRecordLength else {
                throw DecodeError(.tooLarge, at: start + cursor.position - 2, "DTLSPlaintext.length (maxRecordLength)")
            }
            guard length <= cursor.remaining else { throw DecodeError(.truncated, at: start + cursor.position, "DTLSPlaintext.fragment") }
        } catch {
            badRecord(error, problems, emit)
            return nil
        }
        looksLikeDTLS = true
        let bodyStart = start + cursor.position
        let body = UnsafeRawBufferPointer(rebasing: datagram[bodyStart..<bodyStart + length])
        let next = bodyStart + length
        if epoch > 0 {
            // A later epoch: this direction's plaintext flight is over, and its ChangeCipherSpec was sent
            // (RFC 6347 §4.1: the epoch is incremented on each ChangeCipherSpec), even if that record was
            // lost or overtaken: report it first, once.
            endFlight(problems, emit)
            if type != ContentType.changeCipherSpec.rawValue, changeCipherSpecEpoch < epoch - 1 {
                changeCipherSpec(epoch: epoch - 1, emit)
            }
            switch ContentType(rawValue: type) {
            case .handshake: encryptedHandshake(epoch: epoch, length: length, emit)
            case .alert: emit(.encryptedAlert(length: length))
            case .changeCipherSpec: changeCipherSpec(epoch: epoch, emit)  // renegotiation, encrypted
            case .applicationData: emit(.applicationData(length: length))
            case .heartbeat: emit(.heartbeat(type: 0, payloadLength: -1, recordLength: length))
            case .tls12CID:
                // RFC 9146 §5: the inner type is encrypted. The first record of an epoch is the Finished.
                if epoch > encryptedHandshakeEpoch {
                    encryptedHandshake(epoch: epoch, length: length, emit)
                } else {
                    emit(.applicationData(length: length))
                }
            default:
                break  // ACK (26)
            }
            return next
        }
        switch ContentType(rawValue: type) {
        case .handshake:
            handshakeRecord(body, at: bodyStart, problems, emit)
        case .alert:
            // RFC 6347 §4.1 / RFC 8446 §6: struct { AlertLevel level; AlertDescription description; } Alert;
            guard length > 0, length % 2 == 0 else {
                problems(.malformedRecord(DecodeError(.malformed, at: bodyStart, "Alert record length")))
                return next
            }
            var index = 0
            while index + 1 < length {
                emit(.alert(Alert(level: body[index], description: AlertDescription(rawValue: body[index + 1]))))
                index += 2
            }
        case .changeCipherSpec:
            // RFC 6347 §4.1 / RFC 5246 §7.1: struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;
            guard length == 1, body[0] == 1 else {
                problems(.malformedRecord(DecodeError(.malformed, at: bodyStart, "ChangeCipherSpec")))
                return next
            }
            endFlight(problems, emit)
            changeCipherSpec(epoch: epoch, emit)
        case .applicationData:
            emit(.applicationData(length: length))
        case .heartbeat:
            // RFC 6520 §4: struct { HeartbeatMessageType type; uint16 payload_length; opaque payload[..]; opaque padding[..]; }
            guard length >= 3 else {
                problems(.malformedRecord(DecodeError(.malformed, at: bodyStart, "HeartbeatMessage length")))
                return next
            }
            emit(.heartbeat(type: body[0], payloadLength: Int(body[1]) << 8 | Int(body[2]), recordLength: length))
        case .tls12CID:
            problems(.malformedRecord(DecodeError(.malformed, at: start + 3, "DTLSCiphertext.epoch (0)")))
        default:
            break  // ACK (26, RFC 9147 §7): no event
        }
        return next
    }

    /// RFC 9146 §4 without a known CID length: the length that makes the record end exactly at the end of
    /// the datagram (the usual one record per datagram), the shortest when several fit.
    private static func inferConnectionIDLength(_ cursor: ByteCursor) throws(DecodeError) -> Int {
        let available = cursor.remaining
        var cidLength = 0
        while cidLength <= 255, cidLength + 2 <= available {
            if let length = cursor.peekUInt16(at: cidLength), cidLength + 2 + Int(length) == available { return cidLength }
            cidLength += 1
        }
        throw DecodeError(.unsupported, at: cursor.position, "DTLSCiphertext.cid (length unknown)")
    }

    /// A DTLS 1.3 unified-header record (RFC 9147 §4) at `start`.
    private mutating func unifiedRecord(
        _ datagram: UnsafeRawBufferPointer, at start: Int, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void
    ) -> Int? {
        guard looksLikeDTLS || isDTLS13 else {
            problems(.unexpectedUnifiedHeader)
            return nil
        }
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: datagram[start...]))
        let length: Int
        let flags: UInt8
        do throws(DecodeError) {
            flags = try cursor.readUInt8("DTLSCiphertext.unified_hdr")
            let hasLength = flags & 0x04 != 0
            if flags & 0x10 != 0 {
                let cidLength: Int
                if let known = connectionIDLength {
                    cidLength = known
                } else if hasLength {
                    cidLength = try Self.inferConnectionIDLength(
                        cursor, sequenceBytes: flags & 0x08 != 0 ? 2 : 1)
                } else {
                    cidLength = 0  // unknown: the CID is counted in the record's length
                }
                try cursor.skip(cidLength, "DTLSCiphertext.connection_id")
            }
            try cursor.skip(flags & 0x08 != 0 ? 2 : 1, "DTLSCiphertext.sequence_number")
            if hasLength {
                length = Int(try cursor.readUInt16("DTLSCiphertext.length"))
                guard length <= cursor.remaining else {
                    throw DecodeError(.truncated, at: start + cursor.position, "DTLSCiphertext.encrypted_record")
                }
            } else {
                length = cursor.remaining
            }
            guard length <= limits.maxRecordLength else {
                throw DecodeError(.tooLarge, at: start, "DTLSCiphertext.length (maxRecordLength)")
            }
        } catch {
            problems(.malformedRecord(error))
            return nil
        }
        isDTLS13 = true
        let epochBits = flags & 0x03
        // Early data (epoch 1) may overtake the rest of a fragmented ClientHello: its flight is not over.
        if epochBits != 1 { endFlight(problems, emit) }
        if epochBits == 2 {
            emit(.encryptedHandshake(length: length))
        } else {
            emit(.applicationData(length: length))
        }
        return start + cursor.position + length
    }

    /// The unified header's CID length when unknown: the one after which the length field ends the datagram.
    private static func inferConnectionIDLength(_ cursor: ByteCursor, sequenceBytes: Int) throws(DecodeError) -> Int {
        let available = cursor.remaining
        var cidLength = 0
        while cidLength <= 255, cidLength + sequenceBytes + 2 <= available {
            if let length = cursor.peekUInt16(at: cidLength + sequenceBytes),
                cidLength + sequenceBytes + 2 + Int(length) == available
            {
                return cidLength
            }
            cidLength += 1
        }
        throw DecodeError(.unsupported, at: cursor.position, "DTLSCiphertext.connection_id (length unknown)")
    }

    private mutating func changeCipherSpec(epoch: Int, _ emit: (TLSEvent) -> Void) {
        guard epoch > changeCipherSpecEpoch else { return }  // a retransmitted flight's
        changeCipherSpecEpoch = epoch
        emit(.changeCipherSpec)
    }

    private mutating func encryptedHandshake(epoch: Int, length: Int, _ emit: (TLSEvent) -> Void) {
        guard epoch > encryptedHandshakeEpoch else { return }  // a retransmitted Finished
        encryptedHandshakeEpoch = epoch
        emit(.encryptedHandshake(length: length))
    }

    // MARK: - Handshake fragments

    /// The fragments of one epoch-0 handshake record (`body` starts at datagram offset `bodyStart`).
    private mutating func handshakeRecord(
        _ body: UnsafeRawBufferPointer, at bodyStart: Int, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void
    ) {
        var cursor = ByteCursor(body)
        while !cursor.isEmpty, !isStopped {
            let type: UInt8
            let length: Int
            let messageSeq: Int
            let fragmentOffset: Int
            let fragment: ByteCursor
            do throws(DecodeError) {
                type = try cursor.readUInt8("Handshake.msg_type")
                length = Int(try cursor.readUInt24("Handshake.length"))
                messageSeq = Int(try cursor.readUInt16("Handshake.message_seq"))
                fragmentOffset = Int(try cursor.readUInt24("Handshake.fragment_offset"))
                let fragmentLength = Int(try cursor.readUInt24("Handshake.fragment_length"))
                guard fragmentOffset <= length, fragmentLength <= length - fragmentOffset else {
                    throw DecodeError(.malformed, at: bodyStart + cursor.position - 6, "Handshake.fragment_offset + fragment_length")
                }
                fragment = try cursor.readCursor(count: fragmentLength, "Handshake.fragment")
            } catch {
                problems(.malformedRecord(error))
                return
            }
            handleFragment(
                type: type, length: length, messageSeq: messageSeq, offset: fragmentOffset,
                fragment.remainingBuffer, problems, emit)
        }
    }

    private func cap(_ type: UInt8) -> Int {
        type == HandshakeType.certificate.rawValue ? limits.maxCertificateMessage : limits.maxHandshakeMessage
    }

    private static func isHello(_ type: UInt8) -> Bool {
        type == HandshakeType.clientHello.rawValue || type == HandshakeType.serverHello.rawValue
            || type == HandshakeType.helloVerifyRequest.rawValue
    }

    private mutating func handleFragment(
        type: UInt8, length: Int, messageSeq: Int, offset: Int, _ fragment: UnsafeRawBufferPointer,
        _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void
    ) {
        if let next = nextMessageSeq {
            if messageSeq < next {
                // A retransmission, unless a ServerHello answers the second ClientHello of a stateless
                // cookie exchange with the numbering restarted.
                guard type == HandshakeType.serverHello.rawValue, lastDeliveredWasHelloVerifyRequest else { return }
                nextMessageSeq = messageSeq
            } else if messageSeq - next > reassemblyLimits.maxMessageSeqAhead {
                return problems(.fragmentDropped(type: HandshakeType(rawValue: type), messageSeq: messageSeq))
            }
        } else if Self.isHello(type) {
            // The first hello fixes the numbering; what waited before it is dropped.
            nextMessageSeq = messageSeq
            pending.removeAll { $0.messageSeq < messageSeq }
        }

        if let index = pending.firstIndex(where: { $0.messageSeq == messageSeq }) {
            guard pending[index].type == type, pending[index].length == length else {
                return problems(
                    .malformedRecord(DecodeError(.malformed, at: offset, "Handshake fragment disagrees with earlier ones")))
            }
            if !pending[index].isComplete { addFragment(to: index, offset: offset, fragment) }
        } else if messageSeq == nextMessageSeq, offset == 0, fragment.count == length {
            // The common case: a whole message, in order. Parsed in place, nothing copied.
            nextMessageSeq = messageSeq + 1
            if length > cap(type) {
                lastDeliveredWasHelloVerifyRequest = false
                emit(.skippedHandshake(type: HandshakeType(rawValue: type), length: length))
            } else {
                deliver(type, fragment, problems, emit)
            }
        } else {
            guard pending.count < reassemblyLimits.maxPendingMessages else {
                return problems(.fragmentDropped(type: HandshakeType(rawValue: type), messageSeq: messageSeq))
            }
            var message = PendingMessage(messageSeq: messageSeq, type: type, length: length)
            message.seen = true
            message.skipped = length > cap(type)
            let index = pending.firstIndex { $0.messageSeq > messageSeq } ?? pending.count
            pending.insert(message, at: index)
            if !message.skipped { addFragment(to: index, offset: offset, fragment) }
        }
        deliverReady(problems, emit)
    }

    /// Copies a fragment into a pending message (`offset + fragment.count ≤ length`, checked by the caller).
    private mutating func addFragment(to index: Int, offset: Int, _ fragment: UnsafeRawBufferPointer) {
        let end = offset + fragment.count
        guard end > offset else { return }
        if end > pending[index].bytes.count {
            let capacity = pending[index].bytes.capacity
            if end > capacity {
                let wanted = min(pending[index].length, max(end, 2 * capacity))
                let others = bufferedCapacity - pending[index].cost
                guard others + wanted <= reassemblyLimits.maxBufferedBytes else { return giveUp(index) }
                pending[index].bytes.reserveCapacity(wanted)
            }
            pending[index].bytes.append(contentsOf: repeatElement(0, count: end - pending[index].bytes.count))
        }
        pending[index].bytes.withUnsafeMutableBytes { buffer in
            // offset..<end lies within bytes.count (grown above).
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<end]).copyMemory(from: fragment)
        }
        // Merge offset..<end into the sorted, disjoint ranges.
        var merged = offset..<end
        var first = pending[index].ranges.count
        var last = first
        for (position, range) in pending[index].ranges.enumerated() where range.upperBound >= merged.lowerBound && range.lowerBound <= merged.upperBound {
            if first == pending[index].ranges.count { first = position }
            last = position + 1
            merged = min(range.lowerBound, merged.lowerBound)..<max(range.upperBound, merged.upperBound)
        }
        if first == pending[index].ranges.count {
            let at = pending[index].ranges.firstIndex { $0.lowerBound > merged.lowerBound } ?? pending[index].ranges.count
            guard pending[index].ranges.count < reassemblyLimits.maxFragmentRanges else { return giveUp(index) }
            pending[index].ranges.insert(merged, at: at)
        } else {
            pending[index].ranges.replaceSubrange(first..<last, with: CollectionOfOne(merged))
        }
    }

    /// Over a reassembly cap: the message is reported as skipped in its turn, its bytes freed.
    private mutating func giveUp(_ index: Int) {
        pending[index].skipped = true
        pending[index].bytes = []
        pending[index].ranges = []
    }

    /// Delivers the waiting messages that are next in message_seq order and complete.
    private mutating func deliverReady(_ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void) {
        guard var next = nextMessageSeq else { return }
        while let first = pending.first, !isStopped {
            if first.messageSeq < next {
                pending.removeFirst()
                continue
            }
            guard first.messageSeq == next, first.isComplete else { break }
            pending.removeFirst()
            next += 1
            nextMessageSeq = next
            deliverPending(first, problems, emit)
        }
        if pending.isEmpty, pending.capacity > 0 { pending = [] }
    }

    private mutating func deliverPending(_ message: PendingMessage, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void) {
        if message.skipped {
            lastDeliveredWasHelloVerifyRequest = false
            emit(.skippedHandshake(type: HandshakeType(rawValue: message.type), length: message.length))
        } else {
            message.bytes.withUnsafeBytes { deliver(message.type, $0, problems, emit) }
        }
    }

    /// The flight is over: what waits is delivered in order when complete, and the rest reported lost.
    private mutating func endFlight(_ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void) {
        guard !pending.isEmpty else { return }
        let waiting = pending
        pending = []
        for message in waiting where !isStopped {
            if let next = nextMessageSeq {
                if message.messageSeq < next { continue }
                if message.messageSeq > next {
                    problems(.missingMessages(firstMessageSeq: next, count: message.messageSeq - next))
                }
            }
            nextMessageSeq = message.messageSeq + 1
            if message.isComplete {
                deliverPending(message, problems, emit)
            } else {
                problems(
                    .incompleteMessage(
                        type: HandshakeType(rawValue: message.type), messageSeq: message.messageSeq, length: message.length,
                        received: message.received))
            }
        }
    }

    private mutating func deliver(
        _ type: UInt8, _ body: UnsafeRawBufferPointer, _ problems: (DTLSProblem) -> Void, _ emit: (TLSEvent) -> Void
    ) {
        var cursor = ByteCursor(body)
        let message: HandshakeMessage
        do throws(DecodeError) {
            message = try HandshakeMessage(
                type: HandshakeType(rawValue: type), parsing: &cursor, limits: limits,
                keyExchangeContext: keyExchangeContext, dtls: true)
        } catch {
            lastDeliveredWasHelloVerifyRequest = false
            return problems(.malformedMessage(HandshakeType(rawValue: type), error))
        }
        lastDeliveredWasHelloVerifyRequest = message.type == .helloVerifyRequest
        emit(.handshake(message))
        if case .serverHello(let hello) = message, !hello.isHelloRetryRequest {
            keyExchangeContext = hello.keyExchangeContext
            if hello.selectsTLS13 { isDTLS13 = true }
        }
    }
}
