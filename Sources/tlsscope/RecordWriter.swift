import Foundation
import HandshakeAnalysis
import Reporting

/// Where a run's records go, one at a time and in order, from the writer thread.
protocol RecordSink: AnyObject, Sendable {
    func write(_ record: HandshakeRecord)
}

/// The writer thread of a run: completes the connections the capture side hands over (certificates,
/// fingerprints, findings: `RecordCompletion`), adds each record to the summary and gives it to the sink,
/// in the order handed over. The capture side keeps only the per-packet work.
///
/// The hand-over is bounded (16 batches): `add` waits while the writer is that far behind, so a slow
/// output holds the capture back instead of growing memory. Offline runs hand over batches of 32; a live
/// capture hands over each connection at once, so its record is written as soon as it is due.
final class RecordWriter {
    private enum Message: Sendable {
        case connections([EndedConnection])
        case end
    }

    private let channel = Channel<Message>(capacity: 16)
    private let finished = Channel<RunSummary>(capacity: 1)
    private let batchSize: Int
    private var batch: [EndedConnection] = []
    /// Connections handed over so far (each becomes exactly one record).
    private(set) var handedOver = 0

    /// Starts the writer thread; `summary` is what the records are added to.
    init(options: AnalysisOptions, summary: RunSummary, sink: some RecordSink, batchSize: Int) {
        self.batchSize = max(1, batchSize)
        let channel = self.channel
        let finished = self.finished
        let thread = Thread {
            let completion = RecordCompletion(options: options)
            var summary = summary
            while case .connections(let connections) = channel.receive() {
                for connection in connections {
                    let record = completion.record(of: connection)
                    summary.add(record)
                    sink.write(record)
                }
            }
            finished.send(summary)
        }
        thread.start()
    }

    func add(_ connection: EndedConnection) {
        handedOver += 1
        batch.append(connection)
        if batch.count >= batchSize { flush() }
    }

    /// Hands over the batch being filled.
    func flush() {
        guard !batch.isEmpty else { return }
        channel.send(.connections(batch))
        batch = []
    }

    /// Hands over what is left, waits until every record is written, and returns the summary with all of
    /// them added. The sink is not used after this.
    func finish() -> RunSummary {
        flush()
        channel.send(.end)
        return finished.receive()
    }
}

/// A report stream as a run's sink. One thread uses it at a time: the writer thread during
/// `AnalysisRun.analyze`, the caller before (`begin`) and after (`end`).
final class ReportSink: RecordSink, @unchecked Sendable {
    var stream: ReportStream

    init(_ stream: consuming ReportStream) {
        self.stream = stream
    }

    func write(_ record: HandshakeRecord) {
        stream.write(record)
    }
}
