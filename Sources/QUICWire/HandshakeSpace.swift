import Crypto
import TLSWire
import WireCursor
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a QUIC connection reader keeps, when asked, for a key log to open later (`--keylog`): the Initial-level
/// handshake messages whole (ClientHello, ServerHello: the transcript's start) and the Handshake packets as
/// captured (protected header and payload). Bounded like `KeptHandshakeBytes`.
public struct KeptQUICHandshake: Sendable, Hashable {
    public struct Packet: Sendable, Hashable {
        /// The packet from its first byte to the end its Length gives.
        public var bytes: [UInt8]
        /// Where its (protected) packet number starts.
        public var packetNumberOffset: Int
        public var fromClient: Bool
    }

    public static let maxBytes = 128 * 1024
    public static let maxPackets = 32

    public var clientMessages: [[UInt8]] = []
    public var serverMessages: [[UInt8]] = []
    public var packets: [Packet] = []
    /// The version the Handshake packets were read in (its labels derive the keys).
    public var version: QUICVersion?
    private var budget = KeepingBudget(maxBytes: Self.maxBytes)
    public var byteCount: Int { budget.byteCount }
    public var overCap: Bool { budget.overCap }

    public init() {}

    mutating func keep(message: [UInt8], fromClient: Bool) {
        guard budget.take(message.count) else { return }
        if fromClient { clientMessages.append(message) } else { serverMessages.append(message) }
    }

    mutating func keep(_ packet: Packet) {
        guard packets.count < Self.maxPackets else {
            budget.overCap = true
            return
        }
        guard budget.take(packet.bytes.count) else { return }
        packets.append(packet)
    }
}

/// The AEAD of a TLS 1.3 suite as QUIC uses it for packets and header protection (RFC 9001 §5.3, §5.4).
public enum QUICPacketCipher: Sendable, Hashable {
    case aes128GCM, aes256GCM, chacha20Poly1305

    /// TLS_AES_128_GCM_SHA256 (0x1301), TLS_AES_256_GCM_SHA384 (0x1302), TLS_CHACHA20_POLY1305_SHA256 (0x1303);
    /// nil for another suite (TLS_AES_128_CCM_SHA256 is not opened here).
    public init?(suite: CipherSuite) {
        switch suite.rawValue {
        case 0x1301: self = .aes128GCM
        case 0x1302: self = .aes256GCM
        case 0x1303: self = .chacha20Poly1305
        default: return nil
        }
    }

    var keyLength: Int { self == .aes128GCM ? 16 : 32 }
    var usesSHA384: Bool { self == .aes256GCM }
}

/// Why a Handshake packet did not open.
public enum QUICHandshakeOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooShort
    case notAuthenticated(packet: Int)
    case frame(DecodeError)

    public var description: String {
        switch self {
        case .tooShort: "a Handshake packet too short for its header protection sample"
        case .notAuthenticated(let packet): "Handshake packet \(packet) does not authenticate with these keys"
        case .frame(let error): "a Handshake packet's frames: \(error)"
        }
    }
}

/// Opens one direction's Handshake packets with a handshake traffic secret and puts their CRYPTO frames back in
/// order: the TLS handshake messages the keys protect (RFC 9001 §4.1.4, §5).
public enum QUICHandshakeSpace {
    public static func cryptoStream(
        _ packets: [KeptQUICHandshake.Packet], secret: [UInt8], cipher: QUICPacketCipher, version: QUICVersion
    ) throws(QUICHandshakeOpenError) -> [UInt8] {
        guard let protection = version.protection else { return [] }
        let keys = Self.keys(secret: secret, cipher: cipher, protection: protection)
        var largest: UInt64?
        var stream: [UInt8] = []
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        for (index, packet) in packets.enumerated() {
            let opened = try open(packet, keys: keys, cipher: cipher, largest: largest, index: index)
            largest = max(largest ?? 0, opened.packetNumber)
            let failure: DecodeError? = opened.payload.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> DecodeError? in
                var cursor = ByteCursor(buffer)
                while !cursor.isEmpty {
                    let frame: InitialFrame
                    do throws(DecodeError) {
                        frame = try InitialFrame(parsing: &cursor, maxReasonBytes: 0)
                    } catch {
                        return error
                    }
                    if case .crypto(let offset, let data) = frame, offset <= KeptQUICHandshake.maxBytes {
                        pieces.append((offset, Array(data.remainingBuffer)))
                    }
                }
                return nil
            }
            if let failure { throw .frame(failure) }
        }
        // Contiguous from offset 0, in any arrival order; retransmitted bytes are the same.
        var progressed = true
        while progressed {
            progressed = false
            for piece in pieces where piece.offset <= stream.count && piece.offset + piece.bytes.count > stream.count {
                stream += piece.bytes[(stream.count - piece.offset)...]
                progressed = true
            }
        }
        return stream
    }

    struct Keys {
        let key: SymmetricKey
        let iv: [UInt8]
        let headerProtection: SymmetricKey
    }

    static func keys(secret: [UInt8], cipher: QUICPacketCipher, protection: VersionProtection) -> Keys {
        func expand(_ label: String, _ length: Int) -> SymmetricKey {
            let fullLabel = Array("tls13 ".utf8) + Array(label.utf8)
            var info: [UInt8] = [UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
            info.append(UInt8(truncatingIfNeeded: fullLabel.count))
            info += fullLabel
            info.append(0)
            let prk = SymmetricKey(data: secret)
            return cipher.usesSHA384
                ? HKDF<SHA384>.expand(pseudoRandomKey: prk, info: info, outputByteCount: length)
                : HKDF<SHA256>.expand(pseudoRandomKey: prk, info: info, outputByteCount: length)
        }
        return Keys(
            key: expand(protection.keyLabel, cipher.keyLength),
            iv: expand(protection.ivLabel, 12).withUnsafeBytes { Array($0) },
            headerProtection: expand(protection.hpLabel, cipher.keyLength))
    }

    static func open(
        _ packet: KeptQUICHandshake.Packet, keys: Keys, cipher: QUICPacketCipher, largest: UInt64?, index: Int
    ) throws(QUICHandshakeOpenError) -> (packetNumber: UInt64, payload: Data) {
        let bytes = packet.bytes
        let numberOffset = packet.packetNumberOffset
        let sampleOffset = numberOffset + 4
        guard numberOffset > 0, bytes.count - sampleOffset >= 16 + 1 else { throw .tooShort }
        let sample = Array(bytes[sampleOffset..<sampleOffset + 16])
        guard let mask = headerProtectionMask(sample: sample, key: keys.headerProtection, cipher: cipher) else {
            throw .notAuthenticated(packet: index)
        }
        let firstByte = bytes[0] ^ (mask[0] & 0x0f)
        let numberLength = Int(firstByte & 0x03) + 1
        var header = Array(bytes[0..<numberOffset + numberLength])
        header[0] = firstByte
        var truncated: UInt64 = 0
        for position in 0..<numberLength {
            let byte = bytes[numberOffset + position] ^ mask[1 + position]
            header[numberOffset + position] = byte
            truncated = truncated << 8 | UInt64(byte)
        }
        let packetNumber = PacketOpener.decodePacketNumber(largest: largest, truncated: truncated, bits: numberLength * 8)
        var nonce = keys.iv
        for position in 0..<8 {
            nonce[nonce.count - 1 - position] ^= UInt8(truncatingIfNeeded: packetNumber >> (8 * UInt64(position)))
        }
        let payloadStart = numberOffset + numberLength
        let tagStart = bytes.count - 16
        guard payloadStart <= tagStart else { throw .tooShort }
        do {
            switch cipher {
            case .aes128GCM, .aes256GCM:
                let box = try AES.GCM.SealedBox(
                    nonce: try AES.GCM.Nonce(data: nonce), ciphertext: bytes[payloadStart..<tagStart],
                    tag: bytes[tagStart...])
                return (packetNumber, try AES.GCM.open(box, using: keys.key, authenticating: header))
            case .chacha20Poly1305:
                let box = try ChaChaPoly.SealedBox(
                    nonce: try ChaChaPoly.Nonce(data: nonce), ciphertext: bytes[payloadStart..<tagStart],
                    tag: bytes[tagStart...])
                return (packetNumber, try ChaChaPoly.open(box, using: keys.key, authenticating: header))
            }
        } catch {
            throw .notAuthenticated(packet: index)
        }
    }

    /// AES: mask = AES-ECB(hp, sample); ChaCha20: the first 5 bytes of ChaCha20(hp, counter = sample[0..<4]
    /// little-endian, nonce = sample[4..<16]) over zeros (RFC 9001 §5.4.3, §5.4.4).
    static func headerProtectionMask(sample: [UInt8], key: SymmetricKey, cipher: QUICPacketCipher) -> [UInt8]? {
        switch cipher {
        case .aes128GCM, .aes256GCM:
            var block = sample
            do { try AES.permute(&block, key: key) } catch { return nil }
            return block
        case .chacha20Poly1305:
            let counter = UInt32(sample[0]) | UInt32(sample[1]) << 8 | UInt32(sample[2]) << 16 | UInt32(sample[3]) << 24
            do {
                let mask = try Insecure.ChaCha20CTR.encrypt(
                    [UInt8](repeating: 0, count: 5), using: key, counter: try Insecure.ChaCha20CTR.Counter(offset: counter),
                    nonce: try Insecure.ChaCha20CTR.Nonce(data: sample[4..<16]))
                return Array(mask)
            } catch {
                return nil
            }
        }
    }
}
