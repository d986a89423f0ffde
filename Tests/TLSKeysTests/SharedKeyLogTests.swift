import Foundation
import Testing

@testable import TLSKeys

/// A followed key log (live capture): lines appended after the start are found; a line still being written is
/// read once it ends; a file truncated and written again is read from its start.
@Suite struct SharedKeyLogTests {
    static func line(_ random: UInt8, _ secret: UInt8) -> String {
        "CLIENT_RANDOM " + String(repeating: String(format: "%02x", random), count: 32) + " "
            + String(repeating: String(format: "%02x", secret), count: 48) + "\n"
    }

    static func random(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    @Test func appendedLinesAreFound() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-follow-\(UUID().uuidString).keys")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = Self.line(1, 0xa1)
        try Data(first.utf8).write(to: url)
        let shared = SharedKeyLog(KeyLog(parsing: Array(first.utf8)), following: url.path, offset: first.utf8.count, lines: 1)
        #expect(shared.follows)
        #expect(shared.secrets(clientRandom: Self.random(1))?.masterSecret?.first == 0xa1)
        #expect(shared.secrets(clientRandom: Self.random(2)) == nil)

        // A second line, the first half of a third (being written), then its end.
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        let third = Self.line(3, 0xa3)
        try handle.write(contentsOf: Data((Self.line(2, 0xa2) + third.prefix(40)).utf8))
        #expect(shared.secrets(clientRandom: Self.random(2))?.masterSecret?.first == 0xa2)
        #expect(shared.secrets(clientRandom: Self.random(3)) == nil)
        try handle.write(contentsOf: Data(third.dropFirst(40).utf8) + Data("garbage line\n".utf8))
        try handle.close()
        #expect(shared.secrets(clientRandom: Self.random(3))?.masterSecret?.first == 0xa3)
        // The malformed line is numbered as the file's fourth.
        #expect(shared.log.problems.map(\.line) == [4])

        // Truncated and written again (a new session's log): read from the start.
        try Data(Self.line(9, 0xa9).utf8).write(to: url)
        #expect(shared.secrets(clientRandom: Self.random(9))?.masterSecret?.first == 0xa9)
        #expect(shared.secrets(clientRandom: Self.random(1))?.masterSecret?.first == 0xa1, "what was read stays known")
    }

    @Test func aLogReadOnceIsNotFollowed() {
        let shared = SharedKeyLog(KeyLog(parsing: Array(Self.line(1, 1).utf8)))
        #expect(!shared.follows)
        #expect(shared.secrets(clientRandom: Self.random(1)) != nil)
        #expect(shared.secrets(clientRandom: Self.random(2)) == nil)
    }
}
