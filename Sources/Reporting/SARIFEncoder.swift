import HandshakeAnalysis
import TLSAudit

/// `audit --format sarif`: the audit as a SARIF 2.1.0 log (OASIS), the format code-scanning views of CI
/// systems (GitHub, GitLab, Azure DevOps) import. One rule per finding id tlsscope knows (its summary, the
/// remediation as help, a `security-severity` score for ranking); one result per server and finding id,
/// at the capture file and frame where that server was first seen, so a finding keeps its identity from
/// one run to the next (`partialFingerprints`).
enum SARIFEncoder {
    static let schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    static func encode(_ summary: RunSummary, tool version: String, failOn: Severity, into json: inout JSONWriter) {
        let rules = FindingCatalog.all
        var ruleIndex: [String: Int] = [:]
        for (index, rule) in rules.enumerated() { ruleIndex[rule.id] = index }
        json.beginObject()
        json.key("$schema"); json.string(schema)
        json.key("version"); json.string("2.1.0")
        json.key("runs"); json.beginArray()
        json.beginObject()
        json.key("tool"); json.beginObject()
        json.key("driver"); json.beginObject()
        json.key("name"); json.string("tlsscope")
        json.key("version"); json.string(version)
        json.key("semanticVersion"); json.string(version)
        json.key("rules"); json.beginArray()
        for rule in rules {
            json.beginObject()
            json.key("id"); json.string(rule.id)
            json.key("name"); json.string(ruleName(rule.id))
            json.key("shortDescription"); text(rule.summary, into: &json)
            json.key("help"); text(FindingCatalog.remediation(of: rule.id) ?? rule.summary, into: &json)
            json.key("defaultConfiguration"); json.beginObject()
            json.key("level"); json.string(level(rule.intermediate))
            json.endObject()
            json.key("properties"); json.beginObject()
            json.key("tags"); json.beginArray(); json.string("security"); json.string("tls"); json.endArray()
            json.key("security-severity"); json.string(securitySeverity(rule.intermediate))
            json.endObject()
            json.endObject()
        }
        json.endArray()
        json.endObject()  // driver
        json.endObject()  // tool
        json.key("invocations"); json.beginArray()
        json.beginObject()
        json.key("executionSuccessful"); json.bool(summary.errors.isEmpty)
        json.key("toolExecutionNotifications"); json.beginArray()
        for error in summary.errors {
            json.beginObject()
            json.key("level"); json.string("error")
            json.key("message"); text(error, into: &json)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        json.endArray()
        json.key("results"); json.beginArray()
        if let audit = summary.audit {
            for group in audit.servers {
                for tally in group.findings {
                    result(tally, group: group, ruleIndex: ruleIndex[tally.id], into: &json)
                }
            }
        }
        json.endArray()
        json.key("properties"); json.beginObject()
        json.key("policy"); json.string(summary.policyName)
        json.key("fail_on"); json.string(failOn.description)
        json.key("tls_connections"); json.int(summary.tlsConnections)
        json.endObject()
        json.endObject()  // run
        json.endArray()
        json.endObject()
    }

    private static func result(
        _ tally: AuditSummary.Tally, group: AuditSummary.Group<AuditSummary.Server>, ruleIndex: Int?,
        into json: inout JSONWriter
    ) {
        let server = AuditReportText.serverName(group.key)
        json.beginObject()
        json.key("ruleId"); json.string(tally.id)
        if let ruleIndex { json.key("ruleIndex"); json.int(ruleIndex) }
        json.key("level"); json.string(level(tally.severity))
        json.key("message"); text("\(server): \(tally.example)", into: &json)
        json.key("locations"); json.beginArray()
        json.beginObject()
        if let source = group.source {
            json.key("physicalLocation"); json.beginObject()
            json.key("artifactLocation"); json.beginObject()
            json.key("uri"); json.string(source == "-" ? "stdin" : source)
            json.endObject()
            json.endObject()
        }
        json.key("logicalLocations"); json.beginArray()
        json.beginObject()
        json.key("name"); json.string(server)
        json.key("kind"); json.string("server")
        json.endObject()
        json.endArray()
        json.endObject()
        json.endArray()
        json.key("partialFingerprints"); json.beginObject()
        json.key("tlsscopeServerFinding/v1")
        json.string("\(group.key.serverName ?? "")|\(group.key.address)|\(group.key.port)|\(tally.id)")
        json.endObject()
        json.key("properties"); json.beginObject()
        json.key("severity"); json.string(tally.severity.description)
        json.key("security-severity"); json.string(securitySeverity(tally.severity))
        json.key("connections"); json.int(tally.count)
        json.key("server_ip"); json.string(group.key.address)
        json.key("server_port"); json.int(group.key.port)
        json.key("server_name"); json.string(group.key.serverName)
        if let frame = group.frame { json.key("first_frame"); json.int(Int(clamping: frame)) }
        json.endObject()
        json.endObject()
    }

    private static func text(_ value: String, into json: inout JSONWriter) {
        json.beginObject()
        json.key("text"); json.string(value)
        json.endObject()
    }

    /// SARIF's levels: critical and high are errors, medium a warning, low and info notes.
    static func level(_ severity: Severity) -> String {
        switch severity {
        case .critical, .high: "error"
        case .medium: "warning"
        case .low, .info: "note"
        }
    }

    /// The CVSS-like score code-scanning views rank by (GitHub: ≥ 9 critical, ≥ 7 high, ≥ 4 medium).
    static func securitySeverity(_ severity: Severity) -> String {
        switch severity {
        case .critical: "9.5"
        case .high: "7.5"
        case .medium: "5.0"
        case .low: "3.0"
        case .info: "0.0"
        }
    }

    /// "cert-key-weak" → "CertKeyWeak" (SARIF's readable rule name).
    static func ruleName(_ id: String) -> String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
