// libFuzzer target: TCPReassembler driven by synthetic segments decoded from the input (up to four
// connections, both directions, any flags, sequence numbers around a chosen ISN, missing tails, clock
// steps), with small or default limits. Every payload byte is the low byte of its own sequence number,
// so the consumer can check what it is given: bytes in stream order, each at most once, gaps accounted
// for, never more bytes than were sent; and no buffered byte is left once every flow has ended.
import FuzzSupport
import PacketDecoding
import FlowTracking
import TCPReassembly

let serverPort: UInt16 = 443
let clientPorts: [UInt16] = [40000, 40001, 40002, 40003]
let client = IPAddress(ipv4: 0x0A00_0001)
let server = IPAddress(ipv4: 0x0A00_0002)

/// Bytes sent and delivered per connection (client port) and direction (0: from the client), over the run.
final class Ledger {
    var sent = [[Int]](repeating: [0, 0], count: 4)
    var delivered = [[Int]](repeating: [0, 0], count: 4)
}

struct CheckingConsumer: TCPStreamConsumer {
    let ledger: Ledger
    let connection: Int
    let initiatorIsClient: Bool
    /// The sequence number's low byte the next delivered byte must carry, per FlowDirection (nil: not yet known).
    var expected: [UInt8?] = [nil, nil]
    var stopAfter: Int
    var receives = 0
    /// Stream offset of the next byte per FlowDirection: bytes delivered plus the gaps reported.
    var offset: [Int64] = [0, 0]
    /// A gap of unknown length was reported: offsets are no longer checked in that direction.
    var offsetUnknown = [false, false]

    func side(_ direction: FlowDirection) -> Int {
        (direction == .fromInitiator) == initiatorIsClient ? 0 : 1
    }

    mutating func receive(_ bytes: UnsafeRawBufferPointer, direction: FlowDirection, timestamp: Int64) -> StreamVerdict {
        let index = direction == .fromInitiator ? 0 : 1
        var next = expected[index] ?? bytes.first ?? 0
        for byte in bytes {
            if byte != next { fuzzFailure("delivered byte \(byte), expected \(next): out of order or repeated") }
            next &+= 1
        }
        expected[index] = next
        offset[index] += Int64(bytes.count)
        let side = side(direction)
        ledger.delivered[connection][side] += bytes.count
        if ledger.delivered[connection][side] > ledger.sent[connection][side] {
            fuzzFailure("delivered \(ledger.delivered[connection][side]) bytes of \(ledger.sent[connection][side]) sent")
        }
        receives += 1
        return receives == stopAfter ? .stopCollecting : .keepCollecting
    }

    mutating func gap(direction: FlowDirection, offset gapOffset: Int64, length: Int?, timestamp: Int64) {
        let index = direction == .fromInitiator ? 0 : 1
        if !offsetUnknown[index], gapOffset != offset[index] {
            fuzzFailure("gap at stream offset \(gapOffset), but \(offset[index]) bytes came before it")
        }
        if let length { offset[index] += Int64(length) } else { offsetUnknown[index] = true }
        if let length, length > 0 {
            expected[index] = expected[index].map { $0 &+ UInt8(truncatingIfNeeded: length) }
        } else {
            expected[index] = nil
        }
    }

    mutating func resetIgnored(direction: FlowDirection, timestamp: Int64) {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var limits = ReassemblyLimits()
    let setup = input.byte()
    if setup & 1 == 0 {
        limits.maxFlows = 1 + Int(setup >> 1 & 3)
        limits.maxBufferedBytesPerDirection = 512
        limits.maxBufferedBytesTotal = 1024
        limits.maxBufferedSegmentsPerDirection = 4
        limits.idleTimeoutNanoseconds = 50_000_000
        // A budget of a few flows: the idlest are ended for memory too.
        limits.maxMemoryBytes = 4096
    }
    let stopAfter = Int(setup >> 4)  // 0: never
    // Initial sequence numbers near the 2^32 wrap half the time.
    var isn = [[UInt32]](repeating: [0, 0], count: 4)
    for connection in 0..<4 {
        for side in 0..<2 {
            let chosen = UInt32(input.uint16())
            isn[connection][side] = chosen & 1 == 0 ? chosen << 16 : 0xFFFF_0000 | chosen
        }
    }
    let ledger = Ledger()
    var reassembler = TCPReassembler<CheckingConsumer>(limits: limits)
    var payload = [UInt8](repeating: 0, count: 1024)
    var time: Int64 = 1_000_000_000
    var buffered = 0

    func finished(_ consumer: CheckingConsumer, _ end: FlowEnd) {}

    while !input.isEmpty {
        let selector = input.byte()
        let connection = Int(selector & 3)
        let fromServer = selector & 4 != 0
        let flags = TCPFlags(rawValue: input.byte())
        let sequence = isn[connection][fromServer ? 1 : 0] &+ UInt32(input.uint16())
        let lengthByte = input.byte()
        let length = selector & 8 != 0 ? Int(lengthByte) * 4 : Int(lengthByte)
        let missing = selector & 0x10 != 0 ? Int(input.byte()) : 0
        time += Int64(selector >> 5) * 10_000_000
        let dataStart = flags.contains(.syn) ? sequence &+ 1 : sequence
        for index in 0..<length {
            payload[index] = UInt8(truncatingIfNeeded: dataStart &+ UInt32(index))
        }
        ledger.sent[connection][fromServer ? 1 : 0] += length + missing
        let port = clientPorts[connection]
        let packet = DecodedPacket(
            source: fromServer ? server : client, destination: fromServer ? client : server,
            sourcePort: fromServer ? serverPort : port, destinationPort: fromServer ? port : serverPort,
            transport: .tcp, sequenceNumber: sequence, acknowledgmentNumber: 0, flags: flags, payloadOffset: 0,
            payloadLength: length, missingPayloadLength: missing)
        payload.withUnsafeBytes { bytes in
            reassembler.process(
                packet, payload: UnsafeRawBufferPointer(rebasing: bytes[0..<length]), timestamp: time,
                makeConsumer: { start in
                    CheckingConsumer(
                        ledger: ledger, connection: connection,
                        initiatorIsClient: start.initiatorPort != serverPort, stopAfter: stopAfter)
                },
                finished: finished)
        }
        buffered = reassembler.statistics.bufferedBytes
        if buffered < 0 || buffered > limits.maxBufferedBytesTotal {
            fuzzFailure("\(buffered) bytes buffered (cap \(limits.maxBufferedBytesTotal))")
        }
    }
    reassembler.finishAll(finished)
    if reassembler.statistics.bufferedBytes != 0 || reassembler.flowCount != 0 || reassembler.statistics.consumerBytes != 0 {
        fuzzFailure("\(reassembler.statistics.bufferedBytes) bytes and \(reassembler.flowCount) flows left after finishAll")
    }
    return 0
}

@_cdecl("fuzz_tcp_reassembler_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
