// libFuzzer target: PacketDecoder over one frame. The input's first byte picks the link type, the rest is
// the frame. Checks that a decoded payload lies inside the frame and that the plain-frame shortcut, when
// it answers, agrees with the general layer-by-layer decoder.
import FuzzSupport
@testable import PacketDecoding

let linkTypes: [LinkType] = [
    .ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawIPv4, .rawIPv6, .rawAlt12, .rawAlt14,
    .ppp, .pppHDLC, .pppWithDirection,
]
let decoders: [PacketDecoder] = linkTypes.compactMap { try? PacketDecoder(linkType: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let decoder = decoders[Int(input.byte()) % decoders.count]
    let frame = input.rest()
    let layers: DecodedPacket?
    do {
        layers = try decoder.decodeLayers(frame)
    } catch {
        layers = nil
    }
    if let packet = layers {
        guard packet.payloadOffset >= 0, packet.payloadLength >= 0, packet.missingPayloadLength >= 0,
            packet.payloadOffset <= frame.count, packet.payloadLength <= frame.count - packet.payloadOffset
        else { fuzzFailure("payload \(packet.payloadOffset)+\(packet.payloadLength) outside a \(frame.count)-byte frame") }
    }
    if let shortcut = decoder.decodePlainIPv4TCP(frame), shortcut != layers {
        fuzzFailure("shortcut \(shortcut) but general decoder \(String(describing: layers))")
    }
    return 0
}

@_cdecl("fuzz_packet_decoder_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
