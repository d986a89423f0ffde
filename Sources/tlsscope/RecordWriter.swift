import Foundation
import HandshakeAnalysis
import Reporting
import Synchronization

/// Where a run's records go, one at a time and in order, from the writer thread.
protocol RecordSink: AnyObject, Sendable {
    /// The format `write(formatted:)` takes (what a `RecordFormatter` of it makes).
    var format: OutputFormat { get }
    /// The text format's columns and colours (what a `RecordFormatter` of it needs).
    var textLayout: TextLayout { get }
    func write(_ record: HandshakeRecord)
    func write(formatted bytes: [UInt8])
}

extension RecordSink {
    var textLayout: TextLayout { TextLayout() }
}

/// The writer thread of a run: completes the connections the capture side hands over (certificates,
/// fingerprints, findings: `RecordCompletion`), adds each record to the summary and gives it to the sink,
/// in the order handed over. The capture side keeps only the per-packet work.
///
/// Reading a file, the hand-over is bounded (16 batches of 32): `add` waits while the writer is that far
/// behind, so a slow output holds the reading back instead of growing memory. Before it would wait, the
/// reading side shares the writer's work: while more than `catchUpDepth` batches are queued, it completes
/// the connections of its next batch itself (`RecordCompletion`, a second one with its own caches), and
/// the writer only formats and writes them. Which side completes a record changes nothing in it; on two
/// cores this keeps both busy whichever is the slower on a given machine. A live capture must never
/// wait — the kernel's ring would overflow and packets be lost — so it hands over each connection at once
/// without waiting, under a byte budget (`BacklogBudget`): a connection that does not fit is dropped and
/// counted (`recordsDropped`), never a packet.
final class RecordWriter {
    private enum Message: Sendable {
        case connections([EndedConnection])
        case end
    }

    /// The most a live capture's writer may be behind: connections waiting, and their estimated bytes.
    struct BacklogBudget {
        var connections = 65_536
        var bytes = 64 * 1024 * 1024
    }

    private let channel: Channel<Message>
    private let finished = Channel<RunSummary>(capacity: 1)
    private let batchSize: Int
    private let backlog: BacklogBudget?
    /// Estimated bytes handed over and not yet written (live only; the writer thread subtracts).
    private final class BacklogBytes: Sendable {
        let value = Atomic<Int>(0)
    }
    private let backlogBytes = BacklogBytes()
    private var batch: [EndedConnection] = []
    /// Reading a file: the hand-over queue is deeper than this (in batches) when the writer lags, and the
    /// reading side then completes its next batch itself (with `captureSideCompletion`).
    static let catchUpDepth = 8
    private var completeBeforeHandOver = false
    private var captureSideCompletion: RecordCompletion?
    private let options: AnalysisOptions
    /// Connections handed over so far (each becomes exactly one record), and those dropped instead.
    private(set) var handedOver = 0
    private(set) var recordsDropped = 0
    /// Connections the reading side completed itself (the writer was behind).
    private(set) var completedBeforeHandOver = 0

    /// Starts the writer thread; `summary` is what the records are added to. With `backlog`, `add` never
    /// waits (live capture) and hands over one connection at a time.
    init(options: AnalysisOptions, summary: RunSummary, sink: some RecordSink, batchSize: Int,
         backlog: BacklogBudget? = nil) {
        self.batchSize = backlog == nil ? max(1, batchSize) : 1
        self.backlog = backlog
        self.options = options
        // Reading a file in batches, the writer is woken for four batches at a time (it is the faster side;
        // see `Channel.wakeThreshold`); live or streaming (a batch of one), at once.
        let channel = Channel<Message>(
            capacity: backlog.map { max(1, $0.connections) } ?? 16,
            wakeThreshold: backlog == nil && batchSize > 1 ? 4 : 1)
        self.channel = channel
        let finished = self.finished
        let backlogBytes = self.backlogBytes
        let thread = Thread {
            let completion = RecordCompletion(options: options)
            var summary = summary
            while case .connections(var connections) = channel.receive() {
                // Each record completed and read where it lies in the batch: a loop over the array copied
                // each connection (and reversing it to pop them in order copied them as well).
                connections.withUnsafeMutableBufferPointer { batch in
                    for index in batch.indices {
                        let cost = backlog == nil ? 0 : batch[index].estimatedBytes
                        completion.complete(&batch[index])
                        batch[index].withRecord { record in
                            summary.add(record)
                            sink.write(record)
                        }
                        if backlog != nil { backlogBytes.value.subtract(cost, ordering: .relaxed) }
                    }
                }
            }
            finished.send(summary)
        }
        thread.start()
    }

    /// `connection` is moved into the batch (borrowed, it was copied there: each of its ~30 references
    /// retained here and released on the writer thread).
    func add(_ connection: consuming EndedConnection) {
        guard let backlog else {
            handedOver += 1
            batch.append(connection)
            if completeBeforeHandOver {
                // Completed where it lies in the batch (completed in a local and then appended, it was copied:
                // ~30 references retained and released).
                let completion = captureSideCompletion ?? RecordCompletion(options: options)
                captureSideCompletion = completion
                batch.withUnsafeMutableBufferPointer { batch in
                    if let last = batch.indices.last { completion.complete(&batch[last]) }
                }
                completedBeforeHandOver += 1
            }
            if batch.count >= batchSize { flush() }
            return
        }
        let cost = connection.estimatedBytes
        if backlogBytes.value.load(ordering: .relaxed) + cost > backlog.bytes {
            recordsDropped += 1
            return
        }
        backlogBytes.value.add(cost, ordering: .relaxed)
        if channel.trySend(.connections([connection])) {
            handedOver += 1
        } else {
            backlogBytes.value.subtract(cost, ordering: .relaxed)
            recordsDropped += 1
        }
    }

    /// Hands over the batch being filled.
    func flush() {
        guard !batch.isEmpty else { return }
        let queued = channel.send(.connections(batch))
        // Batches of one (a pipe, a live capture) never share: the writer keeps up with a trickle.
        completeBeforeHandOver = batchSize > 1 && queued > Self.catchUpDepth
        batch = []
        // Room for the next batch at once: grown from empty, it was reallocated (and its connections, a few
        // hundred bytes each, moved) five times a batch.
        batch.reserveCapacity(batchSize)
    }

    /// Hands over what is left, waits until every record is written, and returns the summary with all of
    /// them added. The sink is not used after this.
    func finish() -> RunSummary {
        flush()
        channel.send(.end, wakeNow: true)
        return finished.receive()
    }
}

/// A report stream as a run's sink. One thread uses it at a time: the writer thread during
/// `AnalysisRun.analyze`, the caller before (`begin`) and after (`end`).
final class ReportSink: RecordSink, @unchecked Sendable {
    var stream: ReportStream

    init(_ stream: consuming ReportStream) {
        format = stream.format
        textLayout = stream.textLayout
        self.stream = stream
    }

    let format: OutputFormat
    let textLayout: TextLayout

    func write(_ record: HandshakeRecord) {
        stream.write(record)
    }

    func write(formatted bytes: [UInt8]) {
        stream.write(formatted: bytes)
    }
}
