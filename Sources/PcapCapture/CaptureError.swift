/// Why an offline input could not be opened.
public enum OpenFailureReason: Sendable, Hashable {
    /// No such file or directory.
    case notFound
    /// The file exists but may not be read.
    case permissionDenied
    /// The bytes are not a pcap or pcapng capture libpcap can read (includes empty files and
    /// files cut inside their file header).
    case notACapture
    /// Any other failure to open or read the start of the input (a directory, an I/O error).
    case other
}

/// Every failure of `PcapSource`. The cases map onto the CLI exit statuses of the contract:
/// `cannotOpen` and the live-open cases are exit 2, `damaged` is exit 3.
public enum CaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input could not be opened, or is not a capture file.
    case cannotOpen(source: String, reason: OpenFailureReason, message: String)
    /// The capture is damaged or truncated part-way. Every frame that ends before `offset` was delivered;
    /// `offset` is the byte offset in the input at which the damaged record starts (the end of the last good
    /// record; see `PcapSource.bytesRead` for the one case where it is an estimate: pcapng on a pipe).
    case damaged(source: String, offset: Int64, message: String)
    /// The BPF expression did not compile or could not be installed.
    case invalidFilter(expression: String, message: String)
    /// Live capture: the interface does not exist.
    case noSuchDevice(interface: String, message: String)
    /// Live capture: the process lacks the privileges to capture (root or CAP_NET_RAW + CAP_NET_ADMIN).
    case permissionDenied(interface: String, message: String)
    /// Live capture: the interface is not up.
    case interfaceDown(interface: String, message: String)
    /// Live capture: any other failure to open or activate the interface.
    case liveOpenFailed(interface: String, message: String)
    /// Live capture: reading from an open interface failed (e.g. the interface went away).
    case readFailed(interface: String, message: String)
    /// `pcap_stats` failed (always the case for offline inputs).
    case statisticsUnavailable(message: String)

    /// One line naming the input and the reason, suitable for stderr.
    public var description: String {
        switch self {
        case .cannotOpen(let source, let reason, let message):
            let what: String
            switch reason {
            case .notFound: what = "no such file"
            case .permissionDenied: what = "permission denied"
            case .notACapture: what = "not a pcap or pcapng capture"
            case .other: what = "cannot open"
            }
            return "\(Self.displayName(source)): \(what) (\(message))"
        case .damaged(let source, let offset, let message):
            return "\(Self.displayName(source)): capture damaged or truncated at byte offset \(offset) (\(message))"
        case .invalidFilter(let expression, let message):
            return "invalid capture filter '\(expression)': \(message)"
        case .noSuchDevice(let interface, let message):
            return "\(interface): no such capture interface (\(message))"
        case .permissionDenied(let interface, let message):
            return "\(interface): permission denied: live capture needs root or the CAP_NET_RAW and CAP_NET_ADMIN "
                + "capabilities, e.g. `setcap cap_net_raw,cap_net_admin=eip tlsscope` (\(message))"
        case .interfaceDown(let interface, let message):
            return "\(interface): interface is not up (\(message))"
        case .liveOpenFailed(let interface, let message):
            return "\(interface): cannot start capture (\(message))"
        case .readFailed(let interface, let message):
            return "\(interface): capture read failed (\(message))"
        case .statisticsUnavailable(let message):
            return "capture statistics unavailable (\(message))"
        }
    }

    private static func displayName(_ source: String) -> String {
        source == "-" ? "<stdin>" : source
    }
}
