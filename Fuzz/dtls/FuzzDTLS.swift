// libFuzzer target: DTLSRecordParser over both directions of a UDP flow, datagram by datagram, as the
// session drives it: the client direction is told the server's ServerHello when the server's parser
// emits it, and each direction may be told a connection id length.
//
// Input: [mode] then datagrams, each [length: 2] [direction] bytes (direction bit 0: from the server).
// Mode bit 0: small limits (message, certificate and reassembly caps hit sooner); bits 1-2: connection id
// length noted for each direction (0: none, else 1, 4 or 8 bytes).
//
// Invariants besides "no trap": the reassembly never holds more than its caps allow, feeding is
// deterministic (a second pair of parsers over the same datagrams gives the same events), and once
// `finish` has run nothing stays buffered.
import DTLSWire
import FuzzSupport
import TLSWire

struct Direction {
    var parser: DTLSRecordParser
    var events: [TLSEvent] = []
    var problems: [DTLSProblem] = []

    mutating func feed(_ datagram: UnsafeRawBufferPointer) {
        parser.feed(datagram: datagram, problems: { problems.append($0) }) { events.append($0) }
    }
}

func checkBounds(_ direction: Direction, _ limits: DTLSReassemblyLimits, _ name: String) {
    guard direction.parser.pendingMessageCount <= limits.maxPendingMessages else {
        fuzzFailure("\(name): \(direction.parser.pendingMessageCount) messages pending")
    }
    // The byte cap bounds message buffers; range lists and the pending array add a little.
    let slack = 64 * 1024
    guard direction.parser.bufferedCapacity <= limits.maxBufferedBytes + slack else {
        fuzzFailure("\(name): \(direction.parser.bufferedCapacity) bytes buffered")
    }
}

func runFlow(_ input: FuzzInput, mode: UInt8, limits: TLSLimits, reassembly: DTLSReassemblyLimits) -> [[TLSEvent]] {
    var input = input
    var client = Direction(parser: DTLSRecordParser(limits: limits, reassemblyLimits: reassembly))
    var server = Direction(parser: DTLSRecordParser(limits: limits, reassemblyLimits: reassembly))
    let cidLengths = [0, 1, 4, 8]
    let cid = cidLengths[Int(mode >> 1 & 3)]
    if cid > 0 {
        client.parser.noteConnectionIDLength(cid)
        server.parser.noteConnectionIDLength(cid)
    }
    var toldServerHello = false
    while !input.isEmpty {
        let length = Int(input.uint16())
        let fromServer = input.byte() & 1 != 0
        let datagram = input.take(length)
        if fromServer {
            let before = server.events.count
            server.feed(datagram)
            checkBounds(server, reassembly, "server")
            if !toldServerHello {
                for case .handshake(.serverHello(let hello)) in server.events[before...] {
                    client.parser.notePeerServerHello(hello)
                    toldServerHello = true
                    break
                }
            }
        } else {
            client.feed(datagram)
            checkBounds(client, reassembly, "client")
        }
    }
    for name in ["client", "server"] {
        var direction = name == "client" ? client : server
        direction.parser.finish(problems: { direction.problems.append($0) }) { direction.events.append($0) }
        guard direction.parser.bufferedCapacity == 0, direction.parser.pendingMessageCount == 0 else {
            fuzzFailure("\(name): \(direction.parser.bufferedCapacity) bytes still buffered after finish")
        }
        if name == "client" { client = direction } else { server = direction }
    }
    return [client.events, server.events]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    var limits = TLSLimits()
    var reassembly = DTLSReassemblyLimits()
    if mode & 1 != 0 {
        limits.maxRecordLength = 512
        limits.maxHandshakeMessage = 300
        limits.maxCertificateMessage = 1024
        limits.maxExtensions = 8
        limits.maxCertificates = 2
        reassembly.maxPendingMessages = 3
        reassembly.maxMessageSeqAhead = 4
        reassembly.maxFragmentRanges = 3
        reassembly.maxBufferedBytes = 1500
    }
    let first = runFlow(input, mode: mode, limits: limits, reassembly: reassembly)
    let second = runFlow(input, mode: mode, limits: limits, reassembly: reassembly)
    if first != second { fuzzFailure("the same datagrams gave different events") }
    return 0
}

@_cdecl("fuzz_dtls_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
