import WireCursor

extension PacketDecoder {
    // TCP header (RFC 9293 §3.1):
    //   |          Source Port          |       Destination Port        |
    //   |                        Sequence Number                        |
    //   |                    Acknowledgment Number                      |
    //   |  DOffset | Rsrvd |C|E|U|A|P|R|S|F|           Window           |
    //   |           Checksum            |         Urgent Pointer        |
    //   |                    [Options]                                  |
    // The data offset (32-bit words) must be at least 5; options are skipped unread.
    @inline(__always)
    func decodeTCP(_ cursor: inout ByteCursor, network: NetworkHeader) throws(DecodeError) -> DecodedPacket? {
        let start = cursor.position
        let header = try cursor.readHeader(20, "TCP.header")
        let headerLength = Int(header.uint8(at: 12) >> 4) * 4
        guard headerLength >= 20 else { throw DecodeError(.malformed, at: start, "TCP.data_offset") }
        if headerLength > 20 { try cursor.skip(headerLength - 20, "TCP.options") }
        let sourcePort = header.uint16(at: 0)
        let destinationPort = header.uint16(at: 2)
        let sequence = header.uint32(at: 4)
        let acknowledgment = header.uint32(at: 8)
        let flags = TCPFlags(rawValue: header.uint8(at: 13))
        return DecodedPacket(
            source: network.source, destination: network.destination,
            sourcePort: sourcePort, destinationPort: destinationPort, transport: .tcp,
            sequenceNumber: sequence, acknowledgmentNumber: acknowledgment, flags: flags,
            payloadOffset: cursor.position, payloadLength: cursor.remaining,
            missingPayloadLength: network.missingPayloadLength, segment: network.segment)
    }

    // UDP header (RFC 768):
    //   |          Source Port          |       Destination Port        |
    //   |            Length             |           Checksum            |
    // Length counts the header; 0 (IPv6 jumbograms, RFC 2675) means "as the IP length says".
    // A datagram to or from a tunnel port (VXLAN, VXLAN-GPE, GENEVE) is followed into the tunnel.
    func decodeUDP(
        _ cursor: inout ByteCursor, network: NetworkHeader, depth: Int
    ) throws(DecodeError) -> DecodedPacket? {
        let start = cursor.position
        let sourcePort = try cursor.readUInt16("UDP.source_port")
        let destinationPort = try cursor.readUInt16("UDP.destination_port")
        let length = Int(try cursor.readUInt16("UDP.length"))
        try cursor.skip(2, "UDP.checksum")
        var payloadLength = cursor.remaining
        var missing = network.missingPayloadLength
        if length != 0 {
            guard length >= 8 else { throw DecodeError(.malformed, at: start, "UDP.length") }
            let declared = length - 8
            // The UDP length may only shorten what IP declared; when the IP payload was cut by the snaplen,
            // the UDP length tells how much is missing.
            if declared <= cursor.remaining {
                payloadLength = declared
                missing = 0
            } else {
                missing = min(declared - cursor.remaining, network.missingPayloadLength)
            }
        }
        if let tunnel = UDPTunnel(sourcePort: sourcePort, destinationPort: destinationPort) {
            var rest = cursor
            var inner = try rest.readCursor(count: payloadLength, "UDP.payload")
            if case .decoded(let packet) = try decodeUDPTunnel(tunnel, &inner, depth: depth, segment: network.segment) {
                return packet
            }
        }
        return DecodedPacket(
            source: network.source, destination: network.destination,
            sourcePort: sourcePort, destinationPort: destinationPort, transport: .udp,
            payloadOffset: cursor.position, payloadLength: payloadLength,
            missingPayloadLength: missing, segment: network.segment)
    }
}
