import Foundation
import PcapCapture
import Testing

/// pcapng Decryption Secrets Blocks (`editcap --inject-secrets tls,KEYS`): the TLS key log they carry is
/// read with the file, byte for byte, while the frames come out as from the file without it.
@Suite struct DecryptionSecretsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let editcap = ["/usr/bin/editcap", "/usr/local/bin/editcap"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: editcap != nil, "needs editcap (tshark's package: scripts/install-deps --test)"))
    func tlsKeyLogInSecretsBlock() throws {
        let name = "keylog-tls13-aes128gcm"
        let keys = Self.root.appendingPathComponent("keylog/\(name).keys")
        let pcap = Self.root.appendingPathComponent("pcap/\(name).pcap")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-dsb-\(UUID().uuidString).pcapng")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.editcap ?? "")
        process.arguments = ["--inject-secrets", "tls,\(keys.path)", pcap.path, output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        var withSecrets = try PcapSource(file: output.path)
        let read = drain(&withSecrets)
        #expect(read.error == nil)
        #expect(withSecrets.embeddedTLSKeyLog == Array(try Data(contentsOf: keys)))
        var plain = try PcapSource(file: pcap.path)
        #expect(drain(&plain).frames == read.frames)
        #expect(plain.embeddedTLSKeyLog.isEmpty)
    }

    /// A secrets block larger than the first read of a pcapng (64 KiB: a key log of a few hundred connections) is
    /// still there when the file is opened, before any frame is read (where `--keylog` looks for it).
    @Test(.enabled(if: editcap != nil, "needs editcap (tshark's package: scripts/install-deps --test)"))
    func aLargeSecretsBlockIsReadAtOpen() throws {
        let name = "keylog-tls13-aes128gcm"
        var keys = try String(contentsOf: Self.root.appendingPathComponent("keylog/\(name).keys"), encoding: .utf8)
        for index in 0..<600 {
            keys += "CLIENT_RANDOM " + String(format: "%064x", index) + " " + String(repeating: "ab", count: 48) + "\n"
        }
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-big-\(UUID().uuidString).keys")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-big-\(UUID().uuidString).pcapng")
        defer {
            try? FileManager.default.removeItem(at: keyFile)
            try? FileManager.default.removeItem(at: output)
        }
        try keys.write(to: keyFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.editcap ?? "")
        process.arguments = ["--inject-secrets", "tls,\(keyFile.path)", Self.root.appendingPathComponent("pcap/\(name).pcap").path, output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(keys.utf8.count > 64 * 1024)
        let opened = try PcapSource(file: output.path)
        let inBlocks = opened.readsInBlocks
        let secrets = opened.embeddedTLSKeyLog
        #expect(inBlocks)
        #expect(secrets == Array(keys.utf8))
    }
}
