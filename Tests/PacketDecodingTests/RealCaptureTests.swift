import Foundation
import PacketDecoding
import FlowTracking
import TCPReassembly
import Testing

/// Third-party captures kept beside the project (`../shared/fixtures/ja4/pcap`, see its README);
/// from a worktree the shared folder sits one level further up.
let captureDirectory: URL? = {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    for shared in ["../shared", "../../shared"] {
        let directory = root.appendingPathComponent(shared).appendingPathComponent("fixtures/ja4/pcap").standardized
        if FileManager.default.fileExists(atPath: directory.path) { return directory }
    }
    return nil
}()

/// One frame of a classic pcap file.
struct PcapRecord {
    var timestamp: Int64
    var bytes: [UInt8]
}

/// Minimal classic-pcap reader for tests (either byte order, micro- or nanosecond timestamps).
func readPcap(_ url: URL) throws -> (linkType: LinkType, records: [PcapRecord]) {
    let data = [UInt8](try Data(contentsOf: url))
    func u32(_ offset: Int, _ littleEndian: Bool) -> UInt32 {
        let b = data[offset..<offset + 4].map(UInt32.init)
        return littleEndian ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[3] | b[2] << 8 | b[1] << 16 | b[0] << 24
    }
    let magic = u32(0, true)
    let littleEndian = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D
    let nanoseconds = magic == 0xA1B2_3C4D || magic == 0x4D3C_B2A1
    let linkType = LinkType(rawValue: Int32(bitPattern: u32(20, littleEndian) & 0x0FFF_FFFF))
    var records: [PcapRecord] = []
    var offset = 24
    while offset + 16 <= data.count {
        let seconds = Int64(u32(offset, littleEndian))
        let fraction = Int64(u32(offset + 4, littleEndian))
        let length = Int(u32(offset + 8, littleEndian))
        guard offset + 16 + length <= data.count else { break }
        records.append(PcapRecord(
            timestamp: seconds * 1_000_000_000 + fraction * (nanoseconds ? 1 : 1000),
            bytes: Array(data[offset + 16..<offset + 16 + length])))
        offset += 16 + length
    }
    return (linkType, records)
}

/// Per capture: frames, TCP segments and payload bytes, UDP datagrams and payload bytes, as tshark 4 counts them
/// (`tshark -r F -Y tcp -T fields -e tcp.len`, and `-Y "udp && !icmp && !icmpv6"`).
private let expectations: [(String, Int, Int, Int, Int, Int)] = [
    ("CVE-2018-6794", 33, 33, 5007, 0, 0),
    ("badcurveball", 12, 12, 2320, 0, 0),
    ("https-connect", 18, 18, 4400, 0, 0),
    ("https3-301-get", 23, 23, 4838, 0, 0),
    ("macos_tcp_flags", 43, 43, 10577, 0, 0),
    ("single-packets", 9, 9, 5818, 0, 0),
    ("socks-https-example", 93, 93, 26760, 0, 0),
    ("socks4-https", 16, 16, 6822, 0, 0),
    ("tls-alpn-h2", 9, 9, 3047, 0, 0),  // BSD NULL link type, IPv6
    ("tls12", 1, 1, 517, 0, 0),
    ("v6", 161, 62, 4626, 50, 8029),
    // Tunnels: tshark's innermost TCP; UDP without the VXLAN/GENEVE carriers and the ICMP-quoted datagrams.
    ("gre-erspan-vxlan", 7, 7, 57, 0, 0),  // IPv4 GRE ERSPAN-II Ethernet IPv4 UDP VXLAN Ethernet IPv4 TCP
    ("gre-sample", 40, 22, 2623, 8, 354),  // IPv4 GRE IPv4
    ("tcpdump-geneve", 39, 33, 4396, 0, 0),  // IPv4 UDP GENEVE Ethernet IPv4
]

/// Remembers the first bytes each direction delivered.
private struct FirstBytesConsumer: TCPStreamConsumer {
    let start: FlowStart
    var initiatorBytes: [UInt8] = []
    var gaps = 0
    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        if direction == .fromInitiator, initiatorBytes.count < 16 { initiatorBytes += bytes.prefix(16) }
        return .keepCollecting
    }
    mutating func gap(direction: FlowDirection, offset: Int64, length: Int?, timestamp: Int64) { gaps += 1 }
    mutating func resetIgnored(direction: FlowDirection, timestamp: Int64) {}
}

@Test(.enabled(if: captureDirectory != nil, "../shared/fixtures not found"), arguments: expectations.indices)
func realCaptureMatchesTshark(_ index: Int) throws {
    let (name, frames, tcpSegments, tcpBytes, udpDatagrams, udpBytes) = expectations[index]
    let directory = try #require(captureDirectory)
    let capture = try readPcap(directory.appendingPathComponent(name + ".pcap"))
    #expect(capture.records.count == frames)
    let decoder = try PacketDecoder(linkType: capture.linkType)
    var counts = (tcp: 0, tcpBytes: 0, udp: 0, udpBytes: 0, errors: 0)
    var reassembler = TCPReassembler<FirstBytesConsumer>()
    var finished: [FirstBytesConsumer] = []
    for record in capture.records {
        record.bytes.withUnsafeBytes { frame in
            let packet: DecodedPacket?
            do { packet = try decoder.decode(frame) } catch {
                counts.errors += 1
                return
            }
            guard let packet else { return }
            let payload = UnsafeRawBufferPointer(
                rebasing: frame[packet.payloadOffset..<packet.payloadOffset + packet.payloadLength])
            switch packet.transport {
            case .tcp:
                counts.tcp += 1
                counts.tcpBytes += packet.payloadLength
                reassembler.process(packet, payload: payload, timestamp: record.timestamp,
                                    makeConsumer: { FirstBytesConsumer(start: $0) },
                                    finished: { consumer, _ in finished.append(consumer) })
            case .udp:
                counts.udp += 1
                counts.udpBytes += packet.payloadLength
            }
        }
    }
    reassembler.finishAll { consumer, _ in finished.append(consumer) }
    #expect(counts.errors == 0, "\(name)")
    #expect(counts.tcp == tcpSegments && counts.tcpBytes == tcpBytes, "\(name)")
    #expect(counts.udp == udpDatagrams && counts.udpBytes == udpBytes, "\(name)")
    #expect(reassembler.flowCount == 0 && reassembler.statistics.bufferedBytes == 0)
    // Every flow to port 443 that sent something starts with a TLS handshake record.
    let tlsFlows = finished.filter { $0.start.responderPort == 443 && !$0.initiatorBytes.isEmpty }
    if ["badcurveball", "https3-301-get", "macos_tcp_flags", "tls-alpn-h2", "tls12"].contains(name) {
        #expect(!tlsFlows.isEmpty, "\(name)")
    }
    for flow in tlsFlows {
        #expect(flow.initiatorBytes.first == 0x16, "\(name): \(flow.start.initiatorAddress) → 443")
    }
}

/// The inner TCP connections of the tunnel captures, as tshark lists them
/// (`tshark -r F -Y tcp -T fields -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport`, innermost addresses),
/// with the number of segments in each direction.
private let tunnelledConnections: [(String, [String: Int])] = [
    ("gre-erspan-vxlan", ["10.16.27.12:65174 > 10.16.27.131:80": 4, "10.16.27.131:80 > 10.16.27.12:65174": 3]),
    ("gre-sample", ["66.59.111.190:40264 > 172.28.2.3:22": 12, "172.28.2.3:22 > 66.59.111.190:40264": 10]),
    ("tcpdump-geneve", ["30.0.0.2:51225 > 30.0.0.1:22": 17, "30.0.0.1:22 > 30.0.0.2:51225": 16]),
]

@Test(.enabled(if: captureDirectory != nil, "../shared/fixtures not found"), arguments: tunnelledConnections.indices)
func tunnelCapturesYieldTheInnerConnections(_ index: Int) throws {
    let (name, expected) = tunnelledConnections[index]
    let directory = try #require(captureDirectory)
    let capture = try readPcap(directory.appendingPathComponent(name + ".pcap"))
    let decoder = try PacketDecoder(linkType: capture.linkType)
    var found: [String: Int] = [:]
    for record in capture.records {
        let packet = try record.bytes.withUnsafeBytes { (frame) throws in try decoder.decode(frame) }
        guard let packet, packet.transport == .tcp else { continue }
        let key = "\(packet.source):\(packet.sourcePort) > \(packet.destination):\(packet.destinationPort)"
        found[key, default: 0] += 1
    }
    #expect(found == expected, "\(name)")
}

/// Ways to put a captured Ethernet frame into a tunnel, as a mirroring or overlay network would deliver it.
/// MPLS, PPPoE and IP-in-IP rewrite only IP frames and leave the others (ARP...) as they are.
private let rewrappings: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
    ("GRE ERSPAN II", { overIPv4(47, Frame.gre(0x88BE, sequence: true) + Frame.erspanII + $0) }),
    ("GRE ERSPAN II VXLAN", {
        let vxlan = Frame.outerUDP(sourcePort: 4789, destinationPort: 4790, Frame.vxlan() + $0)
        return overIPv4(47, Frame.gre(0x88BE, sequence: true) + Frame.erspanII + overIPv4(17, vxlan))
    }),
    ("VXLAN in IPv6", {
        let vxlan = Frame.outerUDP(destinationPort: 4789, Frame.vxlan() + $0)
        return Frame.ethernet(etherType: 0x86DD) + Frame.outerIPv6(17, vxlan)
    }),
    ("GENEVE", { overIPv4(17, Frame.outerUDP(destinationPort: 6081, Frame.geneve(optionWords: 2) + $0)) }),
    ("MPLS", { frame in
        guard ipEtherType(frame) != nil else { return frame }
        return Array(frame[0..<12]) + Frame.be16(0x8847) + Frame.mpls(labels: 2) + Array(frame[14...])
    }),
    ("PPPoE", { frame in
        guard let etherType = ipEtherType(frame) else { return frame }
        let pppProtocol: [UInt8] = etherType == 0x0800 ? [0, 0x21] : [0, 0x57]
        return Array(frame[0..<12]) + Frame.be16(0x8864) + Frame.pppoe(pppProtocol, bodyLength: frame.count - 14)
            + Array(frame[14...])
    }),
    ("IP-in-IP", { frame in
        switch ipEtherType(frame) {
        case 0x0800: overIPv4(4, Array(frame[14...]))
        case 0x86DD: Frame.ethernet(etherType: 0x86DD) + Frame.outerIPv6(41, Array(frame[14...]))
        default: frame
        }
    }),
]

/// The ethertype of an untagged Ethernet frame carrying IPv4 or IPv6.
private func ipEtherType(_ frame: [UInt8]) -> UInt16? {
    guard frame.count >= 14 else { return nil }
    let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
    return etherType == 0x0800 || etherType == 0x86DD ? etherType : nil
}

/// Every frame of the Ethernet captures, re-wrapped in each tunnel, decodes to the same packet with the
/// same payload bytes as the bare frame (or to the same nil / the same error).
@Test(.enabled(if: captureDirectory != nil, "../shared/fixtures not found"), arguments: rewrappings.indices)
func rewrappedCapturesDecodeAlike(_ index: Int) throws {
    let (wrapping, wrap) = rewrappings[index]
    let directory = try #require(captureDirectory)
    var compared = 0
    for name in ["tls12", "badcurveball", "macos_tcp_flags", "v6", "https3-301-get", "CVE-2018-6794"] {
        let capture = try readPcap(directory.appendingPathComponent(name + ".pcap"))
        #expect(capture.linkType == .ethernet)
        for (number, record) in capture.records.enumerated() {
            let wrapped = wrap(record.bytes)
            let bare = decode(.ethernet, record.bytes)
            let tunnelled = decode(.ethernet, wrapped)
            let context = "\(name) frame \(number + 1) in \(wrapping)"
            guard case .success(let expected?) = bare else {
                #expect(tunnelled.isNil == bare.isNil && tunnelled.errorCode == bare.errorCode, "\(context)")
                continue
            }
            guard let packet = tunnelled.packet else {
                Issue.record("\(context): \(tunnelled)")
                continue
            }
            var shifted = expected
            shifted.payloadOffset = packet.payloadOffset
            shifted.segment = packet.segment  // the tunnel's ids (`segmentFoldsVLANAndTunnelIds`)
            #expect(packet == shifted, "\(context)")
            let payload = wrapped[packet.payloadOffset..<packet.payloadOffset + packet.payloadLength]
            #expect(payload == record.bytes[expected.payloadOffset..<expected.payloadOffset + expected.payloadLength],
                    "\(context)")
            compared += 1
        }
    }
    #expect(compared >= 200)  // 224 TCP and UDP packets in these captures
}
