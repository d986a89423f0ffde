import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The `tlsscope` command: analyze capture files, monitor an interface, audit either.
@main
struct TLSScope: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "tlsscope",
        abstract: "Passive TLS handshake analyzer: one record per TLS connection on the wire.",
        discussion: """
            Examples:
              tlsscope analyze capture.pcapng
              tlsscope audit --policy modern --format sarif captures/*.pcap > tls.sarif
              tlsscope monitor -i eth0 -f 'tcp port 443'
              tlsscope report --policy modern records/*.ndjson

            Exit status: 0 success; 1 audit found something at or above --fail-on; 2 usage error, or an \
            input that cannot be opened or is not a capture; 3 a capture damaged or truncated part-way \
            (what came before is still reported). When several apply, the highest wins.

            Records, keys and formats: docs/output.md; findings and policies: docs/audit.md.
            """,
        version: version,
        subcommands: [Analyze.self, Monitor.self, Audit.self, Report.self]
    )

    /// The contract's exit statuses: usage errors are 2 (ArgumentParser's default would be 64).
    static func main() {
        // `tlsscope help NAME` for a NAME that is no subcommand: ArgumentParser would print the overview and
        // exit 0; a typo deserves exit 2.
        let arguments = Array(CommandLine.arguments.dropFirst())
        let subcommands = configuration.subcommands.map { $0._commandName } + ["help"]
        if arguments.count >= 2, arguments[0] == "help", !arguments[1].hasPrefix("-"), !subcommands.contains(arguments[1]) {
            FileHandleStandardError.write(
                "Error: no subcommand '\(arguments[1])'; the subcommands are \(subcommands.dropLast().joined(separator: ", "))\n")
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitStatus {
            Glibc.exit(exit.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            FileHandleStandardError.write(message.hasSuffix("\n") ? message : message + "\n")
            Glibc.exit(code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue)
        }
    }
}

/// Ends the command with a given status after the command has reported what went wrong.
struct ExitStatus: Error, Sendable {
    var code: Int32
    static let inputUnusable = ExitStatus(code: 2)
    static let inputDamaged = ExitStatus(code: 3)
    static let findingsAtOrAboveThreshold = ExitStatus(code: 1)
}

/// One line to standard error, unbuffered.
enum FileHandleStandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let written = Glibc.write(2, base + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
