import Crypto
import WireCursor
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One direction's Initial packet protection keys (RFC 9001 §5.1): AEAD key and IV, header protection key.
struct PacketProtectionKeys: Sendable {
    let key: SymmetricKey
    let iv: [UInt8]
    let headerProtectionKey: SymmetricKey
}

/// Both directions' Initial keys, derived from the client's Destination Connection ID (RFC 9001 §5.2).
struct InitialKeys: Sendable {
    let client: PacketProtectionKeys
    let server: PacketProtectionKeys

    //     initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
    //     client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", Hash.length)
    //     server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", Hash.length)
    init(protection: VersionProtection, destinationConnectionID: some ContiguousBytes) {
        let initialSecret = HKDF<SHA256>.extract(
            inputKeyMaterial: SymmetricKey(data: destinationConnectionID), salt: protection.initialSalt)
        func keys(_ label: String) -> PacketProtectionKeys {
            let secret = InitialKeys.expandLabel(initialSecret, label, length: 32)
            return PacketProtectionKeys(
                key: InitialKeys.expandLabel(secret, protection.keyLabel, length: 16),
                iv: InitialKeys.expandLabel(secret, protection.ivLabel, length: 12).withUnsafeBytes { Array($0) },
                headerProtectionKey: InitialKeys.expandLabel(secret, protection.hpLabel, length: 16))
        }
        client = keys("client in")
        server = keys("server in")
    }

    // RFC 8446 §7.1:
    //     struct {
    //         uint16 length = Length;
    //         opaque label<7..255> = "tls13 " + Label;
    //         opaque context<0..255> = Context;
    //     } HkdfLabel;
    static func expandLabel(_ secret: some ContiguousBytes, _ label: String, length: Int) -> SymmetricKey {
        let fullLabel = Array("tls13 ".utf8) + Array(label.utf8)
        var info: [UInt8] = [UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        info.append(UInt8(truncatingIfNeeded: fullLabel.count))
        info += fullLabel
        info.append(0)
        return HKDF<SHA256>.expand(pseudoRandomKey: secret, info: info, outputByteCount: length)
    }
}

/// An Initial packet with its protection removed.
struct OpenedPacket {
    let packetNumber: UInt64
    let payload: Data
}

/// Header protection removal and AEAD opening of one long-header packet (RFC 9001 §5.3, §5.4).
enum PacketOpener {
    /// Opens the packet `datagram[start..<end]` whose packet number field starts at `packetNumberOffset`.
    /// Returns nil when the AEAD does not authenticate (wrong keys, or not this connection's packet);
    /// throws when the packet is too short to hold a header protection sample (RFC 9001 §5.4.2).
    static func open(
        _ datagram: UnsafeRawBufferPointer, start: Int, packetNumberOffset: Int, end: Int,
        keys: PacketProtectionKeys, largestPacketNumber: UInt64?
    ) throws(DecodeError) -> OpenedPacket? {
        // The sample starts 4 bytes after the packet number field, whatever the packet number's length.
        let sampleOffset = packetNumberOffset + 4
        guard start >= 0, start < packetNumberOffset, end <= datagram.count, end - sampleOffset >= 16 else {
            throw DecodeError(.truncated, at: packetNumberOffset, "QUIC packet (header protection sample)")
        }
        guard let mask = headerProtectionMask(datagram, sampleOffset: sampleOffset, key: keys.headerProtectionKey) else {
            return nil
        }
        // Long header: the low 4 bits of the first byte are protected (RFC 9001 §5.4.1).
        let firstByte = datagram[start] ^ (mask[0] & 0x0f)
        let packetNumberLength = Int(firstByte & 0x03) + 1
        var header = Array(datagram[start..<packetNumberOffset + packetNumberLength])
        header[0] = firstByte
        var truncatedNumber: UInt64 = 0
        for index in 0..<packetNumberLength {
            let byte = datagram[packetNumberOffset + index] ^ mask[1 + index]
            header[packetNumberOffset - start + index] = byte
            truncatedNumber = truncatedNumber << 8 | UInt64(byte)
        }
        let packetNumber = decodePacketNumber(
            largest: largestPacketNumber, truncated: truncatedNumber, bits: packetNumberLength * 8)

        // RFC 9001 §5.3: nonce = IV XOR packet number (left-padded to the IV's length).
        var nonceBytes = keys.iv
        for index in 0..<8 {
            nonceBytes[nonceBytes.count - 1 - index] ^= UInt8(truncatingIfNeeded: packetNumber >> (8 * UInt64(index)))
        }
        let payloadStart = packetNumberOffset + packetNumberLength
        let tagStart = end - 16
        do {
            let box = try AES.GCM.SealedBox(
                nonce: try AES.GCM.Nonce(data: nonceBytes),
                ciphertext: UnsafeRawBufferPointer(rebasing: datagram[payloadStart..<tagStart]),
                tag: UnsafeRawBufferPointer(rebasing: datagram[tagStart..<end]))
            let payload = try AES.GCM.open(box, using: keys.key, authenticating: header)
            return OpenedPacket(packetNumber: packetNumber, payload: payload)
        } catch {
            return nil
        }
    }

    /// mask = AES-ECB(hp_key, sample) (RFC 9001 §5.4.3); nil if the key is not an AES key.
    static func headerProtectionMask(
        _ datagram: UnsafeRawBufferPointer, sampleOffset: Int, key: SymmetricKey
    ) -> [UInt8]? {
        guard sampleOffset >= 0, datagram.count - sampleOffset >= 16 else { return nil }
        var block = Array(datagram[sampleOffset..<sampleOffset + 16])
        do { try AES.permute(&block, key: key) } catch { return nil }
        return block
    }

    /// RFC 9000 Appendix A.3: the packet number closest to one more than the largest seen in its space.
    static func decodePacketNumber(largest: UInt64?, truncated: UInt64, bits: Int) -> UInt64 {
        // All values stay below 2^62 + 2^32: the largest is a packet number we decoded, the window ≤ 2^32.
        let expected = Int64(truncatingIfNeeded: largest.map { $0 &+ 1 } ?? 0)
        let window = Int64(1) << Int64(bits)
        let halfWindow = window / 2
        let mask = window - 1
        let candidate = (expected & ~mask) | Int64(truncatingIfNeeded: truncated)
        if candidate <= expected - halfWindow, candidate < (Int64(1) << 62) - window {
            return UInt64(candidate + window)
        }
        if candidate > expected + halfWindow, candidate >= window {
            return UInt64(candidate - window)
        }
        return UInt64(max(0, candidate))
    }

    /// RFC 9001 §5.8: the Retry Integrity Tag is the AEAD tag over the pseudo-packet
    /// (ODCID length, ODCID, the Retry packet without its tag) with an empty plaintext.
    static func retryTagIsValid(
        _ retry: UnsafeRawBufferPointer, originalDestinationConnectionID: [UInt8], protection: VersionProtection
    ) -> Bool {
        guard retry.count >= 16 else { return false }
        var pseudoPacket: [UInt8] = [UInt8(truncatingIfNeeded: originalDestinationConnectionID.count)]
        pseudoPacket += originalDestinationConnectionID
        pseudoPacket += retry[0..<retry.count - 16]
        do {
            let sealed = try AES.GCM.seal(
                [UInt8](), using: SymmetricKey(data: protection.retryKey),
                nonce: try AES.GCM.Nonce(data: protection.retryNonce), authenticating: pseudoPacket)
            return sealed.tag.elementsEqual(retry[(retry.count - 16)...])
        } catch {
            return false
        }
    }
}
