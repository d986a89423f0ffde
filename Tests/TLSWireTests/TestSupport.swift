import Testing
import WireCursor

@testable import TLSWire

// MARK: - Byte builders (big-endian, TLS presentation language)

func u16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
func u24(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 16)] + u16(value) }
func lp8(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count)] + body }
func lp16(_ body: [UInt8]) -> [UInt8] { u16(body.count) + body }
func lp24(_ body: [UInt8]) -> [UInt8] { u24(body.count) + body }
func u16s(_ values: [Int]) -> [UInt8] { values.flatMap(u16) }

/// One TLS record: type, version, u16 length, body.
func record(_ type: UInt8, _ body: [UInt8], version: Int = 0x0303) -> [UInt8] {
    [type] + u16(version) + u16(body.count) + body
}
/// A handshake message: type, u24 length, body.
func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type] + lp24(body) }
/// An extension: type, u16-prefixed body.
func ext(_ type: Int, _ body: [UInt8]) -> [UInt8] { u16(type) + lp16(body) }

let randomA = [UInt8](repeating: 0xaa, count: 32)

func clientHelloBody(
    version: Int = 0x0303, random: [UInt8] = randomA, sessionID: [UInt8] = [], suites: [Int] = [0x1301, 0xc02f],
    compression: [UInt8] = [0], extensions: [[UInt8]]? = []
) -> [UInt8] {
    var body = u16(version) + random + lp8(sessionID) + lp16(u16s(suites)) + lp8(compression)
    if let extensions { body += lp16(extensions.flatMap { $0 }) }
    return body
}

func serverHelloBody(
    version: Int = 0x0303, random: [UInt8] = randomA, sessionID: [UInt8] = [], suite: Int = 0x1301,
    compression: UInt8 = 0, extensions: [[UInt8]]? = []
) -> [UInt8] {
    var body = u16(version) + random + lp8(sessionID) + u16(suite) + [compression]
    if let extensions { body += lp16(extensions.flatMap { $0 }) }
    return body
}

func hex(_ string: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var high: UInt8?
    for char in string.utf8 {
        let nibble: UInt8
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char - UInt8(ascii: "A") + 10
        default: continue
        }
        if let h = high {
            bytes.append(h << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return bytes
}

// MARK: - Feeding

/// SplitMix64: a tiny seeded generator so random splits are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Feeds `input` cut into pieces of the given sizes (the last piece takes the rest).
func events(_ input: [UInt8], limits: TLSLimits = TLSLimits(), pieces: [Int]) -> (events: [TLSEvent], parser: TLSStreamParser) {
    var parser = TLSStreamParser(limits: limits)
    var collected: [TLSEvent] = []
    var start = 0
    for size in pieces where start < input.count {
        let end = min(input.count, start + size)
        input[start..<end].withUnsafeBytes { parser.feed($0) { collected.append($0) } }
        start = end
    }
    if start < input.count {
        input[start...].withUnsafeBytes { parser.feed($0) { collected.append($0) } }
    }
    return (collected, parser)
}

/// The events of `input` fed all at once, after checking that feeding it one byte at a time and in
/// `randomSplits` seeded random splits (including empty feeds) gives exactly the same events.
func streamEvents(
    _ input: [UInt8], limits: TLSLimits = TLSLimits(), randomSplits: Int = 8,
    sourceLocation: SourceLocation = #_sourceLocation
) -> [TLSEvent] {
    let whole = events(input, limits: limits, pieces: [input.count]).events
    let drip = events(input, limits: limits, pieces: Array(repeating: 1, count: input.count)).events
    #expect(drip == whole, "one byte at a time differs", sourceLocation: sourceLocation)
    for seed in 0..<randomSplits {
        var generator = SplitMix64(seed: UInt64(seed) &+ 0x5eed)
        var pieces: [Int] = []
        var total = 0
        while total < input.count {
            let size = Int.random(in: 0...max(1, input.count / 4), using: &generator)
            pieces.append(size)
            total += size
        }
        let split = events(input, limits: limits, pieces: pieces).events
        #expect(split == whole, "random split (seed \(seed)) differs", sourceLocation: sourceLocation)
    }
    return whole
}

// MARK: - Event accessors

extension TLSEvent {
    var clientHello: ClientHello? {
        if case .handshake(.clientHello(let hello)) = self { hello } else { nil }
    }
    var serverHello: ServerHello? {
        if case .handshake(.serverHello(let hello)) = self { hello } else { nil }
    }
    var stopCode: DecodeError.Code? {
        if case .stopped(let error) = self { error.code } else { nil }
    }
}

/// Runs a cursor parser over `bytes` (Array.withUnsafeBytes is not typed-throws, so go through Result).
func parse<T>(_ bytes: [UInt8], _ body: (inout ByteCursor) throws(DecodeError) -> T) throws(DecodeError) -> T {
    let result = bytes.withUnsafeBytes { (buffer) -> Result<T, DecodeError> in
        var cursor = ByteCursor(buffer)
        do throws(DecodeError) {
            return .success(try body(&cursor))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

/// Parses a ClientHello body directly.
func parseClientHello(_ body: [UInt8], limits: TLSLimits = TLSLimits()) throws(DecodeError) -> ClientHello {
    try parse(body) { (cursor) throws(DecodeError) in try ClientHello(parsing: &cursor, limits: limits) }
}

func parseServerHello(_ body: [UInt8], limits: TLSLimits = TLSLimits()) throws(DecodeError) -> ServerHello {
    try parse(body) { (cursor) throws(DecodeError) in try ServerHello(parsing: &cursor, limits: limits) }
}

/// Catches a typed DecodeError code (nil: no error).
func errorCode<T>(_ body: () throws(DecodeError) -> T) -> DecodeError.Code? {
    do throws(DecodeError) {
        _ = try body()
        return nil
    } catch {
        return error.code
    }
}
