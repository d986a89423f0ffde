import Crypto
import HandshakeAnalysis
import PacketDecoding
import TLSWire
import Testing
import _CryptoExtras

@testable import QUICWire

// The UDP path (issue #10) through the whole analyzer: DTLS and QUIC connections as hand-built Ethernet frames
// (IPv4, IPv6, VLAN, VXLAN), with the hostile and lossy shapes a capture brings: other UDP on the same ports,
// lost datagrams, idle flows, a memory budget too small for every flow.

// MARK: - Frames

private func u24(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 16)] + u16(value) }

/// One UDP conversation: client 10.0.0.1:50000 (or 2001:db8::1) ↔ server 10.0.0.2:4433, optionally VLAN
/// tagged or carried in VXLAN (RFC 7348) between two tunnel endpoints.
private struct UDPPath {
    var clientPort = 50_000
    var serverPort = 4433
    var vlan: Int? = nil
    var ipv6 = false
    var vni: Int? = nil

    func frame(_ payload: [UInt8], fromServer: Bool) -> [UInt8] {
        let udp = Self.udp(
            source: fromServer ? serverPort : clientPort, destination: fromServer ? clientPort : serverPort, payload)
        let inner = Self.ethernet(fromServer, ipv6 ? 0x86DD : 0x0800, vlan: vlan)
            + (ipv6 ? Self.ipv6(udp, fromServer) : Self.ipv4(udp, fromServer, network: 10))
        guard let vni else { return inner }
        // The outer source port is the tunnel's flow hash: it differs by direction, the VNI does not.
        let vxlan = [0x08, 0, 0, 0] + u24(vni) + [0] + inner
        let outer = Self.udp(source: fromServer ? 61_000 : 62_000, destination: 4789, vxlan)
        return Self.ethernet(fromServer, 0x0800, vlan: nil) + Self.ipv4(outer, fromServer, network: 192)
    }

    func client(_ payload: [UInt8]) -> [UInt8] { frame(payload, fromServer: false) }
    func server(_ payload: [UInt8]) -> [UInt8] { frame(payload, fromServer: true) }

    static func udp(source: Int, destination: Int, _ payload: [UInt8]) -> [UInt8] {
        u16(source) + u16(destination) + u16(8 + payload.count) + u16(0) + payload
    }

    static func ethernet(_ fromServer: Bool, _ etherType: Int, vlan: Int?) -> [UInt8] {
        var bytes: [UInt8] = [2, 0, 0, 0, 0, fromServer ? 2 : 1, 2, 0, 0, 0, 0, fromServer ? 1 : 2]
        if let vlan { bytes += u16(0x8100) + u16(vlan) }
        return bytes + u16(etherType)
    }

    static func ipv4(_ udp: [UInt8], _ fromServer: Bool, network: UInt8, protocol: UInt8 = 17) -> [UInt8] {
        let source: UInt8 = fromServer ? 2 : 1
        return [0x45, 0] + u16(20 + udp.count) + u16(7) + u16(0x4000) + [64, `protocol`, 0, 0]
            + [network, 0, 0, source, network, 0, 0, 3 - source] + udp
    }

    static func ipv6(_ udp: [UInt8], _ fromServer: Bool) -> [UInt8] {
        let source: UInt8 = fromServer ? 2 : 1
        return [0x60, 0, 0, 0] + u16(udp.count) + [17, 64]
            + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [source]
            + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [3 - source] + udp
    }
}

private let path = UDPPath()
private let second: Int64 = 1_000_000_000

/// Frames with their capture times.
private typealias Capture = [(frame: [UInt8], time: Int64)]

/// Frames 1 ms apart from `start`.
private func timed(_ frames: [[UInt8]], from start: Int64 = 0) -> Capture {
    frames.enumerated().map { ($1, start + Int64($0) * 1_000_000) }
}

/// Runs frames through an analyzer; each record comes with the index of the frame it was emitted at
/// (`frames.count` for the end of input).
private func analyze(_ capture: Capture, _ configure: (inout AnalysisOptions) -> Void = { _ in })
    throws -> (records: [HandshakeRecord], emittedAt: [Int], analyzer: HandshakeAnalyzer)
{
    let decoder = try PacketDecoder(linkType: .ethernet)
    var options = AnalysisOptions()
    options.auditPolicy = nil
    configure(&options)
    var analyzer = HandshakeAnalyzer(options: options)
    var records: [HandshakeRecord] = []
    var emittedAt: [Int] = []
    for (index, item) in capture.enumerated() {
        item.frame.withUnsafeBytes {
            analyzer.process(frame: $0, timestamp: item.time, decoder: decoder) {
                records.append($0)
                emittedAt.append(index)
            }
        }
    }
    analyzer.finish {
        records.append($0)
        emittedAt.append(capture.count)
    }
    return (records, emittedAt, analyzer)
}

// MARK: - DTLS messages (RFC 6347 §4.1, §4.2.2)

private func dtlsRecord(_ type: UInt8, epoch: Int = 0, seq: Int = 0, _ body: [UInt8]) -> [UInt8] {
    [type] + u16(0xfefd) + u16(epoch) + u16(0) + u16(seq >> 16) + u16(seq) + u16(body.count) + body
}

/// One handshake fragment: bytes `range` of `body` (all of it by default).
private func dtlsFragment(_ type: UInt8, seq: Int, _ body: [UInt8], _ range: Range<Int>? = nil) -> [UInt8] {
    let range = range ?? 0..<body.count
    return [type] + u24(body.count) + u16(seq) + u24(range.lowerBound) + u24(range.count) + Array(body[range])
}

private func dtlsHandshake(_ type: UInt8, seq: Int, _ body: [UInt8], recordSeq: Int = 0) -> [UInt8] {
    dtlsRecord(22, seq: recordSeq, dtlsFragment(type, seq: seq, body))
}

private func tlsExtension(_ type: Int, _ body: [UInt8]) -> [UInt8] { u16(type) + lp16(body) }

private func serverNameExtension(_ name: String) -> [UInt8] {
    tlsExtension(0, lp16([0] + lp16(Array(name.utf8))))
}

private func dtlsClientHelloBody(
    name: String, random: UInt8 = 0xaa, cookie: [UInt8] = [], suites: [Int] = [0xc02b, 0xc02f], extensions: [[UInt8]] = []
) -> [UInt8] {
    u16(0xfefd) + [UInt8](repeating: random, count: 32) + lp8([]) + lp8(cookie) + lp16(suites.flatMap(u16)) + lp8([0])
        + lp16(([serverNameExtension(name)] + extensions).flatMap { $0 })
}

private func dtlsServerHelloBody(suite: Int = 0xc02f, extensions: [[UInt8]] = []) -> [UInt8] {
    u16(0xfefd) + [UInt8](repeating: 0xbb, count: 32) + lp8([]) + u16(suite) + [0] + lp16(extensions.flatMap { $0 })
}

private let helloVerifyRequestBody = u16(0xfeff) + lp8([UInt8](repeating: 0xc0, count: 20))
/// A Certificate of one 3000-byte "certificate" (not DER: these tests are about reassembly).
private let certificateBody = lp24(lp24([UInt8](repeating: 0x30, count: 2994)))
private let serverHelloDone = dtlsFragment(14, seq: 3, [])
private let encryptedFinished = [UInt8](repeating: 0x5f, count: 40)

/// A DTLS 1.2 handshake in datagrams: ClientHello, HelloVerifyRequest, ClientHello with the cookie, the
/// server's flight (ServerHello, Certificate, ServerHelloDone), the client's ClientKeyExchange +
/// ChangeCipherSpec + Finished, the server's ChangeCipherSpec + Finished. `serverFlight` replaces the
/// server's flight (its datagrams).
private func dtls12Handshake(
    _ path: UDPPath = path, name: String = "dtls.example", random: UInt8 = 0xaa, serverFlight: [[UInt8]]? = nil
) -> [[UInt8]] {
    let cookie = [UInt8](repeating: 0xc0, count: 20)
    let flight = serverFlight ?? [
        dtlsHandshake(2, seq: 1, dtlsServerHelloBody(), recordSeq: 1)
            + dtlsRecord(22, seq: 2, dtlsFragment(11, seq: 2, certificateBody))
            + dtlsRecord(22, seq: 3, serverHelloDone)
    ]
    return [
        path.client(dtlsHandshake(1, seq: 0, dtlsClientHelloBody(name: name, random: random))),
        path.server(dtlsHandshake(3, seq: 0, helloVerifyRequestBody)),
        path.client(dtlsHandshake(1, seq: 1, dtlsClientHelloBody(name: name, random: random, cookie: cookie), recordSeq: 1)),
    ] + flight.map { path.server($0) } + [
        path.client(
            dtlsHandshake(16, seq: 2, lp8([UInt8](repeating: 4, count: 32)), recordSeq: 2)
                + dtlsRecord(20, seq: 3, [1]) + dtlsRecord(22, epoch: 1, encryptedFinished)),
        path.server(dtlsRecord(20, seq: 4, [1]) + dtlsRecord(22, epoch: 1, encryptedFinished)),
    ]
}

// MARK: - QUIC packets (RFC 9000 §17.2, RFC 9001 §5)

private func varint(_ value: Int) -> [UInt8] {
    value < 64 ? [UInt8(value)] : [0x40 | UInt8(value >> 8), UInt8(value & 0xff)]
}

private enum QUICPacket {
    static let clientDCID: [UInt8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]

    static func cryptoFrame(offset: Int, _ data: [UInt8]) -> [UInt8] { [0x06] + varint(offset) + varint(data.count) + data }

    /// A protected Initial (RFC 9001 §5.3, §5.4) carrying `frames`, padded to `padTo` bytes of payload.
    static func initial(
        dcid: [UInt8], scid: [UInt8], keyDCID: [UInt8] = clientDCID, fromServer: Bool = false, packetNumber: UInt64,
        frames: [UInt8], padTo: Int = 0
    ) -> [UInt8] {
        let protection = QUICVersion.v1.protection!
        let allKeys = InitialKeys(protection: protection, destinationConnectionID: keyDCID)
        let keys = fromServer ? allKeys.server : allKeys.client
        var payload = frames
        while payload.count < padTo || payload.count < 4 { payload.append(0) }
        var header: [UInt8] = [0xc1] + [0, 0, 0, 1] + [UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid + [0]
        let length = 2 + payload.count + 16
        header += [0x40 | UInt8(length >> 8), UInt8(length & 0xff)]
        let packetNumberOffset = header.count
        header += [UInt8(truncatingIfNeeded: packetNumber >> 8), UInt8(truncatingIfNeeded: packetNumber)]
        var nonce = keys.iv
        for index in 0..<8 { nonce[11 - index] ^= UInt8(truncatingIfNeeded: packetNumber >> (8 * UInt64(index))) }
        // Test fixtures: a failure here is a bug in the test.
        let sealed = try! AES.GCM.seal(payload, using: keys.key, nonce: try! AES.GCM.Nonce(data: nonce), authenticating: header)
        var packet = header + Array(sealed.ciphertext) + Array(sealed.tag)
        var mask = Array(packet[(packetNumberOffset + 4)..<(packetNumberOffset + 20)])
        try! AES.permute(&mask, key: keys.headerProtectionKey)
        packet[0] ^= mask[0] & 0x0f
        for index in 0..<2 { packet[packetNumberOffset + index] ^= mask[1 + index] }
        return packet
    }

    /// A Handshake-space packet (never opened by a passive reader).
    static func handshake(dcid: [UInt8], scid: [UInt8], payloadLength: Int = 60) -> [UInt8] {
        [0xe1, 0, 0, 0, 1, UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid + varint(payloadLength)
            + (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    }
}

/// A TLS 1.3 ClientHello handshake message (no record header) for QUIC.
private func quicClientHello(name: String) -> [UInt8] {
    let extensions = serverNameExtension(name) + tlsExtension(43, lp8(u16(0x0304)))
        + tlsExtension(10, lp16(u16(29))) + tlsExtension(13, lp16(u16(0x0403)))
        + tlsExtension(51, lp16(u16(29) + lp16([UInt8](repeating: 9, count: 32))))
        + tlsExtension(16, lp16(lp8(Array("h3".utf8)))) + tlsExtension(57, [0x01, 0x02, 0x47, 0xd0])
    let body = u16(0x0303) + [UInt8](repeating: 0x11, count: 32) + lp8([]) + lp16(u16(0x1301)) + lp8([0]) + lp16(extensions)
    return [0x01] + lp24(body)
}

private let quicServerHello: [UInt8] = {
    let extensions = tlsExtension(43, u16(0x0304)) + tlsExtension(51, u16(29) + lp16([UInt8](repeating: 8, count: 32)))
    let body = u16(0x0303) + [UInt8](repeating: 0x22, count: 32) + lp8([]) + u16(0x1301) + [0] + lp16(extensions)
    return [0x02] + lp24(body)
}()

private let clientSCID: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
private let serverSCID: [UInt8] = [9, 9, 9, 9, 9, 9, 9, 9]

/// A QUIC v1 handshake as a passive observer sees it: the client's Initial (ClientHello), the server's
/// Initial (ServerHello), the client's Handshake packet (its Finished).
private func quicHandshake(_ path: UDPPath = path, name: String = "quic.example", dcid: [UInt8] = QUICPacket.clientDCID)
    -> [[UInt8]]
{
    [
        path.client(
            QUICPacket.initial(
                dcid: dcid, scid: clientSCID, keyDCID: dcid, packetNumber: 0,
                frames: QUICPacket.cryptoFrame(offset: 0, quicClientHello(name: name)), padTo: 1100)),
        path.server(
            QUICPacket.initial(
                dcid: clientSCID, scid: serverSCID, keyDCID: dcid, fromServer: true, packetNumber: 0,
                frames: QUICPacket.cryptoFrame(offset: 0, quicServerHello))
                + QUICPacket.handshake(dcid: clientSCID, scid: serverSCID, payloadLength: 400)),
        path.client(QUICPacket.handshake(dcid: serverSCID, scid: clientSCID)),
    ]
}

private func kinds(_ record: HandshakeRecord?) -> [Anomaly.Kind] { record?.anomalies.map(\.kind) ?? [] }

// MARK: - Not TLS

/// RFC 5389 §6: a Binding Request (type 0x0001, length, magic cookie, transaction id).
private let stunBindingRequest: [UInt8] = u16(0x0001) + u16(0) + [0x21, 0x12, 0xa4, 0x42] + [UInt8](repeating: 7, count: 12)
/// RFC 3550 §5.1: version 2, payload type 111, sequence, timestamp, SSRC, then media.
private let rtpPacket: [UInt8] = [0x80, 111] + u16(1) + [0, 0, 0, 160] + [1, 2, 3, 4] + [UInt8](repeating: 0x33, count: 40)
/// A DNS query for example.com, type A (RFC 1035 §4.1).
private let dnsQuery: [UInt8] = u16(0x1234) + u16(0x0100) + u16(1) + u16(0) + u16(0) + u16(0)
    + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0] + u16(1) + u16(1)

@Test func udpThatIsNotTLSMakesNoFlow() throws {
    let dns = UDPPath(clientPort: 53_000, serverPort: 53)
    let frames = [
        dns.client(dnsQuery), path.client(rtpPacket), path.server(rtpPacket), path.client(stunBindingRequest),
        // A datagram whose first byte is a DTLS handshake record's, but nothing else fits.
        path.client([22, 0xfe, 0xfd] + [UInt8](repeating: 0, count: 30)),
        // A QUIC-looking long header of an unknown version.
        path.client([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8] + [UInt8](repeating: 1, count: 60)),
    ]
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.isEmpty)
    #expect(analyzer.counters.ignoredFrames == frames.count)
    #expect(analyzer.counters.connections == 0)
    #expect(analyzer.activeFlows == 0)
    #expect(analyzer.udpFlowStatistics.flowsCreated == 0)
    #expect(analyzer.udpMemoryInUse == 0)
}

// MARK: - DTLS

@Test func aDTLS12HandshakeWithCookieExchangeIsOneEstablishedRecord() throws {
    let (records, _, analyzer) = try analyze(timed(dtls12Handshake()))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.recordProtocol == .dtls && record.transport == .udp)
    #expect(record.version == .dtls12 && record.established)
    #expect(record.serverName == "dtls.example")
    #expect(record.clientHello?.cookie.count == 20, "the ClientHello that counts is the one with the cookie")
    #expect(record.clientPort == 50_000 && record.serverPort == 4433)
    #expect(record.messages.first?.name == "client:client_hello")
    #expect(record.messages.contains { $0.name == "server:hello_verify_request" })
    #expect(!kinds(record).contains(.gap) && !kinds(record).contains(.midstream))
    #expect(analyzer.counters.connections == 1 && analyzer.counters.ignoredFrames == 0)
}

/// WebRTC (RFC 8842, RFC 7983): ICE's STUN checks run on the 5-tuple before DTLS, and SRTP after it.
@Test func stunThenDTLSOnTheSameFiveTupleIsOneDTLSRecord() throws {
    let stun = [path.client(stunBindingRequest), path.server(stunBindingRequest), path.client(stunBindingRequest)]
    var handshake = dtls12Handshake(name: "webrtc.example")
    // STUN consent checks and media interleaved once the flow exists.
    handshake.insert(path.server(stunBindingRequest), at: 3)
    let frames = stun + handshake + [path.client(rtpPacket), path.server(rtpPacket)]
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.count == 1)
    #expect(records.first?.recordProtocol == .dtls)
    #expect(records.first?.established == true)
    #expect(records.first?.serverName == "webrtc.example")
    #expect(records.first?.clientPort == 50_000)
    // (The test certificate is not DER: that is the only anomaly.)
    #expect(kinds(records.first) == [.certificateUnparsable], "STUN and RTP on the flow are not DTLS problems")
    #expect(analyzer.counters.connections == 1)
    // Only the STUN before the flow existed is "ignored": the rest belongs to the DTLS flow.
    #expect(analyzer.counters.ignoredFrames == stun.count)
}

/// The capture missed the client's hello(s): the flow starts with the server's datagram, and the client is
/// the side the ServerHello was sent to.
@Test(arguments: [false, true])
func aDTLSFlowWithoutTheClientHelloIsMidstream(startsWithHelloVerifyRequest: Bool) throws {
    var frames = Array(dtls12Handshake().dropFirst(startsWithHelloVerifyRequest ? 1 : 3))
    if startsWithHelloVerifyRequest { frames.remove(at: 1) }  // the second ClientHello is lost too
    let (records, _, _) = try analyze(timed(frames))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.clientHello == nil && record.serverHello != nil)
    #expect(kinds(record).contains(.midstream))
    // The flow's initiator is the server; the record still names 10.0.0.1:50000 the client.
    #expect(record.clientAddress == IPAddress(ipv4: 0x0a00_0001) && record.clientPort == 50_000)
    #expect(record.serverAddress == IPAddress(ipv4: 0x0a00_0002) && record.serverPort == 4433)
    #expect(record.established, "\(record.messages.map(\.name))")
    if startsWithHelloVerifyRequest {
        // The server's HelloVerifyRequest is attributed too: it is only ever the server's.
        #expect(record.messages.first?.name == "server:hello_verify_request", "\(record.messages.map(\.name))")
    } else {
        #expect(record.messages.first?.name == "server:server_hello")
    }
}

/// RFC 9147: hellos in clear (supported_versions 0xfefc), then unified-header records. The client's epoch-2
/// record is its Finished when long enough for one, an encrypted alert when not; an ACK of the server's
/// flight (RFC 9147 §7: 35 bytes for one record number, 51 for two) decides nothing.
struct DTLS13ClientRecords: Sendable, CustomTestStringConvertible {
    var lengths: [Int]
    var suite: Int
    /// nil: undecided (only ACKs).
    var established: Bool?
    /// The length of an early-data record (epoch 1) the client sends after the server's flight, before
    /// `lengths`: it decides nothing whatever its length.
    var earlyData: Int? = nil
    var testDescription: String {
        "\(earlyData.map { "early data \($0), " } ?? "")\(lengths) under 0x\(String(suite, radix: 16))"
    }

    static let cases: [DTLS13ClientRecords] = [
        .init(lengths: [60], suite: 0x1301, established: true), .init(lengths: [19], suite: 0x1301, established: false),
        .init(lengths: [35, 60], suite: 0x1301, established: true), .init(lengths: [51], suite: 0x1301, established: nil),
        .init(lengths: [69], suite: 0x1302, established: true), .init(lengths: [53], suite: 0x1302, established: nil),
        .init(lengths: [45], suite: 0x1305, established: true), .init(lengths: [27, 45], suite: 0x1305, established: true),
        .init(lengths: [19], suite: 0x1305, established: false),
        .init(lengths: [], suite: 0x1301, established: nil, earlyData: 200),
        .init(lengths: [60], suite: 0x1301, established: true, earlyData: 200),
        .init(lengths: [19], suite: 0x1301, established: false, earlyData: 19),
    ]
}

@Test(arguments: DTLS13ClientRecords.cases)
func aDTLS13HandshakeIsDecidedByTheClientsEpochTwoRecord(_ client: DTLS13ClientRecords) throws {
    let (clientRecordLengths, suite, established) = (client.lengths, client.suite, client.established)
    let keyShare = u16(29) + lp16([UInt8](repeating: 9, count: 32))
    let clientHello = dtlsClientHelloBody(
        name: "dtls13.example", suites: [0x1301, 0x1302, 0x1305],
        extensions: [tlsExtension(43, lp8(u16(0xfefc) + u16(0xfefd))), tlsExtension(51, lp16(keyShare))])
    let serverHello = dtlsServerHelloBody(
        suite: suite, extensions: [tlsExtension(43, u16(0xfefc)), tlsExtension(51, keyShare)])
    // 0x2e = 0b00101110: no CID, 16-bit sequence, length present, epoch bits 2 (handshake).
    func unified(_ seq: Int, _ length: Int, epochBits: UInt8 = 2) -> [UInt8] {
        [0x2c | epochBits] + u16(seq) + u16(length) + [UInt8](repeating: 0xe2, count: length)
    }
    let frames = [
        path.client(dtlsHandshake(1, seq: 0, clientHello)),
        path.server(dtlsHandshake(2, seq: 0, serverHello) + unified(0, 300)),
        path.server(unified(1, 200)),
    ] + (client.earlyData.map { [path.client(unified(0, $0, epochBits: 1))] } ?? [])
        + clientRecordLengths.enumerated().map { path.client(unified($0, $1)) }
    let (records, _, _) = try analyze(timed(frames))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.version == .dtls13)
    #expect(record.cipherSuite == CipherSuite(rawValue: UInt16(suite)))
    #expect(record.established == (established == true), "\(record.messages.map(\.name))")
    let last: String? =
        switch established {
        case true: "client:encrypted_handshake"
        case false: "client:alert"
        case nil where client.earlyData != nil: "client:application_data"
        case nil: "server:encrypted_handshake"  // only ACKs from the client: undecided
        }
    #expect(record.messages.last?.name == last, "\(record.messages.map(\.name))")
}

/// The capture lost the datagram with the Certificate's middle fragment: the record says so (`gap`), and the
/// messages after it in the flight are still read.
@Test func aLostCertificateFragmentIsAGap() throws {
    let flight = [
        dtlsHandshake(2, seq: 1, dtlsServerHelloBody(), recordSeq: 1)
            + dtlsRecord(22, seq: 2, dtlsFragment(11, seq: 2, certificateBody, 0..<1000)),
        // 1000..<2000 lost
        dtlsRecord(22, seq: 4, dtlsFragment(11, seq: 2, certificateBody, 2000..<3000))
            + dtlsRecord(22, seq: 5, serverHelloDone),
    ]
    let (records, _, _) = try analyze(timed(dtls12Handshake(serverFlight: flight)))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(kinds(record) == [.gap], "\(record.anomalies)")
    #expect(record.anomalies.first?.from == .server)
    #expect(record.anomalies.first?.detail.contains("2000 of 3000") == true, "\(record.anomalies)")
    #expect(record.certificates.isEmpty)
    #expect(record.messages.contains { $0.name == "server:server_hello_done" }, "\(record.messages.map(\.name))")
    #expect(record.established)
}

@Test func aLostCertificateFragmentAtTheEndOfTheCaptureIsAGap() throws {
    let flight = [
        dtlsHandshake(2, seq: 1, dtlsServerHelloBody(), recordSeq: 1)
            + dtlsRecord(22, seq: 2, dtlsFragment(11, seq: 2, certificateBody, 0..<1000))
    ]
    // The capture ends after the server's first datagram.
    let frames = Array(dtls12Handshake(serverFlight: flight).prefix(4))
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.count == 1)
    #expect(kinds(records.first) == [.gap], "\(records.first?.anomalies ?? [])")
    #expect(records.first?.established == false)
    #expect(analyzer.udpMemoryInUse == 0, "nothing is held once the flows ended")
}

// MARK: - QUIC

@Test func aQUICHandshakeIsOneEstablishedRecord() throws {
    let (records, _, analyzer) = try analyze(timed(quicHandshake()))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.recordProtocol == .quic && record.transport == .udp)
    #expect(record.version == .tls13 && record.established)
    #expect(record.serverName == "quic.example")
    #expect(record.quic?.version == "1")
    #expect(record.quic?.clientDestinationConnectionID == QUICPacket.clientDCID)
    #expect(record.quic?.serverSourceConnectionID == serverSCID)
    #expect(kinds(record) == [])
    #expect(analyzer.counters.connections == 1 && analyzer.counters.ignoredFrames == 0)
}

/// An Initial whose AEAD tag does not verify (corrupted on the wire, or not this connection's): an anomaly,
/// no crash, and what did decrypt is still read.
@Test(arguments: [0, 1])
func anInitialThatDoesNotDecryptIsAnAnomaly(corrupted: Int) throws {
    var frames = quicHandshake()
    var bad = frames[corrupted]
    // The Initial's last tag byte (the server's datagram has a Handshake packet after it).
    let last = bad.count - 1 - (corrupted == 1 ? QUICPacket.handshake(dcid: clientSCID, scid: serverSCID, payloadLength: 400).count : 0)
    bad[last] ^= 0x01
    if corrupted == 0 {
        frames.insert(bad, at: 0)  // the client's first try; its retransmission decrypts
    } else {
        frames[1] = bad  // the server's Initial (its ServerHello) is lost to corruption
    }
    let (records, _, _) = try analyze(timed(frames))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.serverName == "quic.example")
    let problem = try #require(record.anomalies.first { $0.kind == .decryptFailed }, "\(record.anomalies)")
    #expect(problem.detail.contains("did not decrypt"), "\(problem.detail)")
    if corrupted == 0 {
        #expect(record.established)
        #expect(record.serverHello != nil)
    } else {
        #expect(problem.from == .server)
        #expect(record.serverHello == nil && !record.established)
    }
}

/// No Initial of the connection decrypts (each corrupted, or keyed by an id the capture missed): the
/// connection is still reported, with what its headers say, and `decrypt_failed` saying why the rest is null.
@Test func aQUICConnectionWhoseInitialsNeverDecryptIsStillReported() throws {
    var frames = quicHandshake()
    for index in frames.indices { frames[index][frames[index].count - 1] ^= 0x01 }
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.recordProtocol == .quic && record.transport == .udp)
    #expect(record.version == nil && record.clientHello == nil && !record.established)
    #expect(record.quic?.version == "1")
    #expect(record.quic?.clientDestinationConnectionID == QUICPacket.clientDCID)
    #expect(kinds(record).contains(.decryptFailed), "\(record.anomalies)")
    #expect(!kinds(record).contains(.midstream), "the start was seen; it did not decrypt")
    #expect(analyzer.counters.connections == 1)
}

// MARK: - Flow lifetime

/// UDP has no FIN: a flow quiet for longer than the idle timeout ends, and a later datagram on the same
/// 5-tuple starts a new connection, with its own record.
@Test(arguments: ["dtls", "quic"])
func anIdleUDPFlowEndsAndTheFiveTupleStartsAgain(protocolName: String) throws {
    let first = protocolName == "dtls" ? dtls12Handshake(name: "first.example") : quicHandshake(name: "first.example")
    let again = protocolName == "dtls"
        ? dtls12Handshake(name: "second.example")
        : quicHandshake(name: "second.example", dcid: [7, 7, 7, 7, 7, 7, 7, 7, 7])
    let capture = timed(first) + timed(again, from: 70 * second)
    let (records, emittedAt, analyzer) = try analyze(capture)
    #expect(records.map(\.serverName) == ["first.example", "second.example"])
    #expect(records.allSatisfy { $0.established })
    #expect(emittedAt.first == first.count, "the first record is due when the later datagram shows its flow idle")
    #expect(analyzer.counters.flowsTimedOut == 1)
    #expect(analyzer.counters.connections == 2)
}

/// A client that reconnects from the same port (a CoAP device after a reboot, a restarted peer) well within
/// the idle timeout: the new ClientHello (another random) or client Initial (another DCID) after a finished
/// handshake starts a new connection, as a new SYN does on TCP. A retransmitted hello does not.
@Test(arguments: ["dtls", "quic"], [false, true])
func aNewConnectionOnAFinishedUDPFlowIsANewRecord(protocolName: String, atHandshakeEnd: Bool) throws {
    var first: [[UInt8]]
    var again: [[UInt8]]
    if protocolName == "dtls" {
        first = dtls12Handshake(name: "first.example")
        // The client's hello retransmitted late (same random): still the first connection.
        first.append(first[0])
        again = dtls12Handshake(name: "second.example", random: 0xcc)  // a new client random
    } else {
        first = quicHandshake(name: "first.example")
        // A client Initial to the server's connection id (retransmitted): the same connection.
        first.append(
            path.client(
                QUICPacket.initial(
                    dcid: serverSCID, scid: clientSCID, packetNumber: 1, frames: [0x01], padTo: 1100)))
        again = quicHandshake(name: "second.example", dcid: [7, 7, 7, 7, 7, 7, 7, 7, 7])
    }
    let (records, _, analyzer) = try analyze(timed(first) + timed(again, from: 5 * second)) {
        $0.reportAtHandshakeEnd = atHandshakeEnd
    }
    #expect(records.map(\.serverName) == ["first.example", "second.example"])
    #expect(records.allSatisfy { $0.established })
    // The retransmitted hello stayed with the first connection: the second starts 5 s in.
    #expect(records.last?.firstTimestamp == 5 * second)
    #expect(records.allSatisfy { !kinds($0).contains(.parseError) }, "\(records.map(\.anomalies))")
    #expect(analyzer.counters.flowsReused == 1)
    #expect(analyzer.counters.connections == 2)
}

@Test func theIdleTimeoutOptionAppliesToUDPFlows() throws {
    let capture = timed(dtls12Handshake(name: "first.example")) + timed(dtls12Handshake(name: "second.example"), from: 20 * second)
    let (records, _, analyzer) = try analyze(capture) { $0.idleTimeoutNanoseconds = 10 * second }
    #expect(records.map(\.serverName) == ["first.example", "second.example"])
    #expect(analyzer.counters.flowsTimedOut == 1)
}

/// Live capture: a DTLS or QUIC record goes out once, as soon as the handshake is established.
@Test(arguments: ["dtls", "quic"])
func reportingAtHandshakeEndEmitsUDPRecordsOnce(protocolName: String) throws {
    var frames = protocolName == "dtls" ? dtls12Handshake() : quicHandshake()
    // After the handshake the connection goes on; nothing more is reported for it.
    frames += [path.client(rtpPacket), path.server(rtpPacket)]
    let handshakeEnd = frames.count - 3  // the server's Finished (DTLS), the client's Handshake packet (QUIC)
    let (records, emittedAt, analyzer) = try analyze(timed(frames)) { $0.reportAtHandshakeEnd = true }
    #expect(records.count == 1)
    #expect(records.first?.established == true)
    #expect(records.first?.recordProtocol == (protocolName == "dtls" ? .dtls : .quic))
    #expect(emittedAt == [handshakeEnd], "\(emittedAt)")
    #expect(analyzer.counters.connections == 1)
}

/// A failed handshake's record goes out at the failure: a fatal alert in clear (DTLS), a CONNECTION_CLOSE
/// with a CRYPTO_ERROR in the server's Initial (QUIC, RFC 9001 §4.8).
@Test(arguments: ["dtls", "quic"])
func reportingAtHandshakeEndEmitsAFailedUDPHandshakeAtItsAlert(protocolName: String) throws {
    var frames: [[UInt8]]
    if protocolName == "dtls" {
        frames = [
            path.client(dtlsHandshake(1, seq: 0, dtlsClientHelloBody(name: "fail.example"))),
            path.server(dtlsRecord(21, seq: 0, [2, 40])),  // fatal handshake_failure
        ]
    } else {
        let close = [0x1c] + varint(0x0128) + varint(0x06) + varint(0)  // CRYPTO_ERROR: handshake_failure
        frames = [
            quicHandshake(name: "fail.example")[0],
            path.server(
                QUICPacket.initial(
                    dcid: clientSCID, scid: serverSCID, fromServer: true, packetNumber: 0, frames: close)),
        ]
    }
    // Retransmissions after the failure are not reported again.
    frames += [frames[0], frames[1]]
    let (records, emittedAt, _) = try analyze(timed(frames)) { $0.reportAtHandshakeEnd = true }
    #expect(records.count == 1)
    #expect(emittedAt == [1], "\(emittedAt)")
    let record = try #require(records.first)
    #expect(!record.established)
    #expect(record.alert?.from == .server)
    #expect(record.alert?.alert.description.rawValue == 40)
    #expect(record.serverName == "fail.example")
}

// MARK: - Memory budget

/// Many flows each holding an unfinished message (a DTLS Certificate's first fragment, or the server's
/// out-of-order QUIC CRYPTO data) under a small budget: memory stays under it, the idlest flows end, and
/// their records say `evicted`.
@Test(arguments: ["dtls", "quic"])
func manyUDPFlowsHoldingPartialMessagesStayUnderTheBudget(protocolName: String) throws {
    let budget = 64 * 1024
    let flows = 60
    var capture: Capture = []
    for index in 0..<flows {
        let flowPath = UDPPath(clientPort: 20_000 + index)
        let frames: [[UInt8]]
        if protocolName == "dtls" {
            frames = [
                flowPath.client(dtlsHandshake(1, seq: 0, dtlsClientHelloBody(name: "flow\(index).example"))),
                flowPath.server(
                    dtlsHandshake(2, seq: 0, dtlsServerHelloBody())
                        + dtlsRecord(22, seq: 1, dtlsFragment(11, seq: 1, certificateBody, 0..<1000))),
            ]
        } else {
            let dcid = [UInt8(index)] + [UInt8](repeating: 0x42, count: 7)
            frames = [
                flowPath.client(
                    QUICPacket.initial(
                        dcid: dcid, scid: clientSCID, keyDCID: dcid, packetNumber: 0,
                        frames: QUICPacket.cryptoFrame(offset: 0, quicClientHello(name: "flow\(index).example")),
                        padTo: 1100)),
                // The ServerHello's second half, ahead of a hole (its first datagram was lost or is late).
                flowPath.server(
                    QUICPacket.initial(
                        dcid: clientSCID, scid: serverSCID, keyDCID: dcid, fromServer: true, packetNumber: 1,
                        frames: QUICPacket.cryptoFrame(offset: 90, [UInt8](repeating: 0x77, count: 1000)))),
            ]
        }
        capture += timed(frames, from: Int64(index) * second)
    }
    var peak = 0
    let decoder = try PacketDecoder(linkType: .ethernet)
    var options = AnalysisOptions()
    options.auditPolicy = nil
    options.reassembly.maxMemoryBytes = budget
    var analyzer = HandshakeAnalyzer(options: options)
    var records: [HandshakeRecord] = []
    for item in capture {
        item.frame.withUnsafeBytes {
            analyzer.process(frame: $0, timestamp: item.time, decoder: decoder) { records.append($0) }
        }
        peak = max(peak, analyzer.udpMemoryInUse)
    }
    let statistics = analyzer.udpFlowStatistics
    #expect(peak <= budget)
    #expect(statistics.flowsEvictedForMemory > 0 && statistics.flowsEvicted == statistics.flowsEvictedForMemory)
    #expect(analyzer.counters.flowsEvicted == statistics.flowsEvictedForMemory)
    #expect(records.count == statistics.flowsEvictedForMemory, "every evicted flow had a hello: each has a record")
    #expect(records.allSatisfy { kinds($0).contains(.evicted) }, "\(records.first?.anomalies ?? [])")
    // The idlest go first: the first flows, in order.
    #expect(records.map(\.clientPort) == (0..<records.count).map { UInt16(20_000 + $0) })
    analyzer.finish { records.append($0) }
    #expect(records.count == flows)
    #expect(analyzer.udpMemoryInUse == 0)
}

/// A TCP segment from a client port to 10.0.0.2:443.
private func tcpFrame(clientPort: Int, sequence: Int, flags: UInt8, _ data: [UInt8] = []) -> [UInt8] {
    let segment = u16(clientPort) + u16(443) + u16(sequence >> 16) + u16(sequence) + u16(0) + u16(0) + [0x50, flags]
        + u16(65535) + u16(0) + u16(0) + data
    return UDPPath.ethernet(false, 0x0800, vlan: nil) + UDPPath.ipv4(segment, false, network: 10, protocol: 6)
}

/// One budget over both tables: when UDP flows end for idleness, on a TCP packet's clock or on a quiet live
/// link's (`expireIdleFlows`), what they held is no longer counted against the TCP flows.
@Test(arguments: [false, true])
func udpFlowsEndedByIdlenessFreeTheirShareOfTheBudgetForTCP(quietLink: Bool) throws {
    let budget = 64 * 1024
    var capture: Capture = []
    for index in 0..<60 {
        let flowPath = UDPPath(clientPort: 20_000 + index)
        capture += timed([
            flowPath.client(dtlsHandshake(1, seq: 0, dtlsClientHelloBody(name: "flow\(index).example"))),
            flowPath.server(
                dtlsHandshake(2, seq: 0, dtlsServerHelloBody())
                    + dtlsRecord(22, seq: 1, dtlsFragment(11, seq: 1, certificateBody, 0..<1000))),
        ], from: Int64(index) * 10_000_000)
    }
    // Two minutes later (every UDP flow idle), two TCP connections each send half of a 16 KB ClientHello.
    let partialHello = [0x16, 3, 1] + u16(16_000) + [0x01] + u24(15_996) + [UInt8](repeating: 0x42, count: 8_000)
    let syn: UInt8 = 0x02, pshAck: UInt8 = 0x18
    capture += timed([
        tcpFrame(clientPort: 40_000, sequence: 1000, flags: syn),
        tcpFrame(clientPort: 40_000, sequence: 1001, flags: pshAck, partialHello),
        tcpFrame(clientPort: 40_001, sequence: 1000, flags: syn),
        tcpFrame(clientPort: 40_001, sequence: 1001, flags: pshAck, partialHello),
    ], from: 120 * second)
    let decoder = try PacketDecoder(linkType: .ethernet)
    var options = AnalysisOptions()
    options.auditPolicy = nil
    options.reassembly.maxMemoryBytes = budget
    var analyzer = HandshakeAnalyzer(options: options)
    var records: [HandshakeRecord] = []
    for (index, item) in capture.enumerated() {
        if quietLink && index == capture.count - 4 {
            // Nothing on the link for a while: monitor ends idle flows on the wall clock.
            analyzer.expireIdleFlows(now: 100 * second) { records.append($0) }
            #expect(records.count == 60 && analyzer.activeFlows == 0, "evicted earlier, or timed out now")
            #expect(records.allSatisfy { $0.recordProtocol == .dtls && !$0.established })
        }
        item.frame.withUnsafeBytes {
            analyzer.process(frame: $0, timestamp: item.time, decoder: decoder) { records.append($0) }
        }
    }
    #expect(records.count == 60, "every DTLS flow had its hellos: each has a record")
    #expect(analyzer.udpFlowStatistics.flowsEvictedForMemory > 0, "the UDP flows filled the budget")
    #expect(analyzer.udpFlowStatistics.flowsTimedOut > 0 && analyzer.udpMemoryInUse == 0)
    #expect(analyzer.reassemblyStatistics.flowsEvictedForMemory == 0, "no TCP flow ends for memory the UDP flows gave back")
    #expect(analyzer.reassemblyStatistics.flowsCreated == 2 && analyzer.activeFlows == 2)
}

// MARK: - Encapsulations

enum UDPEncapsulation: String, CaseIterable, Sendable {
    case ipv6, vlan, vxlan, vxlanOverVLAN

    fileprivate var path: UDPPath {
        switch self {
        case .ipv6: UDPPath(ipv6: true)
        case .vlan: UDPPath(vlan: 100)
        case .vxlan: UDPPath(vni: 4242)
        case .vxlanOverVLAN: UDPPath(vlan: 7, vni: 4242)
        }
    }
}

@Test(arguments: UDPEncapsulation.allCases, ["dtls", "quic"])
func udpConnectionsBehindEveryEncapsulation(_ encapsulation: UDPEncapsulation, protocolName: String) throws {
    let path = encapsulation.path
    let frames = protocolName == "dtls" ? dtls12Handshake(path) : quicHandshake(path)
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.count == 1)
    let record = try #require(records.first)
    #expect(record.established)
    #expect(record.recordProtocol == (protocolName == "dtls" ? .dtls : .quic))
    #expect(record.clientPort == 50_000 && record.serverPort == 4433)
    if encapsulation == .ipv6 {
        #expect(record.clientAddress == IPAddress(ipv6Groups: [0x2001, 0x0db8, 0, 0, 0, 0, 0, 1]))
    } else {
        #expect(record.clientAddress == IPAddress(ipv4: 0x0a00_0001))
    }
    #expect(analyzer.counters.ignoredFrames == 0 && analyzer.counters.undecodableFrames == 0)
}

/// A datagram larger than the path MTU (a DTLS server flight sent whole) arrives in IP fragments, the
/// last first.
@Test(arguments: [false, true])
func aDTLSFlightInIPFragmentsIsReassembled(ipv6: Bool) throws {
    let path = UDPPath(ipv6: ipv6)
    var frames = dtls12Handshake(path)
    let flightIndex = 3
    let whole = frames[flightIndex]
    let ipStart = 14 + (ipv6 ? 40 : 20)
    let udp = Array(whole[ipStart...])
    #expect(udp.count > 3000)
    let pieces = stride(from: 0, to: udp.count, by: 1200).map { start -> [UInt8] in
        let end = min(udp.count, start + 1200)
        let more = end < udp.count
        let data = Array(udp[start..<end])
        if ipv6 {
            let header = [0x60, 0, 0, 0] + u16(8 + data.count) + [44, 64]
                + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
                + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
            return UDPPath.ethernet(true, 0x86DD, vlan: nil) + header + [17, 0] + u16(start | (more ? 1 : 0))
                + [0, 0, 0, 9] + data
        }
        return UDPPath.ethernet(true, 0x0800, vlan: nil) + [0x45, 0] + u16(20 + data.count) + u16(9)
            + u16((more ? 0x2000 : 0) | start / 8) + [64, 17, 0, 0] + [10, 0, 0, 2, 10, 0, 0, 1] + data
    }
    frames.replaceSubrange(flightIndex...flightIndex, with: pieces.reversed())
    let (records, _, analyzer) = try analyze(timed(frames))
    #expect(records.count == 1)
    #expect(records.first?.established == true)
    #expect(records.first?.messages.contains { $0.name == "server:certificate" } == true)
    #expect(!kinds(records.first).contains(.gap))
    #expect(analyzer.fragmentStatistics.datagramsReassembled == 1)
}

/// Equal inner 5-tuples of two tenants (VLANs, VXLAN networks) are two connections.
@Test func equalFiveTuplesOfDifferentTenantsAreDifferentUDPConnections() throws {
    let a = dtls12Handshake(UDPPath(vni: 1), name: "a.example")
    let b = dtls12Handshake(UDPPath(vni: 2), name: "b.example")
    let c = quicHandshake(UDPPath(vlan: 10), name: "c.example")
    let d = quicHandshake(UDPPath(vlan: 20), name: "d.example")
    let interleaved = zip(a, b).flatMap { [$0, $1] } + zip(c, d).flatMap { [$0, $1] }
    let (records, _, _) = try analyze(timed(interleaved))
    #expect(records.compactMap(\.serverName).sorted() == ["a.example", "b.example", "c.example", "d.example"])
    #expect(records.allSatisfy { $0.established })
}
