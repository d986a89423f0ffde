import ArgumentParser
import Foundation
import HandshakeAnalysis
import PcapCapture
import TLSKeys

/// `--keylog` and `--show-secrets`: secrets to open handshakes with (analyze, audit, monitor).
struct KeyLogOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A key log (NSS format: SSLKEYLOGFILE, openssl -keylogfile): handshakes it has secrets for are opened, their Finished checked (the record's keys), and TLS 1.3's certificates and ALPN read. Secrets in pcapng Decryption Secrets Blocks are used as well. Live, the file is followed as endpoints append to it.",
        valueName: "FILE"))
    var keylog: String?

    @Flag(name: .long, help: "List the secrets themselves in each record's keys (sensitive: they decrypt the traffic).")
    var showSecrets = false

    /// Key log lines named on stderr before the rest are only counted.
    static let problemsShown = 5

    /// Reads `--keylog` and the secrets blocks of `files` (regular pcapng files; a pipe is not read twice) into
    /// the options. A key log that cannot be read is exit 2; malformed lines are named on stderr and skipped.
    /// `follow` (live capture): the file is read on as endpoints append to it, and may start empty.
    func apply(to options: inout AnalysisOptions, files: [String] = [], quiet: Bool = false, follow: Bool = false) throws {
        options.showSecrets = showSecrets
        var log = KeyLog()
        var read = 0
        var lines = 0
        if let keylog {
            guard var bytes = Audit.readFile(keylog) else {
                FileHandleStandardError.write("tlsscope: \(keylog): cannot read the key log: \(String(cString: strerror(errno)))\n")
                throw ExitStatus.inputUnusable
            }
            if follow {
                // Lines up to the last newline; a line being written is read with what follows it.
                bytes = Array(bytes[..<(bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)])
                read = bytes.count
                lines = bytes.lazy.filter { $0 == UInt8(ascii: "\n") }.count
            }
            log = KeyLog(parsing: bytes, source: .keylog)
            if !quiet { Self.warn(about: log, named: keylog) }
            if log.count == 0 && !follow {
                FileHandleStandardError.write("tlsscope: \(keylog): warning: no secrets in the key log\n")
            }
        }
        // Only pcapng carries secrets: a classic pcap file is not opened a second time for them.
        for path in files where path != "-" && !PcapSource.isStream(path: path) && !PcapSource.isClassicPcap(path: path) {
            let secrets: [UInt8]
            do {
                secrets = try PcapSource(file: path).embeddedTLSKeyLog
            } catch {
                continue  // the run reports it
            }
            guard !secrets.isEmpty else { continue }
            let embedded = KeyLog(parsing: secrets, source: .pcapng)
            if !quiet { Self.warn(about: embedded, named: path + " (secrets block)") }
            log.merge(embedded)
        }
        if let keylog, follow {
            options.keyLog = SharedKeyLog(log, following: keylog, offset: read, lines: lines)
        } else if keylog != nil || log.count > 0 {
            options.keyLog = SharedKeyLog(log)
        }
    }

    private static func warn(about log: KeyLog, named name: String) {
        for problem in log.problems.prefix(problemsShown) {
            FileHandleStandardError.write("tlsscope: \(name): \(problem) (skipped)\n")
        }
        if log.problemCount > problemsShown {
            FileHandleStandardError.write("tlsscope: \(name): \(log.problemCount - problemsShown) more malformed lines skipped\n")
        }
    }
}
