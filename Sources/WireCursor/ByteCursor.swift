/// A bounds-checked reader over borrowed bytes.
///
/// Every read checks `end - cursorPosition >= n` first and throws `DecodeError(.truncated)` instead of
/// reading past the window, so no wire value is ever an unchecked index. Each nested length gets
/// its own sub-cursor (`readCursor(count:)`), so an inner length can never read past an outer one.
/// The cursor borrows its bytes: it must not outlive the `withUnsafeBytes` scope it was made in.
@frozen
public struct ByteCursor {
    @usableFromInline let base: UnsafeRawBufferPointer
    /// Absolute offset of the next byte to read, within `base`.
    @usableFromInline var cursorPosition: Int
    /// Absolute offset of the next byte to read (for error offsets and diagnostics).
    @inlinable public var position: Int { cursorPosition }
    /// Absolute offset one past the last byte this cursor may read.
    public let end: Int

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.base = bytes
        self.cursorPosition = 0
        self.end = bytes.count
    }

    @inlinable
    init(base: UnsafeRawBufferPointer, position: Int, end: Int) {
        self.base = base
        self.cursorPosition = position
        self.end = end
    }

    /// Bytes left to read.
    @inlinable public var remaining: Int { end - cursorPosition }
    @inlinable public var isEmpty: Bool { cursorPosition >= end }

    @inlinable @inline(__always)
    public mutating func readUInt8(_ context: StaticString = "uint8") throws(DecodeError) -> UInt8 {
        guard end - cursorPosition >= 1 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = base.load(fromByteOffset: cursorPosition, as: UInt8.self)
        cursorPosition += 1
        return value
    }

    @inlinable @inline(__always)
    public mutating func readUInt16(_ context: StaticString = "uint16") throws(DecodeError) -> UInt16 {
        guard end - cursorPosition >= 2 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = UInt16(base[cursorPosition]) << 8 | UInt16(base[cursorPosition + 1])
        cursorPosition += 2
        return value
    }

    @inlinable @inline(__always)
    public mutating func readUInt24(_ context: StaticString = "uint24") throws(DecodeError) -> UInt32 {
        guard end - cursorPosition >= 3 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = UInt32(base[cursorPosition]) << 16 | UInt32(base[cursorPosition + 1]) << 8 | UInt32(base[cursorPosition + 2])
        cursorPosition += 3
        return value
    }

    @inlinable @inline(__always)
    public mutating func readUInt32(_ context: StaticString = "uint32") throws(DecodeError) -> UInt32 {
        guard end - cursorPosition >= 4 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = UInt32(base[cursorPosition]) << 24 | UInt32(base[cursorPosition + 1]) << 16
            | UInt32(base[cursorPosition + 2]) << 8 | UInt32(base[cursorPosition + 3])
        cursorPosition += 4
        return value
    }

    /// Little-endian 16-bit read (BSD NULL link headers, pcap headers of the other byte order).
    @inlinable @inline(__always)
    public mutating func readUInt16LE(_ context: StaticString = "uint16le") throws(DecodeError) -> UInt16 {
        guard end - cursorPosition >= 2 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = UInt16(base[cursorPosition]) | UInt16(base[cursorPosition + 1]) << 8
        cursorPosition += 2
        return value
    }

    /// Little-endian 32-bit read.
    @inlinable @inline(__always)
    public mutating func readUInt32LE(_ context: StaticString = "uint32le") throws(DecodeError) -> UInt32 {
        guard end - cursorPosition >= 4 else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let value = UInt32(base[cursorPosition]) | UInt32(base[cursorPosition + 1]) << 8
            | UInt32(base[cursorPosition + 2]) << 16 | UInt32(base[cursorPosition + 3]) << 24
        cursorPosition += 4
        return value
    }

    /// Looks at the byte `offset` bytes ahead without moving; nil when it is past the end.
    @inlinable
    public func peekUInt8(at offset: Int = 0) -> UInt8? {
        guard offset >= 0, end - cursorPosition > offset else { return nil }
        return base[cursorPosition + offset]
    }

    /// Looks at the big-endian 16-bit value `offset` bytes ahead without moving.
    @inlinable
    public func peekUInt16(at offset: Int = 0) -> UInt16? {
        guard offset >= 0, end - cursorPosition >= offset + 2 else { return nil }
        return UInt16(base[cursorPosition + offset]) << 8 | UInt16(base[cursorPosition + offset + 1])
    }

    @inlinable @inline(__always)
    public mutating func skip(_ count: Int, _ context: StaticString = "skip") throws(DecodeError) {
        guard count >= 0, end - cursorPosition >= count else { throw DecodeError(.truncated, at: cursorPosition, context) }
        cursorPosition += count
    }

    /// Splits off the next `count` bytes as their own cursor and moves past them.
    @inlinable @inline(__always)
    public mutating func readCursor(count: Int, _ context: StaticString = "bytes") throws(DecodeError) -> ByteCursor {
        guard count >= 0, end - cursorPosition >= count else { throw DecodeError(.truncated, at: cursorPosition, context) }
        let sub = ByteCursor(base: base, position: cursorPosition, end: cursorPosition + count)
        cursorPosition += count
        return sub
    }

    /// Reads a 1-byte length, then that many bytes as a sub-cursor.
    @inlinable
    public mutating func readLengthPrefixed8(_ context: StaticString = "opaque<0..2^8-1>") throws(DecodeError) -> ByteCursor {
        var copy = self  // a failed read leaves the cursor where it was
        let length = Int(try copy.readUInt8(context))
        let sub = try copy.readCursor(count: length, context)
        self = copy
        return sub
    }

    /// Reads a 2-byte length, then that many bytes as a sub-cursor.
    @inlinable
    public mutating func readLengthPrefixed16(_ context: StaticString = "opaque<0..2^16-1>") throws(DecodeError) -> ByteCursor {
        var copy = self  // a failed read leaves the cursor where it was
        let length = Int(try copy.readUInt16(context))
        let sub = try copy.readCursor(count: length, context)
        self = copy
        return sub
    }

    /// Reads a 3-byte length, then that many bytes as a sub-cursor.
    @inlinable
    public mutating func readLengthPrefixed24(_ context: StaticString = "opaque<0..2^24-1>") throws(DecodeError) -> ByteCursor {
        var copy = self  // a failed read leaves the cursor where it was
        let length = Int(try copy.readUInt24(context))
        let sub = try copy.readCursor(count: length, context)
        self = copy
        return sub
    }

    /// Copies the next `count` bytes out (for values the caller keeps).
    @inlinable
    public mutating func readBytes(count: Int, _ context: StaticString = "bytes") throws(DecodeError) -> [UInt8] {
        let sub = try readCursor(count: count, context)
        return sub.remainingBytes
    }

    /// The bytes left, as a borrowed buffer (valid only inside the enclosing scope).
    @inlinable
    public var remainingBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: base[cursorPosition..<end])
    }

    /// A copy of the bytes left, without moving.
    @inlinable
    public var remainingBytes: [UInt8] { Array(remainingBuffer) }

    /// Moves to the end (the rest is not needed).
    @inlinable
    public mutating func skipToEnd() { cursorPosition = end }
}
