import DTLSWire
import TLSWire
import Testing
import WireCursor

// MARK: - Byte builders (big-endian, TLS presentation language)

func u16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
func u24(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 16)] + u16(value) }
func u48(_ value: Int) -> [UInt8] { u16(value >> 32) + u16(value >> 16) + u16(value) }
func lp8(_ body: [UInt8]) -> [UInt8] { [UInt8(truncatingIfNeeded: body.count)] + body }
func lp16(_ body: [UInt8]) -> [UInt8] { u16(body.count) + body }
func lp24(_ body: [UInt8]) -> [UInt8] { u24(body.count) + body }
func ext(_ type: Int, _ body: [UInt8]) -> [UInt8] { u16(type) + lp16(body) }

/// A DTLSPlaintext record (RFC 6347 §4.1): type, version, epoch, 48-bit sequence number, length, body.
func record(_ type: UInt8, epoch: Int = 0, seq: Int = 0, version: Int = 0xfefd, _ body: [UInt8]) -> [UInt8] {
    [type] + u16(version) + u16(epoch) + u48(seq) + u16(body.count) + body
}

/// An RFC 9146 tls12_cid record: the connection id between the sequence number and the length.
func cidRecord(epoch: Int = 1, seq: Int = 0, cid: [UInt8], _ body: [UInt8]) -> [UInt8] {
    [25] + u16(0xfefd) + u16(epoch) + u48(seq) + cid + u16(body.count) + body
}

/// One DTLS handshake fragment (RFC 6347 §4.2.2) of `body`: bytes `range` of it (the whole body by default).
func fragment(_ type: UInt8, seq: Int, _ body: [UInt8], _ range: Range<Int>? = nil) -> [UInt8] {
    let range = range ?? 0..<body.count
    return [type] + u24(body.count) + u16(seq) + u24(range.lowerBound) + u24(range.count) + Array(body[range])
}

/// A whole handshake message in one plaintext handshake record.
func handshakeRecord(_ type: UInt8, seq: Int, _ body: [UInt8], recordSeq: Int = 0, version: Int = 0xfefd) -> [UInt8] {
    record(22, seq: recordSeq, version: version, fragment(type, seq: seq, body))
}

let randomA = [UInt8](repeating: 0xaa, count: 32)

func clientHelloBody(
    version: Int = 0xfefd, cookie: [UInt8] = [], suites: [Int] = [0xc02b, 0xc02f], extensions: [[UInt8]] = []
) -> [UInt8] {
    u16(version) + randomA + lp8([]) + lp8(cookie) + lp16(suites.flatMap(u16)) + lp8([0]) + lp16(extensions.flatMap { $0 })
}

func serverHelloBody(version: Int = 0xfefd, suite: Int = 0xc02f, extensions: [[UInt8]] = []) -> [UInt8] {
    u16(version) + randomA + lp8([]) + u16(suite) + [0] + lp16(extensions.flatMap { $0 })
}

func helloVerifyRequestBody(cookie: [UInt8]) -> [UInt8] { u16(0xfeff) + lp8(cookie) }

/// A Certificate body holding `certificates` (any bytes: the chain is not parsed as DER here).
func certificateBody(_ certificates: [[UInt8]]) -> [UInt8] { lp24(certificates.flatMap(lp24)) }

/// ECDHE ServerKeyExchange body (named curve x25519), signed the TLS 1.2 way.
let ecdheServerKeyExchange: [UInt8] = [3] + u16(29) + lp8([UInt8](repeating: 4, count: 32)) + u16(0x0804) + lp16([1, 2])

// MARK: - Feeding

/// What a direction's parser made of some datagrams.
struct Outcome {
    var events: [TLSEvent] = []
    var problems: [DTLSProblem] = []
}

extension DTLSRecordParser {
    /// Feeds each datagram in turn, collecting events and problems.
    mutating func run(_ datagrams: [[UInt8]]) -> Outcome {
        var outcome = Outcome()
        for datagram in datagrams {
            datagram.withUnsafeBytes { buffer in
                feed(datagram: buffer, problems: { outcome.problems.append($0) }) { outcome.events.append($0) }
            }
        }
        return outcome
    }

    mutating func finish() -> Outcome {
        var outcome = Outcome()
        finish(problems: { outcome.problems.append($0) }) { outcome.events.append($0) }
        return outcome
    }
}

func run(_ datagrams: [[UInt8]], limits: TLSLimits = TLSLimits(), reassembly: DTLSReassemblyLimits = DTLSReassemblyLimits()) -> Outcome {
    var parser = DTLSRecordParser(limits: limits, reassemblyLimits: reassembly)
    return parser.run(datagrams)
}

func startsConnection(_ datagram: [UInt8]) -> Bool {
    datagram.withUnsafeBytes { DTLSRecordParser.startsConnection($0) }
}

// MARK: - Event shapes

/// A compact description of an event, for comparing sequences.
enum Shape: Hashable {
    case clientHello(cookie: [UInt8])
    case serverHello(TLSVersion)
    case certificate(count: Int)
    case serverKeyExchange
    case other(UInt8, length: Int)
    case skipped(UInt8, length: Int)
    case encryptedHandshake(Int)
    case encryptedAlert(Int)
    case applicationData(Int)
    case changeCipherSpec
    case alert(level: UInt8, description: UInt8)
    case heartbeat(type: UInt8, payloadLength: Int)
    case stopped(DecodeError.Code)

    init(_ event: TLSEvent) {
        switch event {
        case .handshake(.clientHello(let hello)): self = .clientHello(cookie: hello.cookie)
        case .handshake(.serverHello(let hello)): self = .serverHello(hello.negotiatedVersion)
        case .handshake(.certificate(let chain)): self = .certificate(count: chain.certificates.count)
        case .handshake(.serverKeyExchange): self = .serverKeyExchange
        case .handshake(.other(let type, let length)): self = .other(type.rawValue, length: length)
        case .skippedHandshake(let type, let length): self = .skipped(type.rawValue, length: length)
        case .encryptedHandshake(let length): self = .encryptedHandshake(length)
        case .encryptedAlert(let length): self = .encryptedAlert(length)
        case .applicationData(let length): self = .applicationData(length)
        case .changeCipherSpec: self = .changeCipherSpec
        case .alert(let alert): self = .alert(level: alert.level, description: alert.description.rawValue)
        case .heartbeat(let type, let payloadLength, _): self = .heartbeat(type: type, payloadLength: payloadLength)
        case .stopped(let error): self = .stopped(error.code)
        }
    }
}

extension Outcome {
    var shapes: [Shape] { events.map(Shape.init) }
}
