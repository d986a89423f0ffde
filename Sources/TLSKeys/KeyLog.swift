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

    /// What the log holds for one connection, by label.
    public struct Secrets: Sendable, Hashable {
        public private(set) var values: [Label: [UInt8]] = [:]
        public subscript(label: Label) -> [UInt8]? { values[label] }
        /// TLS 1.2 and older: the master secret (`CLIENT_RANDOM`).
        public var masterSecret: [UInt8]? { values[.clientRandom] }
        mutating func set(_ label: Label, _ secret: [UInt8]) { values[label] = secret }
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

    /// Parses the bytes of a key log file.
    public init(parsing bytes: some Collection<UInt8>) {
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            parse(line: Array(line), number: lineNumber)
        }
    }

    public init() {}

    /// The secrets logged for the connection whose ClientHello carried `clientRandom`.
    public func secrets(clientRandom: [UInt8]) -> Secrets? { byClientRandom[clientRandom] }

    /// Adds secrets found elsewhere (a pcapng Decryption Secrets Block holds the same format).
    public mutating func merge(_ other: KeyLog) {
        for (random, secrets) in other.byClientRandom {
            for (label, value) in secrets.values { byClientRandom[random, default: Secrets()].set(label, value) }
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
        byClientRandom[random, default: Secrets()].set(label, secret)
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
