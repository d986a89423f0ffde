import Crypto
import TLSWire
import WireCursor
import _CryptoExtras

@testable import QUICWire

// A test-only packet builder: the mirror image of PacketOpener (RFC 9001 §5.3, §5.4), used to build
// scenarios the RFC vectors do not cover. The RFC vectors check the opener against the standard.

/// RFC 9000 §16: the shortest encoding of `value`.
func varint(_ value: Int) -> [UInt8] {
    switch value {
    case ..<64: return [UInt8(value)]
    case ..<16384: return [0x40 | UInt8(value >> 8), UInt8(value & 0xff)]
    case ..<(1 << 30): return [0x80 | UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    default: return [0xc0] + (0..<7).reversed().map { UInt8((value >> ($0 * 8)) & 0xff) }
    }
}

enum Frame {
    static func crypto(offset: Int, _ data: some Collection<UInt8>) -> [UInt8] {
        [0x06] + varint(offset) + varint(data.count) + Array(data)
    }
    static func connectionClose(errorCode: Int, frameType: Int, reason: String) -> [UInt8] {
        [0x1c] + varint(errorCode) + varint(frameType) + varint(reason.utf8.count) + Array(reason.utf8)
    }
    static func ack(largest: Int) -> [UInt8] { [0x02] + varint(largest) + [0, 0, 0] }
}

enum TestPacket {
    /// The long header type bits of `type` in `version` (RFC 9000 §17.2, RFC 9369 §3.2).
    static func typeBits(_ type: QUICPacketType, _ version: QUICVersion) -> UInt8 {
        let v1: [QUICPacketType: UInt8] = [.initial: 0, .zeroRTT: 1, .handshake: 2, .retry: 3]
        let v2: [QUICPacketType: UInt8] = [.initial: 1, .zeroRTT: 2, .handshake: 3, .retry: 0]
        return (version == .v2 ? v2 : v1)[type] ?? 0
    }

    /// A protected Initial packet with `frames` (PADDING appended to `padTo` bytes of payload).
    static func initial(
        version: QUICVersion = .v1, dcid: [UInt8], scid: [UInt8], token: [UInt8] = [], packetNumber: UInt64,
        packetNumberLength: Int = 2, frames: [UInt8], keys: PacketProtectionKeys, padTo: Int = 0
    ) -> [UInt8] {
        var payload = frames
        while payload.count < padTo || payload.count + packetNumberLength < 4 { payload.append(0) }
        var header: [UInt8] = [0xc0 | typeBits(.initial, version) << 4 | UInt8(packetNumberLength - 1)]
        header += bigEndian(UInt64(version.rawValue), 4) + [UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid
        header += varint(token.count) + token
        header += varint2(packetNumberLength + payload.count + 16)
        let packetNumberOffset = header.count
        header += bigEndian(packetNumber, packetNumberLength)
        var nonce = keys.iv
        for index in 0..<8 { nonce[11 - index] ^= UInt8(truncatingIfNeeded: packetNumber >> (8 * UInt64(index))) }
        // Test fixtures: a failure here is a bug in the test, so `try!` is fine.
        let sealed = try! AES.GCM.seal(payload, using: keys.key, nonce: try! AES.GCM.Nonce(data: nonce), authenticating: header)
        var packet = header + Array(sealed.ciphertext) + Array(sealed.tag)
        var mask = Array(packet[(packetNumberOffset + 4)..<(packetNumberOffset + 20)])
        try! AES.permute(&mask, key: keys.headerProtectionKey)
        packet[0] ^= mask[0] & 0x0f
        for index in 0..<packetNumberLength { packet[packetNumberOffset + index] ^= mask[1 + index] }
        return packet
    }

    /// A long-header packet with an opaque (never opened) payload of `payloadLength` bytes.
    static func opaque(
        _ type: QUICPacketType, version: QUICVersion = .v1, dcid: [UInt8], scid: [UInt8], payloadLength: Int = 40
    ) -> [UInt8] {
        var packet: [UInt8] = [0xc1 | typeBits(type, version) << 4]
        packet += bigEndian(UInt64(version.rawValue), 4) + [UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid
        if type == .initial { packet += [0] }  // an empty token
        packet += varint2(payloadLength)
        packet += (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        return packet
    }

    /// A Retry with a valid integrity tag for `originalDCID` (RFC 9001 §5.8).
    static func retry(
        version: QUICVersion = .v1, dcid: [UInt8], scid: [UInt8], token: [UInt8], originalDCID: [UInt8]
    ) -> [UInt8] {
        let protection = version.protection!
        var packet: [UInt8] = [0xc0 | typeBits(.retry, version) << 4]
        packet += bigEndian(UInt64(version.rawValue), 4) + [UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid + token
        let pseudoPacket = [UInt8(originalDCID.count)] + originalDCID + packet
        let sealed = try! AES.GCM.seal(
            [UInt8](), using: SymmetricKey(data: protection.retryKey),
            nonce: try! AES.GCM.Nonce(data: protection.retryNonce), authenticating: pseudoPacket)
        return packet + Array(sealed.tag)
    }

    /// A short-header (1-RTT) packet to `dcid`.
    static func oneRTT(dcid: [UInt8], payloadLength: Int = 30) -> [UInt8] {
        [0x41] + dcid + (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    }

    /// A Version Negotiation packet listing `versions`.
    static func versionNegotiation(dcid: [UInt8], scid: [UInt8], versions: [QUICVersion]) -> [UInt8] {
        var packet: [UInt8] = [0x80 | 0x2a, 0, 0, 0, 0, UInt8(dcid.count)] + dcid + [UInt8(scid.count)] + scid
        for version in versions { packet += bigEndian(UInt64(version.rawValue), 4) }
        return packet
    }

    static func bigEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// A 2-byte varint (as stacks write Length, so it can be filled in without moving the header).
    static func varint2(_ value: Int) -> [UInt8] { [0x40 | UInt8(value >> 8), UInt8(value & 0xff)] }
}

enum Hellos {
    /// The ClientHello of RFC 9001 A.2 (TLS handshake header included), from its CRYPTO frame.
    static let rfcClientHello = Array(RFCVectors.clientCryptoFrame.dropFirst(4))

    // A ClientHello with server_name and a padding extension of `padding` bytes, so that it can be made
    // as large as a post-quantum hello (RFC 8446 §4.1.2; padding: RFC 7685).
    static func clientHello(serverName: String = "pq.example", padding: Int) -> [UInt8] {
        let name = Array(serverName.utf8)
        var serverNameList: [UInt8] = [0] + u16(name.count) + name
        serverNameList = u16(serverNameList.count) + serverNameList
        var extensions: [UInt8] = u16(0x0000) + u16(serverNameList.count) + serverNameList
        extensions += u16(0x002b) + u16(3) + [2, 0x03, 0x04]
        extensions += u16(0x0015) + u16(padding) + [UInt8](repeating: 0, count: padding)
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 0x5a, count: 32) + [0]
        body += u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(extensions.count) + extensions
        return [1, UInt8(body.count >> 16), UInt8((body.count >> 8) & 0xff), UInt8(body.count & 0xff)] + body
    }

    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
}

extension QUICConnectionReader {
    /// Feeds one datagram and returns its events.
    mutating func read(_ datagram: [UInt8], fromInitiator: Bool = true) -> [QUICEvent] {
        var events: [QUICEvent] = []
        datagram.withUnsafeBytes { feed($0, fromInitiator: fromInitiator) { events.append($0) } }
        return events
    }
}

extension [QUICEvent] {
    var clientHellos: [ClientHello] {
        compactMap { if case .handshake(.clientHello(let hello), _) = $0 { hello } else { nil } }
    }
    var serverHellos: [ServerHello] {
        compactMap { if case .handshake(.serverHello(let hello), _) = $0 { hello } else { nil } }
    }
    /// Initials that did not decrypt.
    var notDecrypted: Int {
        count { if case .initialNotDecrypted = $0 { true } else { false } }
    }

    var problems: [DecodeError] {
        compactMap { if case .problem(let error, _) = $0 { error } else { nil } }
    }
    var packets: [QUICPacketType] {
        compactMap { if case .packet(let type, _, _) = $0 { type } else { nil } }
    }
}

/// The Initial keys of the RFC vectors' DCID.
func rfcKeys(_ version: QUICVersion = .v1) -> InitialKeys {
    InitialKeys(protection: version.protection!, destinationConnectionID: RFCVectors.clientDCID)
}
