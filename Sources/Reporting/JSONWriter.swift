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
    /// The encoded output so far (a copy: `withBytes` reads it in place).
    public var bytes: [UInt8] {
        storage.withUnsafeBufferPointer { Array(UnsafeBufferPointer(rebasing: $0[0..<length])) }
    }
    /// Bytes of output so far.
    public var count: Int { length }
    /// Bytes the writer can hold before it grows (kept by `reset`).
    public var capacity: Int { storage.count }
    /// Indent nested values by two spaces per level and put a space after each colon.
    public var pretty: Bool

    // The output is written through a pointer into `storage`, which is always `capacity` bytes long (zeros
    // past `length`): an `Array.append` per byte or per piece (each checking uniqueness and capacity) was
    // about half of a record's encoding.
    private var storage: [UInt8]
    private var length = 0
    /// Open containers: `depth` of them; bit i of `elementBits` (level i < 64, else `deepLevels[i - 64]`)
    /// is true once that container holds an element (the next one needs a comma).
    public private(set) var depth = 0
    private var elementBits: UInt64 = 0
    private var deepLevels: [Bool] = []
    // A key was just written: the next value follows it without a comma.
    private var afterKey = false

    /// - Parameters:
    ///   - pretty: indented, multi-line output.
    ///   - capacity: initial buffer capacity in bytes.
    public init(pretty: Bool = false, capacity: Int = 16_384) {
        self.pretty = pretty
        self.storage = [UInt8](repeating: 0, count: max(64, capacity))
    }

    /// Empties the output (keeping its capacity) and forgets any open containers.
    public mutating func reset() {
        length = 0
        depth = 0
        elementBits = 0
        deepLevels.removeAll(keepingCapacity: true)
        afterKey = false
    }

    /// Calls `body` with the output so far, in place.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    // MARK: Structure

    public mutating func beginObject() {
        prepareValue()
        appendByte(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        close(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        prepareValue()
        appendByte(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        close(UInt8(ascii: "]"))
    }

    /// Writes an object key from our static schema. The next call must write its value.
    public mutating func key(_ name: StaticString) {
        name.withUTF8Buffer { appendKey($0) }
    }

    /// Writes a dynamic object key (e.g. a version name in a summary map). Named apart from `key(_:)` so a
    /// literal key always takes the static path (a `String` overload would win for literals).
    public mutating func key(dynamic name: String) {
        Self.withUTF8(of: name) { appendKey($0) }
    }

    /// Appends a line feed (between NDJSON records). Use only between top-level values.
    public mutating func newline() {
        appendByte(UInt8(ascii: "\n"))
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        Self.withUTF8(of: value) { appendString($0, validate: false) }
    }

    /// Writes `value`, or `null` when it is nil.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes raw bytes as a JSON string. Invalid UTF-8 is replaced by U+FFFD (one per maximal invalid
    /// subsequence, as Swift's `String(decoding:as:)` does), so the output stays valid JSON.
    public mutating func string(bytes value: UnsafeRawBufferPointer) {
        appendString(value.assumingMemoryBound(to: UInt8.self), validate: true)
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
        appendDecimal(UInt64(value.magnitude), negative: value < 0)
    }

    public mutating func int(_ value: Int?) {
        if let value { int(value) } else { null() }
    }

    /// Writes any fixed-width integer (UInt16 ports, UInt64 counters, ...).
    public mutating func int<T: FixedWidthInteger>(_ value: T) {
        prepareValue()
        if let magnitude = UInt64(exactly: value.magnitude) {
            appendDecimal(magnitude, negative: value < 0)
        } else {
            if value < 0 { appendByte(UInt8(ascii: "-")) }
            appendPlain(String(value.magnitude))
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
            appendPlain(value.description)
            return
        }
        let units = UInt64(scaled)
        appendDecimal(units / scale, negative: value.sign == .minus && units != 0)
        guard digits > 0 else { return }
        var fraction = units % scale
        write(maximum: digits + 1) { out in
            out[0] = UInt8(ascii: ".")
            var position = digits
            while position > 0 {
                out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10)
                fraction /= 10
                position -= 1
            }
            return digits + 1
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
        appendPlain(value.description)
    }

    public mutating func bool(_ value: Bool) {
        prepareValue()
        appendStatic(value ? "true" : "false")
    }

    public mutating func bool(_ value: Bool?) {
        if let value { bool(value) } else { null() }
    }

    public mutating func null() {
        prepareValue()
        appendStatic("null")
    }

    /// Writes bytes as a string of lowercase hex digits, e.g. `"0a1b"`.
    public mutating func hexString(bytes value: UnsafeRawBufferPointer) {
        prepareValue()
        let count = value.count
        write(maximum: count * 2 + 2) { out in
            out[0] = UInt8(ascii: "\"")
            var index = 1
            var position = 0
            // Four bytes at a time into eight digits (a random and a session id per hello).
            if let base = value.baseAddress {
                while position &+ 4 <= count {
                    let word = UInt32(littleEndian: (base + position).loadUnaligned(as: UInt32.self))
                    UnsafeMutableRawPointer(out + index).storeBytes(
                        of: Self.hexDigits(of: word).littleEndian, as: UInt64.self)
                    position &+= 4
                    index &+= 8
                }
            }
            while position < count {
                let byte = value[position]
                out[index] = Self.hexDigit(byte >> 4)
                out[index + 1] = Self.hexDigit(byte & 0x0f)
                position += 1
                index += 2
            }
            out[index] = UInt8(ascii: "\"")
            return index + 1
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
        appendRaw(json)
    }

    /// `rawValue` from an array.
    public mutating func rawValue(_ json: [UInt8]) {
        prepareValue()
        json.withUnsafeBytes { appendRaw($0) }
    }

    /// Writes object members that are already encoded (`"a":1,"b":[]`, not checked) into the open object,
    /// e.g. a cached fragment. Compact output only: the fragment carries its own layout.
    public mutating func rawMembers(_ json: [UInt8]) {
        guard !json.isEmpty else { return }
        prepareElement()
        json.withUnsafeBytes { appendRaw($0) }
    }

    // MARK: Internals

    /// `text`'s UTF-8 read in place: `var copy = text; copy.withUTF8` copied the string (a retain and a release
    /// of its storage for every string of every record). Native strings are contiguous; others are copied.
    @inline(__always)
    private static func withUTF8(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable(body)
        if done == nil {
            var copy = text
            copy.withUTF8(body)
        }
    }

    /// Room for `maximum` more bytes, then `body` writes from the end of the output and returns how many it
    /// wrote (at most `maximum`).
    @inline(__always)
    private mutating func write(maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if storage.count &- length < maximum { grow(toHold: length + maximum) }
        let start = length
        let written = storage.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return body(base + start)
        }
        length = start &+ written
    }

    @inline(never)
    private mutating func grow(toHold needed: Int) {
        var newCount = max(storage.count, 64)
        while newCount < needed { newCount *= 2 }
        storage.append(contentsOf: repeatElement(0, count: newCount - storage.count))
    }

    @inline(__always)
    private mutating func appendByte(_ byte: UInt8) {
        write(maximum: 1) { out in
            out[0] = byte
            return 1
        }
    }

    @inline(__always)
    private mutating func appendRaw(_ source: UnsafeRawBufferPointer) {
        let count = source.count
        guard count > 0, let from = source.baseAddress else { return }
        write(maximum: count) { out in
            UnsafeMutableRawPointer(out).copyMemory(from: from, byteCount: count)
            return count
        }
    }

    private mutating func appendPlain(_ text: String) {
        Self.withUTF8(of: text) { appendRaw(UnsafeRawBufferPointer($0)) }
    }

    private mutating func appendStatic(_ text: StaticString) {
        text.withUTF8Buffer { appendRaw(UnsafeRawBufferPointer($0)) }
    }

    /// Opens a container one level deeper (no element yet).
    @inline(__always)
    private mutating func push() {
        if depth < 64 {
            elementBits &= ~(1 << UInt64(depth))
        } else {
            deepLevels.append(false)
        }
        depth += 1
    }

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
        guard depth > 0 else { return }
        if takeElementSlot() { appendByte(UInt8(ascii: ",")) }
        if pretty { indent(depth) }
    }

    /// Counts one more element in the open container; true when it needs a comma before it.
    @inline(__always)
    private mutating func takeElementSlot() -> Bool {
        guard depth > 0 else { return false }
        let level = depth - 1
        let hadElements: Bool
        if level < 64 {
            let bit: UInt64 = 1 << UInt64(level)
            hadElements = elementBits & bit != 0
            elementBits |= bit
        } else {
            hadElements = deepLevels[level - 64]
            deepLevels[level - 64] = true
        }
        return hadElements
    }

    @inline(__always)
    private mutating func finishKey() {
        if pretty {
            appendStatic(": ")
        } else {
            appendByte(UInt8(ascii: ":"))
        }
        afterKey = true
    }

    private mutating func close(_ bracket: UInt8) {
        afterKey = false
        // An unbalanced close is a programming error; it is ignored rather than trapping.
        guard depth > 0 else { return }
        depth -= 1
        let hadElements: Bool
        if depth < 64 {
            hadElements = elementBits & (1 << UInt64(depth)) != 0
        } else {
            hadElements = deepLevels.popLast() ?? false
        }
        if pretty && hadElements { indent(depth) }
        appendByte(bracket)
    }

    private mutating func indent(_ level: Int) {
        appendByte(UInt8(ascii: "\n"))
        for _ in 0..<(level * 2) { appendByte(UInt8(ascii: " ")) }
    }

    /// Writes the decimal digits of `value` (after a minus sign when `negative`) at once.
    @inline(__always)
    private mutating func appendDecimal(_ value: UInt64, negative: Bool) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let sign = negative ? 1 : 0
        write(maximum: digits + sign) { out in
            if negative { out[0] = UInt8(ascii: "-") }
            var rest = value
            var position = sign + digits - 1
            while position >= sign {
                out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                position -= 1
            }
            return digits + sign
        }
    }

    /// The eight lowercase hex digits of four bytes (the first byte in the low byte of `word`), first
    /// digit in the low byte of the result: each byte spread over 16 bits, split into nibbles, and every
    /// nibble turned into its digit at once ('0' + n, and 0x27 more from 10 up: n + 6 carries into bit 4).
    @inline(__always)
    static func hexDigits(of word: UInt32) -> UInt64 {
        var spread = UInt64(word)
        spread = (spread | spread << 16) & 0x0000_FFFF_0000_FFFF
        spread = (spread | spread << 8) & 0x00FF_00FF_00FF_00FF
        let nibbles = (spread >> 4) & 0x000F_000F_000F_000F | (spread & 0x000F_000F_000F_000F) << 8
        let letters = ((nibbles &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// The shared lowercase digit (inlinable, so the per-byte loop stays as tight as a local helper).
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { Hex.digit(nibble) }

    /// The index of the first byte of `input` that is not plain ASCII (a control byte, a quote, a
    /// backslash, or any byte ≥ 0x80, which `appendEscaped` checks), or `input.count`: eight bytes at a time.
    @inline(__always)
    private static func plainPrefix(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        let count = input.count
        guard let base = input.baseAddress else { return 0 }
        var index = 0
        while index &+ 8 <= count,
            !needsEscapeCheck(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
        {
            index &+= 8
        }
        while index < count {
            let byte = base[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5c || byte >= 0x80 { return index }
            index &+= 1
        }
        return count
    }

    /// Writes an object key. A plain one (most are) goes out with its comma, quotes and colon in one write.
    private mutating func appendKey(_ input: UnsafeBufferPointer<UInt8>) {
        guard !pretty, Self.isPlain(input) else {
            prepareElement()
            appendQuoted(input, validate: false)
            finishKey()
            return
        }
        appendPlainQuoted(input, comma: takeElementSlot(), colon: true)
        afterKey = true
    }

    /// Writes a string value. A plain one (most are) goes out with its comma and quotes in one write.
    private mutating func appendString(_ input: UnsafeBufferPointer<UInt8>, validate: Bool) {
        guard !pretty, Self.isPlain(input) else {
            prepareValue()
            appendQuoted(input, validate: validate)
            return
        }
        let comma: Bool
        if afterKey {
            afterKey = false
            comma = false
        } else {
            comma = takeElementSlot()
        }
        appendPlainQuoted(input, comma: comma, colon: false)
    }

    /// Whether no byte of `input` needs escaping. Up to 16 bytes (most keys and many values) it takes at
    /// most two word loads that stay inside the input, overlapping when it is shorter.
    @inline(__always)
    private static func isPlain(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = input.count
        guard count <= 16, count >= 4, let base = input.baseAddress else { return plainPrefix(input) == count }
        let raw = UnsafeRawPointer(base)
        if count >= 8 {
            return !needsEscapeCheck(raw.loadUnaligned(as: UInt64.self))
                && !needsEscapeCheck(raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        }
        let first = UInt64(raw.loadUnaligned(as: UInt32.self))
        let last = UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        return !needsEscapeCheck(first | last << 32)
    }

    /// Writes plain `input` quoted, after a comma when asked and before a colon when asked, in one write.
    /// Up to 16 bytes are copied with at most two word stores (overlapping when shorter), not a `memmove` call.
    @inline(__always)
    private mutating func appendPlainQuoted(_ input: UnsafeBufferPointer<UInt8>, comma: Bool, colon: Bool) {
        let count = input.count
        write(maximum: count + 4) { out in
            var position = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                position = 1
            }
            out[position] = UInt8(ascii: "\"")
            let target = UnsafeMutableRawPointer(out + position + 1)
            if let from = input.baseAddress {
                let source = UnsafeRawPointer(from)
                if count >= 8 && count <= 16 {
                    target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
                    target.storeBytes(
                        of: source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8,
                        as: UInt64.self)
                } else if count >= 4 && count < 8 {
                    target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
                    target.storeBytes(
                        of: source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4,
                        as: UInt32.self)
                } else if count > 0 {
                    target.copyMemory(from: source, byteCount: count)
                }
            }
            position += count + 1
            out[position] = UInt8(ascii: "\"")
            position += 1
            if colon {
                out[position] = UInt8(ascii: ":")
                position += 1
            }
            return position
        }
    }

    /// Writes `input` as a quoted JSON string, escaped where it needs it.
    private mutating func appendQuoted(_ input: UnsafeBufferPointer<UInt8>, validate: Bool) {
        appendByte(UInt8(ascii: "\""))
        appendEscaped(input, from: Self.plainPrefix(input), validate: validate)
        appendByte(UInt8(ascii: "\""))
    }

    /// Appends `input` with RFC 8259 escaping; unescaped runs are copied in bulk, from the start (the
    /// bytes before `from` are known to be plain). With `validate`, invalid UTF-8 is replaced by U+FFFD
    /// (EF BF BD); without it the input is trusted to be valid (Swift strings).
    private mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>, from plain: Int, validate: Bool) {
        let count = input.count
        var runStart = 0
        var index = plain
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
                appendStatic("\u{FFFD}")  // EF BF BD
                index += length
                runStart = index
                continue
            }
            flush(input, from: runStart, to: index)
            let escaped: UInt8
            switch byte {
            case 0x22: escaped = UInt8(ascii: "\"")
            case 0x5c: escaped = UInt8(ascii: "\\")
            case 0x08: escaped = UInt8(ascii: "b")
            case 0x0c: escaped = UInt8(ascii: "f")
            case 0x0a: escaped = UInt8(ascii: "n")
            case 0x0d: escaped = UInt8(ascii: "r")
            case 0x09: escaped = UInt8(ascii: "t")
            default: escaped = 0
            }
            write(maximum: 6) { out in
                out[0] = UInt8(ascii: "\\")
                if escaped != 0 {
                    out[1] = escaped
                    return 2
                }
                out[1] = UInt8(ascii: "u")
                out[2] = UInt8(ascii: "0")
                out[3] = UInt8(ascii: "0")
                out[4] = Self.hexDigit(byte >> 4)
                out[5] = Self.hexDigit(byte & 0x0f)
                return 6
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
            appendRaw(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[start..<end])))
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
