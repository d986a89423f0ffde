import ArgumentParser
import HandshakeAnalysis
import TLSAudit

/// What `audit` and `report` share: the severity that fails the run, how many servers the text report
/// details, and how the run ends (one stderr line and exit 1 when something reached `--fail-on`).
struct VerdictOptions: ParsableArguments {
    // Optional with the default in the help text: ArgumentParser shows a CaseIterable enum's default by
    // its raw value ("3").
    @Option(name: .customLong("fail-on"), help: ArgumentHelp(
        "Lowest severity that makes the exit status 1: info, low, medium, high, critical (default: high).",
        valueName: "SEVERITY"))
    var failOnOption: Severity?

    var failOn: Severity { failOnOption ?? .high }

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Text report: detail the N worst servers and client fingerprints (0: all).", valueName: "N"))
    var top: Int = 10

    func validate() throws {
        if top < 0 { throw ValidationError("--top takes 0 (all) or more, not \(top)") }
    }

    /// Ends the run: `status` if there is one (a worse exit wins), else exit 1 when a finding reached
    /// `--fail-on`, saying on stderr how many on how many servers (a CI log shows it next to the status).
    func finish(_ summary: RunSummary, status: ExitStatus?, policyName: String) throws {
        let failing = summary.audit?.count(atOrAbove: failOn) ?? (findings: 0, servers: 0)
        if failing.findings > 0 && status == nil {
            FileHandleStandardError.write(
                "tlsscope: \(failing.findings) \(failing.findings == 1 ? "finding" : "findings") at or above \(failOn) "
                    + "on \(failing.servers) \(failing.servers == 1 ? "server" : "servers") (policy \(policyName))\n")
        }
        if let status { throw status }
        if failing.findings > 0 { throw ExitStatus.findingsAtOrAboveThreshold }
    }
}
