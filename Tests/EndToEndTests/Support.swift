import Foundation
import Testing

/// Paths and a runner for the built `tlsscope` binary.
enum Harness {
    /// The package root, from this file's path (Tests/EndToEndTests/Support.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Fixtures")
    static let pcaps = fixtures.appendingPathComponent("pcap")
    static let expected = fixtures.appendingPathComponent("expected")
    /// ../shared beside the package (CI has it; a user's clone may not).
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let ja4Fixtures = shared.appendingPathComponent("fixtures/ja4")

    /// The tlsscope binary built next to the test bundle.
    static var binary: URL {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // The XCTest bundle on Linux is a file in the products directory; step out of a .xctest folder if any.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        let candidate = directory.appendingPathComponent("tlsscope")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return packageRoot.appendingPathComponent(".build/debug/tlsscope")
    }

    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs tlsscope with arguments (and optional standard input), waits, and collects its output.
    static func run(_ arguments: [String], stdin: Data? = nil) throws -> Result {
        try runTool(binary, arguments, stdin: stdin)
    }

    /// Runs any program (tshark, python, chromium, script) the same way: arguments, optional standard
    /// input and environment, both outputs collected concurrently.
    static func runTool(
        _ executable: URL, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if stdin != nil { process.standardInput = input } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        if let stdin {
            // Feed in the background so a large input cannot deadlock against full output pipes.
            let handle = input.fileHandleForWriting
            DispatchQueue.global().async {
                handle.write(stdin)
                try? handle.close()
            }
        }
        // Read both pipes concurrently for the same reason.
        final class Collected: @unchecked Sendable { var data = Data() }  // written once, read after wait()
        let errData = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Fixture captures, sorted.
    static func fixtureCaptures() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pcaps.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    static func jsonObject(_ data: Data) throws -> Any {
        try JSONSerialization.jsonObject(with: data, options: [])
    }
}
