import Crypto
import Testing

@testable import QUICWire

/// The Handshake-space opener's pieces against RFC 9001 Appendix A.5 (ChaCha20-Poly1305: packet keys from a
/// secret with QUIC's labels, and the ChaCha20 header protection mask), and a sealed Handshake packet opened.
@Suite struct HandshakeSpaceTests {
    static let secret = hex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")

    @Test func keysFromASecret() throws {
        let protection = try #require(QUICVersion.v1.protection)
        let keys = QUICHandshakeSpace.keys(secret: Self.secret, cipher: .chacha20Poly1305, protection: protection)
        #expect(keys.key.withUnsafeBytes { Array($0) } == hex("c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"))
        #expect(keys.iv == hex("e0459b3474bdd0e44a41c144"))
        #expect(keys.headerProtection.withUnsafeBytes { Array($0) }
            == hex("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"))
    }

    @Test func chacha20HeaderProtectionMask() {
        let mask = QUICHandshakeSpace.headerProtectionMask(
            sample: hex("5e5cd55c41f69080575d7999c25a5bfb"),
            key: SymmetricKey(data: hex("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4")),
            cipher: .chacha20Poly1305)
        #expect(mask == hex("aefefe7d03"))
    }

    /// A long-header Handshake packet sealed here (AES-256-GCM, SHA-384 labels, a CRYPTO frame split in two and
    /// sent out of order) opens to its CRYPTO stream; one wrong byte of the secret does not.
    @Test func sealedHandshakePacketsOpen() throws {
        let protection = try #require(QUICVersion.v1.protection)
        let secret = [UInt8](repeating: 7, count: 48)
        let keys = QUICHandshakeSpace.keys(secret: secret, cipher: .aes256GCM, protection: protection)
        let message: [UInt8] = [20, 0, 0, 48] + [UInt8](repeating: 0xab, count: 48)  // a Finished
        func packet(number: UInt8, frames: [UInt8]) throws -> KeptQUICHandshake.Packet {
            // First byte 0xe0 | pn length 1 - 1: long header, Handshake type (2), 1-byte packet number.
            var header: [UInt8] = [0xe0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0]  // version 1, DCID 01020304, no SCID
            let length = 1 + frames.count + 16
            header += [0x40 | UInt8(length >> 8), UInt8(length & 0xff), number]
            var nonce = keys.iv
            nonce[11] ^= number
            let sealed = try AES.GCM.seal(frames, using: keys.key, nonce: try AES.GCM.Nonce(data: nonce), authenticating: header)
            var bytes = header + sealed.ciphertext + sealed.tag
            let numberOffset = header.count - 1
            let sample = Array(bytes[numberOffset + 4..<numberOffset + 20])
            let mask = try #require(QUICHandshakeSpace.headerProtectionMask(sample: sample, key: keys.headerProtection, cipher: .aes256GCM))
            bytes[0] ^= mask[0] & 0x0f
            bytes[numberOffset] ^= mask[1]
            return KeptQUICHandshake.Packet(bytes: bytes, packetNumberOffset: numberOffset, fromClient: false)
        }
        // CRYPTO frames: type 6, offset, length, data; the second half first.
        let second = try packet(number: 0, frames: [6, 30, 22] + Array(message[30...]) + [0, 0, 0])
        let first = try packet(number: 1, frames: [2, 0, 0, 0, 0] + [6, 0, 30] + Array(message[..<30]))
        let stream = try QUICHandshakeSpace.cryptoStream([second, first], secret: secret, cipher: .aes256GCM, version: .v1)
        #expect(stream == message)
        var wrong = secret
        wrong[0] ^= 1
        #expect(throws: QUICHandshakeOpenError.notAuthenticated(packet: 0)) {
            try QUICHandshakeSpace.cryptoStream([second, first], secret: wrong, cipher: .aes256GCM, version: .v1)
        }
    }
}
