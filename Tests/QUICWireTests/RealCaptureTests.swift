import Foundation
import PacketDecoding
import PcapCapture
import TLSWire
import Testing

@testable import QUICWire

/// The QUIC captures of ../shared/fixtures/ja4 (Chrome to Google and Cloudflare, see its README);
/// from a worktree the shared folder sits one level further up. Skipped when it is absent.
private let ja4Captures: URL? = {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    for shared in ["../shared", "../../shared"] {
        let directory = root.appendingPathComponent(shared).appendingPathComponent("fixtures/ja4/pcap").standardized
        if FileManager.default.fileExists(atPath: directory.path) { return directory }
    }
    return nil
}()

/// Per capture: the SNI (tshark and the JA4 references agree), and whether the server's side is in it.
private let quicCaptures: [(file: String, serverName: String, hasServer: Bool)] = [
    ("chrome-cloudflare-quic-with-secrets.pcapng", "cloudflare-quic.com", true),
    ("quic-tls-handshake.pcapng", "www.google.com", false),
    ("quic-with-several-tls-frames.pcapng", "ogs.google.com", false),  // CRYPTO frames out of order
]

/// Every UDP datagram of a capture fed to one reader per address/port pair, as a flow table would.
private func readQUIC(_ url: URL) throws -> (events: [QUICEvent], readers: [QUICConnectionReader]) {
    var source = try PcapSource(file: url.path)
    let decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
    var flows: [String: (reader: QUICConnectionReader, initiator: String)] = [:]
    var order: [String] = []
    var events: [QUICEvent] = []
    while case .frame(let frame) = try source.next() {
        guard let packet = try? decoder.decode(frame.bytes), packet.transport == .udp else { continue }
        let payload = UnsafeRawBufferPointer(
            rebasing: frame.bytes[packet.payloadOffset..<packet.payloadOffset + packet.payloadLength])
        let from = "\(packet.source):\(packet.sourcePort)"
        let to = "\(packet.destination):\(packet.destinationPort)"
        let key = [from, to].sorted().joined(separator: "-")
        if flows[key] == nil {
            guard QUICConnectionReader.startsConnection(payload) else { continue }
            flows[key] = (QUICConnectionReader(), from)
            order.append(key)
        }
        guard var flow = flows[key] else { continue }
        flow.reader.feed(payload, fromInitiator: from == flow.initiator) { events.append($0) }
        flows[key] = flow
    }
    return (events, order.compactMap { flows[$0]?.reader })
}

@Test(.enabled(if: ja4Captures != nil, "../shared/fixtures not found"), arguments: quicCaptures.indices)
func chromeQUICCaptures(index: Int) throws {
    let expected = quicCaptures[index]
    let (events, readers) = try readQUIC(try #require(ja4Captures).appendingPathComponent(expected.file))
    #expect(readers.count == 1)
    #expect(readers.first?.version == .v1)
    #expect(readers.first?.clientIsInitiator == true)
    #expect(readers.first?.originalDestinationConnectionID?.count == 8)
    #expect(events.problems.isEmpty)
    let hello = try #require(events.clientHellos.first)
    #expect(events.clientHellos.count == 1)
    #expect(hello.serverName == expected.serverName)
    // The JA4 references' q13d0310h3: 3 suites, 10 extensions (GREASE not counted), ALPN h3.
    #expect(hello.cipherSuites.filter { !$0.isGREASE }.count == 3)
    #expect(hello.extensions.filter { !$0.type.isGREASE }.count == 10)
    #expect(hello.alpn == [Array("h3".utf8)])
    #expect(hello.extensions.contains { $0.type.rawValue == 0x39 })  // quic_transport_parameters
    guard expected.hasServer else { return }
    // ja4s q130200_1301: TLS 1.3, TLS_AES_128_GCM_SHA256; then the client's Handshake packet.
    let serverHello = try #require(events.serverHellos.first)
    #expect(serverHello.cipherSuite == CipherSuite(rawValue: 0x1301))
    #expect(serverHello.selectedVersion == TLSVersion(rawValue: 0x0304))
    let serverHelloAt = try #require(events.firstIndex { if case .handshake(.serverHello, _) = $0 { true } else { false } })
    #expect(events[serverHelloAt...].contains { if case .packet(.handshake, true, _) = $0 { true } else { false } })
    #expect(events.contains { if case .packet(.oneRTT, false, _) = $0 { true } else { false } })
    #expect(readers.first?.serverSourceConnectionID?.isEmpty == false)
}
