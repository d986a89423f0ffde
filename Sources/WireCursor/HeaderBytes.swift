/// A fixed-size header taken from a `ByteCursor` with one bounds check, whose fields are then read at
/// constant offsets without a check each (gopacket's `DecodeFromBytes` reads its fixed headers the same
/// way: one length check, then direct loads).
///
/// The bytes were proven present when the header was taken; field offsets are constants of the format,
/// never values from the wire, and are still checked against `count` (the check folds away when the
/// header size is a constant, as it is at every call site).
@frozen
public struct HeaderBytes {
    @usableFromInline let base: UnsafeRawPointer
    /// Bytes in the header.
    public let count: Int

    @inlinable @inline(__always)
    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable @inline(__always)
    public func uint8(at offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < count, "header field outside the header")
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// Big-endian 16-bit field.
    @inlinable @inline(__always)
    public func uint16(at offset: Int) -> UInt16 {
        precondition(offset >= 0 && offset <= count - 2, "header field outside the header")
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// Big-endian 32-bit field.
    @inlinable @inline(__always)
    public func uint32(at offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset <= count - 4, "header field outside the header")
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Big-endian 64-bit field (an IPv6 address half).
    @inlinable @inline(__always)
    public func uint64(at offset: Int) -> UInt64 {
        precondition(offset >= 0 && offset <= count - 8, "header field outside the header")
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

extension ByteCursor {
    /// Takes the next `count` bytes as a fixed header (one bounds check) and moves past them.
    @inlinable @inline(__always)
    public mutating func readHeader(_ count: Int, _ context: StaticString) throws(DecodeError) -> HeaderBytes {
        guard count >= 0, end - cursorPosition >= count, let start = base.baseAddress else {
            throw DecodeError(.truncated, at: cursorPosition, context)
        }
        let header = HeaderBytes(base: start + cursorPosition, count: count)
        cursorPosition += count
        return header
    }
}
