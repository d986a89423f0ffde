import WireCursor

// Small reads shared by the message parsers. Each works inside the cursor it is given, so a list
// can never read past the length that introduced it.

extension ByteCursor {
    /// Throws `.malformed` unless every byte was consumed (a declared length that says more than its contents).
    @inlinable
    mutating func expectEnd(_ context: StaticString) throws(DecodeError) {
        guard isEmpty else { throw DecodeError(.malformed, at: position, context) }
    }

    /// Reads the rest as big-endian 16-bit values, each made into a `Value` (a registry code point),
    /// keeping at most `limit` (the rest is skipped, and `truncated` set); an odd byte count is malformed.
    /// The array is reserved once and appended to: `init(unsafeUninitializedCapacity:)` and
    /// `init(repeating:count:)` allocate through a generic runtime call that looks the storage type up in the
    /// metadata cache (~800 instructions per list, four lists per hello), more than the appends cost.
    mutating func readUInt16s<Value>(
        _ context: StaticString, limit: Int = .max, truncated: inout Bool, as make: (UInt16) -> Value
    ) throws(DecodeError) -> [Value] {
        guard remaining % 2 == 0 else { throw DecodeError(.malformed, at: position, context) }
        let count = remaining / 2
        let kept = min(count, limit)
        let bytes = remainingBuffer
        var values: [Value] = []
        values.reserveCapacity(kept)
        // Indexing: 2 * index + 1 < 2 * kept <= bytes.count.
        for index in 0..<kept {
            values.append(make(UInt16(bytes[2 * index]) << 8 | UInt16(bytes[2 * index + 1])))
        }
        if kept < count { truncated = true }
        skipToEnd()
        return values
    }
}

/// Walks `Extension extensions<..2^16-1>` (RFC 8446 §4.2), keeping each extension raw in wire order
/// and offering its body to `decode`, which records what it understands and ignores what it cannot.
/// Past `limit` extensions the rest are still walked (the structure must hold) but neither kept nor
/// decoded, and `truncated` is set.
///
///     struct {
///         ExtensionType extension_type;
///         opaque extension_data<0..2^16-1>;
///     } Extension;
func readExtensions(
    _ block: inout ByteCursor, limit: Int, truncated: inout Bool, _ decode: (ExtensionType, ByteCursor) -> Void
) throws(DecodeError) -> [TLSExtension] {
    var walker = ExtensionWalker(block, limit: limit)
    while let next = try walker.next() { decode(next.type, next.body) }
    block = walker.block
    if walker.truncated { truncated = true }
    return walker.extensions
}

/// `readExtensions` as a walk its caller drives, without a closure: a hello decoding its extensions into
/// itself while it is being initialized had the closure capture it (two copies of the whole hello).
struct ExtensionWalker {
    private(set) var block: ByteCursor
    private let limit: Int
    /// The extensions walked so far, in wire order (the first `limit`).
    private(set) var extensions: [TLSExtension] = []
    /// More than `limit` extensions.
    private(set) var truncated = false

    init(_ block: ByteCursor, limit: Int) {
        self.block = block
        self.limit = limit
        extensions.reserveCapacity(min(limit, block.remaining / 4, 32))  // an extension takes 4 bytes at least
    }

    /// The next extension to decode, nil at the end of the block. Past `limit` the rest are walked (the
    /// structure must hold) but neither kept nor given.
    mutating func next() throws(DecodeError) -> (type: ExtensionType, body: ByteCursor)? {
        while !block.isEmpty {
            let type = ExtensionType(rawValue: try block.readUInt16("Extension.extension_type"))
            let body = try block.readLengthPrefixed16("Extension.extension_data")
            guard extensions.count < limit else {
                truncated = true
                continue
            }
            // Only the bodies read again later are kept (DTLS's connection_id): copying every body cost an
            // allocation per extension, a dozen per hello.
            extensions.append(
                type == .connectionID
                    ? TLSExtension(type: type, body: body.remainingBytes) : TLSExtension(type: type, length: body.remaining))
            return (type, body)
        }
        return nil
    }
}

/// Parses a standalone byte array with a fresh cursor (offsets relative to its start).
func parseBytes<T>(_ bytes: [UInt8], _ body: (inout ByteCursor) throws(DecodeError) -> T) -> T? {
    bytes.withUnsafeBytes { (buffer) -> T? in
        var cursor = ByteCursor(buffer)
        do throws(DecodeError) {
            return try body(&cursor)
        } catch {
            return nil
        }
    }
}
