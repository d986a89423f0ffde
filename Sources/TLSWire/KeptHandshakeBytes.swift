/// What a stream parser keeps of its direction, when asked, for a key log to open later (`--keylog`): each
/// cleartext handshake message whole (its 4-byte header first, in the order sent) and the first protected
/// records (TLS 1.2's Finished after ChangeCipherSpec; TLS 1.3's encrypted flight under application_data),
/// each with its 5-byte header, which is the AEAD's additional data. Bounded: `maxBytes` in all and
/// `maxProtectedRecords` records; what did not fit is said (`overCap`), not silently dropped.
public struct KeptHandshakeBytes: Sendable, Hashable {
    public struct ProtectedRecord: Sendable, Hashable {
        public var header: [UInt8]
        public var payload: [UInt8]
        public init(header: [UInt8], payload: [UInt8]) {
            self.header = header
            self.payload = payload
        }
        public var contentType: UInt8 { header.first ?? 0 }
        /// The whole body was captured (a gap or the capture's end can cut the last record kept).
        public var isComplete: Bool {
            header.count == 5 && payload.count == Int(header[3]) << 8 | Int(header[4])
        }
    }

    /// A TLS 1.3 server flight with a long chain spans a few 16 KiB records; a client's with a certificate too.
    public static let maxBytes = 128 * 1024
    /// The handshake's protected records come first; past these, only application data would follow.
    public static let maxProtectedRecords = 12

    public var messages: [[UInt8]] = []
    public var protectedRecords: [ProtectedRecord] = []
    private var budget = KeepingBudget(maxBytes: Self.maxBytes)
    /// Bytes held (messages, headers and payloads).
    public var byteCount: Int { budget.byteCount }
    /// Something was not kept for the caps.
    public var overCap: Bool { budget.overCap }

    public init() {}

    mutating func keep(message type: UInt8, body: UnsafeRawBufferPointer) {
        guard budget.take(4 + body.count) else { return }
        var message: [UInt8] = []
        message.reserveCapacity(4 + body.count)
        message.append(type)
        message.append(UInt8(truncatingIfNeeded: body.count >> 16))
        message.append(UInt8(truncatingIfNeeded: body.count >> 8))
        message.append(UInt8(truncatingIfNeeded: body.count))
        message.append(contentsOf: body)
        messages.append(message)
    }

    /// Starts a protected record of `length` bytes (its body arrives through `appendToRecord`); false when it
    /// does not fit.
    mutating func startRecord(header: UInt64, length: Int) -> Bool {
        guard protectedRecords.count < Self.maxProtectedRecords else {
            budget.overCap = true
            return false
        }
        guard budget.take(5 + length) else { return false }
        let bytes = (0..<5).map { UInt8(truncatingIfNeeded: header >> (8 * (4 - $0))) }
        var payload: [UInt8] = []
        payload.reserveCapacity(length)
        protectedRecords.append(ProtectedRecord(header: bytes, payload: payload))
        return true
    }

    mutating func appendToRecord(_ bytes: UnsafeRawBufferPointer) {
        guard !protectedRecords.isEmpty else { return }
        protectedRecords[protectedRecords.count - 1].payload.append(contentsOf: bytes)
    }
}

/// Bytes kept for a key log against a cap: what is taken, and whether something did not fit.
public struct KeepingBudget: Sendable, Hashable {
    public let maxBytes: Int
    public private(set) var byteCount = 0
    public var overCap = false

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Takes `count` bytes if they fit (else notes that something did not).
    public mutating func take(_ count: Int) -> Bool {
        guard byteCount + count <= maxBytes else {
            overCap = true
            return false
        }
        byteCount += count
        return true
    }
}
