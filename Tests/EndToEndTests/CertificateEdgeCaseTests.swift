import Foundation
import Testing

/// Issue #9's certificate cases through the whole tool: one hand-built TLS 1.2 connection per
/// certificate (raw IPv4 pcap: handshake, ClientHello, ServerHello + Certificate, FIN), read from
/// standard input. Before, the negative-serial certificate vanished (`certificates: []`), the
/// same-name-other-key certificates were self-signed, the own-key name variants were not, and the
/// explicit-curve key had no size (so no cert-key-weak).
@Suite struct CertificateEdgeCaseTests {
    static let der = Harness.fixtures.appendingPathComponent("der")

    /// A classic pcap (LINKTYPE_RAW) with one connection per certificate, client ports 40000, 40001...
    static func capture(_ certificates: [[UInt8]]) -> Data {
        func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
        func be24(_ value: Int) -> [UInt8] { [UInt8(value >> 16 & 0xff)] + be16(value) }
        func be32(_ value: Int) -> [UInt8] { be16(value >> 16) + be16(value) }
        func le32(_ value: Int) -> [UInt8] { be32(value).reversed() }
        func ipv4(_ source: UInt8, _ destination: UInt8, _ payload: [UInt8]) -> [UInt8] {
            [0x45, 0] + be16(20 + payload.count) + [0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, source, 10, 0, 0, destination]
                + payload
        }
        func tcp(_ from: Int, _ to: Int, _ seq: Int, _ ack: Int, _ flags: UInt8, _ data: [UInt8] = []) -> [UInt8] {
            be16(from) + be16(to) + be32(seq) + be32(ack) + [0x50, flags] + be16(65535) + [0, 0, 0, 0] + data
        }
        func record(_ body: [UInt8]) -> [UInt8] { [22, 3, 3] + be16(body.count) + body }
        func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type] + be24(body.count) + body }
        let clientHello = handshake(1, [3, 3] + [UInt8](repeating: 0x11, count: 32) + [0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 0])
        let serverHello = handshake(
            2, [3, 3] + [UInt8](repeating: 0x22, count: 32) + [0, 0xc0, 0x2f, 0, 0, 5, 0xff, 0x01, 0, 1, 0])
        var packets: [[UInt8]] = []
        for (index, certificate) in certificates.enumerated() {
            let port = 40_000 + index
            let list = be24(certificate.count) + certificate
            let clientBytes = record(clientHello)
            let serverBytes = record(serverHello + handshake(11, be24(list.count) + list))
            let (client, server) = (1000, 5000)
            packets.append(ipv4(1, 2, tcp(port, 443, client, 0, 0x02)))
            packets.append(ipv4(2, 1, tcp(443, port, server, client + 1, 0x12)))
            packets.append(ipv4(1, 2, tcp(port, 443, client + 1, server + 1, 0x10)))
            packets.append(ipv4(1, 2, tcp(port, 443, client + 1, server + 1, 0x18, clientBytes)))
            let clientEnd = client + 1 + clientBytes.count
            var offset = 0
            while offset < serverBytes.count {
                let chunk = Array(serverBytes[offset..<min(offset + 1400, serverBytes.count)])
                packets.append(ipv4(2, 1, tcp(443, port, server + 1 + offset, clientEnd, 0x18, chunk)))
                offset += chunk.count
            }
            let serverEnd = server + 1 + serverBytes.count
            packets.append(ipv4(1, 2, tcp(port, 443, clientEnd, serverEnd, 0x11)))
            packets.append(ipv4(2, 1, tcp(443, port, serverEnd, clientEnd + 1, 0x11)))
        }
        var file: [UInt8] = le32(0xa1b2_c3d4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(65535) + le32(101)
        for (index, packet) in packets.enumerated() {
            file += le32(1_796_300_000 + index) + le32(0) + le32(packet.count) + le32(packet.count) + packet
        }
        return Data(file)
    }

    @Test func certificatesAreSummarisedAndJudged() throws {
        let names = [
            "negative-serial.der", "dsa-name-collision-not-self-signed.der", "rsa-pss-name-collision-not-self-signed.der",
            "ed448-self-signed-name-variant.der", "ec-explicit-secp160r1.der", "ml-dsa-44.der",
        ]
        let certificates = try names.map { Array(try Data(contentsOf: Self.der.appendingPathComponent($0))) }
        let result = try Harness.run(["analyze", "--format", "ndjson", "-"], stdin: Self.capture(certificates))
        #expect(result.status == 0, "\(result.stderr)")
        var byPort: [Int: [String: Any]] = [:]
        for line in result.stdoutText.split(separator: "\n") {
            guard let record = try Harness.jsonObject(Data(line.utf8)) as? [String: Any],
                record["type"] as? String == "tls", let port = record["client_port"] as? Int
            else { continue }
            byPort[port] = record
        }
        try #require(byPort.count == names.count, "\(result.stdoutText)")
        func leaf(_ index: Int) -> [String: Any]? {
            (byPort[40_000 + index]?["certificates"] as? [[String: Any]])?.first
        }
        func findingIDs(_ index: Int) -> [String] {
            (byPort[40_000 + index]?["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        #expect(leaf(0)?["serial"] as? String == "-1234")
        #expect(findingIDs(0).contains("cert-self-signed"))
        #expect(leaf(1)?["self_signed"] as? Bool == false)
        #expect(leaf(2)?["self_signed"] as? Bool == false)
        #expect(!findingIDs(1).contains("cert-self-signed") && !findingIDs(2).contains("cert-self-signed"))
        #expect(leaf(3)?["self_signed"] as? Bool == true)
        #expect(leaf(4)?["curve"] as? String == "explicit")
        #expect(leaf(4)?["key_bits"] as? Int == 161)
        #expect(findingIDs(4).contains("cert-key-weak"))
        #expect(leaf(5)?["key_type"] as? String == "ML-DSA-44")
    }
}
