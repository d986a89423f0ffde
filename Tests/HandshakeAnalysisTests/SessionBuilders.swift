import PacketDecoding
import TLSKeys
import TLSWire

@testable import HandshakeAnalysis
import FlowTracking
@testable import TCPReassembly

// MARK: - Builders

func u16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
func lp8(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count)] + body }
func lp16(_ body: [UInt8]) -> [UInt8] { u16(body.count) + body }
func lp24(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count >> 16)] + u16(body.count) + body }
func tlsRecord(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type, 0x03, 0x03] + u16(body.count) + body }

/// A ClientHello record with SNI `name`.
func clientHello(name: String) -> [UInt8] {
    let sni = u16(0) + lp16(lp16([0] + lp16(Array(name.utf8))))
    let body = u16(0x0303) + [UInt8](repeating: 0x11, count: 32) + lp8([]) + lp16(u16(0xc02f) + u16(0x1301)) + lp8([0])
        + lp16(sni)
    return tlsRecord(0x16, [0x01] + lp24(body))
}

/// A TLS 1.2 ServerHello record choosing 0xc02f.
let serverHello: [UInt8] = {
    let body = u16(0x0303) + [UInt8](repeating: 0x22, count: 32) + lp8([]) + u16(0xc02f) + [0] + lp16([])
    return tlsRecord(0x16, [0x02] + lp24(body))
}()

func session(sawSYN: Bool = true, limits: TLSLimits = TLSLimits(), keyLog: SharedKeyLog? = nil) -> TLSSession {
    let client = IPAddress(ipv4: 0x0a00_0001)
    let server = IPAddress(ipv4: 0x0a00_0002)
    let packet = DecodedPacket(
        source: client, destination: server, sourcePort: 40000, destinationPort: 2525, transport: .tcp,
        payloadOffset: 0, payloadLength: 0)
    let start = FlowStart(
        key: FlowKey(packet), initiatorAddress: client, initiatorPort: 40000, responderAddress: server,
        responderPort: 2525, sawSYN: sawSYN, timestamp: 0)
    return TLSSession(start: start, limits: limits, keyLog: keyLog)
}

extension TLSSession {
    mutating func send(_ bytes: [UInt8], _ direction: FlowDirection) -> StreamVerdict {
        bytes.withUnsafeBytes { receive($0, direction: direction, timestamp: 0) }
    }
    mutating func send(_ text: String, _ direction: FlowDirection) -> StreamVerdict {
        send(Array(text.utf8), direction)
    }
}

func isStop(_ verdict: StreamVerdict) -> Bool {
    if case .stopCollecting = verdict { return true }
    return false
}

