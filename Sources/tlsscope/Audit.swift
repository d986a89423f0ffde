import ArgumentParser
import HandshakeAnalysis
import Reporting
import TLSAudit
import TextFormatting

#if canImport(Glibc)
import Glibc
#endif

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
    /// Help shows "high", not the raw value, and no per-value descriptions (the help text names them).
    public var defaultValueDescription: String { description }
    public static var allValueDescriptions: [String: String] { [:] }
}

/// `tlsscope audit`: the records of `analyze` judged against a policy, an audit summary grouped by
/// server and client fingerprint, and an exit status a CI job can gate on.
struct Audit: ParsableCommand {
    // Named here, not derived from the type by reflection (see Analyze).
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit TLS in captures against a policy; exit 1 when a finding reaches --fail-on.",
        discussion: """
            Reads capture files, or captures live with --interface (stopping on SIGINT/SIGTERM, --count or \
            --duration, as monitor does). Exit status: 0 nothing at or above --fail-on; 1 something was; 2 usage \
            error or an input that cannot be read; 3 a capture damaged (or a live capture failed) part-way (what \
            came before is still audited). When several apply, the highest wins (3 over 2 over 1); exit 1 \
            prints one line on stderr saying how many findings on how many servers.

            Examples:
              tlsscope audit capture.pcapng
              tlsscope audit --policy modern --fail-on medium -r a.pcap -r b.pcap
              tlsscope audit --format sarif captures/*.pcap > tls.sarif
              tlsscope audit --policy lab.yaml --now 2026-06-01 capture.pcap
              tlsscope audit -i eth0 --duration 300 --format ndjson
            """)

    @OptionGroup var options: OutputOptions
    @OptionGroup var live: LiveOptions

    @Option(name: .long, help: ArgumentHelp(
        "modern, intermediate or old (Mozilla Server Side TLS), or a policy FILE (.json, .yaml or .yml).",
        valueName: "POLICY"))
    var policy: String = "intermediate"

    @OptionGroup var verdict: VerdictOptions

    @Option(name: .long, help: ArgumentHelp(
        "Judge certificate validity at this time instead of capture time: an RFC 3339 time (2025-01-31T00:00:00Z, 2025-01-31T09:00:00+09:00), a date (2025-01-31), seconds since 1970, or now.",
        valueName: "TIME"))
    var now: String?

    @OptionGroup var inputs: CaptureInputs
    @OptionGroup var keys: KeyLogOptions

    var pcaps: [String] { inputs.files }

    func validate() throws {
        if live.interface != nil {
            if !pcaps.isEmpty { throw ValidationError("give capture files or --interface, not both") }
            if inputs.since != nil || inputs.until != nil { throw ValidationError("--since and --until select frames of capture files; live, use --duration") }
            try live.validate(requireInterface: true)
            if options.threads != nil { throw ValidationError("--threads applies to capture files; a live capture runs on one flow thread") }
        } else {
            try inputs.validate(allowInterface: true)
            if live.liveOnlyOptionsGiven { throw ValidationError("--count and --duration need --interface") }
        }
        try options.validateThreads()
        if options.format == .csv || options.format == .tsv || options.format == .story {
            throw ValidationError("audit writes text, ndjson, json, html or sarif; for a table of records use analyze --format \(options.format?.rawValue ?? "csv")")
        }
        try options.validateFields()
    }

    func run() throws {
        // Checked here rather than in validate() so that a bad time is one line on stderr, not a usage page.
        if let now, Self.parseTime(now) == nil {
            FileHandleStandardError.write(
                "tlsscope: --now \(now): not a valid time; give an RFC 3339 time (2025-01-31T00:00:00Z), "
                    + "a date (2025-01-31), seconds since 1970 or now\n")
            throw ExitStatus.inputUnusable
        }
        let activePolicy = try Self.loadPolicy(named: policy)
        var analysisOptions = AnalysisOptions()
        analysisOptions.auditPolicy = activePolicy
        analysisOptions.auditTime = now.flatMap(Self.parseTime)
        var summary = RunSummary()
        summary.audit = AuditSummary()
        summary.policyName = activePolicy.name
        let status: ExitStatus?
        if live.interface != nil {
            live.tune(&analysisOptions)
            try keys.apply(to: &analysisOptions, quiet: options.quiet, follow: true)
            var capture = try LiveCapture(live: live, filter: options.filter, quiet: options.quiet)
            var report = try openReport()
            report.output.flushEachRecord = true
            report.begin()
            report.output.flush()
            let sink = ReportSink(report)
            status = capture.run(options: analysisOptions, summary: &summary, sink: sink)
            sink.stream.end(summary: summary)
            if !options.quiet {
                FileHandleStandardError.write(LiveCapture.countersLine(summary, interface: capture.interface))
            }
        } else {
            var report = try openReport()
            // Over files the text report is the audit itself; `analyze` gives the per-connection table.
            report.connectionRows = false
            (status, summary) = try options.analyze(
                inputs, keys: keys, analysisOptions: analysisOptions, summary: summary, report: report)
        }
        try verdict.finish(summary, status: status, policyName: activePolicy.name)
    }

    private func openReport() throws -> ReportStream {
        var report = options.report(includeSummary: true, output: try options.openOutput())
        report.auditLayout.top = verdict.top
        report.auditLayout.failOn = verdict.failOn
        report.toolVersion = TLSScope.version
        report.htmlVerdict = true
        report.htmlConnections = false
        return report
    }

    /// A built-in policy by name, or a policy file (exit 2 with one line on stderr when unusable).
    static func loadPolicy(named policy: String) throws -> AuditPolicy {
        if let builtIn = AuditPolicy.builtIn(named: policy) { return builtIn }
        guard let format = PolicyFileFormat(fileName: policy) else {
            FileHandleStandardError.write(
                "tlsscope: \(policy): not a built-in policy (\(AuditPolicy.builtInNames.joined(separator: ", "))) nor a .json policy file\n")
            throw ExitStatus.inputUnusable
        }
        guard let bytes = Self.readFile(policy) else {
            FileHandleStandardError.write("tlsscope: \(policy): cannot read: \(String(cString: strerror(errno)))\n")
            throw ExitStatus.inputUnusable
        }
        do {
            return try AuditPolicy.load(contentsOf: bytes, format: format)
        } catch {
            FileHandleStandardError.write("tlsscope: \(policy): \(error)\n")
            throw ExitStatus.inputUnusable
        }
    }

    /// A whole small file (policy files are a few KB; capped at 16 MiB).
    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 16 << 20 {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return ferror(file) == 0 ? bytes : nil
    }

    /// `--now`, `--since`, `--until`: "now" (the clock), or what `TimeText.seconds` reads.
    static func parseTime(_ text: String) -> Int64? {
        // "now" from CLOCK_REALTIME: glibc's time() reads the coarse clock, up to a tick behind, so it could
        // still say the previous second just after a second began (a test comparing with Date() saw it).
        guard text == "now" else { return TimeText.seconds(text) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
