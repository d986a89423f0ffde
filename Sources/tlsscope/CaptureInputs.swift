import ArgumentParser
import Foundation

/// The captures to read: files as arguments or with -r (as tcpdump and tshark take them).
struct CaptureInputs: ParsableArguments {
    @Option(name: .customShort("r"), help: ArgumentHelp(
        "Read this capture file, as with tcpdump -r (may be repeated; the same as naming it).", valueName: "FILE"))
    var read: [String] = []

    @Argument(help: "Capture files (pcap or pcapng), or directories of them (read recursively, in name order); - reads standard input.")
    var pcaps: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only frames captured at or after this time (as --now takes it: 2026-01-31T09:00:00Z, 2026-01-31, seconds since 1970, now).",
        valueName: "TIME"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only frames captured before this time (as --since).", valueName: "TIME"))
    var until: String?

    /// The paths in the order given: -r ones first.
    var files: [String] { read + pcaps }

    /// `--since`/`--until` as capture-time bounds in nanoseconds (nil: every frame).
    func timeWindow() throws -> TimeWindow? {
        guard since != nil || until != nil else { return nil }
        func bound(_ text: String?, _ option: String) throws -> Int64? {
            guard let text else { return nil }
            guard let seconds = Audit.parseTime(text) else {
                throw ValidationError("\(option) \(text): not a valid time; give an RFC 3339 time (2026-01-31T09:00:00Z), a date (2026-01-31), seconds since 1970 or now")
            }
            return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? nil : seconds * 1_000_000_000
        }
        let window = TimeWindow(since: try bound(since, "--since"), until: try bound(until, "--until"))
        if let from = window.since, let to = window.until, from >= to {
            throw ValidationError("--since must be before --until")
        }
        return window
    }

    /// The names a directory's capture files end with.
    static let captureSuffixes = [".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz", ".pcap.zst", ".pcapng.zst"]

    /// `files` with each directory replaced by the capture files under it, recursively, sorted by path
    /// (rotated captures named by time come out in time order); hidden entries are skipped. A directory
    /// without any capture file is an error (exit 2), as a missing file is.
    func expandedFiles() throws -> [String] {
        var result: [String] = []
        for path in files {
            var isDirectory: ObjCBool = false
            guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                result.append(path)
                continue
            }
            var found: [String] = []
            if let walker = FileManager.default.enumerator(atPath: path) {
                while let relative = walker.nextObject() as? String {
                    let name = (relative as NSString).lastPathComponent
                    if name.hasPrefix(".") {
                        walker.skipDescendants()
                        continue
                    }
                    guard Self.captureSuffixes.contains(where: { name.lowercased().hasSuffix($0) }) else { continue }
                    let full = (path as NSString).appendingPathComponent(relative)
                    var entryIsDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue {
                        found.append(full)
                    }
                }
            }
            guard !found.isEmpty else {
                FileHandleStandardError.write(
                    "tlsscope: \(path): a directory with no capture files (\(Self.captureSuffixes.joined(separator: ", ")))\n")
                throw ExitStatus.inputUnusable
            }
            result += found.sorted()
        }
        return result
    }

    func validate(allowInterface: Bool) throws {
        if files.isEmpty {
            throw ValidationError(
                allowInterface
                    ? "name at least one capture file (or - for standard input), or --interface IFACE"
                    : "name at least one capture file (or - for standard input)")
        }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        _ = try timeWindow()
    }
}

/// The frames a run reads, by capture time (editcap -A/-B): since ≤ t < until, nanoseconds since 1970.
struct TimeWindow: Equatable {
    var since: Int64?
    var until: Int64?

    func contains(_ time: Int64) -> Bool {
        (since.map { time >= $0 } ?? true) && (until.map { time < $0 } ?? true)
    }
}
