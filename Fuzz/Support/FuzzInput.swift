import CFuzzDriver
import Glibc

/// Reads the choices a fuzz input makes (split points, flags, counts) off its front; once the bytes run
/// out every read answers 0, so any input is a valid program for a target.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    public var remaining: Int { bytes.count - position }
    public var isEmpty: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// The next `count` bytes (fewer at the end of the input).
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let length = max(0, min(count, remaining))
        defer { position += length }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
    }

    /// Everything not yet read.
    public mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }
}

/// A broken invariant: libFuzzer treats the abort as a crash and saves the input.
public func fuzzFailure(_ message: String) -> Never {
    let text = Array(("fuzz invariant broken: " + message + "\n").utf8)
    _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    abort()
}

/// Runs libFuzzer over `test`. SwiftPM links an executable with `main` aliased to `<module>_main`, so each
/// target defines that symbol and hands over here; libFuzzer's own main is not used.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, test)
}
