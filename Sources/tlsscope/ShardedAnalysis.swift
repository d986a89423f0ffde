import FlowTracking
import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import Synchronization

/// `analyze --threads N` with N > 1: the calling thread reads and decodes frames (`FrameIntake`: link
/// layers, IP, fragments) and deals the packets out by flow (`FlowSharder`) to N worker threads, each with
/// its own flow tables (`ConnectionTracker`) and caches; each worker completes and formats its own records;
/// a writer thread puts them in the order one thread gives and writes them, adding each to the summary.
///
/// Same bytes as one thread: the frames go out in batches, every worker sees every batch (its own packets
/// it processes, the others' only move its clock, so its flows time out at the same packet as in one
/// table), and each record carries where its end falls in the capture's packet order (`EndKey`); the
/// writer merges a batch's records from all workers by that key. Frames are not copied: a batch holds the
/// reader's 4 MiB block (`FrameBlock`) the frames lie in until every worker is done with it; frames libpcap
/// reads (standard input, files the block reader leaves to libpcap) are copied into blocks of the run's.
///
/// What one thread would do differently: only at the caps — `maxFlows` and the memory budget are shared
/// out evenly, so a worker evicts its own oldest flow where one table would evict the oldest of all. Idle
/// ends agree whatever the clock does: idleness is measured on the capture's monotonic clock, which every
/// worker moves with every packet.
///
/// A struct, mutated by the reading thread only: as a class its state cost dynamic exclusivity checks on
/// every frame (~390 instructions per packet, callgrind).
struct ShardedAnalysis {
    /// Where a connection's record falls in the order one thread writes them: the packet whose processing
    /// ended it, then (within a packet) UDP idle ends, TCP idle ends, each oldest first by last packet,
    /// then the packet's own flow's ends; at the end of input, TCP then UDP flows in creation order.
    struct EndKey: Comparable {
        var sequence: UInt64
        var phase: UInt8
        var order: UInt64

        static func < (lhs: EndKey, rhs: EndKey) -> Bool {
            (lhs.sequence, lhs.phase, lhs.order) < (rhs.sequence, rhs.phase, rhs.order)
        }
    }

    /// A packet for the workers; its payload lies in the batch's block or in one of its datagrams.
    struct ShardedPacket {
        var packet: DecodedPacket
        var timestamp: Int64
        var sequence: UInt64
        /// Offset of the payload in the block, or index of the datagram.
        var payloadStart: Int
        var inDatagram: Bool
        var worker: Int
    }

    /// Frames read one after another from one block, for every worker.
    final class Batch: @unchecked Sendable {
        // @unchecked: immutable once sent; the block's bytes are read-only while it is held.
        let block: FrameBlock?
        let packets: [ShardedPacket]
        let datagrams: [[UInt8]]

        init(block: FrameBlock?, packets: [ShardedPacket], datagrams: [[UInt8]]) {
            self.block = block
            self.packets = packets
            self.datagrams = datagrams
        }
    }

    /// A record completed and formatted by a worker.
    struct FinishedRecord: @unchecked Sendable {
        // @unchecked: a value handed from one thread to another and not shared.
        var key: EndKey
        var record: HandshakeRecord
        var bytes: [UInt8]
    }

    enum WorkerMessage: @unchecked Sendable {
        /// One batch's records, in the worker's order.
        case records([FinishedRecord])
        /// The end-of-input records and the worker's counters.
        case finished([FinishedRecord], AnalysisCounters)
    }

    /// Packets per batch at most (a batch also ends with its block).
    static let batchSize = 2048
    /// Batches a worker may be behind the reader, and the writer behind a worker.
    static let queueDepth = 4
    /// 4 MiB blocks in flight at most (the reader's and the copies'): the readers' lag is bounded in memory
    /// whatever the number of workers (32 MiB for each kind).
    static let maxBlocks = 8

    /// Blocks for `workers`: enough for each to be a batch or two behind, within `maxBlocks`.
    static func blockLimit(workers: Int) -> Int { min(maxBlocks, workers * 2 + 2) }

    private let workers: Int
    private let sharder: FlowSharder
    private var intake: FrameIntake
    private let inputs: [Channel<Batch?>]
    private let outputs: [Channel<WorkerMessage>]
    private let finished = Channel<RunSummary>(capacity: 1)
    private let written = Counter()

    /// The batch being filled: its block (held for every worker from its first frame), packets, datagrams.
    private var block: FrameBlock?
    private var packets: [ShardedPacket] = []
    private var datagrams: [[UInt8]] = []
    /// Blocks that frames libpcap read are copied into.
    private var copies: FrameBlockPool
    private var copyBlock: FrameBlock?
    private var copyFilled = 0
    /// The file whose reader was told to share its blocks (each file has its own reader and blocks).
    private var sharingFile = 0

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        var count: Int { value.load(ordering: .relaxed) }
    }

    init(options: AnalysisOptions, workers: Int, summary: RunSummary, sink: some RecordSink) {
        self.workers = workers
        sharder = FlowSharder(count: workers)
        intake = FrameIntake(options: options)
        copies = FrameBlockPool(blockSize: 4 * 1024 * 1024, limit: Self.blockLimit(workers: workers))
        packets.reserveCapacity(Self.batchSize)
        let workerOptions = options.share(among: workers)
        inputs = (0..<workers).map { _ in Channel<Batch?>(capacity: Self.queueDepth) }
        outputs = (0..<workers).map { _ in Channel<WorkerMessage>(capacity: Self.queueDepth) }
        for index in 0..<workers {
            let input = inputs[index]
            let output = outputs[index]
            let options = workerOptions
            let format = sink.format
            let layout = sink.textLayout
            Thread { Self.work(index: index, options: options, format: format, layout: layout, input: input, output: output) }.start()
        }
        let outputs = self.outputs
        let finished = self.finished
        let written = self.written
        Thread { Self.write(outputs: outputs, summary: summary, sink: sink, written: written, finished: finished) }.start()
    }

    /// Records written so far (for progress), readable from the reading thread while it reads.
    var recordsWritten: Counter { written }

    /// One frame from the reading thread; `file` numbers the run's files from 1.
    /// `ordinal` numbers the frame in the run (it only grows).
    mutating func take(_ frame: FrameView, ordinal: UInt64, decoder: PacketDecoder, source: inout PcapSource, file: Int) {
        if sharingFile != file {
            // Before the reader refills its first block: from then on a held block is never written.
            source.shareBlocks(limit: Self.blockLimit(workers: workers))
            sharingFile = file
        }
        var bytes = frame.bytes
        var blockOffset = 0
        if let frameBlock = source.frameBlock {
            if frameBlock !== block { startBatch(on: frameBlock) }
            blockOffset = frameBlock.offset(of: bytes)
        } else {
            // libpcap's bytes are valid until its next read: copy them into a block of ours.
            if copyBlock == nil || copyFilled + bytes.count > (copyBlock?.bytes.count ?? 0) {
                // libpcap hands out at most 262,144 bytes a frame; a larger one would get a block of its own.
                copyBlock = bytes.count <= copies.blockSize ? copies.take() : FrameBlock(capacity: bytes.count)
                copyFilled = 0
            }
            guard let copyBlock, let base = copyBlock.bytes.baseAddress else { return }
            if copyBlock !== block { startBatch(on: copyBlock) }
            if let from = bytes.baseAddress { memcpy(base + copyFilled, from, bytes.count) }
            bytes = UnsafeRawBufferPointer(start: base + copyFilled, count: bytes.count)
            blockOffset = copyFilled
            copyFilled += bytes.count
        }
        switch intake.take(frame: bytes, timestamp: frame.timestampNanoseconds, decoder: decoder) {
        case .nothing:
            return
        case .packet(let packet):
            let sequence = ordinal
            packets.append(
                ShardedPacket(
                    packet: packet, timestamp: frame.timestampNanoseconds, sequence: sequence,
                    payloadStart: blockOffset + packet.payloadOffset, inDatagram: false,
                    worker: sharder.shard(of: packet)))
        case .datagram(let packet, let datagram):
            let sequence = ordinal
            packets.append(
                ShardedPacket(
                    packet: packet, timestamp: frame.timestampNanoseconds, sequence: sequence,
                    payloadStart: datagrams.count, inDatagram: true, worker: sharder.shard(of: packet)))
            datagrams.append(datagram)
        }
        if packets.count >= Self.batchSize, let block { startBatch(on: block) }
    }

    /// Sends the batch being filled and starts one on `next`, held for every worker until they are done.
    private mutating func startBatch(on next: FrameBlock) {
        sendBatch()
        next.hold(workers)
        block = next
    }

    private mutating func sendBatch() {
        guard let block else { return }
        if packets.isEmpty && datagrams.isEmpty {
            for _ in 0..<workers { block.release() }
        } else {
            let batch = Batch(block: block, packets: packets, datagrams: datagrams)
            for input in inputs { input.send(batch) }
            packets.removeAll(keepingCapacity: true)
            datagrams = []
        }
        self.block = nil
    }

    /// Ends the input: the workers end their flows, the writer writes the last records. Returns the summary
    /// and the run's counters.
    mutating func finish() -> (RunSummary, AnalysisCounters) {
        sendBatch()
        for input in inputs { input.send(nil) }
        let summary = finished.receive()
        var counters = intake.counters
        counters.add(summary.reassembly)
        return (summary, counters)
    }

    // MARK: Worker threads

    private static func work(
        index: Int, options: AnalysisOptions, format: OutputFormat, layout: TextLayout, input: Channel<Batch?>,
        output: Channel<WorkerMessage>
    ) {
        var tracker = ConnectionTracker(options: options)
        let completion = RecordCompletion(options: options)
        var formatter = RecordFormatter(format: format, layout: layout)
        var records: [FinishedRecord] = []
        var ownEnds: UInt64 = 0
        func finish(_ connection: EndedConnection, at sequence: UInt64) {
            let key: EndKey
            if let end = connection.flowEnd, end.reason == .idle {
                key = EndKey(sequence: sequence, phase: connection.overUDP ? 0 : 1, order: end.lastSequence)
            } else {
                ownEnds &+= 1
                key = EndKey(sequence: sequence, phase: 2, order: ownEnds)
            }
            let record = completion.record(of: connection)
            records.append(FinishedRecord(key: key, record: record, bytes: formatter.bytes(of: record)))
        }
        while let batch = input.receive() {
            for item in batch.packets {
                let sequence = item.sequence
                tracker.packetSequence = sequence
                if item.worker != index {
                    tracker.advanceClock(for: item.packet.transport, to: item.timestamp) { finish($0, at: sequence) }
                    continue
                }
                let length = item.packet.payloadLength
                if item.inDatagram {
                    batch.datagrams[item.payloadStart].withUnsafeBytes { bytes in
                        let start = item.packet.payloadOffset
                        let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
                        tracker.process(item.packet, payload: payload, timestamp: item.timestamp) { finish($0, at: sequence) }
                    }
                } else if let block = batch.block {
                    let payload = UnsafeRawBufferPointer(
                        rebasing: UnsafeRawBufferPointer(block.bytes)[item.payloadStart..<item.payloadStart + length])
                    tracker.process(item.packet, payload: payload, timestamp: item.timestamp) { finish($0, at: sequence) }
                }
            }
            batch.block?.release()
            output.send(.records(records))
            records = []
        }
        var endOfInput: [FinishedRecord] = []
        tracker.finish { connection in
            let record = completion.record(of: connection)
            let key = EndKey(
                sequence: .max, phase: connection.overUDP ? 1 : 0, order: connection.flowEnd?.firstSequence ?? 0)
            endOfInput.append(FinishedRecord(key: key, record: record, bytes: formatter.bytes(of: record)))
        }
        output.send(.finished(endOfInput, tracker.counters))
    }

    // MARK: Writer thread

    /// Takes one message from every worker in turn (they answer the same batches in the same order), merges
    /// their records by `EndKey` and writes them.
    private static func write(
        outputs: [Channel<WorkerMessage>], summary: RunSummary, sink: some RecordSink, written: Counter,
        finished: Channel<RunSummary>
    ) {
        var summary = summary
        var counters = AnalysisCounters()
        var merged: [FinishedRecord] = []
        var workersDone = 0
        while workersDone < outputs.count {
            merged.removeAll(keepingCapacity: true)
            for output in outputs {
                switch output.receive() {
                case .records(let records):
                    merged.append(contentsOf: records)
                case .finished(let records, let workerCounters):
                    merged.append(contentsOf: records)
                    counters.add(workerCounters)
                    workersDone += 1
                }
            }
            merged.sort { $0.key < $1.key }
            for item in merged {
                summary.add(item.record)
                sink.write(formatted: item.bytes)
            }
            written.value.add(merged.count, ordering: .relaxed)
        }
        summary.reassembly = counters  // the trackers' part; the reader adds the intake's
        finished.send(summary)
    }
}
