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

    /// pcapng timestamps are 64 bits: a flow whose packets lie further apart than an Int64 of nanoseconds
    /// can hold (once libpcap's seconds are scaled) gets a record, not a trap.
    @Test func timestampsFurtherApartThanInt64DoNotTrap() throws {
        var file: [UInt8] = []
        func le16(_ value: UInt16) { file += [UInt8(value & 0xff), UInt8(value >> 8)] }
        func le32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { file.append(UInt8(value >> UInt32(shift) & 0xff)) } }
        // Section header block, then an interface (LINKTYPE_RAW) with nanosecond timestamps (if_tsresol 9).
        le32(0x0A0D_0D0A); le32(28); le32(0x1A2B_3C4D); le16(1); le16(0); le32(0xFFFF_FFFF); le32(0xFFFF_FFFF); le32(28)
        le32(1); le32(32); le16(101); le16(0); le32(65535); le16(9); le16(1); file += [9, 0, 0, 0]; le16(0); le16(0); le32(32)
        func packet(_ frame: [UInt8], nanoseconds: UInt64) {
            let padded = frame + [UInt8](repeating: 0, count: (4 - frame.count % 4) % 4)
            let length = UInt32(32 + padded.count)
            le32(6); le32(length); le32(0)
            le32(UInt32(nanoseconds >> 32)); le32(UInt32(nanoseconds & 0xFFFF_FFFF))
            le32(UInt32(frame.count)); le32(UInt32(frame.count))
            file += padded
            le32(length)
        }
        // A minimal ClientHello (TLS 1.2, one suite, no extensions) makes the flow a TLS connection.
        var hello: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 7, count: 32) + [0, 0, 2, 0x13, 0x01, 1, 0]
        hello = [0x01, 0, 0, UInt8(hello.count)] + hello
        let tlsRecord: [UInt8] = [0x16, 0x03, 0x01, 0, UInt8(hello.count)] + hello
        let client = PcapBuilder.tcp(src: 0x0A00_0001, dst: 0x0A00_0002, sport: 40000, dport: 443, seq: 1, flags: 0x18, payload: tlsRecord)
        let server = PcapBuilder.tcp(src: 0x0A00_0002, dst: 0x0A00_0001, sport: 443, dport: 40000, seq: 9, flags: 0x10, payload: [])
        // 9.2e9 s scales to just under Int64.max ns; 1.5e10 s wraps to about -3.4e18 ns.
        packet(client, nanoseconds: 9_200_000_000_000_000_000)
        packet(server, nanoseconds: 15_000_000_000_000_000_000)
        let path = try CommandLineTests.temporaryFile("far-apart.pcapng", file)
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try Harness.run(["analyze", "--format", "ndjson", path.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1)
        let record = try Harness.jsonObject(Data((lines.first ?? "").utf8)) as? [String: Any]
        #expect(record?["duration"] is Double)
        #expect((record?["ts"] as? String)?.hasSuffix("Z") == true)
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
