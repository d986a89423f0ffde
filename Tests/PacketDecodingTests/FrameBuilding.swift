import PacketDecoding
import WireCursor

/// Hand-built frames: each helper returns the bytes of one header, in network order.
enum Frame {
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
    static func le32(_ value: UInt32) -> [UInt8] { be32(value).reversed() }

    static func ethernet(etherType: UInt16, tags: [(tpid: UInt16, vid: UInt16)] = []) -> [UInt8] {
        var bytes: [UInt8] = [0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]
        for tag in tags { bytes += be16(tag.tpid) + be16(tag.vid) }
        return bytes + be16(etherType)
    }

    static func sll(proto: UInt16) -> [UInt8] {
        // packet type 0 (to us), ARPHRD_ETHER, address length 6, address padded to 8, protocol
        be16(0) + be16(1) + be16(6) + [1, 2, 3, 4, 5, 6, 0, 0] + be16(proto)
    }

    static func sll2(proto: UInt16) -> [UInt8] {
        // protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address
        be16(proto) + be16(0) + be32(2) + be16(1) + [0, 6] + [1, 2, 3, 4, 5, 6, 0, 0]
    }

    static func ipv4(
        source: UInt32 = 0x0A00_0001, destination: UInt32 = 0x0A00_0002, proto: UInt8 = 6, payloadLength: Int,
        options: [UInt8] = [], totalLength: Int? = nil, flagsFragment: UInt16 = 0x4000
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        let total = totalLength ?? headerLength + payloadLength
        var bytes: [UInt8] = [0x40 | UInt8(headerLength / 4), 0]
        bytes += be16(UInt16(total)) + be16(0x1234) + be16(flagsFragment) + [64, proto] + be16(0xDEAD)
        return bytes + be32(source) + be32(destination) + options
    }

    static let v6Source: [UInt16] = [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]
    static let v6Destination: [UInt16] = [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]

    static func ipv6(nextHeader: UInt8 = 6, payloadLength: Int, declaredLength: Int? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0x60, 0, 0, 0]
        bytes += be16(UInt16(declaredLength ?? payloadLength)) + [nextHeader, 64]
        for group in v6Source + v6Destination { bytes += be16(group) }
        return bytes
    }

    /// A generic IPv6 extension header (hop-by-hop, routing, destination options) of `units` 8-byte units.
    static func ipv6Extension(next: UInt8, units: Int) -> [UInt8] {
        [next, UInt8(units - 1)] + [UInt8](repeating: 0, count: units * 8 - 2)
    }

    static func ipv6Fragment(next: UInt8, offset: UInt16, more: Bool) -> [UInt8] {
        [next, 0] + be16(offset << 3 | (more ? 1 : 0)) + be32(0xCAFE)
    }

    /// Authentication header with a 12-byte ICV: Payload Len = (12 + 12) / 4 - 2 = 4.
    static func ipv6AH(next: UInt8) -> [UInt8] {
        [next, 4, 0, 0] + be32(0x100) + be32(1) + [UInt8](repeating: 0xAA, count: 12)
    }

    static func tcp(
        sourcePort: UInt16 = 40000, destinationPort: UInt16 = 443, sequence: UInt32 = 1000,
        acknowledgment: UInt32 = 2000, flags: TCPFlags = [.ack, .psh], options: [UInt8] = [], dataOffset: UInt8? = nil
    ) -> [UInt8] {
        let offsetWords = dataOffset ?? UInt8((20 + options.count) / 4)
        return be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgment)
            + [offsetWords << 4, flags.rawValue] + be16(65535) + be16(0xBEEF) + be16(0) + options
    }

    static func udp(sourcePort: UInt16 = 5353, destinationPort: UInt16 = 53, payloadLength: Int, length: Int? = nil)
        -> [UInt8]
    {
        be16(sourcePort) + be16(destinationPort) + be16(UInt16(length ?? 8 + payloadLength)) + be16(0)
    }

    /// IPv4 + TCP + payload.
    static func ipv4TCP(_ payload: [UInt8], options: [UInt8] = [], tcpOptions: [UInt8] = []) -> [UInt8] {
        let tcpHeader = tcp(options: tcpOptions)
        return ipv4(payloadLength: tcpHeader.count + payload.count, options: options) + tcpHeader + payload
    }

    /// IPv6 + TCP + payload.
    static func ipv6TCP(_ payload: [UInt8]) -> [UInt8] {
        let tcpHeader = tcp()
        return ipv6(payloadLength: tcpHeader.count + payload.count) + tcpHeader + payload
    }
}

/// Decodes `frame` as `linkType`, capturing the typed error.
func decode(_ linkType: LinkType, _ frame: [UInt8]) -> Result<DecodedPacket?, DecodeError> {
    let decoder: PacketDecoder
    do { decoder = try PacketDecoder(linkType: linkType) } catch { return .failure(error) }
    return frame.withUnsafeBytes { buffer in
        Result { () throws(DecodeError) in try decoder.decode(buffer) }
    }
}

/// Decodes `frame` as `linkType` with `decodeFrame` (fragments handed out).
func decodeFrame(_ linkType: LinkType, _ frame: [UInt8]) -> Result<DecodedFrame?, DecodeError> {
    let decoder: PacketDecoder
    do { decoder = try PacketDecoder(linkType: linkType) } catch { return .failure(error) }
    return frame.withUnsafeBytes { buffer in
        Result { () throws(DecodeError) in try decoder.decodeFrame(buffer) }
    }
}

extension Result where Success == DecodedFrame?, Failure == DecodeError {
    var packet: DecodedPacket? { if case .success(.packet(let packet)) = self { packet } else { nil } }
    var fragment: IPFragment? { if case .success(.fragment(let fragment)) = self { fragment } else { nil } }
    var isNil: Bool { if case .success(nil) = self { true } else { false } }
}

extension DecodedFrame {
    var packet: DecodedPacket? { if case .packet(let packet) = self { packet } else { nil } }
}

extension Result where Success == DecodedPacket?, Failure == DecodeError {
    var packet: DecodedPacket? { if case .success(let packet) = self { packet } else { nil } }
    var errorCode: DecodeError.Code? { if case .failure(let error) = self { error.code } else { nil } }
    var isNil: Bool { if case .success(nil) = self { true } else { false } }
}

/// SplitMix64: a tiny seeded generator so randomized tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
