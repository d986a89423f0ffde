/// Why a unit of wire data could not be decoded.
///
/// Small and trivially copyable so that throwing it on the per-packet path costs a few
/// nanoseconds (typed throws, no boxing, no string building until `description` is asked for).
/// Equality looks only at `code`, as swift-asn1's errors do, so tests compare codes.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of defect: an open set of named codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: UInt8, Hashable, Sendable {
            case truncated, malformed, tooLarge, unsupported
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The input ended before a field it declared.
        public static let truncated = Code(.truncated)
        /// A field holds a value the format does not allow.
        public static let malformed = Code(.malformed)
        /// A length exceeds one of our caps (see each module's `Limits`).
        public static let tooLarge = Code(.tooLarge)
        /// Well-formed, but something this decoder does not handle.
        public static let unsupported = Code(.unsupported)

        public var description: String {
            switch backing {
            case .truncated: "truncated"
            case .malformed: "malformed"
            case .tooLarge: "too large"
            case .unsupported: "unsupported"
            }
        }
    }

    public var code: Code
    /// Byte offset of the defect within the unit being decoded.
    public var offset: Int
    /// What was being read, e.g. "ClientHello.cipher_suites".
    public var context: StaticString

    @inlinable
    public init(_ code: Code, at offset: Int, _ context: StaticString) {
        self.code = code
        self.offset = offset
        self.context = context
    }

    public static func == (lhs: DecodeError, rhs: DecodeError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(code) \(context) at offset \(offset)" }
}
