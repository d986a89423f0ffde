import FlowTracking
import PacketDecoding

/// Caps on the flow table and buffers, one value for all of them.
public struct ReassemblyLimits: Sendable, Hashable {
    /// Flows tracked at once; the idlest are evicted beyond it.
    public var maxFlows: Int = 100_000
    /// Out-of-order bytes buffered per direction.
    public var maxBufferedBytesPerDirection: Int = 256 * 1024
    /// Out-of-order bytes buffered over all flows.
    public var maxBufferedBytesTotal: Int = 32 * 1024 * 1024
    /// Out-of-order segments buffered per direction: bounds the per-segment overhead and the cost of
    /// keeping the buffer sorted when a peer sends many tiny segments.
    public var maxBufferedSegmentsPerDirection: Int = 1024
    /// Out-of-order segments buffered over all flows: each costs a heap block (~80 bytes with its header)
    /// whatever its length, so one-byte segments under the byte caps could otherwise hold gigabytes.
    public var maxBufferedSegmentsTotal: Int = 65_536
    /// How far (in sequence numbers, either way) a RST may lie from where its sender's stream is known to
    /// be and still end the flow; see `TCPReassembler` ("Resets"). Also how far a SYN's ISN must lie from
    /// the flow's to be taken for a new connection on a reused 4-tuple.
    public var sequenceWindowTolerance: UInt32 = 65_536
    /// A flow with no packet for this long (capture time, nanoseconds) is closed.
    public var idleTimeoutNanoseconds: Int64 = 300 * 1_000_000_000
    /// One budget over all flow state: the live flows' table entries, their out-of-order buffers and what
    /// their consumers hold (`TCPStreamConsumer.retainedBytes`: unfinished handshake messages, certificate
    /// chains, hellos). Past it the idlest flows are ended (`evicted`, counted in `flowsEvictedForMemory`),
    /// so a capture crafted to leave thousands of flows each holding a large unfinished message cannot grow
    /// memory without bound.
    public var maxMemoryBytes: Int = 128 * 1024 * 1024
    public init() {}
}

/// A per-connection consumer of ordered bytes (gopacket's Stream).
public protocol TCPStreamConsumer {
    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict
    /// `length` bytes were lost in that direction (nil when unknown), starting at stream offset `offset`
    /// (bytes delivered in that direction before the gap, earlier gaps included; 0 is the first data byte).
    mutating func gap(direction: FlowDirection, offset: Int64, length: Int?, timestamp: Int64)
    /// A RST from that direction was ignored: its sequence number lies outside the window (spoofed, or
    /// stale). Also called once the consumer has stopped collecting, as long as the flow is open.
    mutating func resetIgnored(direction: FlowDirection, timestamp: Int64)
    /// Heap bytes the consumer holds beyond its inline size (buffered messages, kept certificates), read
    /// after each segment it is given, for `ReassemblyLimits.maxMemoryBytes`.
    var retainedBytes: Int { get }
}

extension TCPStreamConsumer {
    public var retainedBytes: Int { 0 }
}

/// Counters for the run summary.
public struct ReassemblyStatistics: Sendable, Hashable {
    /// Segments passed to `process` (UDP included, and ignored).
    public var packets = 0
    /// Flows entered in the table (ignored ones included).
    public var flowsCreated = 0
    /// Flows whose `makeConsumer` returned nil.
    public var flowsIgnored = 0
    /// Flows evicted because the table was at `maxFlows`.
    public var flowsEvicted = 0
    /// Flows closed for idleness.
    public var flowsTimedOut = 0
    /// Flows ended by a SYN with a new ISN on their 4-tuple (`FlowEndReason.reused`).
    public var flowsReused = 0
    /// RSTs ignored because their sequence number lay outside the window.
    public var rstIgnored = 0
    /// Gaps reported to consumers, and the bytes they covered (where known).
    public var gaps = 0
    public var gapBytes = 0
    /// Out-of-order bytes held now, and the most ever held at once.
    public var bufferedBytes = 0
    public var peakBufferedBytes = 0
    /// Out-of-order segments held now (each one heap block).
    public var bufferedSegments = 0
    /// What the consumers of live flows hold (`retainedBytes`), as last read.
    public var consumerBytes = 0
    /// Flows ended early because the memory budget was spent (also counted in `flowsEvicted`).
    public var flowsEvictedForMemory = 0
    public init() {}
}

/// Bidirectional flow table with per-direction in-order delivery.
///
/// Storage: flows live in an array of slots indexed by a `FlowIndex` (open addressing, a cheap seeded
/// hash), so a packet costs one hash lookup and mutates its consumer in place. Slots form an intrusive
/// doubly linked list in order of the last packet seen: moving a flow to the recent end, finding the
/// idlest flow for eviction, and idle expiry (walking from the idle end while flows are past the timeout,
/// checked on every packet) are all O(1) per packet, amortized.
///
/// Policy decisions:
/// - A flow is created by a SYN (sender = initiator), a SYN-ACK (sender = responder; the initiator is known,
///   so `sawSYN` is true), or a segment with payload (sender = initiator, `sawSYN` false). Pure ACKs, FINs and
///   RSTs of unknown flows create nothing: they are mostly the tail of a connection already closed.
/// - Overlapping data: the bytes that arrived first win; each stream byte is delivered at most once.
/// - A FIN with a hole before it does not close the hole at once (the missing segment may still arrive
///   reordered); holes are reported as gaps when the flow ends (both FINs, RST, idle, eviction, end of input)
///   or when a buffer cap is hit.
/// - Buffer caps: when buffering a segment would exceed the per-direction or global caps (bytes or segments),
///   the direction skips ahead (reporting a gap) to its earliest buffered data, or, with nothing buffered, to
///   the new segment.
/// - Resets (RFC 5961 §3 in spirit, as Zeek and Suricata guard against the classic evasion): a RST ends a
///   flow only when its sequence number lies within `limits.sequenceWindowTolerance` (64 Ki by default),
///   either way, of where its sender's stream is known to be: the end of the furthest segment the sender was
///   seen sending, or the furthest acknowledgment the other side sent (which still holds when the capture
///   lost the sender's data). Advertised windows are not tracked (window scaling lives in SYN options, which
///   the decoder skips), so the tolerance stands in for them: 64 Ki is the largest unscaled window, and an
///   honest RST carries exactly its sender's next sequence number. A RST from a side whose stream is not
///   known at all (a closed port answering a SYN) is taken. Any other RST is ignored: counted in
///   `statistics.rstIgnored`, told to the consumer (`resetIgnored`), and its payload is not delivered.
/// - Port reuse: a SYN without ACK whose ISN differs from what its sender used and lies outside the tolerance
///   of where that sender's stream is ends the flow (`.reused`) and starts a new one with it, so a 4-tuple
///   reused before the old connection's end was captured gives two flows. A retransmitted SYN (same ISN) and
///   the other side's SYN in a simultaneous open (its stream unknown) do not.
/// - Idle time is measured on the capture's clock, the latest timestamp seen (`clock`): a packet stamped
///   earlier than one before it neither ages the flows nor makes its own flow look idle.
///
/// Memory, worst case: at most `limits.maxFlows` flows are live (one is evicted before another is made), so
/// `slots` holds at most `maxFlows` entries (capacity at most twice that, as arrays grow), `freeSlots` as
/// many `Int`s, and the index at most max(256, 4 × `maxFlows`) 8-byte buckets (it doubles past a load of
/// 1/2 and never shrinks). With S = `MemoryLayout<FlowSlot<Consumer>>.stride` (264 bytes plus the
/// consumer's inline size, measured on x86-64) and C the consumer's own heap, the table costs at most
/// `maxFlows × (2 × S + 8 + 32 + C)` bytes; buffered data adds at most `maxBufferedBytesTotal` plus
/// ~80 bytes per segment for at most `maxBufferedSegmentsTotal` segments (≈ 32 MiB + 5 MiB by default).
public struct TCPReassembler<Consumer: TCPStreamConsumer> {
    public let limits: ReassemblyLimits
    /// Counters for the summary.
    public private(set) var statistics = ReassemblyStatistics()
    /// Bytes other flow tables hold under the same budget (the UDP flow table's `memoryInUse`), set by the
    /// caller when they change: `limits.maxMemoryBytes` is one budget over both.
    public var otherMemoryBytes = 0
    /// The caller's number for the packet being processed (its index in the capture), kept per flow and
    /// handed out in `FlowEnd` (`firstSequence`, `lastSequence`).
    public var packetSequence: UInt64 = 0
    /// The capture's clock for idle expiry: the latest timestamp seen, so it never runs backwards. A flow's
    /// idleness is measured on it (from `idleSince`, the clock at the flow's latest packet), so the flows
    /// are in clock order in the recency list and a flow ends idle at the same packet whatever other flows
    /// the table holds (which lets a sharded run split flows over several tables with the same result).
    public private(set) var clock: Int64 = .min

    var index = FlowIndex()
    var slots: [FlowSlot<Consumer>] = []
    var freeSlots: [Int] = []
    /// Least recently seen flow (the idle end) and most recently seen one; -1 when empty.
    var oldest = -1
    var newest = -1
    var nextSerial: UInt64 = 0

    public init(limits: ReassemblyLimits = ReassemblyLimits()) {
        self.limits = limits
    }

    /// Number of flows in the table.
    public var flowCount: Int { index.count }

    /// Feeds one TCP segment. `makeConsumer` is asked for a consumer when a new flow starts (nil: ignore
    /// the flow, cheaply); `finished` receives each consumer whose flow ended (FIN/RST, idle, eviction).
    public mutating func process(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64,
        makeConsumer: (FlowStart) -> Consumer?, finished: (consuming Consumer, FlowEnd) -> Void
    ) {
        process(
            packet, payload: payload, timestamp: timestamp, makeConsumer: makeConsumer,
            stoppedCollecting: { _, _ in }, finished: finished)
    }

    /// `process`, also telling when a consumer has just answered `.stopCollecting` while its flow stays
    /// open: `stoppedCollecting` gets that consumer in place (changes to it are kept, and it is later handed
    /// to `finished` as usual when the flow ends) and the flow's extent so far. A live monitor reports a
    /// handshake there, as soon as its outcome is known, rather than when the connection closes.
    @inline(__always)
    public mutating func process(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64,
        makeConsumer: (FlowStart) -> Consumer?, stoppedCollecting: (inout Consumer, FlowExtent) -> Void,
        finished: (consuming Consumer, FlowEnd) -> Void
    ) {
        statistics.packets += 1
        expireIdleFlows(now: timestamp, finished: finished)
        guard packet.transport == .tcp else { return }
        let (key, fromLow) = FlowKey.canonical(packet)
        var slotIndex: Int
        if let existing = index.find(key, keyOf: { slots[$0].key }) {
            slotIndex = existing
            if packet.flags.contains(.syn), !packet.flags.contains(.ack),
                slots[existing].isNewConnection(syn: packet, fromLow: fromLow, tolerance: limits.sequenceWindowTolerance)
            {
                statistics.flowsReused += 1
                endFlow(existing, reason: .reused, finished: finished)
                guard let created = createFlow(key: key, packet: packet, payloadLength: payload.count,
                                               fromLow: fromLow, timestamp: timestamp, makeConsumer: makeConsumer,
                                               finished: finished)
                else { return }
                slotIndex = created
            }
        } else {
            guard let created = createFlow(key: key, packet: packet, payloadLength: payload.count,
                                           fromLow: fromLow, timestamp: timestamp, makeConsumer: makeConsumer,
                                           finished: finished)
            else { return }
            slotIndex = created
        }
        touch(slotIndex)
        slots[slotIndex].lastSequence = packetSequence
        slots[slotIndex].idleSince = clock
        let wasCollecting = Self.isCollecting(slots[slotIndex].state)
        let outcome = slots[slotIndex].ingest(
            packet, payload: payload, fromLow: fromLow, timestamp: timestamp, limits: limits,
            statistics: &statistics)
        if wasCollecting && !Self.isCollecting(slots[slotIndex].state) {
            let extent = FlowExtent(
                firstTimestamp: slots[slotIndex].firstTimestamp, lastTimestamp: slots[slotIndex].lastTimestamp,
                packets: slots[slotIndex].packets, bytes: slots[slotIndex].bytes,
                firstSequence: slots[slotIndex].firstSequence, lastSequence: slots[slotIndex].lastSequence)
            // Moved out and back so the consumer is changed in place, not copied.
            if var consumer = slots[slotIndex].consumer.take() {
                stoppedCollecting(&consumer, extent)
                slots[slotIndex].consumer = consumer
            }
        }
        if wasCollecting {
            // What the consumer holds may have changed with these bytes: the budget counts it.
            let retained = slots[slotIndex].consumer?.retainedBytes ?? 0
            statistics.consumerBytes += retained - slots[slotIndex].accountedBytes
            slots[slotIndex].accountedBytes = retained
        }
        switch outcome {
        case .open: break
        case .closed(let reason): endFlow(slotIndex, reason: reason, finished: finished)
        }
        if memoryInUse + otherMemoryBytes > limits.maxMemoryBytes { enforceMemoryBudget(finished: finished) }
    }

    /// Bytes of flow state now: table entries of the live flows, buffered segments, consumers' heap.
    public var memoryInUse: Int {
        index.count * Self.flowEntryBytes + statistics.bufferedBytes + statistics.bufferedSegments * 80
            + statistics.consumerBytes
    }

    /// A live flow's share of the table: its slot, its index bucket, its place in the free list.
    static var flowEntryBytes: Int { MemoryLayout<FlowSlot<Consumer>>.stride + 8 + 8 }

    /// Ends the idlest flows until the state fits `limits.maxMemoryBytes` again (the flow of the packet
    /// just taken is the most recent one, so it goes last).
    mutating func enforceMemoryBudget(finished: (consuming Consumer, FlowEnd) -> Void) {
        while memoryInUse + otherMemoryBytes > limits.maxMemoryBytes, index.count > 1, oldest >= 0 {
            statistics.flowsEvicted += 1
            statistics.flowsEvictedForMemory += 1
            endFlow(oldest, reason: .evicted, finished: finished)
        }
    }

    /// Ends every flow (end of input), oldest first (in the order the flows were created), reporting
    /// remaining holes as gaps first.
    public mutating func finishAll(_ finished: (consuming Consumer, FlowEnd) -> Void) {
        // Serials are read once each: a comparator reading `slots[i]` copied whole slots (consumer included)
        // per comparison in the generic, unspecialised build.
        let live = index.slots.map { (serial: slots[$0].serial, slot: $0) }.sorted { $0.serial < $1.serial }.map(\.slot)
        for slotIndex in live {
            endFlow(slotIndex, reason: .endOfInput, finished: finished)
        }
    }

    /// Ends flows that saw no packet for longer than the idle timeout, relative to `now` (also done on
    /// every `process`; call it when a live capture goes quiet).
    public mutating func expireIdleFlows(now: Int64, finished: (consuming Consumer, FlowEnd) -> Void) {
        if now > clock { clock = now }
        while oldest >= 0,
            FlowEnd.isIdle(last: slots[oldest].idleSince, now: clock, timeout: limits.idleTimeoutNanoseconds)
        {
            statistics.flowsTimedOut += 1
            endFlow(oldest, reason: .idle, finished: finished)
        }
    }

    static func isCollecting(_ state: FlowState) -> Bool {
        if case .collecting = state { return true }
        return false
    }


    mutating func createFlow(
        key: FlowKey, packet: DecodedPacket, payloadLength: Int, fromLow: Bool, timestamp: Int64,
        makeConsumer: (FlowStart) -> Consumer?, finished: (consuming Consumer, FlowEnd) -> Void
    ) -> Int? {
        let flags = packet.flags
        let initiatorIsLow: Bool
        let sawSYN: Bool
        if flags.contains(.rst) {
            return nil
        } else if flags.contains(.syn) {
            initiatorIsLow = flags.contains(.ack) ? !fromLow : fromLow
            sawSYN = true
        } else if payloadLength > 0 {
            initiatorIsLow = fromLow
            sawSYN = false
        } else {
            return nil
        }
        if index.count >= max(1, limits.maxFlows), oldest >= 0 {
            statistics.flowsEvicted += 1
            endFlow(oldest, reason: .evicted, finished: finished)
        }
        let start = FlowStart(
            key: key,
            initiatorAddress: initiatorIsLow ? key.lowAddress : key.highAddress,
            initiatorPort: initiatorIsLow ? key.lowPort : key.highPort,
            responderAddress: initiatorIsLow ? key.highAddress : key.lowAddress,
            responderPort: initiatorIsLow ? key.highPort : key.lowPort,
            sawSYN: sawSYN, timestamp: timestamp)
        let consumer = makeConsumer(start)
        statistics.flowsCreated += 1
        if consumer == nil { statistics.flowsIgnored += 1 }
        // The session is moved into the slot and the slot into the table: no copy of either.
        var slot = FlowSlot(
            key: key, consumer: consume consumer, initiatorIsLow: initiatorIsLow, serial: nextSerial,
            timestamp: timestamp)
        slot.firstSequence = packetSequence
        slot.lastSequence = packetSequence
        nextSerial += 1
        let slotIndex: Int
        if let free = freeSlots.popLast() {
            slots[free] = consume slot
            slotIndex = free
        } else {
            slots.append(consume slot)
            slotIndex = slots.count - 1
        }
        index.insert(key, slot: slotIndex, keyOf: { slots[$0].key })
        return slotIndex
    }

    /// Flushes the flow's holes, removes it and hands its consumer to `finished`.
    mutating func endFlow(_ slotIndex: Int, reason: FlowEndReason, finished: (consuming Consumer, FlowEnd) -> Void) {
        slots[slotIndex].flushAll(statistics: &statistics)
        // Fields read one by one and the consumer moved out: a copy of the slot copied the consumer.
        let end = FlowEnd(
            reason: reason, firstTimestamp: slots[slotIndex].firstTimestamp,
            lastTimestamp: slots[slotIndex].lastTimestamp, packets: slots[slotIndex].packets,
            bytes: slots[slotIndex].bytes, firstSequence: slots[slotIndex].firstSequence,
            lastSequence: slots[slotIndex].lastSequence)
        unlink(slotIndex)
        let key = slots[slotIndex].key
        index.remove(key, keyOf: { slots[$0].key })
        statistics.consumerBytes -= slots[slotIndex].accountedBytes
        let consumer = slots[slotIndex].consumer.take()
        slots[slotIndex].release(statistics: &statistics)
        freeSlots.append(slotIndex)
        // Moved on, not copied: a copy left here kept the consumer's storage shared, and a session that
        // ends (and changes its state to hand its record over) then copied all of its state.
        if let consumer = consume consumer { finished(consume consumer, end) }
    }

    /// Moves a flow to the recent end of the list.
    @inline(__always)
    mutating func touch(_ slotIndex: Int) {
        if newest == slotIndex { return }
        if slots[slotIndex].linked { unlink(slotIndex) }
        slots[slotIndex].older = newest
        slots[slotIndex].newer = -1
        if newest >= 0 { slots[newest].newer = slotIndex }
        newest = slotIndex
        if oldest < 0 { oldest = slotIndex }
        slots[slotIndex].linked = true
    }

    mutating func unlink(_ slotIndex: Int) {
        guard slots[slotIndex].linked else { return }
        let older = slots[slotIndex].older
        let newer = slots[slotIndex].newer
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        slots[slotIndex].older = -1
        slots[slotIndex].newer = -1
        slots[slotIndex].linked = false
    }
}
