import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Lines of a file descriptor, read in 1 MiB blocks. A line longer than `maxLineBytes` is an error
/// (records are a few KB; a file that is not NDJSON at all must not be held whole in memory).
public struct LineReader {
    public enum Problem: Error, Sendable, CustomStringConvertible {
        case lineTooLong(line: Int, limit: Int)
        case readFailed(errno: Int32)
        public var description: String {
            switch self {
            case .lineTooLong(let line, let limit): "line \(line): longer than \(limit) bytes (not NDJSON records?)"
            case .readFailed(let code): "read failed: \(String(cString: strerror(code)))"
            }
        }
    }

    public static let maxLineBytes = 64 << 20
    private let descriptor: Int32
    private var block = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var pending = Data()
    private var atEnd = false
    /// The number of the line `next()` returned last (from 1).
    public private(set) var lineNumber = 0

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The next line without its newline; nil at the end of the input.
    public mutating func next() throws(Problem) -> Data? {
        while true {
            if start < end {
                let newline = block[start..<end].firstIndex(of: 0x0a)
                let stop = newline ?? end
                pending.append(contentsOf: block[start..<stop])
                start = newline.map { $0 + 1 } ?? end
                if pending.count > Self.maxLineBytes { throw .lineTooLong(line: lineNumber + 1, limit: Self.maxLineBytes) }
                if newline != nil { return take() }
            }
            if atEnd { return pending.isEmpty ? nil : take() }
            let count = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .readFailed(errno: errno)
            }
            (start, end) = (0, count)
            if count == 0 { atEnd = true }
        }
    }

    private mutating func take() -> Data {
        lineNumber += 1
        defer { pending = Data() }
        return pending
    }
}
