/// Lowercase hexadecimal text, the one encoding every module uses for bytes (hashes, serials,
/// fingerprints, the JSON writer's `random` and `session_id`).
public enum Hex {
    /// The ASCII lowercase hex digit of the low four bits of `nibble`. Inlinable because the JSON writer
    /// calls it per byte on its hot path; a table lookup across modules would not be inlined.
    @inlinable
    public static func digit(_ nibble: UInt8) -> UInt8 {
        let value = nibble & 0x0f
        return value < 10 ? 0x30 &+ value : 0x57 &+ value
    }

    /// Appends two lowercase hex digits per byte to `out`.
    @inlinable
    public static func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(digit(byte >> 4))
            out.append(digit(byte))
        }
    }

    /// Lowercase hex of `bytes`, no separators ("" for none).
    public static func string<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// "0x" and four lowercase hex digits: how an unnamed 16-bit registry code point is written.
    public static func codePoint(_ value: UInt16) -> String {
        let bytes: [UInt8] = [
            0x30, 0x78, digit(UInt8(truncatingIfNeeded: value >> 12)), digit(UInt8(truncatingIfNeeded: value >> 8)),
            digit(UInt8(truncatingIfNeeded: value >> 4)), digit(UInt8(truncatingIfNeeded: value)),
        ]
        return String(decoding: bytes, as: UTF8.self)
    }
}
