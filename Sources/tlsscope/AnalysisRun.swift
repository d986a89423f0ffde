import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import WireCursor

#if canImport(Glibc)
import Glibc
#endif

/// Where a run's records go, one at a time and in order, from the writer thread.
protocol RecordSink: AnyObject, Sendable {
    func write(_ record: HandshakeRecord)
}

/// Reads capture files one after another into one analyzer (connections may span files, as with
/// Zeek's multiple -r), and keeps the run's summary.
///
/// Two threads: the calling thread reads the files and runs the per-packet pipeline (decoding,
/// reassembly, TLS parsing) and hands each ended TLS connection over; a writer thread completes the
/// records (certificates, fingerprints, findings) and gives them to the sink. Records keep their order;
/// the hand-over is bounded, so a slow output holds the capture back instead of growing memory. (The
/// capture stays on the calling thread: reading a file there measured a few percent faster.)
struct AnalysisRun {
    let filter: String?
    let showProgress: Bool
    let options: AnalysisOptions
    var summary = RunSummary()

    init(filter: String?, showProgress: Bool, options: AnalysisOptions = AnalysisOptions()) {
        self.filter = filter
        self.showProgress = showProgress
        self.options = options
    }

    /// What the capture side sends: connections to complete, in batches, then the end.
    enum Message: Sendable {
        case connections([EndedConnection])
        case end
    }

    /// Analyzes every file; returns the exit status to end with (nil: success). Records go to `sink`
    /// as their connections end; everything before a damaged part of a file is still reported. The sink
    /// is not used once this returns.
    mutating func analyze(files: [String], sink: some RecordSink) -> ExitStatus? {
        let started = MonotonicClock.now()
        let channel = Channel<Message>(capacity: 16)
        let finished = Channel<RunSummary>(capacity: 1)
        let options = self.options
        let initial = summary
        let writer = Thread {
            let completion = RecordCompletion(options: options)
            var summary = initial
            while case .connections(let connections) = channel.receive() {
                for connection in connections {
                    let record = completion.record(of: connection)
                    summary.add(record)
                    sink.write(record)
                }
            }
            finished.send(summary)
        }
        writer.start()
        let outcome = CaptureLoop(filter: filter, showProgress: showProgress, options: options)
            .run(files: files, channel: channel)
        summary = finished.receive()
        summary.files += outcome.files
        summary.errors += outcome.errors
        summary.add(outcome.counters)
        summary.elapsedSeconds = MonotonicClock.seconds(since: started)
        return outcome.status
    }
}

/// What the capture side reports when it is done.
struct CaptureOutcome: Sendable {
    var status: ExitStatus?
    var files = 0
    var errors: [String] = []
    var counters = AnalysisCounters()
}

/// The capture side's work: files → frames → `HandshakeAnalyzer` → ended connections, in batches.
struct CaptureLoop: Sendable {
    let filter: String?
    let showProgress: Bool
    let options: AnalysisOptions
    /// Connections per hand-over: few enough to bound what waits, many enough that the locking is noise.
    static let batchSize = 32

    /// Returns when every connection was handed over and `.end` sent.
    func run(files: [String], channel: Channel<AnalysisRun.Message>) -> CaptureOutcome {
        var analyzer = HandshakeAnalyzer(options: options)
        var state = CaptureState(channel: channel)
        var outcome = CaptureOutcome()
        for path in files {
            if let status = analyzeFile(path, analyzer: &analyzer, state: &state, outcome: &outcome),
                outcome.status == nil || status.code > (outcome.status?.code ?? 0)
            {
                outcome.status = status
            }
        }
        analyzer.finish { state.add($0) }
        state.flush()
        state.progress.clear()
        outcome.counters = analyzer.counters
        channel.send(.end)
        return outcome
    }

    /// The batch being filled, and the progress line.
    struct CaptureState {
        let channel: Channel<AnalysisRun.Message>
        var batch: [EndedConnection] = []
        var connections = 0
        var progress = Progress(enabled: false, total: nil)

        init(channel: Channel<AnalysisRun.Message>) {
            self.channel = channel
        }

        mutating func add(_ connection: EndedConnection) {
            connections += 1
            batch.append(connection)
            if batch.count >= CaptureLoop.batchSize { flush() }
        }

        mutating func flush() {
            guard !batch.isEmpty else { return }
            channel.send(.connections(batch))
            batch = []
        }
    }

    private func analyzeFile(
        _ path: String, analyzer: inout HandshakeAnalyzer, state: inout CaptureState, outcome: inout CaptureOutcome
    ) -> ExitStatus? {
        let name = path == "-" ? "standard input" : path
        var source: PcapSource
        do {
            source = try PcapSource(file: path)
        } catch {
            report("\(error)", state: &state, outcome: &outcome)
            return .inputUnusable
        }
        if let filter {
            do {
                try source.setFilter(filter)
            } catch {
                report("\(name): \(error)", state: &state, outcome: &outcome)
                return .inputUnusable
            }
        }
        let decoder: PacketDecoder
        do {
            decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        } catch {
            let linkName = PcapSource.linkTypeName(source.linkType) ?? "unknown"
            report("\(name): link type \(source.linkType) (\(linkName)) is not supported", state: &state, outcome: &outcome)
            return .inputUnusable
        }
        outcome.files += 1
        state.progress.clear()
        state.progress = Progress(enabled: showProgress, total: source.fileSize.map { Int($0) })
        let showProgress = self.showProgress
        do {
            reading: while true {
                switch try source.next() {
                case .frame(let frame):
                    analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder) {
                        state.add($0)
                    }
                    if showProgress {
                        state.progress.tick(bytesRead: Int(source.bytesRead), connections: state.connections)
                    }
                case .timeout:
                    continue
                case .end:
                    break reading
                }
            }
        } catch {
            report("\(error)", state: &state, outcome: &outcome)  // names the file and the byte offset
            return .inputDamaged
        }
        return nil
    }

    private func report(_ message: String, state: inout CaptureState, outcome: inout CaptureOutcome) {
        outcome.errors.append(message)
        state.progress.clear()
        FileHandleStandardError.write("tlsscope: " + message + "\n")
    }
}

/// CLOCK_MONOTONIC in seconds, for elapsed time and progress pacing.
enum MonotonicClock {
    static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time
    }

    static func seconds(since start: timespec) -> Double {
        let end = now()
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }
}

/// Progress on standard error when it is a terminal and the run lasts more than a second.
struct Progress {
    let enabled: Bool
    let total: Int?
    private var counter = 0
    private let started = MonotonicClock.now()
    private var shown = false

    init(enabled: Bool, total: Int?) {
        self.enabled = enabled
        self.total = total
    }

    mutating func tick(bytesRead: Int, connections: Int) {
        guard enabled else { return }
        counter &+= 1
        guard counter & 0xfff == 0 else { return }  // look at the clock every 4096 frames only
        let elapsed = MonotonicClock.seconds(since: started)
        guard elapsed >= 1 else { return }
        let megabytes = Double(bytesRead) / 1e6
        var line = "\r\u{1b}[K" + format(megabytes) + " MB"
        if let total, total > 0 { line += " of " + format(Double(total) / 1e6) + " MB" }
        line += ", " + format(megabytes / elapsed) + " MB/s, \(connections) TLS connections"
        FileHandleStandardError.write(line)
        shown = true
    }

    /// Erases the progress line, if one was drawn (so an error line or the summary starts clean).
    mutating func clear() {
        guard shown else { return }
        FileHandleStandardError.write("\r\u{1b}[K")
        shown = false
    }

    private func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
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
