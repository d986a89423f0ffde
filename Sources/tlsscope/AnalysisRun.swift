import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import WireCursor

#if canImport(Glibc)
import Glibc
#endif

/// Reads capture files one after another into one analyzer (connections may span files, as with
/// Zeek's multiple -r), and keeps the run's summary.
///
/// With one flow thread (`threads` 1): the calling thread reads the files and runs the per-packet
/// pipeline (decoding, reassembly, TLS parsing) and hands each ended TLS connection to a `RecordWriter`,
/// whose thread completes and writes the records. (The capture stays on the calling thread: reading a file
/// there measured a few percent faster.) With more, a `ShardedAnalysis`: the calling thread reads and
/// decodes, `threads` workers track the flows of their share of 5-tuples and complete their records, and
/// a writer thread puts the records back in the order one thread gives them.
struct AnalysisRun {
    let filter: String?
    let showProgress: Bool
    /// The progress line, shared with a report written to the same terminal (it erases the line first).
    let statusLine = StatusLine()
    let options: AnalysisOptions
    /// Flow worker threads (1: the two-thread pipeline).
    let threads: Int
    var summary = RunSummary()
    /// `--since`/`--until`: frames outside are skipped (still numbered, as in the file).
    var timeWindow: TimeWindow?
    /// The file reader (tests choose libpcap, whose frames a sharded run copies).
    var reader: FileReader = AnalysisRun.fileReader
    /// Records go out one by one as their connections end, not in batches (input from a pipe, which may be
    /// a live `tcpdump -U -w -`): set from the files by `init`.
    let streaming: Bool

    /// True when a file is standard input or not a regular file (a pipe, a FIFO, a character device):
    /// its packets may trickle in, so its records are written as they come.
    static func streams(_ files: [String]) -> Bool {
        files.contains { $0 == "-" || PcapSource.isStream(path: $0) }
    }

    init(
        filter: String?, showProgress: Bool, options: AnalysisOptions = AnalysisOptions(), threads: Int = 1,
        streaming: Bool = false
    ) {
        self.filter = filter
        self.showProgress = showProgress
        self.streaming = streaming
        var options = options
        if options.sources == nil { options.sources = CaptureSources() }
        self.options = options
        // Sharded batches wait for 2,048 packets: a trickle from a pipe would hold its records back.
        self.threads = streaming ? 1 : max(1, threads)
    }

    /// Analyzes every file; returns the exit status to end with (nil: success). Records go to `sink`
    /// as their connections end; everything before a damaged part of a file is still reported. The sink
    /// is not used once this returns.
    mutating func analyze(files: [String], sink: some RecordSink) -> ExitStatus? {
        let started = MonotonicClock.now()
        var outcome: CaptureOutcome
        if threads > 1 {
            var feed = ShardedFeed(sharded: ShardedAnalysis(options: options, workers: threads, summary: summary, sink: sink))
            outcome = readFiles(files, into: &feed)
            let (finalSummary, counters) = feed.sharded.finish()
            summary = finalSummary
            outcome.counters = counters
        } else {
            let writer = RecordWriter(options: options, summary: summary, sink: sink, batchSize: streaming ? 1 : 32)
            var feed = AnalyzerFeed(analyzer: HandshakeAnalyzer(options: options), writer: writer)
            outcome = readFiles(files, into: &feed)
            feed.analyzer.finish { writer.add($0) }
            outcome.counters = feed.analyzer.counters
            summary = writer.finish()
        }
        summary.files += outcome.files
        summary.errors += outcome.errors
        summary.add(outcome.counters)
        summary.elapsedSeconds = MonotonicClock.seconds(since: started)
        return outcome.status
    }

    /// What the capture side reports when it is done.
    struct CaptureOutcome {
        var status: ExitStatus?
        var files = 0
        var errors: [String] = []
        var counters = AnalysisCounters()
        /// Frames read from the files before the one being read (run-wide frame ordinals continue from it).
        var framesBefore: UInt64 = 0
    }

    /// Reads every file's frames into `feed`.
    private func readFiles<Feed: FrameFeed>(_ files: [String], into feed: inout Feed) -> CaptureOutcome {
        var progress = Progress(enabled: false, total: nil, line: statusLine)
        var outcome = CaptureOutcome()
        for path in files {
            if let status = readFile(path, into: &feed, progress: &progress, outcome: &outcome),
                outcome.status == nil || status.code > (outcome.status?.code ?? 0)
            {
                outcome.status = status
            }
        }
        progress.clear()
        return outcome
    }

    /// `TLSSCOPE_READER=libpcap` reads every file through libpcap (for benchmarks against the block reader).
    static let fileReader: FileReader =
        ProcessInfo.processInfo.environment["TLSSCOPE_READER"] == "libpcap" ? .libpcap : .automatic

    private func readFile<Feed: FrameFeed>(
        _ path: String, into feed: inout Feed, progress: inout Progress, outcome: inout CaptureOutcome
    ) -> ExitStatus? {
        let name = path == "-" ? "standard input" : path
        var source: PcapSource
        do {
            source = try PcapSource(file: path, reader: reader)
        } catch {
            report("\(error)", progress: &progress, outcome: &outcome)
            return .inputUnusable
        }
        if let filter {
            do {
                try source.setFilter(filter)
            } catch {
                report("\(name): \(error)", progress: &progress, outcome: &outcome)
                return .inputUnusable
            }
        }
        let decoder: PacketDecoder
        do {
            decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        } catch {
            let linkName = PcapSource.linkTypeName(source.linkType) ?? "unknown"
            report("\(name): link type \(source.linkType) (\(linkName)) is not supported", progress: &progress, outcome: &outcome)
            return .inputUnusable
        }
        outcome.files += 1
        progress.clear()
        progress = Progress(enabled: showProgress, total: source.fileSize.map { Int($0) }, line: statusLine)
        let showProgress = self.showProgress
        let fileIndex = outcome.files
        let framesBefore = outcome.framesBefore
        let timeWindow = self.timeWindow
        options.sources?.begin(path, after: framesBefore)
        defer { outcome.framesBefore = framesBefore &+ source.framesRead }
        // Frames lying whole in the block being read come in batches (one call for up to 64); the others
        // (at a block's end, the file's end, a filter, libpcap's records) one by one through `next()`.
        let batch = UnsafeMutableBufferPointer<FrameView>.allocate(capacity: 64)
        defer { batch.deallocate() }
        do {
            reading: while true {
                let count = source.nextFrames(into: batch)
                if count > 0 {
                    let firstOrdinal = framesBefore &+ source.framesRead &- UInt64(count)
                    for index in 0..<count {
                        let frame = batch[index]
                        if let timeWindow, !timeWindow.contains(frame.timestampNanoseconds) { continue }
                        feed.take(
                            frame, ordinal: firstOrdinal &+ UInt64(index &+ 1), decoder: decoder, source: &source,
                            file: fileIndex)
                    }
                    if showProgress {
                        progress.tick(bytesRead: Int(source.bytesRead), connections: feed.connectionsHandedOver, frames: count)
                    }
                    continue
                }
                switch try source.next() {
                case .frame(let frame):
                    if let timeWindow, !timeWindow.contains(frame.timestampNanoseconds) { continue }
                    feed.take(frame, ordinal: framesBefore &+ source.framesRead, decoder: decoder, source: &source, file: fileIndex)
                    if showProgress {
                        progress.tick(bytesRead: Int(source.bytesRead), connections: feed.connectionsHandedOver)
                    }
                case .timeout:
                    continue
                case .end:
                    break reading
                }
            }
        } catch {
            report("\(error)", progress: &progress, outcome: &outcome)  // names the file and the byte offset
            return .inputDamaged
        }
        return nil
    }

    private func report(_ message: String, progress: inout Progress, outcome: inout CaptureOutcome) {
        outcome.errors.append(message)
        progress.clear()
        FileHandleStandardError.write("tlsscope: " + message + "\n")
    }
}

/// Where `AnalysisRun` hands each frame it reads: its run-wide ordinal, the file's decoder and source, and the
/// file's number in the run (from 1). A generic parameter, not a closure, so that the per-frame call is direct
/// and inlined into the read loop (through a closure it was two calls and a context a frame).
protocol FrameFeed {
    mutating func take(_ frame: FrameView, ordinal: UInt64, decoder: PacketDecoder, source: inout PcapSource, file: Int)
    /// Connections handed over so far (the progress line).
    var connectionsHandedOver: Int { get }
}

/// One flow thread: the frames into a `HandshakeAnalyzer`, its ended connections to the writer thread.
struct AnalyzerFeed: FrameFeed {
    var analyzer: HandshakeAnalyzer
    let writer: RecordWriter

    @inline(__always)
    mutating func take(_ frame: FrameView, ordinal: UInt64, decoder: PacketDecoder, source: inout PcapSource, file: Int) {
        let writer = self.writer
        analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, ordinal: ordinal, decoder: decoder) {
            writer.add($0)
        }
    }

    var connectionsHandedOver: Int { writer.handedOver }
}

/// Flows dealt to worker threads (`--threads` N > 1).
struct ShardedFeed: FrameFeed {
    var sharded: ShardedAnalysis

    mutating func take(_ frame: FrameView, ordinal: UInt64, decoder: PacketDecoder, source: inout PcapSource, file: Int) {
        sharded.take(frame, ordinal: ordinal, decoder: decoder, source: &source, file: file)
    }

    var connectionsHandedOver: Int { sharded.recordsWritten.count }
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
    private let line: StatusLine
    private var counter = 0
    private let started = MonotonicClock.now()
    private var shown = false

    init(enabled: Bool, total: Int?, line: StatusLine) {
        self.enabled = enabled
        self.total = total
        self.line = line
    }

    mutating func tick(bytesRead: Int, connections: Int, frames: Int = 1) {
        guard enabled else { return }
        let before = counter
        counter &+= frames
        guard counter >> 12 != before >> 12 else { return }  // look at the clock every 4096 frames only
        let elapsed = MonotonicClock.seconds(since: started)
        guard elapsed >= 1 else { return }
        let megabytes = Double(bytesRead) / 1e6
        var text = format(megabytes) + " MB"
        if let total, total > 0 { text += " of " + format(Double(total) / 1e6) + " MB" }
        text += ", " + format(megabytes / elapsed) + " MB/s, \(connections) TLS connections"
        line.show(text)
        shown = true
    }

    /// Erases the progress line, if one was drawn (so an error line or the summary starts clean).
    mutating func clear() {
        guard shown else { return }
        line.clear()
        shown = false
    }

    private func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
