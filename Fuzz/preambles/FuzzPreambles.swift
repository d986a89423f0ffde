// libFuzzer target: the cleartext preamble machine (STARTTLS, proxy preambles) over a dialogue decoded
// from the input, run twice: with each chunk fed whole, and with each chunk cut into smaller pieces
// (the same order of the two directions' bytes). Checks that `.tls(at:)` points at a byte of the chunk
// that can begin TLS and agrees with `tlsStreamOffset`, that a decided direction stays decided, and that
// the outcome (protocol, roles, where TLS starts, or not TLS) does not depend on the segmentation.
//
// Input: [split seed] then chunks, each [direction bit 7 | length - 1 (0...127)] and that many bytes.
//
// The machine is the Preambles module alone (it depends on WireCursor only).
import FuzzSupport
import Preambles

typealias Direction = PreambleSide
let directions: [Direction] = [.initiator, .responder]

struct Outcome: Equatable {
    var detected: PreambleProtocol?
    var clientDirection: Direction?
    /// Per direction: nil while pending, -1 for not TLS, else the stream offset where TLS starts.
    var decisions: [Int?] = [nil, nil]
}

func run(_ chunks: [(direction: Int, bytes: UnsafeRawBufferPointer)], seed: UInt8?) -> Outcome {
    var machine = Preamble()
    var outcome = Outcome()
    var fed = [0, 0]
    var state = UInt32(seed ?? 0) | 0x100
    for chunk in chunks {
        var offset = 0
        while offset < chunk.bytes.count {
            var length = chunk.bytes.count - offset
            if seed != nil {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                length = min(length, Int(state % 16) + 1)
            }
            let piece = UnsafeRawBufferPointer(rebasing: chunk.bytes[offset..<offset + length])
            let verdict = machine.feed(piece, from: directions[chunk.direction])
            let side = chunk.direction
            switch (verdict, outcome.decisions[side]) {
            case (.pending, nil):
                break
            case (.tls(let at), nil):
                guard at >= 0, at < piece.count, Preamble.beginsTLS(piece[at]) else {
                    fuzzFailure("tls(at: \(at)) in a \(piece.count)-byte piece that does not begin TLS there")
                }
                guard machine.tlsStreamOffset(directions[side]) == fed[side] + at else {
                    fuzzFailure("tls(at: \(at)) after \(fed[side]) bytes, but tlsStreamOffset \(String(describing: machine.tlsStreamOffset(directions[side])))")
                }
                outcome.decisions[side] = fed[side] + at
            case (.notTLS, nil):
                outcome.decisions[side] = -1
            case (.notTLS, .some(-1)), (.tls, .some(0...)):
                break  // decided earlier: the same kind of answer again
            case (let verdict, let decision):
                fuzzFailure("verdict \(verdict) after the direction was decided as \(String(describing: decision))")
            }
            fed[side] += length
            offset += length
        }
    }
    outcome.detected = machine.detected
    outcome.clientDirection = machine.clientSide
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let seed = input.byte()
    var chunks: [(direction: Int, bytes: UnsafeRawBufferPointer)] = []
    while !input.isEmpty {
        let header = input.byte()
        chunks.append((Int(header >> 7), input.take(Int(header & 0x7F) + 1)))
    }
    let whole = run(chunks, seed: nil)
    let split = run(chunks, seed: seed)
    if whole != split {
        fuzzFailure("outcome depends on segmentation: whole chunks \(whole), split \(split)")
    }
    return 0
}

@_cdecl("fuzz_preambles_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
