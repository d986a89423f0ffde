import ArgumentParser
import Dispatch
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Options of a live capture, shared by `monitor` and `audit --interface`.
struct LiveOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: ArgumentHelp(
        "Capture live on this interface (e.g. eth0, lo, or any).", valueName: "IFACE"))
    var interface: String?

    @Option(name: [.customShort("c"), .long], parsing: .unconditional, help: ArgumentHelp(
        "Stop after N TLS connections have been reported.", valueName: "N"))
    var count: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: .long, help: "Bytes kept of each frame.")
    var snaplen: Int = 262_144

    @Flag(name: .customLong("no-promisc"), help: "Do not put the interface in promiscuous mode.")
    var noPromiscuous = false

    @Option(name: .customLong("buffer-size"), help: "Kernel capture buffer in bytes (default: libpcap's, 2 MiB).")
    var bufferSize: Int?

    @Flag(
        name: .long,
        help: "Hand each frame over as it arrives (TPACKET_V2) instead of in blocks of the kernel ring (TPACKET_V3, records up to 200 ms later).")
    var immediate = false

    @Option(
        name: .customLong("idle-timeout"), parsing: .unconditional,
        help: ArgumentHelp("Give up on a connection (and report it) after this many seconds without a packet.", valueName: "SECONDS"))
    var idleTimeout: Double = 60

    func validate(requireInterface: Bool) throws {
        if requireInterface && interface == nil { throw ValidationError("name the interface to capture on: --interface IFACE") }
        if let count, count < 1 { throw ValidationError("--count takes a positive number of connections, not \(count)") }
        if let duration, !(duration > 0) || !duration.isFinite {
            throw ValidationError("--duration takes a positive number of seconds, not \(duration)")
        }
        if snaplen < 64 || snaplen > 262_144 { throw ValidationError("--snaplen takes 64 to 262144 bytes") }
        if let bufferSize, bufferSize < 65_536 || bufferSize > Int(Int32.max) {
            throw ValidationError("--buffer-size takes 65536 bytes to 2 GiB")
        }
        if !(idleTimeout > 0) || idleTimeout > 86_400 {
            throw ValidationError("--idle-timeout takes more than 0 and at most 86400 seconds, not \(idleTimeout)")
        }
    }

    /// The offline-only options given without `--interface` make no sense.
    var liveOnlyOptionsGiven: Bool { count != nil || duration != nil }

    func tune(_ options: inout AnalysisOptions) {
        options.reportAtHandshakeEnd = true
        options.idleTimeoutNanoseconds = Int64(idleTimeout * 1e9)
    }
}

/// `tlsscope monitor`: live capture, one record per TLS connection as soon as its handshake is over.
struct Monitor: ParsableCommand {
    // Named here, not derived from the type by reflection (see Analyze).
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Capture TLS handshakes live on an interface and report each as soon as its outcome is known.",
        discussion: """
            Stops on SIGINT or SIGTERM, after --count connections or after --duration seconds; connections \
            still unfinished are then reported, and the summary (--summary; always with json and text) carries \
            libpcap's packet counters. Needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities. Exit \
            status: 0 stopped cleanly; 2 usage error or the capture could not start; 3 the capture failed part-way.

            Examples:
              tlsscope monitor -i eth0
              tlsscope monitor -i any -f 'tcp port 443' -c 100 --format ndjson
              tlsscope monitor -i eth0 --duration 60 --summary -o minute.ndjson
            """)

    @OptionGroup var options: OutputOptions
    @OptionGroup var live: LiveOptions
    @OptionGroup var keys: KeyLogOptions

    @Flag(name: .long, help: "Do not evaluate audit findings (the findings arrays stay empty).")
    var noFindings = false

    func validate() throws {
        try live.validate(requireInterface: true)
        if options.threads != nil { throw ValidationError("--threads applies to capture files; a live capture runs on one flow thread") }
        try options.validateRecordFormat()
    }

    func run() throws {
        var analysisOptions = AnalysisOptions()
        if noFindings { analysisOptions.auditPolicy = nil }
        live.tune(&analysisOptions)
        try keys.apply(to: &analysisOptions, quiet: options.quiet, follow: true)
        var capture = try LiveCapture(live: live, filter: options.filter, quiet: options.quiet)
        let output = try options.openOutput()
        let format = options.resolvedFormat
        var report = options.report(includeSummary: options.summary || format == .text, output: output)
        report.output.flushEachRecord = true
        var summary = RunSummary()
        report.begin()
        report.output.flush()
        let sink = ReportSink(report)
        let status = capture.run(options: analysisOptions, summary: &summary, sink: sink)
        sink.stream.end(summary: summary)
        if !options.quiet { FileHandleStandardError.write(LiveCapture.countersLine(summary, interface: capture.interface)) }
        if let status { throw status }
    }
}

/// Set by the SIGINT/SIGTERM handler, read by the capture loop between reads.
private let stopRequested = Atomic<Bool>(false)

/// One live capture session: opens the interface, reads frames on the calling thread straight into a
/// `HandshakeAnalyzer`, and stops on a signal, a count or a duration.
struct LiveCapture: ~Copyable {
    let interface: String
    let count: Int?
    let duration: Double?
    private var source: PcapSource
    private let decoder: PacketDecoder
    /// Kept alive for the whole run (cancelled in `run`).
    private var signalSources: [any DispatchSourceSignal] = []
    private var timers: [any DispatchSourceTimer] = []

    /// Opens and configures the capture; failures are reported on stderr in one line and thrown as exit 2.
    init(live: LiveOptions, filter: String?, quiet: Bool) throws(ExitStatus) {
        let interface = live.interface ?? "any"
        var source: PcapSource
        do {
            source = try PcapSource.live(
                interface: interface, snapLength: live.snaplen, promiscuous: !live.noPromiscuous, immediate: live.immediate,
                bufferSize: live.bufferSize, timeoutMilliseconds: 200)
        } catch {
            FileHandleStandardError.write("tlsscope: \(error)\n")
            throw .inputUnusable
        }
        if let filter {
            do {
                try source.setFilter(filter)
            } catch {
                FileHandleStandardError.write("tlsscope: \(interface): \(error)\n")
                throw .inputUnusable
            }
        }
        let linkType = source.linkType
        let linkName = PcapSource.linkTypeName(linkType) ?? "unknown"
        let decoder: PacketDecoder
        do {
            decoder = try PacketDecoder(linkType: LinkType(rawValue: linkType))
        } catch {
            FileHandleStandardError.write("tlsscope: \(interface): link type \(linkType) (\(linkName)) is not supported\n")
            throw .inputUnusable
        }
        if let warning = source.activationWarning {
            FileHandleStandardError.write("tlsscope: \(interface): warning: \(warning)\n")
        }
        if !quiet {
            // As tcpdump does: from here on, frames are being captured.
            FileHandleStandardError.write(
                "tlsscope: listening on \(interface), link-type \(linkName), snapshot length \(source.snapshotLength) bytes\n")
        }
        self.interface = interface
        self.count = live.count
        self.duration = live.duration
        self.decoder = decoder
        self.source = source
    }

    /// Reads until stopped, handing each connection to a writer thread as soon as its handshake's
    /// outcome is known (the record is written at once), then every unfinished connection; fills the
    /// summary (libpcap's counters in `capture`). Returns the exit status to end with (nil: success).
    /// The capture thread does only the per-packet work, so completing and writing a record (tens of
    /// microseconds) never keeps it from the ring.
    mutating func run(
        options: AnalysisOptions, summary: inout RunSummary, sink: some RecordSink
    ) -> ExitStatus? {
        let started = MonotonicClock.now()
        installSignalHandlers()
        defer { removeSignalHandlers() }
        var options = options
        let sources = CaptureSources()
        sources.begin(interface, after: 0)
        options.sources = sources
        var analyzer = HandshakeAnalyzer(options: options)
        // The capture thread never waits on the writer: a backlog past its budget costs records (counted),
        // not packets.
        let writer = RecordWriter(
            options: options, summary: summary, sink: sink, batchSize: 1, backlog: RecordWriter.BacklogBudget())
        let limit = count ?? Int.max
        var status: ExitStatus?
        var errors: [String] = []
        var framesSinceClockCheck = 0
        reading: while !stopRequested.load(ordering: .relaxed) && writer.handedOver < limit {
            let result: ReadResult
            do {
                result = try source.next()
            } catch {
                FileHandleStandardError.write("tlsscope: \(error)\n")
                errors.append("\(error)")
                status = .inputDamaged
                break reading
            }
            switch result {
            case .frame(let frame):
                analyzer.process(
                    frame: frame.bytes, timestamp: frame.timestampNanoseconds, ordinal: source.framesRead,
                    decoder: decoder
                ) { writer.add($0) }
                // A busy link never times out: look at the clock every 1024 frames for --duration.
                framesSinceClockCheck &+= 1
                if framesSinceClockCheck >= 1024 {
                    framesSinceClockCheck = 0
                    if let duration, MonotonicClock.seconds(since: started) >= duration { break reading }
                }
            case .timeout, .end:
                // The read timeout, or the ticker's or a signal's breakLoop(). On a quiet link, flows idle by
                // the wall clock are given up on all the same.
                if stopRequested.load(ordering: .relaxed) { break reading }
                analyzer.expireIdleFlows(now: Self.wallClockNanoseconds()) { writer.add($0) }
                if let duration, MonotonicClock.seconds(since: started) >= duration { break reading }
            }
        }
        // Counters are read before the flush so they describe the capture, not the time spent writing.
        var capture: LiveCaptureCounters?
        do {
            let statistics = try source.stats()
            capture = LiveCaptureCounters(
                interface: interface, received: statistics.received, dropped: statistics.dropped,
                interfaceDropped: statistics.interfaceDropped, recordsDropped: UInt64(writer.recordsDropped))
        } catch {
            errors.append("\(interface): \(error)")
        }
        analyzer.finish { writer.add($0) }
        summary = writer.finish()
        summary.capture = capture
        summary.errors += errors
        summary.add(analyzer.counters)
        summary.elapsedSeconds = MonotonicClock.seconds(since: started)
        return status
    }

    /// The line a live capture ends with on stderr, as tcpdump's: what the kernel counted, so a lossy
    /// capture is never taken for a quiet link whatever `--format` and `--summary` say.
    static func countersLine(_ summary: RunSummary, interface: String) -> String {
        guard let capture = summary.capture else {
            return "tlsscope: \(interface): the packet counters could not be read; \(summary.tlsConnections) TLS connections reported\n"
        }
        var line = "tlsscope: \(capture.interface): \(capture.received) packets received, "
            + "\(capture.dropped) dropped by the kernel, \(capture.interfaceDropped) dropped by the interface; "
            + "\(summary.tlsConnections) TLS connections reported"
        if capture.recordsDropped > 0 {
            line += ", \(capture.recordsDropped) records dropped (the writer fell behind past its budget)"
        }
        return line + "\n"
    }

    /// SIGINT and SIGTERM set the stop flag and break libpcap's read, on a dispatch queue (not in a raw
    /// signal handler, where taking breakLoop's lock would not be safe). A ticker breaks the read every
    /// 200 ms too: libpcap 1.10 on Linux in immediate mode waits on past its read timeout until a frame
    /// comes, so a quiet link would otherwise never let the loop look at the clock.
    private mutating func installSignalHandlers() {
        let handle = source.breakLoopHandle
        let queue = DispatchQueue(label: "tlsscope.signals")
        let ticker = DispatchSource.makeTimerSource(queue: queue)
        ticker.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
        ticker.setEventHandler { handle.breakLoop() }
        ticker.resume()
        timers.append(ticker)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let signalSource = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            signalSource.setEventHandler {
                stopRequested.store(true, ordering: .relaxed)
                handle.breakLoop()
            }
            signalSource.resume()
            signalSources.append(signalSource)
        }
    }

    private mutating func removeSignalHandlers() {
        for signalSource in signalSources { signalSource.cancel() }
        signalSources = []
        for timer in timers { timer.cancel() }
        timers = []
    }

    static func wallClockNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}
