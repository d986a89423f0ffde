import Foundation
import Testing

/// Builds classic pcap files in memory (LINKTYPE_RAW: frames are bare IPv4 packets).
struct PcapBuilder {
    var bytes: [UInt8] = []
    private var time: UInt32 = 1_700_000_000

    init(linkType: UInt32 = 101) {
        append32(0xa1b2_c3d4); append16(2); append16(4); append32(0); append32(0); append32(65535); append32(linkType)
    }

    mutating func append16(_ value: UInt16) { bytes += [UInt8(value & 0xff), UInt8(value >> 8)] }
    mutating func append32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(value >> UInt32(shift) & 0xff)) } }

    mutating func addFrame(_ frame: [UInt8]) {
        time += 1
        append32(time); append32(0); append32(UInt32(frame.count)); append32(UInt32(frame.count))
        bytes += frame
    }

    /// An IPv4/TCP packet; checksums left zero (tlsscope must not care).
    static func tcp(src: UInt32, dst: UInt32, sport: UInt16, dport: UInt16, seq: UInt32, flags: UInt8, payload: [UInt8]) -> [UInt8] {
        let total = 20 + 20 + payload.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8 & 0xff), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, 6, 0, 0]
        for value in [src, dst] { ip += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
        var tcp: [UInt8] = [UInt8(sport >> 8), UInt8(sport & 0xff), UInt8(dport >> 8), UInt8(dport & 0xff)]
        tcp += [UInt8(seq >> 24), UInt8(seq >> 16 & 0xff), UInt8(seq >> 8 & 0xff), UInt8(seq & 0xff)]
        tcp += [0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
        return ip + tcp + payload
    }
}

/// A seeded generator so a failing case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite struct HostileInputTests {
    /// Garbage and absurd lengths inside TCP streams: no crash, exit 0, valid NDJSON.
    @Test func garbageTCPPayloadsNeverCrash() throws {
        var rng = SplitMix64(state: 0x7175_6e63_6865)
        var pcap = PcapBuilder()
        let nasty: [[UInt8]] = [
            [0x16, 0x03, 0x01, 0xff, 0xff],  // record longer than the cap
            [0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0xff, 0xff, 0xff, 0, 0, 0, 0],  // handshake of 16 MB
            [0x16, 0x03, 0x03, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03],  // hello cut short
            [0x80, 0xff, 0x01, 0x03, 0x01, 0xff, 0xff, 0x00, 0x00, 0x00, 0x10],  // SSLv2 hello with absurd lengths
            [0x15, 0x03, 0x03, 0x00, 0x01, 0x02],  // odd-length alert
            [0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0xff, 0xff],  // heartbeat claiming 64 KB
            Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        ]
        for connection in 0..<200 {
            let client = UInt32(0x0a00_0000 + connection)
            let sport = UInt16(20000 + connection)
            var seq = UInt32.random(in: 0...UInt32.max, using: &rng)
            pcap.addFrame(PcapBuilder.tcp(src: client, dst: 0x0a01_0001, sport: sport, dport: 443, seq: seq, flags: 0x02, payload: []))
            seq &+= 1
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                var payload = nasty[Int.random(in: 0..<nasty.count, using: &rng)]
                let extra = Int.random(in: 0...300, using: &rng)
                payload += (0..<extra).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if Bool.random(using: &rng) { payload[Int.random(in: 0..<payload.count, using: &rng)] ^= 0xff }
                let fromClient = Bool.random(using: &rng)
                let frame = fromClient
                    ? PcapBuilder.tcp(src: client, dst: 0x0a01_0001, sport: sport, dport: 443, seq: seq, flags: 0x18, payload: payload)
                    : PcapBuilder.tcp(src: 0x0a01_0001, dst: client, sport: 443, dport: sport, seq: seq &+ 7, flags: 0x18, payload: payload)
                if fromClient { seq &+= UInt32(payload.count) }
                pcap.addFrame(frame)
            }
            // Truncated and nonsense IP headers between the connections.
            let junkLength = Int.random(in: 0...60, using: &rng)
            pcap.addFrame((0..<junkLength).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        let file = try CommandLineTests.temporaryFile("garbage.pcap", pcap.bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Harness.run(["analyze", "--format", "ndjson", "--summary", file.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdoutText.split(separator: "\n")
        for line in lines {
            _ = try Harness.jsonObject(Data(line.utf8))
        }
        let lastLine = try #require(lines.last)
        let summary = try #require(try Harness.jsonObject(Data(lastLine.utf8)) as? [String: Any])
        #expect(summary["packets"] as? Int ?? 0 > 200)
        #expect(summary["connections"] as? Int == 200)
    }

    /// A capture whose header is fine but whose first record claims more bytes than exist.
    @Test func recordPastTheEndIsDamageNotACrash() throws {
        var pcap = PcapBuilder()
        pcap.append32(1); pcap.append32(0); pcap.append32(60000); pcap.append32(60000)
        pcap.bytes += [0x45, 0x00]
        let file = try CommandLineTests.temporaryFile("short.pcap", pcap.bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Harness.run(["analyze", "--format", "ndjson", file.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
    }

    /// An empty file and a header-only file.
    @Test func emptyAndHeaderOnlyFiles() throws {
        let empty = try CommandLineTests.temporaryFile("empty.pcap", [])
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(try Harness.run(["analyze", empty.path]).status == 2)
        let headerOnly = try CommandLineTests.temporaryFile("header.pcap", PcapBuilder().bytes)
        defer { try? FileManager.default.removeItem(at: headerOnly) }
        let result = try Harness.run(["analyze", "--format", "ndjson", headerOnly.path])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }
}
