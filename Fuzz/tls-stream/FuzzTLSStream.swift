// libFuzzer target: TLSStreamParser over both directions of a connection, each parsed twice: all at once
// and in the splits the input's header chooses. The events must be the same however the bytes were
// split (a finding if not). The client direction is told the server's first ServerHello at a chosen
// point of its stream, as TLSSession does.
//
// Input: [mode] [client length: 2] [note offset: 2] [split seed: 2] client bytes, then server bytes.
// Mode bit 0: small limits (record, message and certificate caps hit sooner). Mode bit 1: the split parse keeps
// the handshake bytes for a key log (`keepHandshakeBytes`): its events must still be the unsplit, unkept parse's,
// and what it kept the same as an unsplit keeping parse keeps, within the caps.
import FuzzSupport
import TLSWire

/// Split sizes from a seed (xorshift); seed 0 splits byte by byte.
struct Splits {
    var state: UInt32
    let byteByByte: Bool

    init(seed: UInt16) {
        state = UInt32(seed) | 0x1_0000
        byteByByte = seed == 0
    }

    mutating func next(_ remaining: Int) -> Int {
        if byteByByte { return 1 }
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        // Mostly small pieces (record headers cut anywhere), sometimes large ones.
        let size = state & 0x100 == 0 ? Int(state % 8) + 1 : Int(state % 2048) + 1
        return min(size, remaining)
    }
}

/// Feeds `bytes` to a fresh parser (in `splits`, or at once when nil), calling `note` on it just before
/// stream offset `noteAt`.
func parse(
    _ bytes: UnsafeRawBufferPointer, limits: TLSLimits, splits: Splits?, noteAt: Int,
    note: ((inout TLSStreamParser) -> Void)?, keep: Bool = false, kept: inout KeptHandshakeBytes?
) -> [TLSEvent] {
    var parser = TLSStreamParser(limits: limits)
    if keep { parser.keepHandshakeBytes() }
    defer { kept = parser.keptBytes }
    var events: [TLSEvent] = []
    var splits = splits
    func feed(_ range: Range<Int>) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let remaining = range.upperBound - offset
            let length = splits?.next(remaining) ?? remaining
            parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])) { events.append($0) }
            offset += length
        }
    }
    feed(0..<noteAt)
    note?(&parser)
    feed(noteAt..<bytes.count)
    return events
}

func check(_ name: String, _ whole: [TLSEvent], _ split: [TLSEvent]) {
    guard whole != split else { return }
    let index = zip(whole, split).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(whole.count, split.count)
    fuzzFailure(
        "\(name) events differ with the split at event \(index): all at once \(whole.dropFirst(index).prefix(2)), "
            + "split \(split.dropFirst(index).prefix(2)) (\(whole.count) vs \(split.count) events)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let clientLength = Int(input.uint16())
    let noteOffset = Int(input.uint16())
    let seed = input.uint16()
    var limits = TLSLimits()
    if mode & 1 != 0 {
        limits.maxRecordLength = 512
        limits.maxHandshakeMessage = 300
        limits.maxCertificateMessage = 1024
        limits.maxExtensions = 8
        limits.maxCertificates = 2
    }
    let clientBytes = input.take(clientLength)
    let serverBytes = input.rest()

    let keeping = mode & 2 != 0
    var keptWhole: KeptHandshakeBytes?
    var keptSplit: KeptHandshakeBytes?
    func checkKept(_ name: String) {
        guard keeping else { return }
        if keptWhole != keptSplit { fuzzFailure("\(name): kept bytes depend on the split") }
        if let kept = keptSplit, kept.byteCount > KeptHandshakeBytes.maxBytes
            || kept.protectedRecords.count > KeptHandshakeBytes.maxProtectedRecords
        {
            fuzzFailure("\(name): kept bytes over the caps (\(kept.byteCount), \(kept.protectedRecords.count) records)")
        }
    }

    var unkept: KeptHandshakeBytes?
    let serverWhole = parse(serverBytes, limits: limits, splits: nil, noteAt: 0, note: nil, kept: &unkept)
    let serverSplit = parse(
        serverBytes, limits: limits, splits: Splits(seed: seed), noteAt: 0, note: nil, keep: keeping, kept: &keptSplit)
    check("server", serverWhole, serverSplit)
    if keeping {
        _ = parse(serverBytes, limits: limits, splits: nil, noteAt: 0, note: nil, keep: true, kept: &keptWhole)
        checkKept("server")
    }

    var serverHello: ServerHello?
    for case .handshake(.serverHello(let hello)) in serverWhole {
        serverHello = hello
        break
    }
    let noteAt = min(noteOffset, clientBytes.count)
    let note: ((inout TLSStreamParser) -> Void)? = serverHello.map { hello in { $0.notePeerServerHello(hello) } }
    let clientWhole = parse(clientBytes, limits: limits, splits: nil, noteAt: noteAt, note: note, kept: &unkept)
    let clientSplit = parse(
        clientBytes, limits: limits, splits: Splits(seed: seed &+ 1), noteAt: noteAt, note: note, keep: keeping,
        kept: &keptSplit)
    check("client", clientWhole, clientSplit)
    if keeping {
        _ = parse(clientBytes, limits: limits, splits: nil, noteAt: noteAt, note: note, keep: true, kept: &keptWhole)
        checkKept("client")
    }
    return 0
}

@_cdecl("fuzz_tls_stream_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
