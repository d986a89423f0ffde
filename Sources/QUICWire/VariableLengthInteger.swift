import WireCursor

extension ByteCursor {
    /// RFC 9000 §16 variable-length integer: the first byte's two top bits give its length (1, 2, 4 or 8
    /// bytes), the rest is the value, at most 2^62 - 1. A failed read leaves the cursor where it was.
    mutating func readQUICVarInt(_ context: StaticString) throws(DecodeError) -> UInt64 {
        guard let first = peekUInt8() else { throw DecodeError(.truncated, at: position, context) }
        switch first >> 6 {
        case 0: return UInt64(try readUInt8(context))
        case 1: return UInt64(try readUInt16(context) & 0x3fff)
        case 2: return UInt64(try readUInt32(context) & 0x3fff_ffff)
        default:
            var copy = self
            let high = try copy.readUInt32(context) & 0x3fff_ffff
            let low = try copy.readUInt32(context)
            self = copy
            return UInt64(high) << 32 | UInt64(low)
        }
    }

    /// A variable-length integer used as a length or offset: 62 bits always fit an `Int` on 64-bit.
    mutating func readQUICLength(_ context: StaticString) throws(DecodeError) -> Int {
        let value = try readQUICVarInt(context)
        guard let length = Int(exactly: value) else { throw DecodeError(.tooLarge, at: position, context) }
        return length
    }
}
