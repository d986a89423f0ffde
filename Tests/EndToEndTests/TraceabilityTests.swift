import Foundation
import Testing

/// The keys that trace a record back to the capture and join it with other tools' logs — `source`,
/// `frames`, `packets`, `bytes`, `community_id` — checked against independent readers of the same captures:
/// tshark's frame numbers and endpoints, and Corelight's `communityid` package (PyPI, in the tests' venv).
@Suite struct TraceabilityTests {
    struct Frame {
        var endpoints: Set<String>
        var transport: String
    }

    /// Every frame of a capture as tshark numbers it: its two endpoints ("ip port") and transport.
    static func tsharkFrames(_ capture: URL) throws -> [Int: Frame] {
        let tshark = try #require(FingerprintAgreementTests.tshark)
        let fields = [
            "frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport",
            "udp.dstport",
        ]
        // The innermost addresses and ports (tunnels carry two of each): the last occurrence.
        let data = try Harness.runTool(
            tshark, ["-n", "-r", capture.path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l"]
                + fields.flatMap { ["-e", $0] }
        ).stdout
        var frames: [Int: Frame] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let column = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard column.count == fields.count, let number = Int(column[0]) else { continue }
            let source = column[1].isEmpty ? column[2] : column[1]
            let destination = column[3].isEmpty ? column[4] : column[3]
            let isTCP = !column[5].isEmpty
            let ports = isTCP ? (column[5], column[6]) : (column[7], column[8])
            frames[number] = Frame(
                endpoints: [source + " " + ports.0, destination + " " + ports.1], transport: isTCP ? "tcp" : "udp")
        }
        return frames
    }

    static func records(_ capture: URL) throws -> [[String: Any]] {
        let result = try Harness.run(["analyze", "--format", "ndjson", capture.path])
        return try result.stdoutText.split(separator: "\n").compactMap {
            try Harness.jsonObject(Data($0.utf8)) as? [String: Any]
        }
    }

    static func endpoints(of record: [String: Any]) -> Set<String> {
        [
            "\(record["client_ip"] ?? "") \(record["client_port"] ?? "")",
            "\(record["server_ip"] ?? "") \(record["server_port"] ?? "")",
        ]
    }

    /// The first and last frame of every record are packets of its connection in tshark's numbering, and
    /// `packets` counts the frames of its 5-tuple between them (both directions).
    @Test(
        .enabled(if: FingerprintAgreementTests.tshark != nil, "tshark is not installed"),
        arguments: Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") })
    func framesAgreeWithTshark(_ name: String) throws {
        let capture = Harness.pcaps.appendingPathComponent(name)
        let records = try Self.records(capture)
        let frames = try Self.tsharkFrames(capture)
        for record in records {
            let span = try #require(record["frames"] as? [String: Int], "\(name): no frames")
            let first = try #require(span["first"]), last = try #require(span["last"])
            let want = Self.endpoints(of: record)
            #expect(record["source"] as? String == capture.path)
            #expect(frames[first]?.endpoints == want, "\(name): frame \(first) is not \(want)")
            #expect(frames[last]?.endpoints == want, "\(name): frame \(last) is not \(want)")
            let between = (first...last).filter { frames[$0]?.endpoints == want && frames[$0]?.transport == record["transport"] as? String }
            #expect(record["packets"] as? Int == between.count, "\(name): \(want) frames \(first)…\(last)")
            #expect((record["bytes"] as? Int ?? -1) >= 0)
        }
    }

    /// The tests' venv python when Corelight's communityid package is installed in it.
    static let communityIDPython: String? = {
        guard let python = QUICPeers.python,
            (try? TLSServer.runQuietly(python, ["-c", "import communityid"], timeout: 20)) == 0
        else { return nil }
        return python
    }()

    /// `community_id` equals Corelight's implementation for every record of every fixture (IPv4 and IPv6,
    /// TCP and UDP).
    @Test(.enabled(if: communityIDPython != nil, "the tests' venv has no communityid (scripts/aioquic-venv installs it)"))
    func communityIDAgreesWithCorelight() throws {
        let python = try #require(Self.communityIDPython)
        var tuples: [[String: Any]] = []
        for name in Harness.fixtureCaptures() where !name.hasPrefix("truncated") {
            for record in try Self.records(Harness.pcaps.appendingPathComponent(name)) {
                tuples.append(record)
            }
        }
        // Two tuples of other families written by hand, beside the fixtures' loopback ones.
        tuples.append([
            "transport": "tcp", "client_ip": "128.232.110.120", "client_port": 34855, "server_ip": "66.35.250.204",
            "server_port": 80, "community_id": "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
        ])
        #expect(tuples.count > 50)
        let script = """
            import communityid, json, sys
            c = communityid.CommunityID()
            for line in sys.stdin:
                r = json.loads(line)
                make = communityid.FlowTuple.make_tcp if r["transport"] == "tcp" else communityid.FlowTuple.make_udp
                print(c.calc(make(r["client_ip"], r["server_ip"], r["client_port"], r["server_port"])))
            """
        let input = try tuples.map {
            String(decoding: try JSONSerialization.data(withJSONObject: [
                "transport": $0["transport"] ?? "", "client_ip": $0["client_ip"] ?? "", "client_port": $0["client_port"] ?? 0,
                "server_ip": $0["server_ip"] ?? "", "server_port": $0["server_port"] ?? 0,
            ]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        let run = try Harness.runTool(URL(fileURLWithPath: python), ["-c", script], stdin: Data(input.utf8))
        let expected = run.stdoutText.split(separator: "\n").map(String.init)
        #expect(run.status == 0)
        #expect(expected.count == tuples.count)
        var families: Set<String> = []
        for (tuple, want) in zip(tuples, expected) {
            #expect(tuple["community_id"] as? String == want, "\(tuple["client_ip"] ?? "") → \(tuple["server_ip"] ?? "")")
            families.insert("\(tuple["transport"] ?? "")/\((tuple["client_ip"] as? String ?? "").contains(":") ? 6 : 4)")
        }
        #expect(families.isSuperset(of: ["tcp/4", "udp/4"]), "\(families)")
    }
}
