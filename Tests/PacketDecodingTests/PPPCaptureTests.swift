import Foundation
import PacketDecoding
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/pcap")

/// tls12-ppp.pcap is tls12-ecdhe-rsa-chain.pcap with each Ethernet header replaced by PPP's (pcaptool.py ppp):
/// frame by frame, the same packets with the same payload bytes.
@Test func pppCaptureDecodesLikeItsEthernetOriginal() throws {
    let ppp = try readPcap(fixtures.appendingPathComponent("tls12-ppp.pcap"))
    let ethernet = try readPcap(fixtures.appendingPathComponent("tls12-ecdhe-rsa-chain.pcap"))
    #expect(ppp.linkType == .ppp && ethernet.linkType == .ethernet)
    #expect(ppp.records.count == ethernet.records.count && ppp.records.count > 10)
    let pppDecoder = try PacketDecoder(linkType: ppp.linkType)
    let ethernetDecoder = try PacketDecoder(linkType: ethernet.linkType)
    for (number, (pppRecord, ethernetRecord)) in zip(ppp.records, ethernet.records).enumerated() {
        let viaPPP = try pppRecord.bytes.withUnsafeBytes { (frame) throws in try pppDecoder.decode(frame) }
        let viaEthernet = try ethernetRecord.bytes.withUnsafeBytes { (frame) throws in try ethernetDecoder.decode(frame) }
        let packet = try #require(viaPPP, "frame \(number + 1)")
        let original = try #require(viaEthernet, "frame \(number + 1)")
        #expect(packet.source == original.source && packet.destination == original.destination)
        #expect(packet.sourcePort == original.sourcePort && packet.destinationPort == original.destinationPort)
        #expect(packet.sequenceNumber == original.sequenceNumber && packet.flags == original.flags)
        #expect(
            pppRecord.bytes[packet.payloadOffset..<packet.payloadOffset + packet.payloadLength]
                == ethernetRecord.bytes[original.payloadOffset..<original.payloadOffset + original.payloadLength],
            "frame \(number + 1)")
    }
}
