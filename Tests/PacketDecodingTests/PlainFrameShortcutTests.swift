import Foundation
@testable import PacketDecoding
import Testing
import WireCursor

// `PacketDecoder.decode` takes a shortcut for plain Ethernet/SLL/raw + IPv4 (no options, no fragment) + TCP
// frames captured whole. These tests hold it to the general decoder: same packet whenever it answers, and
// no answer (so the general decoder decides) for everything else.

private func decodeBoth(_ frame: [UInt8], _ linkType: LinkType) throws -> (shortcut: DecodedPacket?, layers: Result<DecodedPacket?, DecodeError>) {
    let decoder = try PacketDecoder(linkType: linkType)
    return frame.withUnsafeBytes { bytes in
        let shortcut = decoder.decodePlainIPv4TCP(bytes)
        let layers: Result<DecodedPacket?, DecodeError>
        do throws(DecodeError) { layers = .success(try decoder.decodeLayers(bytes)) } catch { layers = .failure(error) }
        return (shortcut, layers)
    }
}

/// Every frame of the captures recorded here (and of the peer captures when present): where the shortcut
/// answers, the general decoder gives the very same packet.
@Test func shortcutAgreesWithTheGeneralDecoderOnEveryFixtureFrame() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var directories = [root.appendingPathComponent("Fixtures/pcap")]
    if let captureDirectory { directories.append(captureDirectory) }
    var frames = 0
    var shortcuts = 0
    for directory in directories {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".pcap") }
        for name in names.sorted() where name != "truncated.pcap" {
            let capture = try readPcap(directory.appendingPathComponent(name))
            guard PacketDecoder.isSupported(capture.linkType) else { continue }
            for (number, record) in capture.records.enumerated() {
                frames += 1
                let (shortcut, layers) = try decodeBoth(record.bytes, capture.linkType)
                guard let shortcut else { continue }
                shortcuts += 1
                #expect(layers == .success(shortcut), "\(name) frame \(number + 1)")
            }
        }
    }
    // Most fixture frames are plain IPv4 TCP: the comparison above is not vacuous. The captures recorded
    // here hold ~800 frames; the peer captures (when ../shared is beside the clone) add several thousand.
    #expect(frames > (captureDirectory == nil ? 500 : 1000), "\(frames) frames read")
    #expect(shortcuts * 2 > frames, "\(shortcuts) of \(frames) frames took the shortcut")
}

private let payload: [UInt8] = Array("hello".utf8)

private func ipv4TCP(
    options: [UInt8] = [], totalLength: Int? = nil, flagsFragment: UInt16 = 0x4000, tcpOptions: [UInt8] = [],
    dataOffset: UInt8? = nil, proto: UInt8 = 6
) -> [UInt8] {
    let tcp = Frame.tcp(options: tcpOptions, dataOffset: dataOffset) + payload
    return Frame.ipv4(proto: proto, payloadLength: tcp.count, options: options, totalLength: totalLength,
                      flagsFragment: flagsFragment) + tcp
}

@Test func shortcutTakesPlainFramesOfEveryLinkLayerItKnows() throws {
    let cases: [([UInt8], LinkType)] = [
        (Frame.ethernet(etherType: 0x0800) + ipv4TCP(), .ethernet),
        (Frame.ethernet(etherType: 0x0800) + ipv4TCP() + [0, 0, 0, 0, 0, 0], .ethernet),  // Ethernet padding
        (Frame.sll(proto: 0x0800) + ipv4TCP(), .linuxSLL),
        (Frame.sll2(proto: 0x0800) + ipv4TCP(), .linuxSLL2),
        (ipv4TCP(), .raw),
        (ipv4TCP(), .rawIPv4),
        (Frame.ethernet(etherType: 0x0800) + ipv4TCP(tcpOptions: [1, 1, 1, 1, 2, 4, 5, 0xB4]), .ethernet),
    ]
    for (index, (frame, linkType)) in cases.enumerated() {
        let (shortcut, layers) = try decodeBoth(frame, linkType)
        #expect(shortcut != nil, "case \(index)")
        #expect(shortcut?.payloadLength == payload.count, "case \(index)")
        #expect(layers == .success(shortcut), "case \(index)")
    }
}

@Test func shortcutLeavesEveryOtherShapeToTheGeneralDecoder() throws {
    let ethernet = Frame.ethernet(etherType: 0x0800)
    let plain = ethernet + ipv4TCP()
    let cases: [(String, [UInt8], LinkType)] = [
        ("IPv4 options", ethernet + ipv4TCP(options: [1, 1, 1, 1]), .ethernet),
        ("first fragment (MF)", ethernet + ipv4TCP(flagsFragment: 0x2000), .ethernet),
        ("later fragment", ethernet + ipv4TCP(flagsFragment: 0x0010), .ethernet),
        ("total length 0 (TSO)", ethernet + ipv4TCP(totalLength: 0), .ethernet),
        ("total length past the capture (snaplen)", ethernet + ipv4TCP(totalLength: 200), .ethernet),
        ("total length shorter than the headers", ethernet + ipv4TCP(totalLength: 30), .ethernet),
        ("TCP data offset below 5", ethernet + ipv4TCP(dataOffset: 4), .ethernet),
        ("TCP header longer than the datagram", ethernet + ipv4TCP(dataOffset: 15), .ethernet),
        ("UDP", ethernet + ipv4TCP(proto: 17), .ethernet),
        ("VLAN tag", Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 7)]) + ipv4TCP(), .ethernet),
        ("IPv6", Frame.ethernet(etherType: 0x86DD) + ipv4TCP(), .ethernet),
        ("truncated TCP header", Array(plain.prefix(14 + 20 + 12)), .ethernet),
        ("BSD loopback", Frame.le32(2) + ipv4TCP(), .null),
    ]
    for (name, frame, linkType) in cases {
        let (shortcut, _) = try decodeBoth(frame, linkType)
        #expect(shortcut == nil, "\(name)")
    }
    // And `decode` still answers for them as the general decoder does.
    let decoder = try PacketDecoder(linkType: .ethernet)
    let options = ethernet + ipv4TCP(options: [1, 1, 1, 1])
    let decoded = try options.withUnsafeBytes { try decoder.decode($0) }
    #expect(decoded?.payloadLength == payload.count)
}
