import Foundation
import HandshakeAnalysis
import TLSAudit

/// Why a line of records could not be used.
public struct RecordReadError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Turns NDJSON written by `analyze`, `monitor`, `audit` or a distributed job back into the summary and
/// audit report a direct run gives (`tlsscope report`). Memory holds aggregates, not records.
///
/// Records (`"type": "tls"`) are counted one by one. A summary line (`"type": "summary"`) after records of
/// its own run adds only what records cannot tell (files, packets, bytes, frames not decoded, flows, errors,
/// time); a summary with no records before it (a distributed job's merged summary, or `--summary` output
/// kept without its records) is merged whole. With a policy, every record is judged again under it.
public struct ReportBuilder {
    public private(set) var summary: RunSummary
    public let policy: AuditPolicy?
    public let auditTime: Int64?
    /// Lines read: records, summaries, and lines of other types (skipped).
    public private(set) var records = 0
    public private(set) var summaries = 0
    public private(set) var otherLines = 0
    /// Summaries merged whole while a policy was given: their findings stay as they were judged.
    public private(set) var summariesNotRejudged = 0
    private var recordsSinceSummary = 0
    private let decoder = JSONDecoder()

    /// `policy`: judge records again under it (nil: keep their findings). `auditTime`: judge certificates
    /// at this time rather than each record's `ts`.
    public init(policy: AuditPolicy?, auditTime: Int64? = nil) {
        self.policy = policy
        self.auditTime = auditTime
        summary = RunSummary()
        summary.audit = AuditSummary()
        summary.policyName = policy?.name
    }

    private enum Line: Decodable {
        case record(RecordLine)
        case summary(SummaryLine)
        case other

        enum Key: String, CodingKey { case type }

        init(from decoder: any Decoder) throws {
            let type = try decoder.container(keyedBy: Key.self).decodeIfPresent(String.self, forKey: .type)
            switch type {
            case "tls": self = .record(try RecordLine(from: decoder))
            case "summary": self = .summary(try SummaryLine(from: decoder))
            default: self = .other
            }
        }
    }

    /// Adds one line (without its newline). Blank lines are skipped.
    public mutating func add(line: Data, number: Int) throws(RecordReadError) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
        let parsed: Line
        do {
            parsed = try decoder.decode(Line.self, from: line)
        } catch {
            throw RecordReadError(line: number, reason: Self.describe(error))
        }
        switch parsed {
        case .record(var record):
            if let policy { record.rejudge(policy: policy, now: auditTime) }
            summary.add(record)
            records += 1
            recordsSinceSummary += 1
        case .summary(let line):
            summaries += 1
            if recordsSinceSummary > 0 {
                summary.merge(line.runCounters)
            } else {
                var whole = line.summary
                if policy != nil {
                    summariesNotRejudged += 1
                    whole.policyName = nil
                }
                if whole.audit == nil { whole.audit = AuditSummary() }
                let policyName = summary.policyName
                summary.merge(whole)
                summary.policyName = policyName ?? whole.policyName
            }
            recordsSinceSummary = 0
        case .other:
            otherLines += 1
        }
    }

    /// Ends one input: its records and summaries do not pair with the next input's.
    public mutating func endOfInput() {
        recordsSinceSummary = 0
    }

    /// One line for the error message: what was wrong and where, without Foundation's debug dump.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : " at " + keys.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "malformed value" + path(context)
        case .keyNotFound(let key, let context): return "missing key \(key.stringValue)" + path(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type" + path(context)
        @unknown default: return "not a record"
        }
    }
}
