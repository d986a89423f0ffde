import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import WireCursor

#if canImport(Glibc)
import Glibc
#endif

/// Reads capture files one after another into one analyzer (connections may span files, as with
/// Zeek's multiple -r), and keeps the run's summary.
struct AnalysisRun {
    let filter: String?
    let showProgress: Bool
    var analyzer: HandshakeAnalyzer
    var summary = RunSummary()
    private let started = MonotonicClock.now()
    private var progress = Progress(enabled: false, total: nil)

    init(filter: String?, showProgress: Bool, options: AnalysisOptions = AnalysisOptions()) {
        self.filter = filter
        self.showProgress = showProgress
        analyzer = HandshakeAnalyzer(options: options)
    }

    /// Analyzes every file; returns the exit status to end with (nil: success). Records go to `emit`
    /// as their connections end; everything before a damaged part of a file is still reported.
    mutating func analyze(files: [String], emit: (HandshakeRecord) -> Void) -> ExitStatus? {
        var status: ExitStatus?
        for path in files {
            let outcome = analyzeFile(path, emit: emit)
            if let outcome, status == nil || outcome.code > (status?.code ?? 0) { status = outcome }
        }
        analyzer.finish { record in
            summary.add(record)
            emit(record)
        }
        summary.add(analyzer.counters)
        summary.elapsedSeconds = MonotonicClock.seconds(since: started)
        progress.clear()
        return status
    }

    private mutating func analyzeFile(_ path: String, emit: (HandshakeRecord) -> Void) -> ExitStatus? {
        let name = path == "-" ? "standard input" : path
        var source: PcapSource
        do {
            source = try PcapSource(file: path)
        } catch {
            report("\(error)")
            return .inputUnusable
        }
        if let filter {
            do {
                try source.setFilter(filter)
            } catch {
                report("\(name): \(error)")
                return .inputUnusable
            }
        }
        let decoder: PacketDecoder
        do {
            decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        } catch {
            let linkName = PcapSource.linkTypeName(source.linkType) ?? "unknown"
            report("\(name): link type \(source.linkType) (\(linkName)) is not supported")
            return .inputUnusable
        }
        summary.files += 1
        progress.clear()
        progress = Progress(enabled: showProgress, total: source.fileSize.map { Int($0) })
        do {
            reading: while true {
                switch try source.next() {
                case .frame(let frame):
                    analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder) {
                        record in
                        summary.add(record)
                        emit(record)
                    }
                    progress.tick(bytesRead: Int(source.bytesRead), connections: summary.tlsConnections)
                case .timeout:
                    continue
                case .end:
                    break reading
                }
            }
        } catch {
            report("\(error)")  // names the file and the byte offset
            return .inputDamaged
        }
        return nil
    }

    private mutating func report(_ message: String) {
        summary.errors.append(message)
        progress.clear()
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
