import ArgumentParser
import HandshakeAnalysis
import Reporting
import TLSAudit

#if canImport(Glibc)
import Glibc
#endif

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// `tlsscope audit`: the records of `analyze` judged against a policy, an audit summary grouped by
/// server and client fingerprint, and an exit status a CI job can gate on.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit TLS in captures against a policy; exit 1 when a finding reaches --fail-on.",
        discussion: """
            Reads capture files, or captures live with --interface (stopping on SIGINT/SIGTERM, --count or \
            --duration, as monitor does). Exit status: 0 nothing at or above --fail-on; 1 something was; 2 usage \
            error or an input that cannot be read; 3 a capture damaged (or a live capture failed) part-way (what \
            came before is still audited).
            """)

    @OptionGroup var options: OutputOptions
    @OptionGroup var live: LiveOptions

    @Option(name: .long, help: "modern, intermediate (default) or old (Mozilla Server Side TLS), or a JSON policy FILE.")
    var policy: String = "intermediate"

    @Option(name: .customLong("fail-on"), help: "Lowest severity that makes the exit status 1: info, low, medium, high, critical.")
    var failOn: Severity = .high

    @Option(name: .long, help: "Judge certificate validity at this time (RFC 3339, e.g. 2025-01-31T00:00:00Z, or seconds since 1970) instead of capture time.")
    var now: String?

    @Argument(help: "Capture files (pcap or pcapng); - reads standard input. Or --interface.")
    var pcaps: [String] = []

    func validate() throws {
        if live.interface != nil {
            if !pcaps.isEmpty { throw ValidationError("give capture files or --interface, not both") }
            try live.validate(requireInterface: true)
        } else {
            if pcaps.isEmpty {
                throw ValidationError("name at least one capture file (or - for standard input), or --interface IFACE")
            }
            if live.liveOnlyOptionsGiven { throw ValidationError("--count and --duration need --interface") }
            if pcaps.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        }
        if options.noFindings { throw ValidationError("--no-findings makes no sense for audit") }
        if let now, Self.parseTime(now) == nil {
            throw ValidationError("--now takes an RFC 3339 UTC time (2025-01-31T00:00:00Z) or seconds since 1970")
        }
    }

    func run() throws {
        let activePolicy = try loadPolicy()
        var analysisOptions = AnalysisOptions()
        analysisOptions.auditPolicy = activePolicy
        analysisOptions.auditTime = now.flatMap(Self.parseTime)
        var summary = RunSummary()
        summary.audit = AuditSummary()
        summary.policyName = activePolicy.name
        let status: ExitStatus?
        if live.interface != nil {
            live.tune(&analysisOptions)
            var capture = try LiveCapture(live: live, filter: options.filter, quiet: options.quiet)
            var report = try openReport()
            report.output.flushEachRecord = true
            report.begin()
            report.output.flush()
            let sink = ReportSink(report)
            status = capture.run(options: analysisOptions, summary: &summary, sink: sink)
            sink.stream.end(summary: summary)
        } else {
            var report = try openReport()
            var run = AnalysisRun(
                filter: options.filter, showProgress: !options.quiet && isatty(2) == 1, options: analysisOptions)
            run.summary = summary
            report.begin()
            let sink = ReportSink(report)
            status = run.analyze(files: pcaps, sink: sink)
            sink.stream.end(summary: run.summary)
            summary = run.summary
        }
        if let status { throw status }
        if summary.audit?.hasFinding(atOrAbove: failOn) == true { throw ExitStatus.findingsAtOrAboveThreshold }
    }

    private func openReport() throws -> ReportStream {
        ReportStream(format: options.resolvedFormat, includeSummary: true, output: try options.openOutput())
    }

    private func loadPolicy() throws -> AuditPolicy {
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

    /// "2025-01-31T00:00:00Z" (or with a fraction) or whole seconds since 1970.
    static func parseTime(_ text: String) -> Int64? {
        if let seconds = Int64(text) { return seconds }
        let parts = text.utf8.split(whereSeparator: { "-T:Z.".utf8.contains($0) }).map { Int(String(decoding: $0, as: UTF8.self)) }
        guard parts.count >= 6, text.hasSuffix("Z"), let year = parts[0], let month = parts[1], let day = parts[2],
            let hour = parts[3], let minute = parts[4], let second = parts[5],
            (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        // Days from civil (Howard Hinnant), proleptic Gregorian.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
