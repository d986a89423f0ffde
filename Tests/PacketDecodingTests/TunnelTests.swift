import PacketDecoding
import Testing
import WireCursor

private let payload: [UInt8] = Array("hello".utf8)

/// Hand-built encapsulation headers. Outer IP addresses differ from the inner ones (10.0.0.1 → 10.0.0.2,
/// 2001:db8::1 → 2001:db8::2), so a decoder that stops at the outer header is caught.
extension Frame {
    static let outerSource: UInt32 = 0xC000_0201  // 192.0.2.1
    static let outerDestination: UInt32 = 0xC000_0202
    static let innerV4 = ipv4TCP(payload)
    static let innerV6 = ipv6TCP(payload)
    static let innerEthernetV4 = ethernet(etherType: 0x0800) + innerV4

    static func outerIPv4(_ proto: UInt8, _ body: [UInt8], flagsFragment: UInt16 = 0x4000) -> [UInt8] {
        ipv4(source: outerSource, destination: outerDestination, proto: proto, payloadLength: body.count,
             flagsFragment: flagsFragment) + body
    }

    /// An outer IPv6 header (fd00::1 → fd00::2).
    static func outerIPv6(_ nextHeader: UInt8, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(body.count)) + [nextHeader, 64]
        for group: UInt16 in [0xfd00, 0, 0, 0, 0, 0, 0, 1, 0xfd00, 0, 0, 0, 0, 0, 0, 2] { bytes += be16(group) }
        return bytes + body
    }

    static func outerUDP(sourcePort: UInt16 = 50000, destinationPort: UInt16, _ body: [UInt8]) -> [UInt8] {
        udp(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: body.count) + body
    }

    static func gre(
        _ protocolType: UInt16, checksum: Bool = false, key: Bool = false, sequence: Bool = false,
        flags: UInt16 = 0
    ) -> [UInt8] {
        var word = flags
        if checksum { word |= 0x8000 }
        if key { word |= 0x2000 }
        if sequence { word |= 0x1000 }
        var bytes = be16(word) + be16(protocolType)
        if checksum { bytes += be16(0xC5C5) + be16(0) }
        if key { bytes += be32(0x0102_0304) }
        if sequence { bytes += be32(77) }
        return bytes
    }

    /// ERSPAN type II: version 1, VLAN 10, COS 0, En 3, T 0, session 5; index 0x1234.
    static let erspanII: [UInt8] = be16(0x1000 | 10) + be16(0x1800 | 5) + be32(0x1234)

    /// ERSPAN type III: version 2, VLAN 10, session 5, a timestamp, SGT, and the O bit.
    static func erspanIII(subheader: Bool) -> [UInt8] {
        be16(0x2000 | 10) + be16(5) + be32(0xDEAD_BEEF) + be16(0x0042) + be16(subheader ? 0x0001 : 0)
            + (subheader ? be32(0x1C00_0001) + be32(0x0000_0099) : [])
    }

    static func vxlan(flags: UInt8 = 0x08) -> [UInt8] { [flags, 0, 0, 0, 0, 0, 42, 0] }

    static func vxlanGPE(flags: UInt8 = 0x0C, nextProtocol: UInt8) -> [UInt8] {
        [flags, 0, 0, nextProtocol, 0, 0, 42, 0]
    }

    static func geneve(protocolType: UInt16 = 0x6558, optionWords: Int = 0, version: UInt8 = 0) -> [UInt8] {
        var bytes: [UInt8] = [version << 6 | UInt8(optionWords), 0] + be16(protocolType) + [0, 0, 42, 0]
        // The options are skipped unread: their content does not matter.
        for _ in 0..<optionWords { bytes += be32(0xA5A5_A5A5) }
        return bytes
    }

    /// `count` label stack entries, the last with the bottom-of-stack bit.
    static func mpls(labels count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<count {
            let label = UInt32(16 + index) << 12
            bytes += be32(label | (index == count - 1 ? 0x100 : 0) | 64)
        }
        return bytes
    }

    static func pppoe(_ pppProtocol: [UInt8], versionType: UInt8 = 0x11, code: UInt8 = 0, bodyLength: Int) -> [UInt8] {
        [versionType, code] + be16(0x0011) + be16(UInt16(pppProtocol.count + bodyLength)) + pppProtocol
    }
}

/// What the decoder must find: the inner hello, over IPv4 or IPv6.
private func expectHello(
    _ result: Result<DecodedPacket?, DecodeError>, frame: [UInt8], v6: Bool, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let packet = result.packet else {
        Issue.record("\(name): no packet: \(result)", sourceLocation: sourceLocation)
        return
    }
    let source = v6 ? IPAddress(ipv6Groups: Frame.v6Source) : IPAddress(ipv4: 0x0A00_0001)
    let destination = v6 ? IPAddress(ipv6Groups: Frame.v6Destination) : IPAddress(ipv4: 0x0A00_0002)
    #expect(packet.source == source && packet.destination == destination, "\(name)", sourceLocation: sourceLocation)
    #expect(packet.sourcePort == 40000 && packet.destinationPort == 443 && packet.transport == .tcp, "\(name)",
            sourceLocation: sourceLocation)
    #expect(packet.sequenceNumber == 1000 && packet.flags == [.ack, .psh], "\(name)", sourceLocation: sourceLocation)
    #expect(packet.missingPayloadLength == 0, "\(name)", sourceLocation: sourceLocation)
    let end = packet.payloadOffset + packet.payloadLength
    #expect(end == frame.count && Array(frame[packet.payloadOffset..<end]) == payload, "\(name)",
            sourceLocation: sourceLocation)
}

private func ipv4Over(_ etherType: UInt16, _ body: [UInt8]) -> [UInt8] { Frame.ethernet(etherType: etherType) + body }

/// Ethernet + outer IPv4 (192.0.2.1 → 192.0.2.2, protocol `proto`) + `body`.
func overIPv4(_ proto: UInt8, _ body: [UInt8]) -> [UInt8] {
    Frame.ethernet(etherType: 0x0800) + Frame.outerIPv4(proto, body)
}

/// Outer IPv4 + UDP from `source` to `port` + `body` (raw IP framing).
private func udp4(_ port: UInt16, from source: UInt16 = 50000, _ body: [UInt8]) -> [UInt8] {
    Frame.outerIPv4(17, Frame.outerUDP(sourcePort: source, destinationPort: port, body))
}

/// One frame per encapsulation, each carrying the same inner TCP "hello" (IPv6 when the flag says so).
private let tunnelFrames: [(name: String, linkType: LinkType, frame: [UInt8], v6: Bool)] = {
    let e = Frame.self
    let ethernetV4 = e.innerEthernetV4
    let pppoeV4 = e.pppoe([0, 0x21], bodyLength: e.innerV4.count) + e.innerV4
    var frames: [(String, LinkType, [UInt8], Bool)] = [
        ("IPv4-in-IPv4", .ethernet, overIPv4(4, e.innerV4), false),
        ("IPv4-in-IPv6", .ethernet, ipv4Over(0x86DD, e.outerIPv6(4, e.innerV4)), false),
        ("IPv6-in-IPv4", .ethernet, overIPv4(41, e.innerV6), true),
        ("IPv6-in-IPv6", .raw, e.outerIPv6(41, e.innerV6), true),
        ("GRE IPv6", .ethernet, overIPv4(47, e.gre(0x86DD) + e.innerV6), true),
        ("GRE over IPv6", .rawIPv6, e.outerIPv6(47, e.gre(0x0800, key: true) + e.innerV4), false),
        ("GRE TEB", .ethernet, overIPv4(47, e.gre(0x6558) + ethernetV4), false),
        ("GRE TEB with key", .raw, e.outerIPv4(47, e.gre(0x6558, key: true) + ethernetV4), false),
        ("ERSPAN type I", .ethernet, overIPv4(47, e.gre(0x88BE) + ethernetV4), false),
        ("ERSPAN type II", .ethernet, overIPv4(47, e.gre(0x88BE, sequence: true) + e.erspanII + ethernetV4), false),
        ("ERSPAN type III", .ethernet,
         overIPv4(47, e.gre(0x22EB, sequence: true) + e.erspanIII(subheader: false) + ethernetV4), false),
        ("ERSPAN type III subheader", .ethernet,
         overIPv4(47, e.gre(0x22EB, sequence: true) + e.erspanIII(subheader: true) + ethernetV4), false),
        ("GRE → ERSPAN II → Ethernet → VLAN → IPv4 → TCP", .ethernet,
         overIPv4(47, e.gre(0x88BE, sequence: true) + e.erspanII
             + e.ethernet(etherType: 0x0800, tags: [(0x8100, 200)]) + e.innerV4), false),
        ("GRE MPLS", .raw, e.outerIPv4(47, e.gre(0x8847) + e.mpls(labels: 2) + e.innerV4), false),
        ("VXLAN", .ethernet, ipv4Over(0x0800, udp4(4789, e.vxlan() + ethernetV4)), false),
        // As in gre-erspan-vxlan.pcap: from 4789 to 4790, the lower port wins.
        ("VXLAN 4789 → 4790", .ethernet, ipv4Over(0x0800, udp4(4790, from: 4789, e.vxlan() + ethernetV4)), false),
        ("VXLAN 4789 → 6081", .raw, udp4(4789, from: 6081, e.vxlan() + ethernetV4), false),
        ("VXLAN from 4789", .raw, udp4(53000, from: 4789, e.vxlan() + ethernetV4), false),
        ("VXLAN in IPv6", .ethernet,
         ipv4Over(0x86DD, e.outerIPv6(17, e.outerUDP(destinationPort: 4789, e.vxlan() + ethernetV4))), false),
        ("VXLAN in IPv6 carrying IPv6", .ethernet,
         ipv4Over(0x86DD, e.outerIPv6(17, e.outerUDP(destinationPort: 4789,
             e.vxlan() + e.ethernet(etherType: 0x86DD) + e.innerV6))), true),
        ("VXLAN-GPE IPv4", .raw, udp4(4790, e.vxlanGPE(nextProtocol: 1) + e.innerV4), false),
        ("VXLAN-GPE IPv6", .raw, udp4(4790, e.vxlanGPE(nextProtocol: 2) + e.innerV6), true),
        ("VXLAN-GPE Ethernet", .raw, udp4(4790, e.vxlanGPE(nextProtocol: 3) + ethernetV4), false),
        ("VXLAN-GPE MPLS", .raw, udp4(4790, e.vxlanGPE(nextProtocol: 5) + e.mpls(labels: 1) + e.innerV4), false),
        ("VXLAN-GPE without P", .raw, udp4(4790, e.vxlanGPE(flags: 0x08, nextProtocol: 0) + ethernetV4), false),
        ("GENEVE Ethernet", .ethernet, ipv4Over(0x0800, udp4(6081, e.geneve() + ethernetV4)), false),
        ("GENEVE options", .ethernet, ipv4Over(0x0800, udp4(6081, e.geneve(optionWords: 3) + ethernetV4)), false),
        ("GENEVE 63 option words", .raw, udp4(6081, from: 6081, e.geneve(optionWords: 63) + ethernetV4), false),
        ("GENEVE IPv4", .raw, udp4(6081, e.geneve(protocolType: 0x0800) + e.innerV4), false),
        ("GENEVE IPv6", .raw,
         e.outerIPv6(17, e.outerUDP(destinationPort: 6081, e.geneve(protocolType: 0x86DD, optionWords: 1) + e.innerV6)),
         true),
        ("MPLS", .ethernet, ipv4Over(0x8847, e.mpls(labels: 1) + e.innerV4), false),
        ("MPLS three labels", .ethernet, ipv4Over(0x8847, e.mpls(labels: 3) + e.innerV4), false),
        ("MPLS multicast IPv6", .ethernet, ipv4Over(0x8848, e.mpls(labels: 2) + e.innerV6), true),
        ("MPLS eight labels", .ethernet, ipv4Over(0x8847, e.mpls(labels: 8) + e.innerV4), false),
        ("VLAN MPLS", .ethernet,
         e.ethernet(etherType: 0x8847, tags: [(0x8100, 3)]) + e.mpls(labels: 1) + e.innerV4, false),
        ("PPPoE IPv4", .ethernet, ipv4Over(0x8864, pppoeV4), false),
        ("PPPoE IPv6", .ethernet, ipv4Over(0x8864, e.pppoe([0, 0x57], bodyLength: e.innerV6.count) + e.innerV6), true),
        ("PPPoE compressed protocol", .ethernet,
         ipv4Over(0x8864, e.pppoe([0x21], bodyLength: e.innerV4.count) + e.innerV4), false),
        ("QinQ PPPoE", .ethernet, e.ethernet(etherType: 0x8864, tags: [(0x88A8, 1), (0x8100, 2)]) + pppoeV4, false),
        ("SLL PPPoE", .linuxSLL, e.sll(proto: 0x8864) + pppoeV4, false),
        // gre-erspan-vxlan.pcap's stack:
        // IPv4 → GRE → ERSPAN II → Ethernet → IPv4 → UDP → VXLAN → Ethernet → IPv4 → TCP.
        ("GRE → ERSPAN → VXLAN", .ethernet,
         overIPv4(47, e.gre(0x88BE, sequence: true) + e.erspanII + e.ethernet(etherType: 0x0800)
             + udp4(4790, from: 4789, e.vxlan() + ethernetV4)), false),
        ("VXLAN → PPPoE → GRE", .raw,
         udp4(4789, e.vxlan() + e.ethernet(etherType: 0x8864)
             + e.pppoe([0, 0x21], bodyLength: 20 + 4 + e.innerV4.count) + e.outerIPv4(47, e.gre(0x0800) + e.innerV4)),
         false),
    ]
    // Every combination of the GRE checksum, key and sequence-number flags.
    for bits in 0..<8 {
        let header = Frame.gre(0x0800, checksum: bits & 1 != 0, key: bits & 2 != 0, sequence: bits & 4 != 0)
        let name = "GRE C\(bits & 1) K\(bits >> 1 & 1) S\(bits >> 2)"
        frames.append((name, .ethernet, overIPv4(47, header + e.innerV4), false))
    }
    return frames.map { (name: $0.0, linkType: $0.1, frame: $0.2, v6: $0.3) }
}()

@Test(arguments: tunnelFrames.indices)
func decodesTheInnermostPacket(_ index: Int) {
    let item = tunnelFrames[index]
    expectHello(decode(item.linkType, item.frame), frame: item.frame, v6: item.v6, item.name)
}

/// Every tunnel frame cut at every length: inside any header (outer, tunnel or inner) `.truncated`; inside
/// the payload, the captured part with the rest reported missing.
@Test(arguments: tunnelFrames.indices)
func tunnelsTruncatedAtEveryLength(_ index: Int) throws {
    let item = tunnelFrames[index]
    let full = try #require(decode(item.linkType, item.frame).packet, "\(item.name)")
    for length in 0..<item.frame.count {
        let result = decode(item.linkType, Array(item.frame.prefix(length)))
        if length < full.payloadOffset {
            #expect(result.errorCode == .truncated, "\(item.name) cut at \(length): \(result)")
        } else {
            #expect(result.packet?.payloadLength == length - full.payloadOffset, "\(item.name) cut at \(length)")
            #expect(result.packet?.missingPayloadLength == item.frame.count - length, "\(item.name) cut at \(length)")
        }
    }
}

// MARK: Encapsulations that are recognised but not followed

@Test func unfollowedPayloadsAreNil() {
    let e = Frame.self
    let arp = e.be16(1) + e.be16(0x0800) + [6, 4] + e.be16(1) + [UInt8](repeating: 0, count: 20)
    let frames: [(String, LinkType, [UInt8])] = [
        ("GRE version 1 (PPTP)", .raw, e.outerIPv4(47, e.gre(0x880B, key: true, flags: 0x0001) + e.innerV4)),
        ("GRE routing present", .raw, e.outerIPv4(47, e.gre(0x0800, flags: 0x4000) + e.be32(0) + e.innerV4)),
        ("GRE ARP", .raw, e.outerIPv4(47, e.gre(0x0806) + arp)),
        ("GRE TEB ARP", .raw, e.outerIPv4(47, e.gre(0x6558) + e.ethernet(etherType: 0x0806) + arp)),
        ("ERSPAN version 3", .raw,
         e.outerIPv4(47, e.gre(0x88BE, sequence: true) + e.be16(0x3000) + [UInt8](repeating: 0, count: 10)
             + e.innerEthernetV4)),
        ("ERSPAN version 0 with S", .raw, e.outerIPv4(47, e.gre(0x88BE, sequence: true) + e.innerEthernetV4)),
        ("VXLAN ARP", .raw, udp4(4789, e.vxlan() + e.ethernet(etherType: 0x0806) + arp)),
        ("VXLAN-GPE NSH", .raw, udp4(4790, e.vxlanGPE(nextProtocol: 4) + e.innerV4)),
        ("GENEVE ARP", .raw, e.outerIPv4(17, e.outerUDP(destinationPort: 6081, e.geneve(protocolType: 0x0806) + arp))),
        ("GENEVE ICMP", .raw,
         e.outerIPv4(17, e.outerUDP(destinationPort: 6081, e.geneve() + e.ethernet(etherType: 0x0800)
             + e.ipv4(proto: 1, payloadLength: 8) + [8, 0, 0, 0, 0, 1, 0, 1]))),
        ("MPLS pseudowire control word", .ethernet,
         ipv4Over(0x8847, e.mpls(labels: 1) + e.be32(0) + e.innerEthernetV4)),
        ("PPPoE LCP", .ethernet, ipv4Over(0x8864, e.pppoe([0xC0, 0x21], bodyLength: 8) + [1, 1, 0, 8, 0, 0, 0, 0])),
        ("PPPoE discovery", .ethernet, ipv4Over(0x8863, [0x11, 0x09, 0, 0, 0, 0])),
        ("PPPoE version 2", .ethernet,
         ipv4Over(0x8864, e.pppoe([0, 0x21], versionType: 0x21, bodyLength: 45) + e.innerV4)),
        ("PPPoE code 7", .ethernet, ipv4Over(0x8864, e.pppoe([0, 0x21], code: 7, bodyLength: 45) + e.innerV4)),
        ("IP-in-IP non-first fragment", .raw, e.outerIPv4(4, e.innerV4, flagsFragment: 0x0010)),
    ]
    for (name, linkType, frame) in frames {
        #expect(decode(linkType, frame).isNil, "\(name): \(decode(linkType, frame))")
    }
}

/// A datagram on a tunnel port whose header contradicts the tunnel is plain UDP (an ephemeral port that
/// happens to be 4789 or 6081): reported as UDP with its whole payload.
@Test func udpOnATunnelPortWithAForeignHeaderStaysUDP() throws {
    let e = Frame.self
    let cases: [(String, UInt16, UInt16, [UInt8])] = [
        ("VXLAN without I flag", 4789, 53, e.vxlan(flags: 0) + e.innerEthernetV4),
        ("GENEVE version 1", 33000, 6081, e.geneve(version: 1) + e.innerEthernetV4),
        ("GENEVE version 3", 6081, 40000, e.geneve(version: 3) + e.innerEthernetV4),
        ("VXLAN-GPE version 1", 4790, 4791, e.vxlanGPE(flags: 0x1C, nextProtocol: 1) + e.innerV4),
    ]
    for (name, sourcePort, destinationPort, body) in cases {
        let frame = e.outerIPv4(17, e.outerUDP(sourcePort: sourcePort, destinationPort: destinationPort, body))
        let packet = try #require(decode(.raw, frame).packet, "\(name)")
        #expect(packet.transport == .udp, "\(name)")
        #expect(packet.sourcePort == sourcePort && packet.destinationPort == destinationPort, "\(name)")
        #expect(packet.source == IPAddress(ipv4: Frame.outerSource), "\(name)")
        #expect(packet.payloadOffset == 28 && packet.payloadLength == body.count, "\(name)")
    }
}

@Test func malformedInnerHeadersStillThrow() {
    let e = Frame.self
    // VXLAN announces Ethernet carrying IPv4, but the IPv4 header has IHL 4.
    var badInner = e.innerEthernetV4
    badInner[14] = 0x44
    #expect(decode(.raw, e.outerIPv4(17, e.outerUDP(destinationPort: 4789, e.vxlan() + badInner))).errorCode
            == .malformed)
    // GRE says IPv6 but carries IPv4.
    #expect(decode(.raw, e.outerIPv4(47, e.gre(0x86DD) + e.innerV4)).errorCode == .malformed)
    // IP-in-IP (protocol 4) carrying IPv6.
    #expect(decode(.raw, e.outerIPv4(4, e.innerV6)).errorCode == .malformed)
}

@Test func mplsLabelStackIsCapped() {
    #expect(decode(.ethernet, ipv4Over(0x8847, Frame.mpls(labels: 8) + Frame.innerV4)).packet != nil)
    #expect(decode(.ethernet, ipv4Over(0x8847, Frame.mpls(labels: 9) + Frame.innerV4)).errorCode == .tooLarge)
    // No bottom-of-stack bit at all: the frame runs out first.
    let endless = [UInt8](repeating: 0, count: 4 * 5)
    #expect(decode(.ethernet, ipv4Over(0x8847, endless)).errorCode == .truncated)
}

// MARK: Nesting cap

/// Ways to wrap an IP packet in one more tunnel (each ends in an IPv4 header around `inner`).
private let wrappers: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
    ("IP-in-IP", { Frame.outerIPv4(4, $0) }),
    ("GRE", { Frame.outerIPv4(47, Frame.gre(0x0800, key: true) + $0) }),
    ("VXLAN", { udp4(4789, Frame.vxlan() + Frame.ethernet(etherType: 0x0800) + $0) }),
    ("GENEVE", { udp4(6081, Frame.geneve(protocolType: 0x0800) + $0) }),
    ("ERSPAN", {
        Frame.outerIPv4(47, Frame.gre(0x88BE, sequence: true) + Frame.erspanII + Frame.ethernet(etherType: 0x0800) + $0)
    }),
    ("IPv6-in-IPv6", { Frame.outerIPv6(41, $0) }),
]

@Test(arguments: wrappers.indices)
func tunnelNestingIsCapped(_ index: Int) {
    let (name, wrap) = wrappers[index]
    let inner = name == "IPv6-in-IPv6" ? Frame.innerV6 : Frame.innerV4
    var frame = inner
    for _ in 0..<DecodingLimits.maxTunnelDepth { frame = wrap(frame) }
    let v6 = name == "IPv6-in-IPv6"
    expectHello(decode(.raw, frame), frame: frame, v6: v6, "\(name) × \(DecodingLimits.maxTunnelDepth)")
    #expect(decode(.raw, wrap(frame)).errorCode == .tooLarge, "\(name) × \(DecodingLimits.maxTunnelDepth + 1)")
}

@Test func mixedNestingIsCapped() {
    var frame = Frame.innerV4
    for index in 0..<DecodingLimits.maxTunnelDepth { frame = wrappers[index % 5].1(frame) }
    expectHello(decode(.raw, frame), frame: frame, v6: false, "mixed × 4")
    let tooDeep = wrappers[4].1(frame)
    #expect(decode(.raw, tooDeep).errorCode == .tooLarge)
    // Behind an Ethernet header and VLAN tags the count is the same: link layers are not tunnels.
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 1)]) + frame).packet != nil)
    #expect(decode(.ethernet, Frame.ethernet(etherType: 0x0800, tags: [(0x8100, 1)]) + tooDeep).errorCode == .tooLarge)
}

// MARK: Fragments and garbage

@Test func aFragmentedTunnelIsReassembledBeforeItIsOpened() throws {
    // An outer GRE datagram in two fragments, the cut inside the inner TCP header (RFC 1858's tiny fragment).
    let body = Frame.gre(0x0800, key: true) + Frame.innerV4
    let cut = 8 + 20 + 12  // a multiple of 8, as every fragment but the last
    let first = Frame.outerIPv4(47, Array(body[..<cut]), flagsFragment: 0x2000)
    let second = Frame.outerIPv4(47, Array(body[cut...]), flagsFragment: UInt16(cut / 8))
    #expect(decode(.raw, first).isNil && decode(.raw, second).isNil)
    let decoder = try PacketDecoder(linkType: .raw)
    var fragments = IPFragmentReassembler()
    var datagram: ReassembledDatagram?
    for frame in [second, first] {
        let fragment = try #require(decodeFrame(.raw, frame).fragment)
        #expect(fragment.protocolNumber == 47 && fragment.source == IPAddress(ipv4: Frame.outerSource))
        datagram = frame.withUnsafeBytes { fragments.add(fragment, frame: $0, timestamp: 0) }
    }
    let whole = try #require(datagram)
    #expect(whole.payload == body)
    let inner = try whole.payload.withUnsafeBytes { bytes throws(DecodeError) in
        try decoder.decodeDatagram(bytes, of: whole.fragment)
    }
    let packet = try #require(inner?.packet)
    #expect(packet.sourcePort == 40000 && packet.source == IPAddress(ipv4: 0x0A00_0001))
    #expect(Array(whole.payload[packet.payloadOffset...]) == payload)
    #expect(packet.segment == NetworkSegment.adding(.greKey, 0x0102_0304, to: 0))
    // Not a fragment: the same cut is a truncated inner header.
    #expect(decode(.raw, Frame.outerIPv4(47, Array(body[..<cut]))).errorCode == .truncated)
}

@Test func tunnelGarbageNeverTraps() {
    var generator = SeededGenerator(seed: 0x7E11_E15)
    let prefixes: [[UInt8]] = [
        Frame.gre(0x0800), Frame.gre(0x6558, key: true), Frame.gre(0x88BE), Frame.gre(0x88BE, sequence: true),
        Frame.gre(0x22EB, sequence: true), Frame.gre(0x8847), Frame.gre(0x86DD, checksum: true),
    ]
    var decoded = 0
    for round in 0..<20_000 {
        let length = Int.random(in: 0...100, using: &generator)
        let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let frame: [UInt8] = switch round % 6 {
        case 0: Frame.outerIPv4(47, prefixes[round / 6 % prefixes.count] + garbage)
        case 1: Frame.outerIPv4(17, Frame.outerUDP(destinationPort: 4789, Frame.vxlan() + garbage))
        case 2: Frame.outerIPv4(17, Frame.outerUDP(destinationPort: 6081, garbage))
        case 3: Frame.outerIPv4(4, garbage.isEmpty ? [] : [0x45] + garbage)
        case 4: Frame.outerIPv6(41, garbage.isEmpty ? [] : [0x60] + garbage)
        default: Frame.ethernet(etherType: round % 12 == 5 ? 0x8847 : 0x8864) + garbage
        }
        let result = decode(round % 6 == 5 ? .ethernet : .raw, frame)
        if case .success(let packet?) = result {
            decoded += 1
            #expect(packet.payloadOffset >= 0 && packet.payloadLength >= 0)
            #expect(packet.payloadOffset + packet.payloadLength <= frame.count)
        }
    }
    #expect(decoded > 0)
}

// MARK: Network segment (VLANs and tunnel ids in the flow key)

@Test func segmentFoldsVLANAndTunnelIds() throws {
    let e = Frame.self
    func segment(_ linkType: LinkType, _ frame: [UInt8]) throws -> UInt64 {
        try #require(decode(linkType, frame).packet, "\(frame.count)-byte frame").segment
    }
    func vlans(_ ids: [UInt16]) -> UInt64 { ids.reduce(0) { NetworkSegment.adding(.vlan, UInt32($1), to: $0) } }
    func tagged(_ tags: [(tpid: UInt16, vid: UInt16)]) -> [UInt8] { e.ethernet(etherType: 0x0800, tags: tags) + e.innerV4 }
    // Untagged: 0 (the plain-frame shortcut's answer too).
    #expect(try segment(.ethernet, e.innerEthernetV4) == 0)
    // VLAN ids (the priority bits ignored), QinQ in order; VLAN 0 (priority tag only) is no segment.
    #expect(try segment(.ethernet, tagged([(0x8100, 10)])) == vlans([10]))
    #expect(try segment(.ethernet, tagged([(0x8100, 0xE00A)])) == vlans([10]))
    #expect(try segment(.ethernet, tagged([(0x8100, 0x6000)])) == 0)
    #expect(try segment(.ethernet, tagged([(0x88A8, 1), (0x8100, 2)])) == vlans([1, 2]))
    #expect(try segment(.ethernet, tagged([(0x88A8, 2), (0x8100, 1)])) != vlans([1, 2]))
    #expect(try segment(.ethernet, tagged([(0x8100, 10)])) != segment(.ethernet, tagged([(0x8100, 20)])))
    // Tunnel ids: VXLAN VNI 42, GENEVE VNI 42, GRE key 0x01020304; and VLANs inside a tunnel.
    let vxlan = ipv4Over(0x0800, udp4(4789, e.vxlan() + e.innerEthernetV4))
    #expect(try segment(.ethernet, vxlan) == NetworkSegment.adding(.vxlanNetwork, 42, to: 0))
    let vxlanGPE = udp4(4790, e.vxlanGPE(nextProtocol: 1) + e.innerV4)
    #expect(try segment(.raw, vxlanGPE) == NetworkSegment.adding(.vxlanNetwork, 42, to: 0))
    let geneve = udp4(6081, e.geneve(protocolType: 0x0800) + e.innerV4)
    #expect(try segment(.raw, geneve) == NetworkSegment.adding(.geneveNetwork, 42, to: 0))
    #expect(try segment(.ethernet, overIPv4(47, e.gre(0x0800, key: true) + e.innerV4))
            == NetworkSegment.adding(.greKey, 0x0102_0304, to: 0))
    #expect(try segment(.ethernet, overIPv4(47, e.gre(0x0800) + e.innerV4)) == 0)
    // NVGRE (Ethernet over GRE with a key): the virtual subnet id only, not the per-flow FlowID byte.
    #expect(try segment(.ethernet, overIPv4(47, e.gre(0x6558, key: true) + e.innerEthernetV4))
            == NetworkSegment.adding(.greKey, 0x01_0203, to: 0))
    let vlanInVXLAN = udp4(4789, e.vxlan() + e.ethernet(etherType: 0x0800, tags: [(0x8100, 7)]) + e.innerV4)
    #expect(try segment(.raw, vlanInVXLAN)
            == NetworkSegment.adding(.vlan, 7, to: NetworkSegment.adding(.vxlanNetwork, 42, to: 0)))
    let outerVLAN = e.ethernet(etherType: 0x0800, tags: [(0x8100, 5)]) + udp4(4789, e.vxlan() + e.innerEthernetV4)
    #expect(try segment(.ethernet, outerVLAN)
            == NetworkSegment.adding(.vxlanNetwork, 42, to: vlans([5])))
    // Not folded: MPLS labels (per direction) and ERSPAN session ids (often per direction).
    #expect(try segment(.ethernet, ipv4Over(0x8847, e.mpls(labels: 2) + e.innerV4)) == 0)
    #expect(try segment(.ethernet, overIPv4(47, e.gre(0x88BE, sequence: true) + e.erspanII + e.innerEthernetV4)) == 0)
}
