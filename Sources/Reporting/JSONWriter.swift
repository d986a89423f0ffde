import TextFormatting

/// A streaming JSON writer that appends UTF-8 to a reused byte buffer.
///
/// Foundation's `JSONEncoder` is far too slow for thousands of multi-kilobyte records per second; this writer
/// formats in place and never allocates once its buffer has grown. Commas are inserted automatically:
///
/// ```swift
/// var json = JSONWriter()
/// json.beginObject()
/// json.key("server_name"); json.string(name)   // name: String? -> null when nil
/// json.key("ports"); json.beginArray(); json.int(443); json.endArray()
/// json.endObject(); json.newline()
/// handle.write(json.bytes); json.reset()
/// ```
///
/// Output is always valid JSON (RFC 8259) as long as calls are balanced: strings are escaped, raw bytes that
/// are not valid UTF-8 become U+FFFD, and non-finite doubles are written as `null`.
public struct JSONWriter {
    /// The encoded output so far.
    public private(set) var bytes: [UInt8]
    /// Indent nested values by two spaces per level and put a space after each colon.
    public var pretty: Bool

    // One entry per open container: true once it holds an element (the next one needs a comma).
    private var hasElements: [Bool]
    // A key was just written: the next value follows it without a comma.
    private var afterKey = false

    /// - Parameters:
    ///   - pretty: indented, multi-line output.
    ///   - capacity: initial buffer capacity in bytes.
    public init(pretty: Bool = false, capacity: Int = 16_384) {
        self.pretty = pretty
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
        self.hasElements = []
        self.hasElements.reserveCapacity(16)
    }

    /// Empties the output (keeping its capacity) and forgets any open containers.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        hasElements.removeAll(keepingCapacity: true)
        afterKey = false
    }

    /// Current nesting depth (0 between top-level values).
    public var depth: Int { hasElements.count }

    // MARK: Structure

    public mutating func beginObject() {
        prepareValue()
        bytes.append(UInt8(ascii: "{"))
        hasElements.append(false)
    }

    public mutating func endObject() {
        close(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        prepareValue()
        bytes.append(UInt8(ascii: "["))
        hasElements.append(false)
    }

    public mutating func endArray() {
        close(UInt8(ascii: "]"))
    }

    /// Writes an object key from our static schema. The next call must write its value.
    public mutating func key(_ name: StaticString) {
        prepareElement()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { appendEscaped($0, validate: false) }
        finishKey()
    }

    /// Writes a dynamic object key (e.g. a version name in a summary map). Named apart from `key(_:)` so a
    /// literal key always takes the static path (a `String` overload would win for literals).
    public mutating func key(dynamic name: String) {
        prepareElement()
        bytes.append(UInt8(ascii: "\""))
        var name = name
        name.withUTF8 { appendEscaped($0, validate: false) }
        finishKey()
    }

    /// Appends a line feed (between NDJSON records). Use only between top-level values.
    public mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        prepareValue()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { appendEscaped($0, validate: false) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes `value`, or `null` when it is nil.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes raw bytes as a JSON string. Invalid UTF-8 is replaced by U+FFFD (one per maximal invalid
    /// subsequence, as Swift's `String(decoding:as:)` does), so the output stays valid JSON.
    public mutating func string(bytes value: UnsafeRawBufferPointer) {
        prepareValue()
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(value.assumingMemoryBound(to: UInt8.self), validate: true)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes raw bytes as a JSON string (see `string(bytes:)` for an `UnsafeRawBufferPointer`).
    public mutating func string(bytes value: some Collection<UInt8>) {
        let done: Void? = value.withContiguousStorageIfAvailable { string(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(value).withUnsafeBytes { string(bytes: $0) }
        }
    }

    public mutating func int(_ value: Int) {
        prepareValue()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(value.magnitude))
    }

    public mutating func int(_ value: Int?) {
        if let value { int(value) } else { null() }
    }

    /// Writes any fixed-width integer (UInt16 ports, UInt64 counters, ...).
    public mutating func int<T: FixedWidthInteger>(_ value: T) {
        prepareValue()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        if let magnitude = UInt64(exactly: value.magnitude) {
            appendDecimal(magnitude)
        } else {
            bytes.append(contentsOf: String(value.magnitude).utf8)
        }
    }

    /// Writes `value` in fixed-point notation with exactly `fractionDigits` digits after the point (clamped to
    /// 0...9): no exponent, no locale, e.g. `0.250000`. Non-finite values are written as `null`.
    public mutating func double(_ value: Double, fractionDigits: Int) {
        guard value.isFinite else {
            null()
            return
        }
        prepareValue()
        let digits = min(max(fractionDigits, 0), 9)
        var scale: UInt64 = 1
        for _ in 0..<digits { scale &*= 10 }
        let scaled = (value.magnitude * Double(scale)).rounded(.toNearestOrEven)
        guard scaled < 9.0e18 else {
            // Beyond UInt64 (|value| ≥ ~9e9 with 9 digits): Swift's shortest form, which is valid JSON.
            bytes.append(contentsOf: value.description.utf8)
            return
        }
        let units = UInt64(scaled)
        if value.sign == .minus && units != 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(units / scale)
        if digits > 0 {
            bytes.append(UInt8(ascii: "."))
            var fraction = units % scale
            let start = bytes.count
            for _ in 0..<digits {
                bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10))
                fraction /= 10
            }
            bytes[start..<bytes.count].reverse()
        }
    }

    public mutating func double(_ value: Double?, fractionDigits: Int) {
        if let value { double(value, fractionDigits: fractionDigits) } else { null() }
    }

    /// Writes `value` in Swift's shortest round-trip form (may use an exponent). Non-finite values become `null`.
    public mutating func double(_ value: Double) {
        guard value.isFinite else {
            null()
            return
        }
        prepareValue()
        bytes.append(contentsOf: value.description.utf8)
    }

    public mutating func bool(_ value: Bool) {
        prepareValue()
        appendASCII(value ? "true" : "false")
    }

    public mutating func bool(_ value: Bool?) {
        if let value { bool(value) } else { null() }
    }

    public mutating func null() {
        prepareValue()
        appendASCII("null")
    }

    /// Writes bytes as a string of lowercase hex digits, e.g. `"0a1b"`.
    public mutating func hexString(bytes value: UnsafeRawBufferPointer) {
        prepareValue()
        // The digits go to a scratch buffer and are appended at once: two appends per byte (each checking
        // the array's uniqueness and capacity) were most of a record's randoms and session ids.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: value.count * 2 + 2) { digits in
            digits[0] = UInt8(ascii: "\"")
            var index = 1
            for byte in value {
                digits[index] = Self.hexDigit(byte >> 4)
                digits[index + 1] = Self.hexDigit(byte & 0x0f)
                index += 2
            }
            digits[index] = UInt8(ascii: "\"")
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[0...index]))
        }
    }

    /// Writes bytes as a string of lowercase hex digits, e.g. `"0a1b"`.
    public mutating func hexString(bytes value: some Collection<UInt8>) {
        let done: Void? = value.withContiguousStorageIfAvailable { hexString(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(value).withUnsafeBytes { hexString(bytes: $0) }
        }
    }

    /// Writes a value that is already encoded JSON (not checked), e.g. a cached fragment.
    public mutating func rawValue(_ json: UnsafeRawBufferPointer) {
        prepareValue()
        bytes.append(contentsOf: json)
    }

    /// `rawValue` from an array.
    public mutating func rawValue(_ json: [UInt8]) {
        prepareValue()
        bytes.append(contentsOf: json)
    }

    /// Writes object members that are already encoded (`"a":1,"b":[]`, not checked) into the open object,
    /// e.g. a cached fragment. Compact output only: the fragment carries its own layout.
    public mutating func rawMembers(_ json: [UInt8]) {
        guard !json.isEmpty else { return }
        prepareElement()
        bytes.append(contentsOf: json)
    }

    // MARK: Internals

    /// Comma and indentation before a value (or, via prepareElement, before a key).
    @inline(__always)
    private mutating func prepareValue() {
        if afterKey {
            afterKey = false
            return
        }
        prepareElement()
    }

    @inline(__always)
    private mutating func prepareElement() {
        guard let last = hasElements.indices.last else { return }
        if hasElements[last] {
            bytes.append(UInt8(ascii: ","))
        } else {
            hasElements[last] = true
        }
        if pretty { indent(hasElements.count) }
    }

    @inline(__always)
    private mutating func finishKey() {
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    private mutating func close(_ bracket: UInt8) {
        afterKey = false
        // An unbalanced close is a programming error; it is ignored rather than trapping.
        guard let hadElements = hasElements.popLast() else { return }
        if pretty && hadElements { indent(hasElements.count) }
        bytes.append(bracket)
    }

    private mutating func indent(_ level: Int) {
        bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<(level * 2) { bytes.append(UInt8(ascii: " ")) }
    }

    private mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendDecimal(_ value: UInt64) {
        let start = bytes.count
        var rest = value
        repeat {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        } while rest != 0
        bytes[start..<bytes.count].reverse()
    }

    /// The shared lowercase digit (inlinable, so the per-byte loop stays as tight as a local helper).
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { Hex.digit(nibble) }

    /// Appends `input` with RFC 8259 escaping; unescaped runs are copied in bulk. With `validate`, invalid
    /// UTF-8 is replaced by U+FFFD (EF BF BD); without it the input is trusted to be valid (Swift strings).
    private mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>, validate: Bool) {
        let count = input.count
        var runStart = 0
        var index = 0
        while index < count {
            // Most of a record is plain ASCII: skip it eight bytes at a time.
            if let base = input.baseAddress {
                while index &+ 8 <= count,
                    !Self.needsEscapeCheck(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                {
                    index &+= 8
                }
                if index >= count { break }
            }
            let byte = input[index]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5c && byte < 0x80 {
                index += 1
                continue
            }
            if byte >= 0x80 {
                guard validate else {
                    index += 1
                    continue
                }
                let (length, valid) = Self.utf8Sequence(input, at: index)
                if valid {
                    index += length
                    continue
                }
                flush(input, from: runStart, to: index)
                bytes.append(0xef)
                bytes.append(0xbf)
                bytes.append(0xbd)
                index += length
                runStart = index
                continue
            }
            flush(input, from: runStart, to: index)
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: bytes.append(UInt8(ascii: "\""))
            case 0x5c: bytes.append(UInt8(ascii: "\\"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0c: bytes.append(UInt8(ascii: "f"))
            case 0x0a: bytes.append(UInt8(ascii: "n"))
            case 0x0d: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0x0f))
            }
            index += 1
            runStart = index
        }
        flush(input, from: runStart, to: count)
    }

    /// Whether any of the eight bytes of `word` is a control byte (< 0x20), a quote, a backslash or not
    /// ASCII (SWAR: "has a byte less than n" and "has a zero byte" are exact as yes/no answers).
    @inline(__always)
    private static func needsEscapeCheck(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = hasZeroByte(word ^ (ones &* 0x22))
        let backslash = hasZeroByte(word ^ (ones &* 0x5C))
        return (word & highs) | control | quote | backslash != 0
    }

    private mutating func flush(_ input: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        if end > start {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]))
        }
    }

    /// The UTF-8 sequence starting at `index` (whose byte is ≥ 0x80): its length and whether it is valid.
    /// When invalid, the length is that of the maximal subpart to replace by one U+FFFD (Unicode §3.9, D93b).
    private static func utf8Sequence(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> (Int, Bool) {
        let lead = input[index]
        let needed: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xbf
        switch lead {
        case 0xc2...0xdf: needed = 1
        case 0xe0: needed = 2; low = 0xa0
        case 0xe1...0xec, 0xee...0xef: needed = 2
        case 0xed: needed = 2; high = 0x9f  // no UTF-16 surrogates
        case 0xf0: needed = 3; low = 0x90
        case 0xf1...0xf3: needed = 3
        case 0xf4: needed = 3; high = 0x8f  // nothing above U+10FFFF
        default: return (1, false)  // continuation byte, overlong lead C0/C1, or F5...FF
        }
        var position = index + 1
        for step in 0..<needed {
            guard position < input.count else { return (position - index, false) }
            let byte = input[position]
            let range: ClosedRange<UInt8> = step == 0 ? low...high : 0x80...0xbf
            guard range.contains(byte) else { return (position - index, false) }
            position += 1
        }
        return (position - index, true)
    }
}
