import PacketDecoding
import Testing
import WireCursor

private let payload: [UInt8] = Array("hello".utf8)
private let v4Source = IPAddress(ipv4: 0x0A00_0001)
private let v4Destination = IPAddress(ipv4: 0x0A00_0002)
private let v6Source = IPAddress(ipv6Groups: Frame.v6Source)
private let v6Destination = IPAddress(ipv6Groups: Frame.v6Destination)

/// Checks the common IPv4 + TCP(40000 → 443, seq 1000) + "hello" result.
private func expectHelloV4(_ result: Result<DecodedPacket?, DecodeError>, frame: [UInt8],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    guard let packet = result.packet else {
        Issue.record("no packet: \(result)", sourceLocation: sourceLocation)
        return
    }
    #expect(packet.source == v4Source, sourceLocation: sourceLocation)
    #expect(packet.destination == v4Destination, sourceLocation: sourceLocation)
    #expect(packet.sourcePort == 40000 && packet.destinationPort == 443, sourceLocation: sourceLocation)
    #expect(packet.transport == .tcp, sourceLocation: sourceLocation)
    #expect(packet.sequenceNumber == 1000 && packet.acknowledgmentNumber == 2000, sourceLocation: sourceLocation)
    #expect(packet.flags == [.ack, .psh], sourceLocation: sourceLocation)
    #expect(packet.payloadLength == payload.count, sourceLocation: sourceLocation)
    #expect(packet.missingPayloadLength == 0, sourceLocation: sourceLocation)
    let end = packet.payloadOffset + packet.payloadLength
    #expect(end <= frame.count && Array(frame[packet.payloadOffset..<end]) == payload, sourceLocation: sourceLocation)
}

/// Every link-layer framing of the same IPv4 TCP packet.
private let v4LinkFrames: [(String, LinkType, [UInt8])] = [
    ("ethernet", .ethernet, Frame.ethernet(etherType: 0x0800) + Frame.ipv4TCP(payload)),
    ("802.1Q", .ethernet, Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 100)]) + Frame.ipv4TCP(payload)),
    ("QinQ 88a8", .ethernet,
     Frame.ethernet(etherType: 0x0800, tags: [(0x88A8, 10), (0x8100, 20)]) + Frame.ipv4TCP(payload)),
    ("QinQ 9100", .ethernet,
     Frame.ethernet(etherType: 0x0800, tags: [(0x9100, 10), (0x8100, 20)]) + Frame.ipv4TCP(payload)),
    ("three tags", .ethernet,
     Frame.ethernet(etherType: 0x0800, tags: [(0x88A8, 1), (0x9100, 2), (0x8100, 3)]) + Frame.ipv4TCP(payload)),
    ("SLL", .linuxSLL, Frame.sll(proto: 0x0800) + Frame.ipv4TCP(payload)),
    ("SLL VLAN", .linuxSLL, Frame.sll(proto: 0x8100) + Frame.be16(7) + Frame.be16(0x0800) + Frame.ipv4TCP(payload)),
    ("SLL2", .linuxSLL2, Frame.sll2(proto: 0x0800) + Frame.ipv4TCP(payload)),
    ("raw 101", .raw, Frame.ipv4TCP(payload)),
    ("raw 12", .rawAlt12, Frame.ipv4TCP(payload)),
    ("raw 14", .rawAlt14, Frame.ipv4TCP(payload)),
    ("raw IPv4 228", .rawIPv4, Frame.ipv4TCP(payload)),
    ("NULL little-endian", .null, Frame.le32(2) + Frame.ipv4TCP(payload)),
    ("NULL big-endian", .null, Frame.be32(2) + Frame.ipv4TCP(payload)),
    ("LOOP big-endian", .loop, Frame.be32(2) + Frame.ipv4TCP(payload)),
    ("LOOP little-endian", .loop, Frame.le32(2) + Frame.ipv4TCP(payload)),
    ("PPP address/control", .ppp, [0xFF, 0x03, 0x00, 0x21] + Frame.ipv4TCP(payload)),
    ("PPP without address/control", .ppp, [0x00, 0x21] + Frame.ipv4TCP(payload)),
    ("PPP compressed protocol", .ppp, [0x21] + Frame.ipv4TCP(payload)),
    ("PPP address/control, compressed protocol", .ppp, [0xFF, 0x03, 0x21] + Frame.ipv4TCP(payload)),
    ("PPP HDLC", .pppHDLC, [0xFF, 0x03, 0x00, 0x21] + Frame.ipv4TCP(payload)),
    ("Cisco HDLC", .pppHDLC, [0x0F, 0x00] + Frame.be16(0x0800) + Frame.ipv4TCP(payload)),
    ("PPP with direction, sent", .pppWithDirection, [0x01, 0xFF, 0x03, 0x00, 0x21] + Frame.ipv4TCP(payload)),
    ("PPP with direction, received", .pppWithDirection, [0x00, 0x00, 0x21] + Frame.ipv4TCP(payload)),
]

@Test(arguments: v4LinkFrames.indices)
func decodesIPv4OverEveryLinkType(_ index: Int) {
    let (name, linkType, frame) = v4LinkFrames[index]
    let result = decode(linkType, frame)
    #expect(result.packet != nil, "\(name)")
    expectHelloV4(result, frame: frame)
}

private let v6LinkFrames: [(String, LinkType, [UInt8])] = {
    var frames: [(String, LinkType, [UInt8])] = [
        ("ethernet", .ethernet, Frame.ethernet(etherType: 0x86DD) + Frame.ipv6TCP(payload)),
        ("802.1Q", .ethernet, Frame.ethernet(etherType: 0x86DD, tags: [(0x8100, 5)]) + Frame.ipv6TCP(payload)),
        ("SLL", .linuxSLL, Frame.sll(proto: 0x86DD) + Frame.ipv6TCP(payload)),
        ("SLL2", .linuxSLL2, Frame.sll2(proto: 0x86DD) + Frame.ipv6TCP(payload)),
        ("raw 101", .raw, Frame.ipv6TCP(payload)),
        ("raw 229", .rawIPv6, Frame.ipv6TCP(payload)),
        ("PPP address/control", .ppp, [0xFF, 0x03, 0x00, 0x57] + Frame.ipv6TCP(payload)),
        ("PPP without address/control", .ppp, [0x00, 0x57] + Frame.ipv6TCP(payload)),
        ("PPP compressed protocol", .ppp, [0x57] + Frame.ipv6TCP(payload)),
        ("PPP HDLC", .pppHDLC, [0xFF, 0x03, 0x00, 0x57] + Frame.ipv6TCP(payload)),
        ("Cisco HDLC broadcast", .pppHDLC, [0x8F, 0x00] + Frame.be16(0x86DD) + Frame.ipv6TCP(payload)),
        ("PPP with direction", .pppWithDirection, [0x00, 0xFF, 0x03, 0x00, 0x57] + Frame.ipv6TCP(payload)),
    ]
    for family: UInt32 in [10, 24, 28, 30] {
        frames.append(("NULL LE \(family)", .null, Frame.le32(family) + Frame.ipv6TCP(payload)))
        frames.append(("NULL BE \(family)", .null, Frame.be32(family) + Frame.ipv6TCP(payload)))
        frames.append(("LOOP BE \(family)", .loop, Frame.be32(family) + Frame.ipv6TCP(payload)))
        frames.append(("LOOP LE \(family)", .loop, Frame.le32(family) + Frame.ipv6TCP(payload)))
    }
    return frames
}()

@Test(arguments: v6LinkFrames.indices)
func decodesIPv6OverEveryLinkType(_ index: Int) throws {
    let (name, linkType, frame) = v6LinkFrames[index]
    let packet = try #require(decode(linkType, frame).packet, "\(name)")
    #expect(packet.source == v6Source && packet.destination == v6Destination)
    #expect(packet.source.description == "2001:db8::1")
    #expect(packet.sourcePort == 40000 && packet.transport == .tcp)
    #expect(Array(frame[packet.payloadOffset...]) == payload && packet.payloadLength == payload.count)
}

@Test func supportedLinkTypes() {
    for raw: Int32 in [0, 1, 9, 12, 14, 50, 101, 108, 113, 204, 228, 229, 276] {
        #expect(PacketDecoder.isSupported(LinkType(rawValue: raw)))
        #expect((try? PacketDecoder(linkType: LinkType(rawValue: raw))) != nil)
    }
    for raw: Int32 in [2, 6, 105, 127, 147, 192, -1] {
        #expect(!PacketDecoder.isSupported(LinkType(rawValue: raw)))
        #expect(throws: DecodeError(.unsupported, at: 0, "")) { try PacketDecoder(linkType: LinkType(rawValue: raw)) }
    }
}

@Test func nonIPFramesAreNil() {
    // ARP over Ethernet, an 802.3 length field, an unknown loopback family, raw IP version 5, ICMP, SCTP.
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x0806) + [UInt8](repeating: 0, count: 28)).isNil)
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x0040) + [UInt8](repeating: 0, count: 64)).isNil)
    #expect(decode(.ethernet, Array(Frame.ethernet(etherType: 0x86DD, tags: [(0x8100, 1)])[0..<16]) + Frame.be16(0x0806)).isNil)
    #expect(decode(.null, Frame.le32(7) + Frame.ipv4TCP(payload)).isNil)
    #expect(decode(.loop, Frame.be32(0x1E00_0000 + 1) + Frame.ipv4TCP(payload)).isNil)
    #expect(decode(.raw, [0x50] + [UInt8](repeating: 0, count: 40)).isNil)
    #expect(decode(.raw, Frame.ipv4(proto: 1, payloadLength: 8) + [UInt8](repeating: 0, count: 8)).isNil)
    #expect(decode(.rawIPv6, Frame.ipv6(nextHeader: 132, payloadLength: 12) + [UInt8](repeating: 0, count: 12)).isNil)
    #expect(decode(.rawIPv6, Frame.ipv6(nextHeader: 59, payloadLength: 0, declaredLength: 0)).isNil)
    #expect(decode(.linuxSLL, Frame.sll(proto: 0x0004) + [UInt8](repeating: 0, count: 20)).isNil)
}

/// PPP frames that are not IP: LCP (0xC021), IPCP (0x8021), IPv6CP (0x8057), compressed data (0x00FD), with
/// and without the address/control bytes; a Cisco HDLC keepalive (SLARP, 0x8035). Nil, not an error.
@Test func pppControlProtocolsAreNotIP() {
    let lcpConfigureRequest: [UInt8] = [0x01, 0x01, 0x00, 0x0A, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78]
    for pppProtocol: [UInt8] in [[0xC0, 0x21], [0x80, 0x21], [0x80, 0x57], [0x00, 0xFD], [0xFD]] {
        #expect(decode(.ppp, [0xFF, 0x03] + pppProtocol + lcpConfigureRequest).isNil, "\(pppProtocol)")
        #expect(decode(.ppp, pppProtocol + lcpConfigureRequest).isNil, "\(pppProtocol)")
        #expect(decode(.pppHDLC, [0xFF, 0x03] + pppProtocol + lcpConfigureRequest).isNil, "\(pppProtocol)")
        #expect(decode(.pppWithDirection, [1] + pppProtocol + lcpConfigureRequest).isNil, "\(pppProtocol)")
    }
    // 0xFF not followed by 0x03 is not an address field: the frame starts with the (invalid) protocol 0x00FF.
    #expect(decode(.ppp, [0xFF, 0x00, 0x21] + Frame.ipv4TCP(payload)).isNil)
    #expect(decode(.pppHDLC, [0x8F, 0x00] + Frame.be16(0x8035) + [UInt8](repeating: 0, count: 18)).isNil)
}

/// A PPP frame cut inside its header is a link-layer truncation; IP announced by the protocol field but
/// not delivered is the IP layer's.
@Test func truncatedPPPFramesThrow() {
    func reason(_ linkType: LinkType, _ frame: [UInt8]) -> String? {
        if case .failure(let error) = decode(linkType, frame) { error.frameReason } else { nil }
    }
    #expect(decode(.ppp, []).errorCode == .truncated)
    #expect(reason(.ppp, []) == "link-truncated")
    #expect(reason(.ppp, [0xFF]) == "link-truncated")
    #expect(reason(.ppp, [0xFF, 0x03]) == "link-truncated")
    #expect(reason(.ppp, [0xFF, 0x03, 0x00]) == "link-truncated")
    #expect(reason(.ppp, [0x00]) == "link-truncated")
    #expect(reason(.pppWithDirection, []) == "link-truncated")
    #expect(reason(.pppWithDirection, [0x01, 0xFF, 0x03]) == "link-truncated")
    #expect(reason(.pppHDLC, [0x0F, 0x00, 0x08]) == "link-truncated")
    #expect(reason(.ppp, [0xFF, 0x03, 0x00, 0x21, 0x45, 0x00]) == "ipv4-truncated")
    #expect(reason(.ppp, [0x00, 0x57] + Array(Frame.ipv6TCP(payload).prefix(20))) == "ipv6-truncated")
    // The protocol field names the IP version; the header must agree.
    #expect(decode(.ppp, [0x00, 0x21] + Frame.ipv6TCP(payload)).errorCode == .malformed)
}

@Test func wrongIPVersionForTheLinkTypeIsMalformed() {
    #expect(decode(.rawIPv4, Frame.ipv6TCP(payload)).errorCode == .malformed)
    #expect(decode(.rawIPv6, Frame.ipv4TCP(payload)).errorCode == .malformed)
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x86DD) + Frame.ipv4TCP(payload)).errorCode == .malformed)
}

@Test func vlanStackIsCapped() {
    let eight = [(tpid: UInt16, vid: UInt16)](repeating: (0x8100, 1), count: 8)
    let nine = [(tpid: UInt16, vid: UInt16)](repeating: (0x8100, 1), count: 9)
    expectHelloV4(decode(.ethernet, Frame.ethernet(etherType: 0x0800, tags: eight) + Frame.ipv4TCP(payload)),
                  frame: Frame.ethernet(etherType: 0x0800, tags: eight) + Frame.ipv4TCP(payload))
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x0800, tags: nine) + Frame.ipv4TCP(payload)).errorCode
            == .tooLarge)
}

// MARK: IPv4

@Test func ipv4OptionsAreSkipped() {
    // Record Route (7) with room for two addresses, padded to a 4-byte boundary: IHL 8.
    let options: [UInt8] = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    let frame = Frame.ipv4TCP(payload, options: options)
    #expect(frame[0] == 0x48)
    expectHelloV4(decode(.raw, frame), frame: frame)
    // The maximum IHL, 15 words: 40 bytes of options (NOPs).
    let maxFrame = Frame.ipv4TCP(payload, options: [UInt8](repeating: 1, count: 40))
    #expect(maxFrame[0] == 0x4F)
    expectHelloV4(decode(.raw, maxFrame), frame: maxFrame)
}

@Test func ipv4HeaderDefects() {
    var shortIHL = Frame.ipv4TCP(payload)
    shortIHL[0] = 0x44
    #expect(decode(.raw, shortIHL).errorCode == .malformed)
    let totalBelowHeader = Frame.ipv4(payloadLength: 0, totalLength: 19) + Frame.tcp() + payload
    #expect(decode(.raw, totalBelowHeader).errorCode == .malformed)
    // IHL promises options the frame does not have.
    var longIHL = Frame.ipv4(payloadLength: 0)
    longIHL[0] = 0x4F
    #expect(decode(.raw, longIHL).errorCode == .truncated)
}

@Test func ethernetPaddingIsExcluded() {
    // A 3-byte payload padded by the NIC up to the 60-byte Ethernet minimum (plus junk).
    let body = Frame.ipv4TCP([1, 2, 3])
    let frame = Frame.ethernet(etherType: 0x0800) + body + [UInt8](repeating: 0xEE, count: 20)
    let packet = decode(.ethernet, frame).packet
    #expect(packet?.payloadLength == 3)
    #expect(packet?.missingPayloadLength == 0)
}

@Test func snaplenTruncationDeliversWhatWasCaptured() throws {
    let full = Frame.ethernet(etherType: 0x0800) + Frame.ipv4TCP([UInt8](repeating: 7, count: 100))
    let cut = Array(full.prefix(full.count - 60))
    let packet = try #require(decode(.ethernet, cut).packet)
    #expect(packet.payloadLength == 40)
    #expect(packet.missingPayloadLength == 60)
    #expect(packet.payloadOffset + packet.payloadLength == cut.count)
}

@Test func tsoZeroTotalLengthUsesTheCapturedBytes() throws {
    let frame = Frame.ipv4(payloadLength: 0, totalLength: 0) + Frame.tcp() + payload
    let packet = try #require(decode(.raw, frame).packet)
    #expect(packet.payloadLength == payload.count)
}

@Test func ipv4Fragments() throws {
    // Every fragment, the first included, is handed out as a fragment by `decodeFrame` and is nil to `decode`.
    let first = Frame.ipv4(payloadLength: 20 + 8, flagsFragment: 0x2000) + Frame.tcp() + [UInt8](repeating: 1, count: 8)
    let middle = Frame.ipv4(payloadLength: 16, flagsFragment: 0x2000 | 3) + [UInt8](repeating: 1, count: 16)
    let last = Frame.ipv4(payloadLength: 16, flagsFragment: 6) + [UInt8](repeating: 1, count: 16)
    for (frame, offset, more) in [(first, 0, true), (middle, 24, true), (last, 48, false)] {
        #expect(decode(.raw, frame).isNil)
        let fragment = try #require(decodeFrame(.raw, frame).fragment)
        #expect(fragment.offset == offset && fragment.moreFragments == more && fragment.identification == 0x1234)
        #expect(fragment.protocolNumber == 6 && !fragment.isIPv6 && fragment.source == IPAddress(ipv4: 0x0A00_0001))
        #expect(fragment.payloadOffset == 20 && fragment.payloadLength == frame.count - 20)
    }
    // Fragments of a protocol the decoder does not follow (ICMP) are nil either way.
    #expect(decodeFrame(.raw, Frame.ipv4(proto: 1, payloadLength: 16, flagsFragment: 6) + [UInt8](repeating: 1, count: 16))
        .isNil)
    // DF alone is not a fragment.
    #expect(decodeFrame(.raw, Frame.ipv4TCP(payload)).packet != nil)
}

// MARK: IPv6 extension headers

@Test func ipv6ExtensionHeaderChain() throws {
    let tcpHeader = Frame.tcp()
    let chain = Frame.ipv6Extension(next: 43, units: 1)  // hop-by-hop → routing
        + Frame.ipv6Extension(next: 51, units: 3)  // routing → AH
        + Frame.ipv6AH(next: 44)  // AH → fragment
        + Frame.ipv6Fragment(next: 60, offset: 0, more: false)  // → destination options
        + Frame.ipv6Extension(next: 6, units: 2)  // → TCP
    let frame = Frame.ipv6(nextHeader: 0, payloadLength: chain.count + tcpHeader.count + payload.count)
        + chain + tcpHeader + payload
    let packet = try #require(decode(.rawIPv6, frame).packet)
    #expect(packet.sourcePort == 40000 && packet.payloadLength == payload.count)
    #expect(Array(frame[packet.payloadOffset...]) == payload)
    #expect(decodeFrame(.rawIPv6, frame).packet == packet)  // an atomic fragment (RFC 6946) is read through
}

@Test func ipv6Fragments() throws {
    let tcpHeader = Frame.tcp()
    let firstBody = Frame.ipv6Fragment(next: 6, offset: 0, more: true) + tcpHeader + payload
    let firstFrame = Frame.ipv6(nextHeader: 44, payloadLength: firstBody.count) + firstBody
    #expect(decode(.rawIPv6, firstFrame).isNil)
    let first = try #require(decodeFrame(.rawIPv6, firstFrame).fragment)
    #expect(first.isIPv6 && first.offset == 0 && first.moreFragments && first.identification == 0xCAFE)
    #expect(first.protocolNumber == 6 && first.payloadOffset == 48 && first.payloadLength == tcpHeader.count + payload.count)
    let laterBody = Frame.ipv6Fragment(next: 6, offset: 3, more: false) + payload
    let laterFrame = Frame.ipv6(nextHeader: 44, payloadLength: laterBody.count) + laterBody
    #expect(decode(.rawIPv6, laterFrame).isNil)
    let later = try #require(decodeFrame(.rawIPv6, laterFrame).fragment)
    #expect(later.offset == 24 && !later.moreFragments && later.payloadLength == payload.count)
}

@Test func ipv6ExtensionHeadersAreCapped() {
    func frame(headers: Int) -> [UInt8] {
        var chain: [UInt8] = []
        for index in 0..<headers { chain += Frame.ipv6Extension(next: index == headers - 1 ? 6 : 60, units: 1) }
        let body = chain + Frame.tcp() + payload
        return Frame.ipv6(nextHeader: 60, payloadLength: body.count) + body
    }
    #expect(decode(.rawIPv6, frame(headers: 8)).packet?.payloadLength == payload.count)
    #expect(decode(.rawIPv6, frame(headers: 9)).errorCode == .tooLarge)
}

@Test func ipv6PayloadLengthTrims() throws {
    let frame = Frame.ipv6TCP(payload) + [0xEE, 0xEE, 0xEE]
    let packet = try #require(decode(.rawIPv6, frame).packet)
    #expect(packet.payloadLength == payload.count)
    // An extension header longer than the payload length is truncated, not read past.
    let lying = Frame.ipv6(nextHeader: 0, payloadLength: 8) + Frame.ipv6Extension(next: 6, units: 2) + Frame.tcp()
    #expect(decode(.rawIPv6, lying).errorCode == .truncated)
}

// MARK: TCP and UDP

@Test func tcpOptionsAreSkipped() {
    // MSS, SACK-permitted, timestamps, NOP, window scale: 20 bytes, data offset 10.
    let options: [UInt8] = [2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
    let frame = Frame.ipv4TCP(payload, tcpOptions: options)
    expectHelloV4(decode(.raw, frame), frame: frame)
}

@Test func tcpDataOffsetDefects() {
    for offset: UInt8 in 0..<5 {
        let header = Frame.tcp(dataOffset: offset)
        let frame = Frame.ipv4(payloadLength: header.count + payload.count) + header + payload
        #expect(decode(.raw, frame).errorCode == .malformed, "data offset \(offset)")
    }
    // Data offset 15 (60 bytes) with only 25 bytes of TCP.
    let header = Frame.tcp(dataOffset: 15)
    let frame = Frame.ipv4(payloadLength: header.count + payload.count) + header + payload
    #expect(decode(.raw, frame).errorCode == .truncated)
}

@Test func tcpFlagsAndZeroPayload() throws {
    let header = Frame.tcp(sequence: 0xFFFF_FFFF, acknowledgment: 0, flags: [.syn, .ece, .cwr])
    let frame = Frame.ipv4(payloadLength: header.count) + header
    let packet = try #require(decode(.raw, frame).packet)
    #expect(packet.flags == [.syn, .ece, .cwr])
    #expect(packet.sequenceNumber == 0xFFFF_FFFF)
    #expect(packet.payloadLength == 0 && packet.payloadOffset == frame.count)
}

@Test func udp() throws {
    let data: [UInt8] = [1, 2, 3, 4]
    let frame = Frame.ipv4(proto: 17, payloadLength: 8 + data.count) + Frame.udp(payloadLength: data.count) + data
    let packet = try #require(decode(.raw, frame).packet)
    #expect(packet.transport == .udp && packet.sourcePort == 5353 && packet.destinationPort == 53)
    #expect(packet.sequenceNumber == 0 && packet.flags == [])
    #expect(Array(frame[packet.payloadOffset..<packet.payloadOffset + packet.payloadLength]) == data)
    // The UDP length shortens further; below 8 it is malformed.
    let shorter = Frame.ipv4(proto: 17, payloadLength: 12) + Frame.udp(payloadLength: 2) + data
    #expect(decode(.raw, shorter).packet?.payloadLength == 2)
    let bad = Frame.ipv4(proto: 17, payloadLength: 12) + Frame.udp(payloadLength: 0, length: 7) + data
    #expect(decode(.raw, bad).errorCode == .malformed)
    let v6 = Frame.ipv6(nextHeader: 17, payloadLength: 8 + data.count) + Frame.udp(payloadLength: data.count) + data
    #expect(decode(.rawIPv6, v6).packet?.payloadLength == data.count)
}

// MARK: Truncation and garbage

/// Every frame of the link-type tables, cut at every length: a cut inside the headers throws `.truncated`,
/// a cut inside the payload delivers the captured part and reports the rest missing; nothing traps.
@Test(arguments: (v4LinkFrames + v6LinkFrames).indices)
func truncatedAtEveryLength(_ index: Int) throws {
    let (name, linkType, frame) = (v4LinkFrames + v6LinkFrames)[index]
    let full = try #require(decode(linkType, frame).packet)
    for length in 0..<frame.count {
        let result = decode(linkType, Array(frame.prefix(length)))
        if length < full.payloadOffset {
            #expect(result.errorCode == .truncated, "\(name) cut at \(length)")
        } else {
            let packet = result.packet
            #expect(packet?.payloadLength == length - full.payloadOffset, "\(name) cut at \(length)")
            #expect(packet?.missingPayloadLength == frame.count - length, "\(name) cut at \(length)")
        }
    }
}

@Test func ipv6ExtensionHeadersTruncatedAtEveryLength() throws {
    let chain = Frame.ipv6Extension(next: 44, units: 2) + Frame.ipv6Fragment(next: 51, offset: 0, more: false)
        + Frame.ipv6AH(next: 6)
    let body = chain + Frame.tcp(options: [1, 1, 1, 0]) + payload
    let frame = Frame.ethernet(etherType: 0x86DD) + Frame.ipv6(nextHeader: 0, payloadLength: body.count) + body
    let full = try #require(decode(.ethernet, frame).packet)
    #expect(full.payloadLength == payload.count)
    for length in 0..<full.payloadOffset {
        #expect(decode(.ethernet, Array(frame.prefix(length))).errorCode == .truncated, "cut at \(length)")
    }
}

@Test func garbageNeverTraps() {
    var generator = SeededGenerator(seed: 0x7157_5C09E)
    let linkTypes: [LinkType] = [
        .ethernet, .linuxSLL, .linuxSLL2, .raw, .rawIPv4, .rawIPv6, .null, .loop, .ppp, .pppHDLC, .pppWithDirection,
    ]
    var decoded = 0
    for round in 0..<20_000 {
        let linkType = linkTypes[round % linkTypes.count]
        let length = Int.random(in: 0...120, using: &generator)
        var frame = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Steer half of the inputs past the link layer so the IP and TCP decoders see garbage too.
        if round % 2 == 0 {
            let prefix: [UInt8] = switch linkType {
            case .ethernet: Frame.ethernet(etherType: round % 4 == 0 ? 0x0800 : 0x86DD)
            case .linuxSLL: Frame.sll(proto: 0x0800)
            case .linuxSLL2: Frame.sll2(proto: 0x86DD)
            case .null, .loop: Frame.le32(round % 4 == 0 ? 2 : 30)
            case .ppp, .pppHDLC: [0xFF, 0x03, 0x00, round % 4 == 0 ? 0x21 : 0x57]
            case .pppWithDirection: [1, 0x00, round % 4 == 0 ? 0x21 : 0x57]
            default: []
            }
            if !frame.isEmpty { frame[0] = (round % 4 == 0 ? 0x45 : 0x60) | (frame[0] & 0x0F) }
            frame = prefix + frame
        }
        if case .success(let packet?) = decode(linkType, frame) {
            decoded += 1
            #expect(packet.payloadOffset >= 0 && packet.payloadLength >= 0)
            #expect(packet.payloadOffset + packet.payloadLength <= frame.count)
        }
    }
    #expect(decoded > 0)
}

// MARK: Addresses

@Test(arguments: [
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
    ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
    ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
    ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
    ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),  // §4.2.2: a single zero group stays
    ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),  // §4.2.3: the longest run
    ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),  // §4.2.3: the first of equal runs
    ([0x2001, 0xDB8, 0xABCD, 0x0012, 0, 0, 0, 0xFFFF], "2001:db8:abcd:12::ffff"),  // §4.3 lowercase, §4.1
    ([0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329], "fe80::202:b3ff:fe1e:8329"),
    ([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280], "::ffff:192.0.2.128"),  // §5 IPv4-mapped
    ([0, 0, 0, 0, 0, 0, 0xc000, 0x0280], "::c000:280"),  // IPv4-compatible: plain hex
    ([0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x0280], "::fffe:c000:280"),
    ([0, 0, 1, 0, 0, 0, 0, 0], "0:0:1::"),
    ([1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
    ([1, 0, 2, 0, 3, 0, 4, 0], "1:0:2:0:3:0:4:0"),
    ([0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ([0, 0, 0xa, 0, 0, 0, 0xb, 0], "0:0:a::b:0"),
] as [([UInt16], String)])
func ipv6Text(_ groups: [UInt16], _ text: String) {
    #expect(IPAddress(ipv6Groups: groups).description == text)
}

@Test func ipv4Text() {
    #expect(IPAddress(ipv4: 0xC0A8_0101).description == "192.168.1.1")
    #expect(IPAddress(ipv4: 0).description == "0.0.0.0")
    #expect(IPAddress(ipv4: 0xFFFF_FFFF).description == "255.255.255.255")
    #expect(IPAddress(ipv4: 0x0A00_00FF).description == "10.0.0.255")
    // An IPv4 address and the IPv6 address with the same bits are different keys.
    #expect(IPAddress(ipv4: 1) != IPAddress(high: 0, low: 1, isIPv6: true))
    #expect(IPAddress(ipv4: 0xFFFF_FFFF) < IPAddress(high: 0, low: 0, isIPv6: true))
}

@Test func tinyFirstFragmentIsAFragment() {
    // RFC 1858: a first fragment holding only 8 bytes of the TCP header: not damaged, just incomplete.
    let tcpStart = Array(Frame.tcp().prefix(8))
    let frame = Frame.ipv4(payloadLength: 8, flagsFragment: 0x2000) + tcpStart
    #expect(decode(.raw, frame).isNil)
    #expect(decodeFrame(.raw, frame).fragment?.payloadLength == 8)
    // Not a fragment: the same bytes are a truncated header.
    #expect(decode(.raw, Frame.ipv4(payloadLength: 8) + tcpStart).errorCode == .truncated)
}

@Test func undecodableFramesHaveAStableReason() throws {
    func reason(_ linkType: LinkType, _ frame: [UInt8]) -> String? {
        if case .failure(let error) = decode(linkType, frame) { error.frameReason } else { nil }
    }
    let tcp = Frame.tcp()
    #expect(reason(.raw, Array(Frame.ipv4TCP(payload).prefix(12))) == "ipv4-truncated")
    #expect(reason(.raw, Frame.ipv4(payloadLength: 20) + Frame.tcp(dataOffset: 4)) == "tcp-malformed")
    #expect(reason(.raw, Frame.ipv4(payloadLength: 10) + Array(tcp.prefix(10))) == "tcp-truncated")
    #expect(reason(.rawIPv6, Array(Frame.ipv6TCP(payload).prefix(30))) == "ipv6-truncated")
    #expect(reason(.ethernet, [0, 1, 2]) == "link-truncated")
    let nine = [(tpid: UInt16, vid: UInt16)](repeating: (0x8100, 1), count: 9)
    #expect(reason(.ethernet, Frame.ethernet(etherType: 0x0800, tags: nine) + Frame.ipv4TCP(payload)) == "vlan-too-large")
    #expect(reason(.ethernet, Frame.ethernet(etherType: 0x0800) + [0x65] + [UInt8](repeating: 0, count: 39))
            == "ipv4-malformed")
    #expect(reason(LinkType(rawValue: 147), []) == "link-unsupported")
    #expect(DecodeError(.tooLarge, at: 0, "tunnel depth").frameReason == "tunnel-too-large")
    #expect(DecodeError(.truncated, at: 0, "GRE.key").frameReason == "tunnel-truncated")
    #expect(DecodeError(.malformed, at: 0, "something else").frameReason == "other-malformed")
}
