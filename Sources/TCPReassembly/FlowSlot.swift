import FlowTracking
import PacketDecoding

/// Out-of-order bytes held until the hole before them fills (copied: the frame does not outlive the call).
struct PendingSegment {
    /// Stream offset of the first byte (0 = the byte after the SYN, or the first byte seen).
    var offset: Int64
    var bytes: [UInt8]
    /// Bytes the capture cut off right after these (snaplen): a gap once these are delivered.
    var missingTail: Int
    var end: Int64 { offset + Int64(bytes.count) }
}

/// One direction of a connection.
///
/// Sequence numbers are turned into 64-bit stream offsets relative to `nextSequence` with serial-number
/// arithmetic (RFC 1982: the signed 32-bit difference), so wraparound needs no special case afterwards.
struct DirectionState {
    var started = false
    /// Sequence number of the next byte to deliver, and its stream offset.
    var nextSequence: UInt32 = 0
    var nextOffset: Int64 = 0
    /// Sorted by offset, non-overlapping, all ending after `nextOffset` once drained.
    var pending: [PendingSegment] = []
    var pendingBytes = 0
    var finSeen = false
    /// Stream offset of the FIN, when known.
    var finOffset: Int64?
    /// Where this side's stream is known to be, for the RST and port-reuse checks; kept in every flow state
    /// (collecting or not). `sentEnd`: the sequence number after the furthest segment it sent (SYN and FIN
    /// included); `acknowledged`: the furthest acknowledgment it sent (of the other side's stream).
    var sentSeen = false
    var sentEnd: UInt32 = 0
    var acknowledgedSeen = false
    var acknowledged: UInt32 = 0
    /// The ISN of this side's SYN, when one was seen.
    var synSeen = false
    var initialSequence: UInt32 = 0

    mutating func start(at sequence: UInt32) {
        started = true
        nextSequence = sequence
        nextOffset = 0
    }

    /// Stream offset of a sequence number (meaningful within 2^31 of `nextSequence`).
    func offset(of sequence: UInt32) -> Int64 {
        nextOffset + Int64(Int32(bitPattern: sequence &- nextSequence))
    }

    /// Notes a (non-RST) segment this side sent: a few compares, no allocation.
    @inline(__always)
    mutating func noteSent(_ packet: DecodedPacket, payloadLength: Int) {
        let flags = packet.flags
        if flags.contains(.syn), !synSeen {
            synSeen = true
            initialSequence = packet.sequenceNumber
        }
        let length = payloadLength + max(0, packet.missingPayloadLength)
            + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
        let end = packet.sequenceNumber &+ UInt32(truncatingIfNeeded: length)
        if !sentSeen || Int32(bitPattern: end &- sentEnd) > 0 {
            sentSeen = true
            sentEnd = end
        }
        if flags.contains(.ack), !acknowledgedSeen || Int32(bitPattern: packet.acknowledgmentNumber &- acknowledged) > 0 {
            acknowledgedSeen = true
            acknowledged = packet.acknowledgmentNumber
        }
    }

    /// `sequence` is within `tolerance` of `anchor`, either way, in serial-number arithmetic.
    @inline(__always)
    static func isNear(_ sequence: UInt32, _ anchor: UInt32, tolerance: UInt32) -> Bool {
        Int64(Int32(bitPattern: sequence &- anchor)).magnitude <= UInt64(tolerance)
    }

    mutating func advance(to offset: Int64) {
        guard offset > nextOffset else { return }
        nextSequence &+= UInt32(truncatingIfNeeded: offset - nextOffset)
        nextOffset = offset
    }

    /// Index of the first pending segment that ends after `offset` (binary search: ends are sorted too).
    func firstPending(endingAfter offset: Int64) -> Int {
        var low = 0
        var high = pending.count
        while low < high {
            let middle = (low + high) / 2
            if pending[middle].end > offset { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

enum IngestOutcome {
    case open
    case closed(FlowEndReason)
}

enum FlowState {
    case collecting
    /// The consumer said `.stopCollecting`: only counters and FIN/RST are tracked.
    case stopped
    /// `makeConsumer` returned nil.
    case ignored
}

/// One flow-table entry.
struct FlowSlot<Consumer: TCPStreamConsumer> {
    var key: FlowKey
    var consumer: Consumer?
    var state: FlowState
    var initiatorIsLow: Bool
    var serial: UInt64
    /// `TCPReassembler.packetSequence` at the flow's first and latest packet.
    var firstSequence: UInt64 = 0
    var lastSequence: UInt64 = 0
    /// `TCPReassembler.clock` at the flow's latest packet: idleness is measured from it.
    var idleSince: Int64 = 0
    var firstTimestamp: Int64
    var lastTimestamp: Int64
    var packets = 0
    var bytes = 0
    var initiator = DirectionState()
    var responder = DirectionState()
    /// Links of the recency list (slot indices, -1 for none).
    var older = -1
    var newer = -1
    var linked = false
    /// The consumer's `retainedBytes` as last counted in `ReassemblyStatistics.consumerBytes`.
    var accountedBytes = 0

    /// `consumer` is consumed (moved in, not copied: it is a whole session with its parsers).
    init(key: FlowKey, consumer: consuming Consumer?, initiatorIsLow: Bool, serial: UInt64, timestamp: Int64) {
        self.key = key
        self.state = consumer == nil ? .ignored : .collecting
        self.consumer = consumer
        self.initiatorIsLow = initiatorIsLow
        self.serial = serial
        self.firstTimestamp = timestamp
        self.lastTimestamp = timestamp
    }

    /// Whether a RST from `direction` lies in the window (see `TCPReassembler`, "Resets"): near the end of
    /// what its sender sent, or near what the receiver acknowledged; taken when neither is known.
    func acceptsReset(_ packet: DecodedPacket, direction: FlowDirection, tolerance: UInt32) -> Bool {
        let sender = direction == .fromInitiator ? initiator : responder
        let receiver = direction == .fromInitiator ? responder : initiator
        let sequence = packet.sequenceNumber
        if sender.sentSeen, DirectionState.isNear(sequence, sender.sentEnd, tolerance: tolerance) { return true }
        if receiver.acknowledgedSeen, DirectionState.isNear(sequence, receiver.acknowledged, tolerance: tolerance) {
            return true
        }
        return !sender.sentSeen && !receiver.acknowledgedSeen
    }

    /// Whether a SYN (without ACK) opens a new connection on this flow's 4-tuple: its sender's stream is
    /// known, the ISN is not the one it used, and it lies outside the tolerance of where that stream is.
    func isNewConnection(syn packet: DecodedPacket, fromLow: Bool, tolerance: UInt32) -> Bool {
        let sender = fromLow == initiatorIsLow ? initiator : responder
        guard sender.sentSeen else { return false }
        if sender.synSeen, sender.initialSequence == packet.sequenceNumber { return false }
        return !DirectionState.isNear(packet.sequenceNumber &+ 1, sender.sentEnd, tolerance: tolerance)
    }

    mutating func ingest(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, fromLow: Bool, timestamp: Int64,
        limits: ReassemblyLimits, statistics: inout ReassemblyStatistics
    ) -> IngestOutcome {
        packets += 1
        bytes += payload.count
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        if timestamp < firstTimestamp { firstTimestamp = timestamp }
        let direction: FlowDirection = fromLow == initiatorIsLow ? .fromInitiator : .fromResponder
        let flags = packet.flags
        if flags.contains(.rst) {
            guard acceptsReset(packet, direction: direction, tolerance: limits.sequenceWindowTolerance) else {
                statistics.rstIgnored += 1
                consumer?.resetIgnored(direction: direction, timestamp: timestamp)
                return .open
            }
        } else {
            switch direction {
            case .fromInitiator: initiator.noteSent(packet, payloadLength: payload.count)
            case .fromResponder: responder.noteSent(packet, payloadLength: payload.count)
            }
        }
        if case .collecting = state {
            let keepGoing: Bool
            switch direction {
            case .fromInitiator:
                keepGoing = Self.ingest(
                    &initiator, consumer: &consumer, direction: direction, packet: packet, payload: payload,
                    timestamp: timestamp, limits: limits, statistics: &statistics)
            case .fromResponder:
                keepGoing = Self.ingest(
                    &responder, consumer: &consumer, direction: direction, packet: packet, payload: payload,
                    timestamp: timestamp, limits: limits, statistics: &statistics)
            }
            if !keepGoing { stopCollecting(statistics: &statistics) }
        } else if flags.contains(.fin) {
            switch direction {
            case .fromInitiator: initiator.finSeen = true
            case .fromResponder: responder.finSeen = true
            }
        }
        if flags.contains(.rst) { return .closed(.rst) }
        if initiator.finSeen && responder.finSeen { return .closed(.fin) }
        return .open
    }

    /// Drops every buffer: the consumer wants no more bytes.
    mutating func stopCollecting(statistics: inout ReassemblyStatistics) {
        state = .stopped
        statistics.bufferedBytes -= initiator.pendingBytes + responder.pendingBytes
        statistics.bufferedSegments -= initiator.pending.count + responder.pending.count
        initiator.pending = []
        initiator.pendingBytes = 0
        responder.pending = []
        responder.pendingBytes = 0
    }

    /// Reports every remaining hole as a gap and delivers what was buffered behind it (flow end).
    mutating func flushAll(statistics: inout ReassemblyStatistics) {
        guard case .collecting = state else { return }
        let timestamp = lastTimestamp
        var keepGoing = Self.flush(
            &initiator, consumer: &consumer, direction: .fromInitiator, timestamp: timestamp,
            statistics: &statistics)
        if keepGoing {
            keepGoing = Self.flush(
                &responder, consumer: &consumer, direction: .fromResponder, timestamp: timestamp,
                statistics: &statistics)
        }
        if !keepGoing { stopCollecting(statistics: &statistics) }
    }

    /// Frees the slot's buffers and consumer.
    mutating func release(statistics: inout ReassemblyStatistics) {
        accountedBytes = 0
        statistics.bufferedBytes -= initiator.pendingBytes + responder.pendingBytes
        statistics.bufferedSegments -= initiator.pending.count + responder.pending.count
        initiator = DirectionState()
        responder = DirectionState()
        consumer = nil
        state = .ignored
    }

    // MARK: Per-direction reassembly

    /// Takes one segment into a direction; false when the consumer asked to stop.
    static func ingest(
        _ state: inout DirectionState, consumer: inout Consumer?, direction: FlowDirection, packet: DecodedPacket,
        payload: UnsafeRawBufferPointer, timestamp: Int64, limits: ReassemblyLimits,
        statistics: inout ReassemblyStatistics
    ) -> Bool {
        let flags = packet.flags
        var dataSequence = packet.sequenceNumber
        if flags.contains(.syn) {
            // The SYN takes one sequence number; data (TCP Fast Open) follows it.
            dataSequence &+= 1
            if !state.started { state.start(at: dataSequence) }
        }
        let missingTail = max(0, packet.missingPayloadLength)
        if !state.started {
            guard payload.count > 0 || missingTail > 0 else {
                if flags.contains(.fin) { state.finSeen = true }
                return true
            }
            state.start(at: dataSequence)
        }
        let offset = state.offset(of: dataSequence)
        let end = offset + Int64(payload.count)
        if flags.contains(.fin) {
            state.finSeen = true
            state.finOffset = end + Int64(missingTail)
        }
        var cursor = max(offset, state.nextOffset)
        while cursor < end {
            guard drain(&state, consumer: &consumer, direction: direction, timestamp: timestamp,
                        statistics: &statistics)
            else { return false }
            cursor = max(cursor, state.nextOffset)
            guard cursor < end else { break }
            // The piece of the new segment that starts at `cursor` and that nothing buffered covers.
            let pendingIndex = state.firstPending(endingAfter: cursor)
            var pieceEnd = end
            if pendingIndex < state.pending.count {
                let next = state.pending[pendingIndex]
                if next.offset <= cursor {
                    cursor = next.end  // already buffered: the first arrival wins
                    continue
                }
                pieceEnd = min(end, next.offset)
            }
            let piece = UnsafeRawBufferPointer(
                rebasing: payload[Int(cursor - offset)..<Int(pieceEnd - offset)])
            let tail = pieceEnd == end ? missingTail : 0
            if cursor == state.nextOffset {
                let verdict = consumer?.receive(piece, direction: direction, timestamp: timestamp)
                state.advance(to: pieceEnd)
                if verdict == .stopCollecting { return false }
                if tail > 0 {
                    reportGap(&state, consumer: &consumer, direction: direction, to: pieceEnd + Int64(tail),
                              timestamp: timestamp, statistics: &statistics)
                }
            } else {
                if state.pendingBytes + piece.count > limits.maxBufferedBytesPerDirection
                    || statistics.bufferedBytes + piece.count > limits.maxBufferedBytesTotal
                    || state.pending.count >= limits.maxBufferedSegmentsPerDirection
                    || statistics.bufferedSegments >= limits.maxBufferedSegmentsTotal
                {
                    // Over a cap: give up on the hole before the earliest data we have.
                    let target = min(cursor, state.pending.first?.offset ?? cursor)
                    reportGap(&state, consumer: &consumer, direction: direction, to: target,
                              timestamp: timestamp, statistics: &statistics)
                    continue
                }
                state.pending.insert(
                    PendingSegment(offset: cursor, bytes: Array(piece), missingTail: tail), at: pendingIndex)
                state.pendingBytes += piece.count
                statistics.bufferedBytes += piece.count
                statistics.bufferedSegments += 1
                statistics.peakBufferedBytes = max(statistics.peakBufferedBytes, statistics.bufferedBytes)
            }
            cursor = pieceEnd
        }
        return drain(&state, consumer: &consumer, direction: direction, timestamp: timestamp,
                     statistics: &statistics)
    }

    /// Delivers buffered segments that the stream has reached; false when the consumer asked to stop.
    static func drain(
        _ state: inout DirectionState, consumer: inout Consumer?, direction: FlowDirection, timestamp: Int64,
        statistics: inout ReassemblyStatistics
    ) -> Bool {
        while let first = state.pending.first, first.offset <= state.nextOffset {
            let segment = state.pending.removeFirst()
            state.pendingBytes -= segment.bytes.count
            statistics.bufferedBytes -= segment.bytes.count
            statistics.bufferedSegments -= 1
            let segmentEnd = segment.end
            if segmentEnd > state.nextOffset {
                let skip = Int(state.nextOffset - segment.offset)
                let verdict = segment.bytes.withUnsafeBytes { buffer in
                    consumer?.receive(
                        UnsafeRawBufferPointer(rebasing: buffer[skip...]), direction: direction, timestamp: timestamp)
                }
                state.advance(to: segmentEnd)
                if verdict == .stopCollecting { return false }
            }
            if segment.missingTail > 0, state.nextOffset == segmentEnd {
                reportGap(&state, consumer: &consumer, direction: direction,
                          to: segmentEnd + Int64(segment.missingTail), timestamp: timestamp, statistics: &statistics)
            }
        }
        return true
    }

    /// Skips the stream ahead to `offset`, telling the consumer how much was lost.
    static func reportGap(
        _ state: inout DirectionState, consumer: inout Consumer?, direction: FlowDirection, to offset: Int64,
        timestamp: Int64, statistics: inout ReassemblyStatistics
    ) {
        guard offset > state.nextOffset else { return }
        let start = state.nextOffset
        let length = Int(offset - start)
        state.advance(to: offset)
        statistics.gaps += 1
        statistics.gapBytes += length
        consumer?.gap(direction: direction, offset: start, length: length, timestamp: timestamp)
    }

    /// Reports and skips every hole, delivering the buffered data between them, then the hole before a FIN.
    static func flush(
        _ state: inout DirectionState, consumer: inout Consumer?, direction: FlowDirection, timestamp: Int64,
        statistics: inout ReassemblyStatistics
    ) -> Bool {
        while let first = state.pending.first {
            reportGap(&state, consumer: &consumer, direction: direction, to: first.offset, timestamp: timestamp,
                      statistics: &statistics)
            guard drain(&state, consumer: &consumer, direction: direction, timestamp: timestamp,
                        statistics: &statistics)
            else { return false }
        }
        if let finOffset = state.finOffset {
            reportGap(&state, consumer: &consumer, direction: direction, to: finOffset, timestamp: timestamp,
                      statistics: &statistics)
        }
        return true
    }
}
