import HandshakeAnalysis

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Output formats of the contract.
public enum OutputFormat: String, Sendable, CaseIterable {
    case text, ndjson, json
    /// SARIF 2.1.0 (`audit` only): the audit's findings per server, for CI systems' code-scanning views.
    case sarif
    /// One self-contained HTML page, written at the end.
    case html
    /// A header row, then a row per record (`--fields`); comma-separated (RFC 4180) or tab-separated.
    case csv, tsv
    /// Each connection told step by step (`StoryView`), then the text summary.
    case story
}

/// A buffered writer to a file descriptor (standard output or `--output FILE`).
public struct OutputFile: ~Copyable {
    public let descriptor: Int32
    private var buffer: [UInt8] = []
    private let ownsDescriptor: Bool
    /// Write through after every record (live monitoring piped into jq).
    public var flushEachRecord = false
    public private(set) var failed = false
    /// A progress line on the same terminal, erased before each write.
    public var statusLine: StatusLine?

    public init(descriptor: Int32, ownsDescriptor: Bool = false) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
        buffer.reserveCapacity(1 << 16)
    }

    /// Opens (creating or truncating) a file for writing.
    public static func create(path: String) -> OutputFile? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        return OutputFile(descriptor: fd, ownsDescriptor: true)
    }

    public mutating func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 16 { flush() }
    }

    public mutating func flush() {
        guard !buffer.isEmpty, !failed else {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        if let statusLine {
            failed = !buffer.withUnsafeBytes { statusLine.writeAbove($0, to: descriptor) }
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                guard let base = raw.baseAddress else { return }
                let written = Glibc.write(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit {
        // Callers flush explicitly; this only releases the descriptor.
        if ownsDescriptor { close(descriptor) }
    }
}

/// Turns a record into the bytes a `ReportStream` of its format writes for it (an NDJSON line, a JSON
/// array element without its separator, a text table row). One per thread: it keeps a cache of the
/// repeating parts of records. A sharded run formats records on its worker threads.
public struct RecordFormatter {
    public let format: OutputFormat
    private var json = JSONWriter()
    /// Repeating parts of records, encoded once (the output is compact in both JSON formats).
    private var fragments: FragmentCache? = FragmentCache()
    private let table: TextTable
    private let fields: RecordFields

    public init(format: OutputFormat, layout: TextLayout = TextLayout()) {
        self.format = format
        table = TextTable(layout: layout)
        fields = layout.fields
    }

    public mutating func bytes(of record: HandshakeRecord) -> [UInt8] {
        withBytes(of: record) { Array($0) }
    }

    /// Calls `body` with the bytes of `record` (in place for the JSON formats: no copy per record).
    public mutating func withBytes<Result>(
        of record: HandshakeRecord, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        switch format {
        case .ndjson:
            json.reset()
            RecordEncoder.encode(record, into: &json, cache: &fragments)
            json.newline()
            return json.withBytes(body)
        case .json:
            json.reset()
            RecordEncoder.encode(record, into: &json, cache: &fragments)
            return json.withBytes(body)
        case .text:
            return Array(table.row(record).utf8).withUnsafeBytes(body)
        case .sarif:
            return body(UnsafeRawBufferPointer(start: nil, count: 0))  // the document is written from the summary at the end
        case .html:
            return Array(HTMLReport.row(record).utf8).withUnsafeBytes(body)
        case .csv, .tsv:
            return Array(fields.row(fields.values(of: record), tabs: format == .tsv).utf8).withUnsafeBytes(body)
        case .story:
            return Array(StoryView.story(of: record).utf8).withUnsafeBytes(body)
        }
    }
}

/// Writes records as they finish, and the summary at the end, in one of the contract's formats.
public struct ReportStream: ~Copyable {
    public let format: OutputFormat
    /// `--summary`: for ndjson a last line with the summary; for text the summary block. `json` always has it.
    public let includeSummary: Bool
    public var output: OutputFile
    private var json = JSONWriter()
    private var formatter: RecordFormatter
    private var recordsWritten = 0
    private var table: TextTable
    /// The text format's columns and colours.
    public let textLayout: TextLayout
    /// Text: a line per connection before the summary (`audit` over files shows only its report).
    public var connectionRows = true
    /// Text: how the audit report is laid out (SARIF: `failOn` too).
    public var auditLayout = AuditReportLayout()
    /// SARIF and HTML: the tool's version.
    public var toolVersion = "0"
    /// HTML: lead with the audit's verdict against `auditLayout.failOn` (audit), and list connections
    /// (analyze, monitor).
    public var htmlVerdict = false
    public var htmlConnections = true
    /// JSON: the document has a `connections` array (`report`, which keeps no records, writes the summary only).
    public var listsConnections = true
    private var htmlRows: [UInt8] = []

    public init(
        format: OutputFormat, includeSummary: Bool, output: consuming OutputFile, textLayout: TextLayout = TextLayout()
    ) {
        self.format = format
        self.includeSummary = includeSummary
        self.output = output
        self.textLayout = textLayout
        self.table = TextTable(layout: textLayout)
        self.formatter = RecordFormatter(format: format, layout: textLayout)
        auditLayout.color = textLayout.color
        if let width = textLayout.width { auditLayout.width = width }
    }

    public mutating func begin() {
        switch format {
        case .json: if listsConnections { output.write("{\"connections\": [") }
        case .text: if connectionRows { output.write(table.header()) }
        case .ndjson, .sarif, .html, .story: break
        case .csv, .tsv: output.write(textLayout.fields.header(tabs: format == .tsv))
        }
    }

    public mutating func write(_ record: HandshakeRecord) {
        if format == .text {
            recordsWritten += 1
            guard connectionRows else { return }
            output.write(table.row(record))  // a String: no detour through bytes
            if output.flushEachRecord { output.flush() }
        } else if format == .ndjson {
            // The common case, written from the formatter's buffer in place.
            formatter.withBytes(of: record) { output.write($0) }
            recordsWritten += 1
            if output.flushEachRecord { output.flush() }
        } else {
            write(formatted: formatter.bytes(of: record))
        }
    }

    /// Writes a record formatted by a `RecordFormatter` of this stream's format (on another thread).
    public mutating func write(formatted bytes: [UInt8]) {
        if format == .sarif {
            recordsWritten += 1
            return
        }
        if format == .html {
            // Kept for the page's connection table, up to its cap (the summary counts every record).
            if recordsWritten < HTMLReport.maxConnectionRows { htmlRows += bytes }
            recordsWritten += 1
            return
        }
        if format == .text && !connectionRows {
            recordsWritten += 1
            return
        }
        if format == .json {
            output.write(recordsWritten > 0 ? ",\n  " : "\n  ")
        }
        output.write(bytes)
        recordsWritten += 1
        if output.flushEachRecord { output.flush() }
    }

    public mutating func end(summary: RunSummary) {
        switch format {
        case .ndjson:
            if includeSummary {
                json.reset()
                RecordEncoder.encode(summary, includeType: true, into: &json)
                json.newline()
                json.withBytes { output.write($0) }
            }
        case .json:
            json.reset()
            RecordEncoder.encode(summary, includeType: false, into: &json)
            if !listsConnections {
                output.write("{\"summary\": ")
            } else {
                output.write(recordsWritten > 0 ? "\n], \"summary\": " : "], \"summary\": ")
            }
            json.withBytes { output.write($0) }
            output.write("}\n")
        case .text:
            output.write(table.summary(summary, layout: auditLayout))
        case .story:
            if includeSummary { output.write(table.summary(summary, layout: auditLayout)) }
        case .csv, .tsv:
            break  // rows only: the summary has no place in a table of records (--format json has it)
        case .html:
            output.write(
                HTMLReport.page(
                    summary, connectionRows: htmlConnections ? String(decoding: htmlRows, as: UTF8.self) : nil,
                    connections: recordsWritten, tool: toolVersion, failOn: htmlVerdict ? auditLayout.failOn : nil))
        case .sarif:
            json.reset()
            SARIFEncoder.encode(summary, tool: toolVersion, failOn: auditLayout.failOn, into: &json)
            json.newline()
            json.withBytes { output.write($0) }
        }
        output.flush()
    }
}
