import ArgumentParser
import Foundation
import HandshakeAnalysis
import RecordReading
import Reporting
import TLSAudit

#if canImport(Glibc)
import Glibc
#endif

/// `tlsscope report`: the summary and audit report of records written earlier — by `analyze`, `monitor`,
/// `audit` or a distributed job — as a direct run over the same traffic would have written them.
struct Report: ParsableCommand {
    // Named here, not derived from the type by reflection (see Analyze).
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise and audit NDJSON records written earlier (by analyze, monitor, audit or a Spark job).",
        discussion: """
            Reads records ("type": "tls") and summaries ("type": "summary") and writes the summary and audit \
            report a direct run would have written, keeping aggregates, not records. A summary that follows \
            records of its own run adds what records cannot tell (files, packets, bytes, errors); a summary \
            alone (a merged one from a distributed job) is merged whole. With --policy every record is judged \
            again under that policy; without it, findings stay as recorded.

            Examples:
              tlsscope analyze -o week.ndjson --summary captures/
              tlsscope report week.ndjson
              tlsscope report --policy modern --format html -o report.html day1.ndjson day2.ndjson
              zcat records.ndjson.gz | tlsscope report --fail-on medium -

            Exit status: 0 nothing at or above --fail-on; 1 something was; 2 usage error or an input that \
            cannot be read or holds no records; 3 lines that are not records (reported by line number; the \
            others are still counted). When several apply, the highest wins.
            """)

    @Option(name: .long, help: "text (the default on a terminal), ndjson (one summary line; the default otherwise), json, html or sarif.")
    var format: OutputFormat?

    @Option(name: [.customShort("o"), .customShort("w"), .long], help: ArgumentHelp(
        "Write the report to FILE instead of standard output.", valueName: "FILE"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp(
        "Judge every record again under modern, intermediate or old, or a policy FILE (default: findings as recorded).",
        valueName: "POLICY"))
    var policy: String?

    @OptionGroup var verdict: VerdictOptions

    @Option(name: .long, help: ArgumentHelp(
        "With --policy: judge certificate validity at this time instead of each record's time (as audit --now).",
        valueName: "TIME"))
    var now: String?

    @Argument(help: ArgumentHelp("NDJSON files of records and summaries, or - for standard input.", valueName: "RECORDS"))
    var records: [String] = []

    func validate() throws {
        if records.isEmpty { throw ValidationError("give NDJSON files of records, or - for standard input") }
        if format == .csv || format == .tsv || format == .story {
            throw ValidationError("report writes text, ndjson, json, html or sarif; for a table or story of records use analyze")
        }
        if now != nil && policy == nil { throw ValidationError("--now judges records again: give --policy too") }
    }

    func run() throws {
        if let now, Audit.parseTime(now) == nil {
            FileHandleStandardError.write("tlsscope: --now \(now): not a valid time; give an RFC 3339 time, a date, seconds since 1970 or now\n")
            throw ExitStatus.inputUnusable
        }
        let activePolicy = try policy.map { try Audit.loadPolicy(named: $0) }
        var builder = ReportBuilder(policy: activePolicy, auditTime: now.flatMap(Audit.parseTime))
        var status: ExitStatus?
        func raise(_ new: ExitStatus) { if new.code > (status?.code ?? 0) { status = new } }
        for path in records {
            if let problem = read(path, into: &builder) { raise(problem) }
        }
        if builder.summariesNotRejudged > 0 {
            FileHandleStandardError.write(
                "tlsscope: \(builder.summariesNotRejudged) summaries without their records were merged as judged, not under --policy\n")
        }
        var summary = builder.summary
        if summary.policyName == nil { summary.policyName = "as recorded" }

        let resolvedFormat = format ?? (output == nil && isatty(1) == 1 ? .text : .ndjson)
        let file: OutputFile
        if let output {
            guard let created = OutputFile.create(path: output) else {
                FileHandleStandardError.write("tlsscope: \(output): cannot open for writing: \(String(cString: strerror(errno)))\n")
                throw ExitStatus.inputUnusable
            }
            file = created
        } else {
            file = OutputFile(descriptor: 1)
        }
        let layout = output == nil
            ? TextLayout.forOutput(descriptor: 1, environment: ProcessInfo.processInfo.environment) : TextLayout()
        var report = ReportStream(format: resolvedFormat, includeSummary: true, output: file, textLayout: layout)
        report.connectionRows = false
        report.listsConnections = false
        report.htmlConnections = false
        report.htmlVerdict = true
        report.toolVersion = TLSScope.version
        report.auditLayout.top = verdict.top
        report.auditLayout.failOn = verdict.failOn
        report.begin()
        report.end(summary: summary)

        try verdict.finish(summary, status: status, policyName: summary.policyName ?? "as recorded")
    }

    /// Reads one input into `builder`; the exit status it calls for, if any (each problem said on stderr).
    private func read(_ path: String, into builder: inout ReportBuilder) -> ExitStatus? {
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            FileHandleStandardError.write("tlsscope: \(path): cannot open: \(String(cString: strerror(errno)))\n")
            return .inputUnusable
        }
        defer { if descriptor != 0 { close(descriptor) } }
        defer { builder.endOfInput() }
        var lines = LineReader(descriptor: descriptor)
        let before = builder.records + builder.summaries
        var malformed = 0
        let shownMalformed = 5
        do {
            while let line = try lines.next() {
                do {
                    try builder.add(line: line, number: lines.lineNumber)
                } catch {
                    malformed += 1
                    if malformed <= shownMalformed { FileHandleStandardError.write("tlsscope: \(path): \(error)\n") }
                }
            }
        } catch {
            FileHandleStandardError.write("tlsscope: \(path): \(error)\n")
            return builder.records + builder.summaries > before ? .inputDamaged : .inputUnusable
        }
        if malformed > shownMalformed {
            FileHandleStandardError.write("tlsscope: \(path): \(malformed - shownMalformed) more lines that are not records\n")
        }
        if builder.records + builder.summaries == before {
            if malformed > 0 || lines.lineNumber > 0 {
                FileHandleStandardError.write("tlsscope: \(path): no tlsscope records or summaries in it\n")
                return .inputUnusable
            }
            return nil  // an empty file: a run that saw no TLS
        }
        return malformed > 0 ? .inputDamaged : nil
    }
}
