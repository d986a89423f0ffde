import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import Testing

/// Damaged copies of every capture recorded here (and of the peer captures when present): bytes
/// overwritten, runs of 0xff, cuts; pcapng packet timestamps set to any 64-bit value. Each copy goes
/// through the whole library path the CLI takes (capture, decoding, reassembly, TLS, completion, JSON
/// and text), in a debug build where any overflow or out-of-range index traps and fails the run. Every
/// record written must parse as JSON.
@Suite struct DamagedCaptureTests {
    static let sources: [URL] = {
        var directories = [Harness.pcaps]
        let peer = Harness.ja4Fixtures.appendingPathComponent("pcap")
        if FileManager.default.fileExists(atPath: peer.path) { directories.append(peer) }
        return directories.flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
                .map { directory.appendingPathComponent($0) }
        }
    }()

    @Test func damagedCapturesNeverTrap() throws {
        var generator = SplitMix64(state: 0x6d75_7461_7465)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-mutations-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var records = 0
        for round in 0..<300 {
            let source = Self.sources[Int(generator.next() % UInt64(Self.sources.count))]
            var bytes = [UInt8](try Data(contentsOf: source))
            guard bytes.count > 64 else { continue }
            if source.pathExtension == "pcapng", round % 3 == 0 {
                Self.scrambleTimestamps(&bytes, using: &generator)
            } else {
                Self.damage(&bytes, using: &generator)
            }
            let file = directory.appendingPathComponent("case-\(round).\(source.pathExtension)")
            try Data(bytes).write(to: file)
            records += try Self.analyze(file.path)
        }
        #expect(records > 100, "the damaged copies still carry TLS connections to report")
    }

    static func damage(_ bytes: inout [UInt8], using generator: inout SplitMix64) {
        for _ in 0..<[1, 2, 4, 8, 16, 64][Int(generator.next() % 6)] {
            // Mostly past the file header, so that most copies are still captures.
            let start = generator.next() % 5 == 0 ? 0 : 24
            let position = start + Int(generator.next() % UInt64(bytes.count - start))
            switch generator.next() % 4 {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            case 1: bytes[position] = [0x00, 0xff, 0x7f, 0x80][Int(generator.next() % 4)]
            case 2:
                for offset in position..<min(bytes.count, position + 1 + Int(generator.next() % 8)) { bytes[offset] = 0xff }
            default:
                bytes.removeSubrange(position..<min(bytes.count, position + 1 + Int(generator.next() % 64)))
            }
            if bytes.count <= 64 { return }
        }
    }

    /// Sets the timestamps of some enhanced packet blocks of a little-endian pcapng to arbitrary values.
    static func scrambleTimestamps(_ bytes: inout [UInt8], using generator: inout SplitMix64) {
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
        }
        var offset = 0
        while offset + 20 <= bytes.count {
            let length = u32(offset + 4)
            guard length >= 12, offset + length <= bytes.count else { return }
            if u32(offset) == 6, generator.next() % 2 == 0 {
                let value = [generator.next(), 0, .max, 1 << 63, generator.next() >> 24][Int(generator.next() % 5)]
                for index in 0..<4 {
                    bytes[offset + 12 + index] = UInt8(truncatingIfNeeded: value >> (32 + 8 * UInt64(index)))
                    bytes[offset + 16 + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
                }
            }
            offset += length
        }
    }

    /// The CLI's path through the library; returns how many records were written.
    static func analyze(_ path: String) throws -> Int {
        guard var source = try? PcapSource(file: path),
            let decoder = try? PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        else { return 0 }
        var analyzer = HandshakeAnalyzer()
        var json = JSONWriter()
        guard let discard = OutputFile.create(path: "/dev/null") else { return 0 }
        var text = ReportStream(format: .text, includeSummary: true, output: discard)
        text.begin()
        var written = 0
        func write(_ record: HandshakeRecord) {
            json.reset()
            RecordEncoder.encode(record, into: &json)
            #expect((try? JSONSerialization.jsonObject(with: Data(json.bytes))) != nil, "\(path)")
            text.write(record)
            written += 1
        }
        while case .frame(let frame)? = try? source.next() {
            analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder, emit: write)
        }
        analyzer.finish(emit: write)
        var summary = RunSummary()
        summary.add(analyzer.counters)
        json.reset()
        RecordEncoder.encode(summary, includeType: true, into: &json)
        text.end(summary: summary)
        return written
    }
}
