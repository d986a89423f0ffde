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

    @Option(name: .long, help: ArgumentHelp(
        "Text report: detail the N worst servers and client fingerprints (0: all).", valueName: "N"))
    var top: Int = 10

    @Option(name: .long, help: "Judge certificate validity at this time (RFC 3339, e.g. 2025-01-31T00:00:00Z or 2025-01-31, or seconds since 1970) instead of capture time.")
    var now: String?

    @Argument(help: "Capture files (pcap or pcapng); - reads standard input. Or --interface.")
    var pcaps: [String] = []

    func validate() throws {
        if live.interface != nil {
            if !pcaps.isEmpty { throw ValidationError("give capture files or --interface, not both") }
            try live.validate(requireInterface: true)
            if options.threads != nil { throw ValidationError("--threads applies to capture files; a live capture runs on one flow thread") }
        } else {
            if pcaps.isEmpty {
                throw ValidationError("name at least one capture file (or - for standard input), or --interface IFACE")
            }
            if live.liveOnlyOptionsGiven { throw ValidationError("--count and --duration need --interface") }
            if pcaps.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        }
        if options.noFindings { throw ValidationError("--no-findings makes no sense for audit") }
        if top < 0 { throw ValidationError("--top takes 0 (all) or more, not \(top)") }
        try options.validateThreads()
    }

    func run() throws {
        // Checked here rather than in validate() so that a bad time is one line on stderr, not a usage page.
        if let now, Self.parseTime(now) == nil {
            FileHandleStandardError.write(
                "tlsscope: --now \(now): not a valid time; give an RFC 3339 time (2025-01-31T00:00:00Z), "
                    + "a date (2025-01-31) or seconds since 1970\n")
            throw ExitStatus.inputUnusable
        }
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
            if !options.quiet {
                FileHandleStandardError.write(LiveCapture.countersLine(summary, interface: capture.interface))
            }
        } else {
            var report = try openReport()
            // Over files the text report is the audit itself; `analyze` gives the per-connection table.
            report.connectionRows = false
            let streaming = AnalysisRun.streams(pcaps)
            var run = AnalysisRun(
                filter: options.filter, showProgress: !options.quiet && isatty(2) == 1, options: analysisOptions,
                threads: options.resolvedThreads, streaming: streaming)
            report.output.flushEachRecord = streaming
            run.summary = summary
            report.begin()
            let sink = ReportSink(report)
            status = run.analyze(files: pcaps, sink: sink)
            sink.stream.end(summary: run.summary)
            summary = run.summary
        }
        let failing = summary.audit?.count(atOrAbove: failOn) ?? (findings: 0, servers: 0)
        if failing.findings > 0 && status == nil {
            // Exit 1 says why on stderr, whatever the format (a CI log shows it next to the status).
            FileHandleStandardError.write(
                "tlsscope: \(failing.findings) \(failing.findings == 1 ? "finding" : "findings") at or above \(failOn) "
                    + "on \(failing.servers) \(failing.servers == 1 ? "server" : "servers") (policy \(activePolicy.name))\n")
        }
        if let status { throw status }
        if failing.findings > 0 { throw ExitStatus.findingsAtOrAboveThreshold }
    }

    private func openReport() throws -> ReportStream {
        var report = ReportStream(format: options.resolvedFormat, includeSummary: true, output: try options.openOutput())
        report.auditLayout.top = top
        report.auditLayout.failOn = failOn
        report.toolVersion = TLSScope.version
        return report
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

    /// `--now`: whole seconds since 1970; an RFC 3339 date-time ("2025-01-31T00:00:00Z", with an optional
    /// fraction, and "Z" or a "±hh:mm" offset); or a full date ("2025-01-31", midnight UTC). Nil for
    /// anything else, an impossible date (2025-02-31) or a time that does not fit in 64-bit seconds.
    static func parseTime(_ text: String) -> Int64? {
        if let seconds = Int64(text) { return seconds }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard bytes.count - index >= width else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func skip(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        // RFC 3339 §5.6: date-fullyear is exactly four digits.
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2) else {
            return nil
        }
        if index == bytes.count {
            return CivilDate.epochSeconds(year: Int64(year), month: month, day: day, hour: 0, minute: 0, second: 0)
        }
        guard skip("Tt"), let hour = number(2), skip(":"), let minute = number(2), skip(":"),
            let second = number(2)
        else { return nil }
        if skip(".") {
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > start else { return nil }
        }
        var offset = 0
        if !skip("Zz") {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard skip("+-"), let offsetHours = number(2), skip(":"), let offsetMinutes = number(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count,
            let local = CivilDate.epochSeconds(
                year: Int64(year), month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        // A time at +hh:mm is that far ahead of UTC (years are four digits, so this cannot overflow).
        return local - Int64(offset)
    }
}
