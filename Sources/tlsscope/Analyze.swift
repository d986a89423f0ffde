import Foundation
import ArgumentParser
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import TLSAudit

#if canImport(Glibc)
import Glibc
#endif

extension OutputFormat: ExpressibleByArgument {}

/// Options shared by the commands that write records.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "text (table + summary; the default on a terminal), ndjson (the default otherwise), json, html (one self-contained page), csv or tsv (--fields), story (each handshake told step by step), or (audit only) sarif.")
    var format: OutputFormat?

    @Option(name: .long, help: ArgumentHelp(
        "csv and tsv: the columns, comma-separated record keys (nested ones with a dot: cipher.mac, frames.first, leaf.subject; lists joined with ;). Default: ts,protocol,client_ip,client_port,server_ip,server_port,version,cipher_suite,group,server_name,alpn,established,resumed,ja3,ja4,findings.worst,findings,community_id.",
        valueName: "FIELDS"))
    var fields: String?

    @Option(name: [.customShort("o"), .customShort("w"), .long], help: ArgumentHelp(
        "Write the report to FILE instead of standard output.", valueName: "FILE"))
    var output: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp(
        "BPF filter expression applied by libpcap, e.g. 'tcp port 443'.", valueName: "BPF"))
    var filter: String?

    @Flag(name: .long, help: "Also write the run's summary (ndjson: a last line with \"type\": \"summary\").")
    var summary = false

    @Flag(name: .long, help: "No progress display on standard error.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp(
        "Flow worker threads for capture files (default: one less than the cores available, at most 16; 1: one flow thread beside the writer). The output is the same whatever the number.",
        valueName: "N"))
    var threads: Int?

    /// `--threads`, or one less than the cores this process may run on (at most 16): the reading thread and
    /// the writer take a share of a core too, and on two cores one flow thread beside the writer is faster
    /// than two (docs/performance.md).
    var resolvedThreads: Int {
        threads ?? min(16, max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
    }

    /// SARIF holds findings: only `audit` writes it. `--fields` is for csv and tsv.
    func validateRecordFormat() throws {
        if format == .sarif { throw ValidationError("--format sarif is audit's (findings for code scanning); use text, ndjson or json") }
        try validateFields()
    }

    func validateFields() throws {
        guard fields != nil else { return }
        guard format == .csv || format == .tsv else { throw ValidationError("--fields applies to --format csv or tsv") }
        _ = try recordFields()
    }

    /// The `--fields` columns (the defaults without it).
    func recordFields() throws -> RecordFields {
        guard let fields else { return .defaults }
        let names = fields.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        do {
            return try RecordFields(names)
        } catch {
            throw ValidationError(
                "--fields: unknown \(error.names.joined(separator: ", ")); the fields are \(RecordFields.allNames.joined(separator: ", "))")
        }
    }

    func validateThreads() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads takes 1 to 256, not \(threads)") }
    }

    /// Standard output, or `--output FILE` (exit 2 with one line when it cannot be created).
    func openOutput() throws -> OutputFile {
        guard let path = output else { return OutputFile(descriptor: 1) }
        guard let file = OutputFile.create(path: path) else {
            FileHandleStandardError.write("tlsscope: \(path): cannot open for writing: \(String(cString: strerror(errno)))\n")
            throw ExitStatus.inputUnusable
        }
        return file
    }

    /// The report stream for this output: on a terminal (standard output one), fitted to its width, in
    /// colour unless NO_COLOR, and written through line by line.
    func report(includeSummary: Bool, output: consuming OutputFile) -> ReportStream {
        var layout = self.output == nil
            ? TextLayout.forOutput(descriptor: 1, environment: ProcessInfo.processInfo.environment) : TextLayout()
        if let fields = try? recordFields() { layout.fields = fields }
        var report = ReportStream(format: resolvedFormat, includeSummary: includeSummary, output: output, textLayout: layout)
        if self.output == nil && isatty(1) == 1 { report.output.flushEachRecord = true }
        report.toolVersion = TLSScope.version
        return report
    }

    /// Lets a report on the terminal and the progress line on standard error share it: rows erase the
    /// progress line before they are written.
    func shareTerminal(_ report: inout ReportStream, with run: AnalysisRun) {
        if self.output == nil && isatty(1) == 1 && isatty(2) == 1 { report.output.statusLine = run.statusLine }
    }

    var resolvedFormat: OutputFormat {
        if let format { return format }
        return output == nil && isatty(1) == 1 ? .text : .ndjson
    }
}

struct Analyze: ParsableCommand {
    // The name is given, not derived: ArgumentParser derives it from `String(describing: Self.self)`, whose
    // reflection scanned every protocol conformance in the process (~1.4-4 M instructions per command at start-up).
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyze capture files (.pcap, .pcapng, or - for standard input) into one record per TLS connection.",
        discussion: """
            Examples:
              tlsscope analyze capture.pcapng
              tlsscope analyze -r capture.pcap -o records.ndjson
              tcpdump -U -w - -i eth0 port 443 | tlsscope analyze -
              tlsscope analyze --format json a.pcap b.pcap | jq '.summary.versions'
            Exit status: 0 success; 2 usage error or an input that cannot be read; 3 a capture damaged part-way \
            (the records before the damage are still written).
            """)

    @OptionGroup var options: OutputOptions
    @OptionGroup var inputs: CaptureInputs
    @OptionGroup var keys: KeyLogOptions

    @Flag(name: .long, help: "Do not evaluate audit findings (the findings arrays stay empty).")
    var noFindings = false

    func validate() throws {
        try inputs.validate(allowInterface: false)
        try options.validateThreads()
        try options.validateRecordFormat()
    }

    func run() throws {
        let output = try options.openOutput()
        let format = options.resolvedFormat
        let report = options.report(includeSummary: options.summary || format == .text, output: output)
        var analysisOptions = AnalysisOptions()
        if noFindings { analysisOptions.auditPolicy = nil }
        var summary = RunSummary()
        if format == .html && !noFindings {
            // The page rolls findings up by server and client like an audit under the default policy.
            summary.audit = AuditSummary()
            summary.policyName = "intermediate"
        }
        let (status, _) = try options.analyze(
            inputs, keys: keys, analysisOptions: analysisOptions, summary: summary, report: report)
        if let status { throw status }
    }
}

extension OutputOptions {
    /// Reads the capture files of `inputs` (directories expanded, `--since/--until` applied) into
    /// `report`, for `analyze` and `audit`: returns the exit status to end with (nil: success) and the
    /// run's summary, which started as `summary`.
    func analyze(
        _ inputs: CaptureInputs, keys: KeyLogOptions, analysisOptions: AnalysisOptions, summary: RunSummary,
        report: consuming ReportStream
    ) throws -> (ExitStatus?, RunSummary) {
        let files = try inputs.expandedFiles()
        var analysisOptions = analysisOptions
        try keys.apply(to: &analysisOptions, files: files, quiet: quiet)
        let streaming = AnalysisRun.streams(files)
        var run = AnalysisRun(
            filter: filter, showProgress: !quiet && isatty(2) == 1, options: analysisOptions, threads: resolvedThreads,
            streaming: streaming)
        run.summary = summary
        run.timeWindow = try inputs.timeWindow()
        // From a pipe, each record reaches the reader as soon as it is written.
        if streaming { report.output.flushEachRecord = true }
        shareTerminal(&report, with: run)
        report.begin()
        let sink = ReportSink(report)
        let status = run.analyze(files: files, sink: sink)
        sink.stream.end(summary: run.summary)
        return (status, run.summary)
    }
}
