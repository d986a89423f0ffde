import FlowTracking
import PacketDecoding

/// A per-flow consumer of UDP datagrams (DTLS, QUIC): each payload whole, in capture order.
public protocol DatagramConsumer {
    mutating func receive(_ datagram: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict
    /// Heap bytes the consumer holds beyond its inline size (handshake fragments, CRYPTO streams, kept
    /// certificates), read after each datagram it is given, for the run's memory budget.
    var retainedBytes: Int { get }
    /// Whether `datagram`, on this flow after the consumer answered `.stopCollecting`, starts another
    /// connection on the same 5-tuple (UDP shows no end: a peer reconnecting from the same port is told by
    /// content, as a new SYN is on TCP). A cheap check: it runs on every datagram of a finished flow.
    func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool
}

extension DatagramConsumer {
    public func startsAnotherConnection(_ datagram: UnsafeRawBufferPointer) -> Bool { false }
}

/// Caps on the UDP flow table.
public struct UDPFlowLimits: Sendable, Hashable {
    /// Flows tracked at once; the idlest is ended to make room beyond it.
    public var maxFlows: Int = 50_000
    /// A flow with no datagram for this long (capture time, nanoseconds) is ended. UDP has no FIN: this is
    /// how every UDP flow ends (Zeek's `udp_inactivity_timeout` is one minute too).
    public var idleTimeoutNanoseconds: Int64 = 60 * 1_000_000_000
    /// The run's memory budget, shared with the TCP flow table (see `otherMemoryBytes`).
    public var maxMemoryBytes: Int = 128 * 1024 * 1024
    public init() {}
}

/// Counters for the run summary.
public struct UDPFlowStatistics: Sendable, Hashable {
    /// Datagrams passed to `process`.
    public var datagrams = 0
    /// Flows entered in the table (datagrams that did not start a TLS-family connection create none).
    public var flowsCreated = 0
    /// Flows ended to make room (`maxFlows`, or the memory budget: `flowsEvictedForMemory`).
    public var flowsEvicted = 0
    public var flowsEvictedForMemory = 0
    /// Flows ended for idleness.
    public var flowsTimedOut = 0
    /// Flows ended because another connection started on their 5-tuple (`startsAnotherConnection`).
    public var flowsReused = 0
    /// What the consumers of live flows hold (`retainedBytes`), as last read.
    public var consumerBytes = 0
    public init() {}
}

/// The UDP flow table: datagrams of one 5-tuple (and network segment) go to one consumer.
///
/// Unlike TCP there is no handshake in the transport to say a flow starts, so the caller decides from
/// the payload: `makeConsumer` sees the first datagram of an unknown flow and returns nil for anything
/// that does not start a DTLS or QUIC connection. Such datagrams create no entry, so DNS, RTP or syslog
/// cost one index lookup and the caller's check per datagram, and no memory. The initiator is the sender
/// of the datagram that created the flow.
///
/// Storage and eviction are the TCP table's: slots indexed by a seeded `FlowIndex`, kept in a list in order
/// of the last datagram seen, so finding the idlest flow (idle expiry, `maxFlows`, memory budget) is O(1).
/// A consumer that answers `.stopCollecting` (its handshake is over) stays in the table, so later datagrams
/// of the connection are counted against it and do not start a new flow, but is not called again.
///
/// Memory: at most `limits.maxFlows` slots, and the budget `limits.maxMemoryBytes` over the slots, the
/// consumers' heap and `otherMemoryBytes` (what the TCP table holds): past it the idlest UDP flows end.
public struct UDPFlowTable<Consumer: DatagramConsumer> {
    struct Slot {
        var key: FlowKey
        var consumer: Consumer?
        var initiatorIsLow: Bool
        var collecting = true
        var firstTimestamp: Int64
        var lastTimestamp: Int64
        var packets = 0
        var bytes = 0
        var serial: UInt64
        /// `packetSequence` at the flow's first and latest datagram.
        var firstSequence: UInt64 = 0
        var lastSequence: UInt64 = 0
        /// `clock` at the flow's latest datagram: idleness is measured from it.
        var idleSince: Int64 = 0
        var accountedBytes = 0
        var older = -1
        var newer = -1
        var linked = false
    }

    public let limits: UDPFlowLimits
    public private(set) var statistics = UDPFlowStatistics()
    /// Bytes other flow tables hold under the same budget (the TCP reassembler's `memoryInUse`), set by the
    /// caller before each datagram.
    public var otherMemoryBytes = 0
    /// The caller's number for the datagram being processed (its index in the capture), kept per flow and
    /// handed out in `FlowEnd` (`firstSequence`, `lastSequence`).
    public var packetSequence: UInt64 = 0
    /// The capture's clock for idle expiry: the latest timestamp seen (see `TCPReassembler.clock`).
    public private(set) var clock: Int64 = .min

    /// Moves the clock to `now` if that is later (the TCP packets' times move it too).
    @inline(__always)
    public mutating func advanceClock(to now: Int64) {
        if now > clock { clock = now }
    }

    var index = FlowIndex()
    var slots: [Slot] = []
    var freeSlots: [Int] = []
    var oldest = -1
    var newest = -1
    var nextSerial: UInt64 = 0

    public init(limits: UDPFlowLimits = UDPFlowLimits()) {
        self.limits = limits
    }

    /// Flows in the table.
    public var flowCount: Int { index.count }

    /// Bytes of UDP flow state now: the live flows' slots and their consumers' heap.
    public var memoryInUse: Int { index.count * Self.flowEntryBytes + statistics.consumerBytes }

    static var flowEntryBytes: Int { MemoryLayout<Slot>.stride + 8 + 8 }

    /// Feeds one UDP datagram (`payload` is its payload). `makeConsumer` is asked when the datagram belongs
    /// to no flow yet (nil: not a connection worth a flow); `stoppedCollecting` gets a consumer in place when
    /// it has just answered `.stopCollecting`, with the flow's extent so far; `finished` gets each consumer
    /// whose flow ended (evicted or idle).
    public mutating func process(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64,
        makeConsumer: (FlowStart, UnsafeRawBufferPointer) -> Consumer?,
        stoppedCollecting: (inout Consumer, FlowExtent) -> Void, finished: (Consumer, FlowEnd) -> Void
    ) {
        statistics.datagrams += 1
        expireIdleFlows(now: timestamp, finished: finished)
        let (key, fromLow) = FlowKey.canonical(packet)
        var found = index.find(key, keyOf: { slots[$0].key })
        if let existing = found, !slots[existing].collecting, let consumer = slots[existing].consumer,
            consumer.startsAnotherConnection(payload)
        {
            statistics.flowsReused += 1
            endFlow(existing, reason: .reused, finished: finished)
            found = nil
        }
        let slotIndex: Int
        if let existing = found {
            slotIndex = existing
        } else {
            let initiatorIsLow = fromLow
            let start = FlowStart(
                key: key,
                initiatorAddress: initiatorIsLow ? key.lowAddress : key.highAddress,
                initiatorPort: initiatorIsLow ? key.lowPort : key.highPort,
                responderAddress: initiatorIsLow ? key.highAddress : key.lowAddress,
                responderPort: initiatorIsLow ? key.highPort : key.lowPort,
                sawSYN: false, timestamp: timestamp)
            guard let consumer = makeConsumer(start, payload) else { return }
            slotIndex = createFlow(key: key, consumer: consumer, initiatorIsLow: initiatorIsLow, timestamp: timestamp,
                                   finished: finished)
        }
        touch(slotIndex)
        slots[slotIndex].lastSequence = packetSequence
        slots[slotIndex].idleSince = clock
        slots[slotIndex].packets += 1
        slots[slotIndex].bytes += payload.count
        if timestamp > slots[slotIndex].lastTimestamp { slots[slotIndex].lastTimestamp = timestamp }
        if slots[slotIndex].collecting, var consumer = slots[slotIndex].consumer.take() {
            // Moved out and back so the consumer is changed in place, not copied.
            let direction: FlowDirection = fromLow == slots[slotIndex].initiatorIsLow ? .fromInitiator : .fromResponder
            let verdict = consumer.receive(payload, direction: direction, timestamp: timestamp)
            if case .stopCollecting = verdict {
                slots[slotIndex].collecting = false
                let slot = slots[slotIndex]
                stoppedCollecting(
                    &consumer,
                    FlowExtent(firstTimestamp: slot.firstTimestamp, lastTimestamp: slot.lastTimestamp,
                               packets: slot.packets, bytes: slot.bytes, firstSequence: slot.firstSequence,
                               lastSequence: slot.lastSequence))
            }
            let retained = consumer.retainedBytes
            statistics.consumerBytes += retained - slots[slotIndex].accountedBytes
            slots[slotIndex].accountedBytes = retained
            slots[slotIndex].consumer = consumer
        }
        if memoryInUse + otherMemoryBytes > limits.maxMemoryBytes { enforceMemoryBudget(finished: finished) }
    }

    /// Ends the idlest flows until the state fits the budget again (the flow just fed is the newest: last).
    mutating func enforceMemoryBudget(finished: (Consumer, FlowEnd) -> Void) {
        while memoryInUse + otherMemoryBytes > limits.maxMemoryBytes, index.count > 1, oldest >= 0 {
            statistics.flowsEvicted += 1
            statistics.flowsEvictedForMemory += 1
            endFlow(oldest, reason: .evicted, finished: finished)
        }
    }

    /// Ends flows idle for longer than the timeout before `now` (done on every datagram too).
    public mutating func expireIdleFlows(now: Int64, finished: (Consumer, FlowEnd) -> Void) {
        advanceClock(to: now)
        while oldest >= 0, FlowEnd.isIdle(last: slots[oldest].idleSince, now: clock, timeout: limits.idleTimeoutNanoseconds) {
            statistics.flowsTimedOut += 1
            endFlow(oldest, reason: .idle, finished: finished)
        }
    }

    /// Ends every flow (end of input), in the order they were created.
    public mutating func finishAll(_ finished: (Consumer, FlowEnd) -> Void) {
        // Serials are read once each: a comparator reading `slots[i]` copied whole slots (consumer included)
        // per comparison in the generic, unspecialised build.
        let live = index.slots.map { (serial: slots[$0].serial, slot: $0) }.sorted { $0.serial < $1.serial }.map(\.slot)
        for slotIndex in live { endFlow(slotIndex, reason: .endOfInput, finished: finished) }
    }


    mutating func createFlow(
        key: FlowKey, consumer: Consumer, initiatorIsLow: Bool, timestamp: Int64, finished: (Consumer, FlowEnd) -> Void
    ) -> Int {
        if index.count >= max(1, limits.maxFlows), oldest >= 0 {
            statistics.flowsEvicted += 1
            endFlow(oldest, reason: .evicted, finished: finished)
        }
        statistics.flowsCreated += 1
        let slot = Slot(
            key: key, consumer: consumer, initiatorIsLow: initiatorIsLow, firstTimestamp: timestamp,
            lastTimestamp: timestamp, serial: nextSerial, firstSequence: packetSequence, lastSequence: packetSequence)
        nextSerial += 1
        let slotIndex: Int
        if let free = freeSlots.popLast() {
            slots[free] = slot
            slotIndex = free
        } else {
            slots.append(slot)
            slotIndex = slots.count - 1
        }
        index.insert(key, slot: slotIndex, keyOf: { slots[$0].key })
        return slotIndex
    }

    mutating func endFlow(_ slotIndex: Int, reason: FlowEndReason, finished: (Consumer, FlowEnd) -> Void) {
        let slot = slots[slotIndex]
        let end = FlowEnd(
            reason: reason, firstTimestamp: slot.firstTimestamp, lastTimestamp: slot.lastTimestamp,
            packets: slot.packets, bytes: slot.bytes, firstSequence: slot.firstSequence,
            lastSequence: slot.lastSequence)
        unlink(slotIndex)
        index.remove(slot.key, keyOf: { slots[$0].key })
        statistics.consumerBytes -= slot.accountedBytes
        slots[slotIndex].consumer = nil
        slots[slotIndex].accountedBytes = 0
        freeSlots.append(slotIndex)
        if let consumer = slot.consumer { finished(consumer, end) }
    }

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
