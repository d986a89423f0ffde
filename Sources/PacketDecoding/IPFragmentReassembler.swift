/// One IP fragment as the decoder found it (`DecodedFrame.fragment`): which datagram it belongs to, where its
/// data lies in that datagram, and where in the frame the data is.
public struct IPFragment: Sendable, Hashable {
    public var source: IPAddress
    public var destination: IPAddress
    /// `DecodedPacket.segment` of the IP header (VLANs and tunnel ids outside it).
    public var segment: UInt64
    /// The IP identification (16 bits in IPv4, 32 in the IPv6 fragment header).
    public var identification: UInt32
    /// Where this fragment's data goes in the datagram's payload, in bytes.
    public var offset: Int
    /// More fragments follow (MF / M): clear on the last one, which tells the datagram's length.
    public var moreFragments: Bool
    /// What the datagram's payload is: the IPv4 protocol, or the next header after the IPv6 fragment header.
    public var protocolNumber: UInt8
    public var isIPv6: Bool
    /// Tunnels around this IP header (for `PacketDecoder.decodeDatagram`'s nesting cap).
    public var depth: UInt8
    /// The fragment's data in the frame.
    public var payloadOffset: Int
    public var payloadLength: Int
    /// Data the IP header declares but the capture cut off (snaplen): such a datagram cannot be completed.
    public var missingPayloadLength: Int

    init(_ packet: DecodedPacket, _ header: FragmentHeader) {
        source = packet.source
        destination = packet.destination
        segment = packet.segment
        identification = header.identification
        offset = header.offset
        moreFragments = header.moreFragments
        protocolNumber = header.protocolNumber
        isIPv6 = header.isIPv6
        depth = header.depth
        payloadOffset = packet.payloadOffset
        payloadLength = packet.payloadLength
        missingPayloadLength = packet.missingPayloadLength
    }

    /// The datagram a fragment belongs to (RFC 791 §3.2: addresses, protocol and identification; RFC 8200
    /// §4.5: addresses and identification), on its network segment.
    struct DatagramKey: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var segment: UInt64
        var identification: UInt32
        var protocolNumber: UInt8
        var isIPv6: Bool
    }

    var datagramKey: DatagramKey {
        // IPv6 fragments other than the first may in principle name a different next header; RFC 8200 keys
        // on the addresses and identification only.
        DatagramKey(
            source: source, destination: destination, segment: segment, identification: identification,
            protocolNumber: isIPv6 ? 0 : protocolNumber, isIPv6: isIPv6)
    }
}

/// A datagram put back together from its fragments.
public struct ReassembledDatagram: Sendable {
    /// The first fragment's header facts (offset 0), for `PacketDecoder.decodeDatagram`.
    public var fragment: IPFragment
    /// The datagram's payload (what followed the IP header, or the IPv6 fragment header).
    public var payload: [UInt8]
}

/// Caps on fragment reassembly.
public struct IPFragmentLimits: Sendable, Hashable {
    /// Datagrams being reassembled at once; beyond it the oldest is dropped.
    public var maxDatagrams = 1024
    /// Bytes held over all datagrams being reassembled; beyond it the oldest are dropped.
    public var maxBytesTotal = 8 * 1024 * 1024
    /// Fragments taken per datagram (a 64 KiB datagram in 8-byte pieces would be 8,192): the datagram is
    /// dropped past it.
    public var maxFragmentsPerDatagram = 128
    /// A datagram not complete this long (capture time, nanoseconds) after its first fragment is dropped.
    /// 30 s, Linux's `ipfrag_time`.
    public var timeoutNanoseconds: Int64 = 30 * 1_000_000_000
    public init() {}
}

/// Fragment reassembly counters.
public struct IPFragmentStatistics: Sendable, Hashable {
    /// Fragments given to `add`.
    public var fragments = 0
    /// Datagrams completed.
    public var datagramsReassembled = 0
    /// Datagrams dropped because they were not complete within the timeout.
    public var datagramsTimedOut = 0
    /// Datagrams dropped to stay within `maxDatagrams`, `maxBytesTotal` or `maxFragmentsPerDatagram`.
    public var datagramsDroppedForCaps = 0
    /// IPv6 datagrams dropped because two fragments overlapped (RFC 5722).
    public var datagramsDroppedForOverlap = 0
    /// Datagrams dropped because their fragments contradict each other (two different ends, data past the
    /// end, longer than 65,535 bytes) or one was cut short by the snaplen.
    public var datagramsDroppedMalformed = 0
    /// Fragments that repeated one already held exactly (a duplicated frame), ignored.
    public var duplicateFragments = 0
    /// Bytes held now, and the most ever held at once.
    public var bufferedBytes = 0
    public var peakBufferedBytes = 0
    public init() {}
}

/// Puts fragmented IPv4 and IPv6 datagrams back together, within fixed bounds.
///
/// Policy:
/// - Overlap: fragments repeating one already held exactly (same offset and length: a duplicated frame) are
///   ignored. Otherwise, IPv4 keeps the bytes that arrived first (as the TCP reassembler does; only the
///   new parts of a later fragment are copied), and IPv6 drops the whole datagram, as RFC 5722 requires of
///   hosts (overlapping IPv6 fragments are only ever an attack).
/// - Bounds: at most `limits.maxDatagrams` datagrams and `limits.maxBytesTotal` bytes are held (the oldest
///   datagrams are dropped to make room: they are the likeliest never to complete), each datagram takes at
///   most `limits.maxFragmentsPerDatagram` fragments and 65,535 bytes, and one not complete within
///   `limits.timeoutNanoseconds` of its first fragment is dropped (checked on every `add`, or by `expire`).
///   Fragment data is kept piece by piece (nothing is allocated for the holes, so a fragment far into a
///   datagram costs its own length, not its offset) and laid out once, when the datagram completes. Memory
///   is thus at most `maxBytesTotal` plus ~150 bytes per datagram and ~80 per fragment.
/// - A fragment the capture cut short (snaplen) drops its datagram: it can never be complete.
/// - Completed datagrams are forgotten at once: a fragment repeated after that starts a new datagram, which
///   holds its bytes until the timeout or the caps drop it.
///
/// Unfragmented packets never come here (the decoder hands out fragments only), so they pay nothing.
public struct IPFragmentReassembler {
    public let limits: IPFragmentLimits
    public private(set) var statistics = IPFragmentStatistics()

    struct Datagram {
        var serial: UInt64
        var firstTimestamp: Int64
        /// The first fragment's facts, once it came (offset 0).
        var first: IPFragment?
        /// The payload length, once the last fragment (MF clear) came.
        var totalLength: Int?
        /// The data held, as disjoint pieces in arrival order (IPv4 overlaps: only the new parts are kept).
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var heldBytes = 0
        /// Byte ranges held, sorted and disjoint (adjacent ones merged).
        var ranges: [Range<Int>] = []
        /// Each fragment's range as it came (to tell an exact duplicate from an overlap).
        var arrivals: [Range<Int>] = []

        /// The payload, laid out (once, on completion).
        func assembled(length: Int) -> [UInt8] {
            var payload = [UInt8](repeating: 0, count: length)
            for piece in pieces {
                payload.replaceSubrange(piece.offset..<(piece.offset + piece.bytes.count), with: piece.bytes)
            }
            return payload
        }

        var isComplete: Bool {
            guard let totalLength, first != nil else { return false }
            return ranges.count == 1 && ranges[0] == 0..<totalLength
        }
    }

    var datagrams: [IPFragment.DatagramKey: Datagram] = [:]
    /// Datagram keys in order of their first fragment, with the serial they had (stale entries skipped).
    var order: [(key: IPFragment.DatagramKey, serial: UInt64)] = []
    var orderStart = 0
    var nextSerial: UInt64 = 0

    /// Largest IP payload a datagram can have (the 16-bit length fields).
    static let maxDatagramLength = 65_535

    public init(limits: IPFragmentLimits = IPFragmentLimits()) {
        self.limits = limits
    }

    /// Datagrams being reassembled.
    public var datagramsInFlight: Int { datagrams.count }

    /// Takes one fragment (its data read from `frame` at `fragment.payloadOffset`); returns the datagram it
    /// completes, if it does.
    public mutating func add(_ fragment: IPFragment, frame: UnsafeRawBufferPointer, timestamp: Int64)
        -> ReassembledDatagram?
    {
        statistics.fragments += 1
        expire(now: timestamp)
        guard fragment.payloadOffset >= 0, fragment.payloadLength >= 0,
            fragment.payloadOffset <= frame.count - fragment.payloadLength
        else { return nil }
        let key = fragment.datagramKey
        var datagram: Datagram
        if let existing = datagrams.removeValue(forKey: key) {
            datagram = existing
        } else {
            if datagrams.count >= max(1, limits.maxDatagrams) { dropOldest() }
            datagram = Datagram(serial: nextSerial, firstTimestamp: timestamp)
            order.append((key, nextSerial))
            nextSerial += 1
        }
        // Moved out of the table so its arrays are changed in place; put back unless dropped or complete.
        switch take(fragment, frame: frame, into: &datagram) {
        case .keep:
            guard datagram.isComplete, let first = datagram.first, let length = datagram.totalLength else {
                datagrams[key] = datagram
                return nil
            }
            statistics.bufferedBytes -= datagram.heldBytes
            statistics.datagramsReassembled += 1
            compactOrder()
            return ReassembledDatagram(fragment: first, payload: datagram.assembled(length: length))
        case .drop:
            statistics.bufferedBytes -= datagram.heldBytes
            compactOrder()
            return nil
        }
    }

    /// Drops datagrams whose first fragment came more than the timeout before `now`.
    public mutating func expire(now: Int64) {
        while orderStart < order.count {
            let (key, serial) = order[orderStart]
            if let datagram = datagrams[key], datagram.serial == serial {
                guard Self.isExpired(first: datagram.firstTimestamp, now: now, timeout: limits.timeoutNanoseconds)
                else { break }
                datagrams[key] = nil
                statistics.bufferedBytes -= datagram.heldBytes
                statistics.datagramsTimedOut += 1
            }
            orderStart += 1
        }
        compactOrder()
    }

    /// `now - first > timeout`, without trapping on extreme (capture-supplied) timestamps.
    static func isExpired(first: Int64, now: Int64, timeout: Int64) -> Bool {
        let (elapsed, overflow) = now.subtractingReportingOverflow(first)
        return overflow ? now > first : elapsed > timeout
    }

    enum Outcome { case keep, drop }

    mutating func take(_ fragment: IPFragment, frame: UnsafeRawBufferPointer, into datagram: inout Datagram)
        -> Outcome
    {
        let start = fragment.offset
        let (end, overflow) = start.addingReportingOverflow(fragment.payloadLength)
        guard fragment.missingPayloadLength == 0, !overflow, end <= Self.maxDatagramLength else {
            statistics.datagramsDroppedMalformed += 1
            return .drop
        }
        // Every fragment but the last carries a multiple of 8 bytes (RFC 791, RFC 8200).
        if fragment.moreFragments, fragment.payloadLength % 8 != 0 || fragment.payloadLength == 0 {
            statistics.datagramsDroppedMalformed += 1
            return .drop
        }
        if !fragment.moreFragments {
            if let total = datagram.totalLength, total != end {
                statistics.datagramsDroppedMalformed += 1
                return .drop
            }
            datagram.totalLength = end
        }
        if let total = datagram.totalLength, end > total || (datagram.ranges.last?.upperBound ?? 0) > total {
            statistics.datagramsDroppedMalformed += 1
            return .drop
        }
        // RFC 8200 §4.5 lets exact duplicates (a frame captured twice) be dropped rather than taken for overlaps.
        if datagram.arrivals.contains(start..<end) {
            statistics.duplicateFragments += 1
            return .keep
        }
        let overlaps = datagram.ranges.contains { $0.overlaps(start..<end) }
        if overlaps && fragment.isIPv6 {
            statistics.datagramsDroppedForOverlap += 1
            return .drop
        }
        guard datagram.arrivals.count < limits.maxFragmentsPerDatagram else {
            statistics.datagramsDroppedForCaps += 1
            return .drop
        }
        datagram.arrivals.append(start..<end)
        // The parts no held range covers (first arrival wins): all of it unless it overlaps (IPv4).
        var parts: [Range<Int>] = []
        var cursor = start
        for held in datagram.ranges where held.upperBound > cursor && held.lowerBound < end {
            if held.lowerBound > cursor { parts.append(cursor..<held.lowerBound) }
            cursor = max(cursor, held.upperBound)
        }
        if cursor < end { parts.append(cursor..<end) }
        let growth = parts.reduce(0) { $0 + $1.count }
        while growth > 0, statistics.bufferedBytes + growth > limits.maxBytesTotal, dropOldest(sparing: datagram.serial) {}
        guard statistics.bufferedBytes + growth <= limits.maxBytesTotal else {
            statistics.datagramsDroppedForCaps += 1
            return .drop
        }
        for part in parts {
            let from = fragment.payloadOffset + part.lowerBound - start
            datagram.pieces.append((part.lowerBound, Array(frame[from..<(from + part.count)])))
        }
        datagram.heldBytes += growth
        statistics.bufferedBytes += growth
        statistics.peakBufferedBytes = max(statistics.peakBufferedBytes, statistics.bufferedBytes)
        if start < end { Self.merge(start..<end, into: &datagram.ranges) }
        if start == 0 { datagram.first = fragment }
        return .keep
    }

    /// Adds `range` to sorted disjoint `ranges`, merging overlapping and adjacent ones.
    static func merge(_ range: Range<Int>, into ranges: inout [Range<Int>]) {
        var lower = range.lowerBound
        var upper = range.upperBound
        var kept: [Range<Int>] = []
        kept.reserveCapacity(ranges.count + 1)
        var inserted = false
        for held in ranges {
            if held.upperBound < lower {
                kept.append(held)
            } else if held.lowerBound > upper {
                if !inserted {
                    kept.append(lower..<upper)
                    inserted = true
                }
                kept.append(held)
            } else {
                lower = min(lower, held.lowerBound)
                upper = max(upper, held.upperBound)
            }
        }
        if !inserted { kept.append(lower..<upper) }
        ranges = kept
    }

    /// Drops the datagram whose first fragment is oldest; false when none is held, or when the oldest is
    /// `sparing` (the one being added to, out of the table meanwhile: it is the one to give up then).
    @discardableResult
    mutating func dropOldest(sparing: UInt64? = nil) -> Bool {
        while orderStart < order.count {
            let (key, serial) = order[orderStart]
            if serial == sparing { return false }
            orderStart += 1
            if let datagram = datagrams[key], datagram.serial == serial {
                datagrams[key] = nil
                statistics.bufferedBytes -= datagram.heldBytes
                statistics.datagramsDroppedForCaps += 1
                return true
            }
        }
        return false
    }

    /// Keeps `order` from growing with completed datagrams' stale entries.
    mutating func compactOrder() {
        if orderStart > 64, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
        if datagrams.isEmpty {
            order.removeAll(keepingCapacity: true)
            orderStart = 0
        }
    }
}
