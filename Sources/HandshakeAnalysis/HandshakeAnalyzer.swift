import Fingerprints
import PacketDecoding
import TLSAudit
import TLSKeys
import FlowTracking
import TCPReassembly
import TLSWire
import UDPFlows
import WireCursor

/// Caps and switches for one analysis run.
public struct AnalysisOptions: Sendable {
    public var reassembly = ReassemblyLimits()
    /// Caps on the UDP flow table (DTLS, QUIC). Its memory budget is `reassembly.maxMemoryBytes`: one budget
    /// over both tables.
    public var udp = UDPFlowLimits()
    /// Caps on IP fragment reassembly.
    public var fragments = IPFragmentLimits()
    public var tls = TLSLimits()
    /// The policy findings are judged under; nil: no findings (`--no-findings`).
    public var auditPolicy: AuditPolicy? = .intermediate
    /// Judge certificate validity at this time (seconds since 1970) instead of each connection's capture time.
    public var auditTime: Int64?
    /// Emit a connection's record as soon as its handshake's outcome is known (established, failed with
    /// an alert, or the parsers stopped), with the packets and duration seen so far, instead of when the
    /// connection ends; it is not emitted again then. For live capture. Off by default: offline analysis
    /// reports whole connections.
    public var reportAtHandshakeEnd = false
    /// The run's sources, to name each record's source and frames (nil: records carry neither).
    public var sources: CaptureSources?
    /// Secrets to open handshakes with (`--keylog`, and pcapng secrets blocks): TCP sessions whose ClientHello
    /// random is in it keep their handshake bytes, and their records gain `keys`. nil: nothing is kept.
    public var keyLog: SharedKeyLog?
    /// The record's `keys.secrets` lists the secrets themselves (`--show-secrets`).
    public var showSecrets = false
    public init() {}

    /// The options of one of `workers` flow trackers that share the run's caps (a sharded run): each gets
    /// an even share of the flow counts, of the memory budget and of the buffered bytes and segments.
    public func share(among workers: Int) -> AnalysisOptions {
        let workers = max(1, workers)
        var result = self
        result.reassembly.maxFlows = max(1, reassembly.maxFlows / workers)
        result.reassembly.maxMemoryBytes = max(1, reassembly.maxMemoryBytes / workers)
        result.reassembly.maxBufferedBytesTotal = max(1, reassembly.maxBufferedBytesTotal / workers)
        result.reassembly.maxBufferedSegmentsTotal = max(1, reassembly.maxBufferedSegmentsTotal / workers)
        result.udp.maxFlows = max(1, udp.maxFlows / workers)
        return result
    }

    /// The idle timeout of both flow tables (`reassembly` and `udp`), for callers that do not import them
    /// (`monitor --idle-timeout` ends quiet UDP flows too).
    public var idleTimeoutNanoseconds: Int64 {
        get { reassembly.idleTimeoutNanoseconds }
        set {
            reassembly.idleTimeoutNanoseconds = newValue
            udp.idleTimeoutNanoseconds = newValue
        }
    }
}

/// Counters for the summary.
public struct AnalysisCounters: Sendable, Hashable {
    public var packets = 0
    public var bytes = 0
    /// Frames that were not IPv4/IPv6 TCP or UDP of a DTLS or QUIC connection (ARP, ICMP, DNS...).
    public var ignoredFrames = 0
    /// Frames whose headers were truncated or malformed.
    public var undecodableFrames = 0
    /// `undecodableFrames` by `DecodeError.frameReason` ("ipv4-truncated", "tcp-malformed", ...): a few
    /// dozen names at most.
    public var undecodableFramesByReason: [String: Int] = [:]
    /// TCP connections seen (TLS or not), and UDP flows that started as DTLS or QUIC.
    public var connections = 0
    /// Flows pushed out of the full table, ended for idleness, or ended by a new SYN on their 4-tuple.
    public var flowsEvicted = 0
    public var flowsTimedOut = 0
    public var flowsReused = 0
    /// RSTs outside the receiver's window, ignored.
    public var rstIgnored = 0
    /// Holes in the reassembled streams, and the bytes they covered where known.
    public var gaps = 0
    public var gapBytes = 0
    /// IP fragments seen, datagrams rebuilt from them, and datagrams given up (timeout, caps, overlap).
    public var fragments = 0
    public var datagramsReassembled = 0
    public var datagramsDropped = 0
    public init() {}
}

/// The one place the pipeline stages are wired together: frames in, handshake records out.
///
/// Two halves, which a sharded run (`tlsscope analyze --threads N`) puts on different threads: a
/// `FrameIntake` decodes frames into TCP/UDP packets (IP fragments reassembled), and a `ConnectionTracker`
/// reassembles TCP segments per flow, parses each flow's bytes with a `TLSSession` (UDP: a `UDPSession`), and
/// hands out each connection whose record is due: when it ends (FIN/RST, idle, eviction) or at `finish`.
/// Nothing here reads files or prints.
public struct HandshakeAnalyzer {
    public let options: AnalysisOptions
    /// The run's counters, with the flow tables' and the fragment reassembler's figures of what could not
    /// be followed.
    public var counters: AnalysisCounters {
        var result = intake.counters
        result.add(tracker.counters)
        return result
    }
    private var intake: FrameIntake
    private var tracker: ConnectionTracker
    /// Completes the records of the `emit:` methods (monitor, tests); `analyze` hands `EndedConnection`s to
    /// its own `RecordCompletion` on a writer thread instead.
    private let completion: RecordCompletion

    public init(options: AnalysisOptions = AnalysisOptions()) {
        self.options = options
        intake = FrameIntake(options: options)
        tracker = ConnectionTracker(options: options)
        completion = RecordCompletion(options: options)
    }

    /// Flows currently tracked (TCP and UDP).
    public var activeFlows: Int { tracker.activeFlows }

    /// The run-wide number of the last frame fed (0 before the first).
    public private(set) var frameOrdinal: UInt64 = 0

    /// Feeds one captured frame. `emit` receives each TLS connection that ended with this frame.
    public mutating func process(
        frame: UnsafeRawBufferPointer, timestamp: Int64, decoder: PacketDecoder,
        emit: (HandshakeRecord) -> Void
    ) {
        let completion = self.completion
        process(frame: frame, timestamp: timestamp, decoder: decoder) { emit(completion.record(of: $0)) }
    }

    /// Feeds one captured frame, numbered one more than the last (`frameOrdinal`). `ended` receives each TLS
    /// connection whose record is due with this frame, still to be completed by a `RecordCompletion` (which
    /// may run on another thread).
    public mutating func process(
        frame: UnsafeRawBufferPointer, timestamp: Int64, decoder: PacketDecoder,
        ended: (consuming EndedConnection) -> Void
    ) {
        process(frame: frame, timestamp: timestamp, ordinal: frameOrdinal &+ 1, decoder: decoder, ended: ended)
    }

    /// Feeds one captured frame whose run-wide number is `ordinal` (frames a filter skipped still count:
    /// records name frames as the capture file numbers them). Ordinals only grow.
    @inline(__always)
    public mutating func process(
        frame: UnsafeRawBufferPointer, timestamp: Int64, ordinal: UInt64, decoder: PacketDecoder,
        ended: (consuming EndedConnection) -> Void
    ) {
        frameOrdinal = ordinal
        // Nearly every frame: Ethernet (or raw/SLL) + IPv4 + TCP, decoded here in place. Anything else takes
        // the general decoder (the plain shape is tried there first too, so the results are the same).
        if let packet = intake.takePlain(frame: frame, decoder: decoder) {
            tracker.packetSequence = ordinal
            let payload = UnsafeRawBufferPointer(
                rebasing: frame[packet.payloadOffset..<(packet.payloadOffset + packet.payloadLength)])
            tracker.process(packet, payload: payload, timestamp: timestamp, ended: ended)
            return
        }
        switch intake.take(frame: frame, timestamp: timestamp, decoder: decoder) {
        case .nothing:
            break
        case .packet(let packet):
            tracker.packetSequence = ordinal
            let payload = UnsafeRawBufferPointer(
                rebasing: frame[packet.payloadOffset..<(packet.payloadOffset + packet.payloadLength)])
            tracker.process(packet, payload: payload, timestamp: timestamp, ended: ended)
        case .datagram(let packet, let datagram):
            tracker.packetSequence = ordinal
            datagram.withUnsafeBytes { bytes in
                let payload = UnsafeRawBufferPointer(
                    rebasing: bytes[packet.payloadOffset..<(packet.payloadOffset + packet.payloadLength)])
                tracker.process(packet, payload: payload, timestamp: timestamp, ended: ended)
            }
        }
    }

    /// IP fragment reassembly counters (fragments seen, datagrams reassembled, timed out, dropped).
    public var fragmentStatistics: IPFragmentStatistics { intake.fragmentStatistics }

    /// Ends connections idle for longer than `options.reassembly.idleTimeoutNanoseconds` before `now`
    /// (nanoseconds since 1970) and emits their records. `process` does this with each frame's time; a
    /// live capture calls it when the link is quiet, with the wall clock.
    public mutating func expireIdleFlows(now: Int64, emit: (HandshakeRecord) -> Void) {
        let completion = self.completion
        expireIdleFlows(now: now) { emit(completion.record(of: $0)) }
    }

    /// `expireIdleFlows(now:emit:)`, handing over the connections still to be completed.
    public mutating func expireIdleFlows(now: Int64, ended: (consuming EndedConnection) -> Void) {
        intake.expire(now: now)
        tracker.expireIdleFlows(now: now, ended: ended)
    }

    /// Reassembly counters (flows timed out, evicted, gaps, buffered bytes).
    public var reassemblyStatistics: ReassemblyStatistics { tracker.reassemblyStatistics }

    /// The UDP flow table's counters (flows created, evicted, evicted for memory, timed out, sessions' heap).
    public var udpFlowStatistics: UDPFlowStatistics { tracker.udpFlowStatistics }

    /// Bytes of UDP flow state now (table entries and the sessions' heap), under the run's memory budget.
    public var udpMemoryInUse: Int { tracker.udpMemoryInUse }

    /// Ends every connection still open (end of input) and emits their records.
    public mutating func finish(emit: (HandshakeRecord) -> Void) {
        let completion = self.completion
        finish { emit(completion.record(of: $0)) }
    }

    /// `finish(emit:)`, handing over the connections still to be completed.
    public mutating func finish(ended: (consuming EndedConnection) -> Void) {
        tracker.finish(ended: ended)
    }
}

/// The first half of a `HandshakeAnalyzer`: frames decoded into TCP/UDP packets, IP fragments reassembled
/// into datagrams, and the frame counters (packets, bytes, ignored, undecodable).
public struct FrameIntake {
    /// What a frame brought.
    public enum Taken {
        /// Nothing for the flow tables (not TCP/UDP, undecodable, or a fragment of a datagram not yet whole).
        case nothing
        /// A packet whose payload lies in the frame (`payloadOffset`, `payloadLength`: checked to be inside).
        case packet(DecodedPacket)
        /// A packet of a datagram rebuilt from IP fragments: its payload lies in these bytes (checked).
        case datagram(DecodedPacket, [UInt8])
    }

    /// Frames, bytes, ignored and undecodable frames, and the fragment reassembler's figures.
    public var counters: AnalysisCounters {
        var result = frameCounters
        let statistics = fragments.statistics
        result.fragments = statistics.fragments
        result.datagramsReassembled = statistics.datagramsReassembled
        result.datagramsDropped = statistics.datagramsTimedOut + statistics.datagramsDroppedForCaps
            + statistics.datagramsDroppedForOverlap + statistics.datagramsDroppedMalformed
        return result
    }
    private var frameCounters = AnalysisCounters()
    private var fragments: IPFragmentReassembler

    public init(options: AnalysisOptions) {
        fragments = IPFragmentReassembler(limits: options.fragments)
    }

    /// IP fragment reassembly counters (fragments seen, datagrams reassembled, timed out, dropped).
    public var fragmentStatistics: IPFragmentStatistics { fragments.statistics }

    /// A plain Ethernet/IPv4/TCP frame (`PacketDecoder.decodePlainIPv4TCP`), counted, its packet built in
    /// the caller; nil (nothing counted) for any other frame, which then goes to `take`.
    @inline(__always)
    public mutating func takePlain(frame: UnsafeRawBufferPointer, decoder: PacketDecoder) -> DecodedPacket? {
        guard let packet = decoder.decodePlainIPv4TCP(frame) else { return nil }
        frameCounters.packets += 1
        frameCounters.bytes += frame.count
        return packet
    }

    /// Decodes one frame (counting it). Inlined into its callers so the packet is not copied through `Taken`.
    @inline(__always)
    public mutating func take(frame: UnsafeRawBufferPointer, timestamp: Int64, decoder: PacketDecoder) -> Taken {
        frameCounters.packets += 1
        frameCounters.bytes += frame.count
        let content: DecodedFrame?
        do {
            content = try decoder.decodeFrame(frame)
        } catch {
            countUndecodable(error)
            return .nothing
        }
        switch content {
        case .packet(let packet):
            return checked(packet, within: frame.count) ? .packet(packet) : .nothing
        case .fragment(let fragment):
            return reassemble(fragment, in: frame, timestamp: timestamp, decoder: decoder)
        case nil:
            frameCounters.ignoredFrames += 1
            return .nothing
        }
    }

    /// Drops fragments waiting for longer than the fragment timeout (a live capture's quiet link).
    public mutating func expire(now: Int64) {
        fragments.expire(now: now)
    }

    private mutating func countUndecodable(_ error: DecodeError) {
        frameCounters.undecodableFrames += 1
        frameCounters.undecodableFramesByReason[error.frameReason, default: 0] += 1
    }

    /// The packet's payload lies within the `count` bytes it was decoded from (else counted undecodable).
    @inline(__always)
    private mutating func checked(_ packet: DecodedPacket, within count: Int) -> Bool {
        guard packet.payloadOffset >= 0, packet.payloadLength >= 0,
            packet.payloadOffset <= count - packet.payloadLength
        else {
            frameCounters.undecodableFrames += 1
            frameCounters.undecodableFramesByReason["payload-out-of-frame", default: 0] += 1
            return false
        }
        return true
    }

    /// A fragment goes to the fragment reassembler; a datagram it completes goes through the decoder's
    /// transport step (a tunnel inside may hold fragments of its own: at most `maxTunnelDepth` rounds).
    private mutating func reassemble(
        _ first: IPFragment, in frame: UnsafeRawBufferPointer, timestamp: Int64, decoder: PacketDecoder
    ) -> Taken {
        guard var datagram = fragments.add(first, frame: frame, timestamp: timestamp) else { return .nothing }
        for _ in 0...DecodingLimits.maxTunnelDepth {
            let payload = datagram.payload
            let fragment = datagram.fragment
            let decoded = payload.withUnsafeBytes { bytes in
                Result { () throws(DecodeError) in try decoder.decodeDatagram(bytes, of: fragment) }
            }
            let content: DecodedFrame?
            switch decoded {
            case .success(let decodedContent): content = decodedContent
            case .failure(let error):
                countUndecodable(error)
                return .nothing
            }
            switch content {
            case .packet(let packet):
                return checked(packet, within: payload.count) ? .datagram(packet, payload) : .nothing
            case .fragment(let inner):
                let next = payload.withUnsafeBytes { fragments.add(inner, frame: $0, timestamp: timestamp) }
                guard let next else { return .nothing }
                datagram = next
            case nil:
                frameCounters.ignoredFrames += 1
                return .nothing
            }
        }
        return .nothing
    }
}

/// The second half of a `HandshakeAnalyzer`: decoded packets into the TCP and UDP flow tables, each flow's
/// bytes parsed, and each TLS/DTLS/QUIC connection handed out when its record is due.
public struct ConnectionTracker {
    public let options: AnalysisOptions
    private var reassembler: TCPReassembler<TLSSession>
    private var udpFlows: UDPFlowTable<UDPSession>
    /// Connections seen, and UDP datagrams that started no DTLS/QUIC connection.
    private var connections = 0
    private var ignoredDatagrams = 0

    public init(options: AnalysisOptions) {
        self.options = options
        reassembler = TCPReassembler(limits: options.reassembly)
        var udpLimits = options.udp
        udpLimits.maxMemoryBytes = options.reassembly.maxMemoryBytes
        udpFlows = UDPFlowTable(limits: udpLimits)
    }

    /// The number of the packet being processed, in the capture's order (set before `process` and
    /// `advanceClock`): the flow tables keep it per flow, and `EndedConnection.flowEnd` carries it.
    public var packetSequence: UInt64 {
        get { reassembler.packetSequence }
        set {
            reassembler.packetSequence = newValue
            udpFlows.packetSequence = newValue
        }
    }

    /// Flows currently tracked (TCP and UDP).
    public var activeFlows: Int { reassembler.flowCount + udpFlows.flowCount }

    /// The counters of what was tracked (connections, ignored datagrams, and the flow tables' figures).
    public var counters: AnalysisCounters {
        var result = AnalysisCounters()
        result.connections = connections
        result.ignoredFrames = ignoredDatagrams
        let reassembly = reassembler.statistics
        let udp = udpFlows.statistics
        result.flowsEvicted = reassembly.flowsEvicted + udp.flowsEvicted
        result.flowsTimedOut = reassembly.flowsTimedOut + udp.flowsTimedOut
        result.flowsReused = reassembly.flowsReused + udp.flowsReused
        result.rstIgnored = reassembly.rstIgnored
        result.gaps = reassembly.gaps
        result.gapBytes = reassembly.gapBytes
        return result
    }

    /// Reassembly counters (flows timed out, evicted, gaps, buffered bytes).
    public var reassemblyStatistics: ReassemblyStatistics { reassembler.statistics }

    /// The UDP flow table's counters.
    public var udpFlowStatistics: UDPFlowStatistics { udpFlows.statistics }

    /// Bytes of UDP flow state now (table entries and the sessions' heap), under the run's memory budget.
    public var udpMemoryInUse: Int { udpFlows.memoryInUse }

    /// A decoded packet (its payload: in the frame, or in a reassembled datagram) into the flow tables.
    public mutating func process(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64, ended: (consuming EndedConnection) -> Void
    ) {
        guard packet.transport == .tcp else {
            return processDatagram(packet, payload: payload, timestamp: timestamp, ended: ended)
        }
        // UDP flows end only by idleness: the capture's clock moves for them too (one branch when none).
        // What they held no longer counts against the TCP flows.
        udpFlows.advanceClock(to: timestamp)
        if udpFlows.flowCount > 0 {
            udpFlows.expireIdleFlows(now: timestamp) { session, end in Self.report(session, end, to: ended) }
            reassembler.otherMemoryBytes = udpFlows.memoryInUse
        }
        let tlsLimits = options.tls
        let keyLog = options.keyLog
        var newConnections = 0
        let reportAtHandshakeEnd = options.reportAtHandshakeEnd
        reassembler.process(
            packet, payload: payload, timestamp: timestamp,
            makeConsumer: { start in
                newConnections += 1
                return TLSSession(start: start, limits: tlsLimits, keyLog: keyLog)
            },
            stoppedCollecting: { session, extent in
                // Live: the handshake's outcome is known, so its record goes out now (once).
                guard reportAtHandshakeEnd, session.isTLS, !session.reported else { return }
                ended(session.ended(extent))
                session.markReported()
            },
            finished: { session, end in Self.report(session, end, to: ended) })
        connections += newConnections
    }

    /// What `process` of a packet of this transport at `timestamp` does to the flows other than the
    /// packet's own: idle ones end (TCP: UDP flows, then TCP flows; UDP: UDP flows). A sharded run calls it
    /// for the packets another worker processes, so that every worker's flows age as in one table.
    public mutating func advanceClock(for transport: TransportProtocol, to timestamp: Int64, ended: (consuming EndedConnection) -> Void) {
        udpFlows.advanceClock(to: timestamp)
        if udpFlows.flowCount > 0 {
            udpFlows.expireIdleFlows(now: timestamp) { session, end in Self.report(session, end, to: ended) }
            reassembler.otherMemoryBytes = udpFlows.memoryInUse
            udpFlows.otherMemoryBytes = reassembler.memoryInUse
        }
        if transport == .tcp {
            reassembler.expireIdleFlows(now: timestamp) { session, end in Self.report(session, end, to: ended) }
        }
    }

    /// A UDP datagram into the UDP flow table: a flow is made only for a datagram that starts a DTLS or QUIC
    /// connection; anything else is counted as ignored.
    private mutating func processDatagram(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, timestamp: Int64, ended: (consuming EndedConnection) -> Void
    ) {
        let tlsLimits = options.tls
        let keyLog = options.keyLog
        let reportAtHandshakeEnd = options.reportAtHandshakeEnd
        var started = false
        var ignored = false
        udpFlows.otherMemoryBytes = reassembler.memoryInUse
        udpFlows.process(
            packet, payload: payload, timestamp: timestamp,
            makeConsumer: { start, datagram in
                guard let session = UDPSession.starting(start, with: datagram, limits: tlsLimits, keyLog: keyLog) else {
                    ignored = true
                    return nil
                }
                started = true
                return session
            },
            stoppedCollecting: { session, extent in
                guard reportAtHandshakeEnd, session.isTLS, !session.reported, let connection = session.ended(extent)
                else { return }
                ended(connection)
                session.markReported()
            },
            finished: { session, end in Self.report(session, end, to: ended) })
        reassembler.otherMemoryBytes = udpFlows.memoryInUse
        if started { connections += 1 }
        if ignored { ignoredDatagrams += 1 }
    }

    /// Ends connections idle for longer than the idle timeout before `now` (a live capture's quiet link).
    public mutating func expireIdleFlows(now: Int64, ended: (consuming EndedConnection) -> Void) {
        reassembler.expireIdleFlows(now: now) { session, end in Self.report(session, end, to: ended) }
        udpFlows.expireIdleFlows(now: now) { session, end in Self.report(session, end, to: ended) }
        reassembler.otherMemoryBytes = udpFlows.memoryInUse
    }

    /// Ends every connection still open (end of input): TCP flows, then UDP flows, each in creation order.
    public mutating func finish(ended: (consuming EndedConnection) -> Void) {
        reassembler.finishAll { session, end in Self.report(session, end, to: ended) }
        udpFlows.finishAll { session, end in Self.report(session, end, to: ended) }
    }

    /// A UDP connection gets a record when a hello was seen and its record was not written already.
    private static func report(_ session: UDPSession, _ end: FlowEnd, to ended: (consuming EndedConnection) -> Void) {
        guard session.isTLS, !session.reported,
            var connection = session.ended(FlowExtent(end), endReason: end.reason)
        else { return }
        connection.flowEnd = end
        ended(connection)
    }

    /// A connection gets a record when it was TLS and its record was not written at handshake end already.
    private static func report(_ session: consuming TLSSession, _ end: FlowEnd, to ended: (consuming EndedConnection) -> Void) {
        guard session.isTLS, !session.reported else { return }
        var connection = EndedConnection()
        session.end(FlowExtent(end), endReason: end.reason, into: &connection)
        connection.flowEnd = end
        ended(consume connection)
    }
}

extension AnalysisCounters {
    /// Adds another part's counters (the intake's frame counters and a tracker's flow counters; the trackers
    /// of a sharded run).
    public mutating func add(_ other: AnalysisCounters) {
        packets += other.packets
        bytes += other.bytes
        ignoredFrames += other.ignoredFrames
        undecodableFrames += other.undecodableFrames
        for (reason, count) in other.undecodableFramesByReason { undecodableFramesByReason[reason, default: 0] += count }
        connections += other.connections
        flowsEvicted += other.flowsEvicted
        flowsTimedOut += other.flowsTimedOut
        flowsReused += other.flowsReused
        rstIgnored += other.rstIgnored
        gaps += other.gaps
        gapBytes += other.gapBytes
        fragments += other.fragments
        datagramsReassembled += other.datagramsReassembled
        datagramsDropped += other.datagramsDropped
    }
}

/// Finishes a connection's record: certificates summarised (through a cache of parsed certificates),
/// JA3/JA3S/JA4 computed (through a cache of hello shapes) and findings judged. One per thread: it keeps
/// its caches.
public final class RecordCompletion {
    public let options: AnalysisOptions
    var certificates = CertificateCache()
    var fingerprints = FingerprintCache()

    /// The run's policy's index among the built-in profiles, when it is one (its verdict reuses the findings).
    let policyProfileIndex: Int?
    /// `options.auditPolicy` unwrapped once (`hasPolicy`: it was set): bound from the optional for each
    /// record, the policy was copied, its sets and tables retained and released.
    private let policy: AuditPolicy
    private let hasPolicy: Bool

    public init(options: AnalysisOptions) {
        self.options = options
        self.policyProfileIndex = options.auditPolicy.flatMap(Compliance.profileIndex(of:))
        self.policy = options.auditPolicy ?? .intermediate
        self.hasPolicy = options.auditPolicy != nil
    }

    public func record(of connection: consuming EndedConnection) -> HandshakeRecord {
        var connection = connection
        complete(&connection)
        return connection.record
    }

    /// Completes the connection's record in place (each copy of a record retained and released all its
    /// parts): afterwards `connection.record` is what `record(of:)` returns. Once: a connection already
    /// completed (by this or another thread's `RecordCompletion`, which give the same record) is left as it is.
    public func complete(_ connection: inout EndedConnection) {
        guard !connection.isCompleted else { return }
        connection.isCompleted = true
        if connection.keyEvidence != nil { connection.openWithKeys(showSecrets: options.showSecrets) }
        connection.summariseCertificates(&certificates)
        complete(&connection.record)
    }

    private func complete(_ record: inout HandshakeRecord) {
        if let hello = record.clientHello {
            let transport: FingerprintTransport =
                switch record.recordProtocol {
                case .tls: .tcp
                case .dtls: .dtls
                case .quic: .quic
                }
            (record.ja3, record.ja4) = fingerprints.client(hello, transport: transport)
        }
        if let hello = record.serverHello { record.ja3s = fingerprints.server(hello) }
        let input = record.auditInput(now: options.auditTime)
        // The policy-independent rules run once for the run's policy and the three profiles' verdicts.
        let independent = PolicyIndependentFindings(input, messages: hasPolicy)
        var judged: (profileIndex: Int, findings: [Finding])?
        if hasPolicy {
            record.findings = audit(
                input, policy: policy, suppressed: &record.suppressedFindings, independent: independent)
            if let policyProfileIndex { judged = (policyProfileIndex, record.findings) }
        }
        record.compliance = Compliance(input, judged: judged, independent: independent)
        record.communityID = CommunityID.v1(
            protocolNumber: record.transport.rawValue, address: record.clientAddress.networkBytes,
            port: record.clientPort, otherAddress: record.serverAddress.networkBytes, otherPort: record.serverPort)
        if let sources = options.sources, let first = sources.locate(record.firstFrameOrdinal),
            let last = sources.locate(max(record.lastFrameOrdinal, record.firstFrameOrdinal))
        {
            record.source = first.source
            record.frames = FrameNumbers(first: first.frame, last: last.frame)
        }
    }
}
