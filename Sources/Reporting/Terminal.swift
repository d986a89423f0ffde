import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How the text format is laid out: the columns it may use and whether it may colour.
public struct TextLayout: Sendable, Equatable {
    /// Columns available (a terminal's width); nil: not a terminal, the table keeps its natural widths.
    public var width: Int?
    /// ANSI colours for severities and states.
    public var color: Bool
    /// csv and tsv: the columns (`--fields`).
    public var fields: RecordFields

    public init(width: Int? = nil, color: Bool = false, fields: RecordFields = .defaults) {
        self.width = width
        self.color = color
        self.fields = fields
    }

    /// For a report written to `descriptor`: its terminal's width (`COLUMNS` first, then the terminal
    /// itself) and colours unless `NO_COLOR` is set (no-color.org) or the terminal is dumb; plain when it
    /// is not a terminal.
    public static func forOutput(descriptor: Int32, environment: [String: String]) -> TextLayout {
        guard isatty(descriptor) == 1 else { return TextLayout() }
        var width: Int?
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            width = columns
        } else {
            var size = winsize()
            if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { width = Int(size.ws_col) }
        }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty || environment["TERM"] == "dumb"
        return TextLayout(width: width, color: !noColor)
    }
}

/// SGR sequences for the few things the text format colours.
enum ANSI {
    static let reset = "\u{1b}[0m"

    static func severity(_ name: String) -> String {
        switch name {
        case "critical": "\u{1b}[1;31m"
        case "high": "\u{1b}[31m"
        case "medium": "\u{1b}[33m"
        case "low": "\u{1b}[36m"
        default: "\u{1b}[2m"
        }
    }

    static func paint(_ text: String, _ code: String, when enabled: Bool) -> String {
        enabled && !text.isEmpty ? code + text + reset : text
    }
}

/// The progress line on standard error, shared with whatever writes to the same terminal: output written
/// through `writeAbove` goes above it (the line is erased, the output written, the line drawn again
/// below), so rows and progress never share a line and the progress stays at the bottom.
public final class StatusLine: Sendable {
    /// The line drawn now, if any.
    private let drawn = Mutex<String?>(nil)

    public init() {}

    /// Draws `text` as the status line (replacing the previous one).
    public func show(_ text: String) {
        drawn.withLock { drawn in
            Self.write(2, "\r\u{1b}[K" + text)
            drawn = text
        }
    }

    /// Erases the status line, if drawn.
    public func clear() {
        drawn.withLock { drawn in
            if drawn != nil { Self.write(2, "\r\u{1b}[K") }
            drawn = nil
        }
    }

    /// Writes `bytes` to `descriptor` above the status line. Returns false on a write error.
    func writeAbove(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        drawn.withLock { drawn in
            guard let text = drawn else { return Self.write(descriptor, bytes) }
            Self.write(2, "\r\u{1b}[K")
            let written = Self.write(descriptor, bytes)
            Self.write(2, text)
            return written
        }
    }

    @discardableResult
    private static func write(_ descriptor: Int32, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { write(descriptor, UnsafeRawBufferPointer($0)) }
    }

    private static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
