import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Secrets exported by an endpoint in the NSS key log format (`SSLKEYLOGFILE`: browsers, curl, OpenSSL's
/// `-keylogfile`, Go, rustls): one `LABEL <client_random hex> <secret hex>` per line, `#` comments. Lines
/// are matched to connections by the ClientHello's random. A malformed line is reported with its number
/// and skipped, never fatal (a key log is often appended to by several programs at once).
public struct KeyLog: Sendable {
    /// The labels of the format (NSS's list; TLS 1.2 and older log `CLIENT_RANDOM` with the master secret).
    public enum Label: String, Sendable, CaseIterable {
        case clientRandom = "CLIENT_RANDOM"
        case clientEarlyTrafficSecret = "CLIENT_EARLY_TRAFFIC_SECRET"
        case clientHandshakeTrafficSecret = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
        case serverHandshakeTrafficSecret = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
        case clientTrafficSecret0 = "CLIENT_TRAFFIC_SECRET_0"
        case serverTrafficSecret0 = "SERVER_TRAFFIC_SECRET_0"
        case earlyExporterSecret = "EARLY_EXPORTER_SECRET"
        case exporterSecret = "EXPORTER_SECRET"
    }

    /// Where secrets came from: a key log file (`--keylog`) or a pcapng Decryption Secrets Block.
    public enum Source: String, Sendable, Hashable {
        case keylog
        case pcapng
    }

    /// What the log holds for one connection, by label.
    public struct Secrets: Sendable, Hashable {
        public private(set) var values: [Label: [UInt8]] = [:]
        /// Where the first of them came from.
        public internal(set) var source: Source = .keylog
        public subscript(label: Label) -> [UInt8]? { values[label] }
        /// TLS 1.2 and older: the master secret (`CLIENT_RANDOM`).
        public var masterSecret: [UInt8]? { values[.clientRandom] }
        mutating func set(_ label: Label, _ secret: [UInt8]) { values[label] = secret }
        init(source: Source) { self.source = source }
    }

    /// A line that was skipped, and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Problems kept to report (the count goes on past them).
    public static let maxProblemsKept = 100
    private var byClientRandom: [[UInt8]: Secrets] = [:]
    public private(set) var problems: [Problem] = []
    public private(set) var problemCount = 0

    /// Connections the log has secrets for.
    public var count: Int { byClientRandom.count }

    /// Where this log's lines came from.
    public let source: Source

    /// Parses the bytes of a key log file (or of a pcapng file's secrets blocks: `source`).
    public init(parsing bytes: some Collection<UInt8>, source: Source = .keylog) {
        self.source = source
        appendLines(bytes, firstLine: 1)
    }

    /// Parses more lines of the same log (a followed file's appended part); `firstLine` numbers the first.
    mutating func appendLines(_ bytes: some Collection<UInt8>, firstLine: Int) {
        var lineNumber = firstLine - 1
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            parse(line: Array(line), number: lineNumber)
        }
    }

    public init(source: Source = .keylog) {
        self.source = source
    }

    /// The secrets logged for the connection whose ClientHello carried `clientRandom`.
    public func secrets(clientRandom: [UInt8]) -> Secrets? { byClientRandom[clientRandom] }

    /// Adds secrets found elsewhere (a pcapng Decryption Secrets Block holds the same format).
    public mutating func merge(_ other: KeyLog) {
        for (random, secrets) in other.byClientRandom {
            // What a connection already has is kept (a key log file before the capture's own blocks).
            var merged = byClientRandom[random] ?? Secrets(source: secrets.source)
            for (label, value) in secrets.values where merged[label] == nil { merged.set(label, value) }
            byClientRandom[random] = merged
        }
        for problem in other.problems { note(problem) }
        problemCount += other.problemCount - other.problems.count
    }

    private mutating func parse(line: [UInt8], number: Int) {
        var fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d })
        if fields.isEmpty || fields[0].first == UInt8(ascii: "#") { return }
        guard let label = Label(rawValue: String(decoding: fields[0], as: UTF8.self)) else {
            note(Problem(line: number, reason: "unknown label \(String(decoding: fields[0].prefix(40), as: UTF8.self))"))
            return
        }
        guard fields.count == 3 else {
            note(Problem(line: number, reason: "\(label.rawValue) needs a client random and a secret"))
            return
        }
        fields.removeFirst()
        guard let random = Self.hex(fields[0]), random.count == 32 else {
            note(Problem(line: number, reason: "client random is not 32 bytes of hex"))
            return
        }
        guard let secret = Self.hex(fields[1]), (32...64).contains(secret.count) || (label == .clientRandom && secret.count == 48)
        else {
            note(Problem(line: number, reason: "secret is not 32 to 64 bytes of hex"))
            return
        }
        if label == .clientRandom && secret.count != 48 {
            note(Problem(line: number, reason: "CLIENT_RANDOM's master secret must be 48 bytes"))
            return
        }
        byClientRandom[random, default: Secrets(source: source)].set(label, secret)
    }

    private mutating func note(_ problem: Problem) {
        problemCount += 1
        if problems.count < Self.maxProblemsKept { problems.append(problem) }
    }

    /// Bytes from hex digits (either case); nil for an odd count or another character.
    static func hex(_ digits: some Collection<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let pending = high {
                bytes.append(pending << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}

/// A run's key log, shared by every session that looks a ClientHello up in it. Read once for capture files; for a
/// live capture it can follow its file (`following:`), as endpoints append to `SSLKEYLOGFILE` while their
/// connections are made: a client random not found yet makes it read what was appended since.
public final class SharedKeyLog: Sendable {
    private struct State {
        var log: KeyLog
        var followed: FollowedFile?
    }

    /// The file followed: how far it was read, and a last line not yet ended by a newline.
    private struct FollowedFile {
        let path: String
        var offset: Int
        var partial: [UInt8] = []
        var lines: Int
    }

    private let state: Mutex<State>
    /// The file is read again as it grows.
    public let follows: Bool

    public init(_ log: KeyLog) {
        state = Mutex(State(log: log))
        follows = false
    }

    /// A log read from `path` up to `offset` (its first `lines` lines), read on as the file grows.
    public init(_ log: KeyLog, following path: String, offset: Int, lines: Int) {
        state = Mutex(State(log: log, followed: FollowedFile(path: path, offset: offset, lines: lines)))
        follows = true
    }

    /// The log as it stands.
    public var log: KeyLog { state.withLock { $0.log } }

    /// The secrets for the connection whose ClientHello carried `clientRandom` (reading what was appended to a
    /// followed file first when they are not known yet).
    public func secrets(clientRandom: [UInt8]) -> KeyLog.Secrets? {
        state.withLock { state in
            if let found = state.log.secrets(clientRandom: clientRandom) { return found }
            guard state.followed != nil else { return nil }
            Self.readAppended(&state)
            return state.log.secrets(clientRandom: clientRandom)
        }
    }

    /// At most this much of a followed file is read per look-up (a log is ~200 bytes per connection).
    static let maxReadPerLookup = 4 << 20

    private static func readAppended(_ state: inout State) {
        guard var file = state.followed else { return }
        defer { state.followed = file }
        var info = stat()
        guard stat(file.path, &info) == 0 else { return }
        let size = Int(info.st_size)
        if size < file.offset {  // truncated or replaced: read it again from the start
            file.offset = 0
            file.partial = []
        }
        guard size > file.offset else { return }
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: min(size - file.offset, maxReadPerLookup))
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(file.offset)) }
        guard count > 0 else { return }
        file.offset += count
        let read = file.partial + bytes[0..<count]
        guard let lastNewline = read.lastIndex(of: UInt8(ascii: "\n")) else {
            file.partial = read
            return
        }
        file.partial = Array(read[(lastNewline + 1)...])
        state.log.appendLines(read[..<lastNewline], firstLine: file.lines + 1)
        file.lines += read[..<lastNewline].lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1
    }
}
