/// A QUIC version number (RFC 9000 §15): an open set, so unknown versions are kept as they were sent.
public struct QUICVersion: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Version 0 marks a Version Negotiation packet (RFC 9000 §17.2.1).
    public static let negotiation = QUICVersion(rawValue: 0)
    /// RFC 9000.
    public static let v1 = QUICVersion(rawValue: 0x0000_0001)
    /// RFC 9369.
    public static let v2 = QUICVersion(rawValue: 0x6b33_43cf)
    /// draft-ietf-quic-transport-29, the last draft widely deployed before RFC 9000.
    public static let draft29 = QUICVersion(rawValue: 0xff00_001d)

    /// The contract's `quic.version`: "1", "2", "draft-29", else "0x" and 8 lowercase hex digits.
    public var name: String {
        switch self {
        case .v1: return "1"
        case .v2: return "2"
        case .draft29: return "draft-29"
        default:
            let digits = String(rawValue, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        }
    }

    /// True for the versions whose Initial packets this module can open.
    public var isKnown: Bool { protection != nil }

    /// A reserved version of the form 0x?a?a?a?a (RFC 9000 §15), sent to exercise version negotiation.
    public var isReservedForNegotiation: Bool { rawValue & 0x0f0f_0f0f == 0x0a0a_0a0a }

    /// Initial packet protection parameters; nil for a version this module does not know.
    var protection: VersionProtection? {
        switch rawValue {
        case QUICVersion.v1.rawValue: return .v1
        case QUICVersion.v2.rawValue: return .v2
        // draft-29 to draft-32 share draft-29's salt and Retry keys (draft-ietf-quic-tls-29 §5.2, §5.8);
        // draft-33 and draft-34 already use RFC 9001's.
        case 0xff00_001d...0xff00_0020: return .draft29
        case 0xff00_0021...0xff00_0022: return .v1
        default: return nil
        }
    }
}

/// How a version protects its Initial and Retry packets, and numbers its long-header packet types.
struct VersionProtection: Sendable {
    /// initial_salt (RFC 9001 §5.2, RFC 9369 §3.3.1, draft-ietf-quic-tls-29 §5.2).
    let initialSalt: [UInt8]
    /// HKDF-Expand-Label labels for the packet protection key, IV and header protection key.
    let keyLabel: String
    let ivLabel: String
    let hpLabel: String
    /// The fixed AES-128-GCM key and nonce of the Retry Integrity Tag (RFC 9001 §5.8, RFC 9369 §3.3.3).
    let retryKey: [UInt8]
    let retryNonce: [UInt8]
    /// RFC 9369 §3.2: version 2 renumbers the long header packet types.
    let usesV2PacketTypes: Bool

    static let v1 = VersionProtection(
        initialSalt: [
            0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
            0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
        ],
        keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
        retryKey: [0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e],
        retryNonce: [0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb],
        usesV2PacketTypes: false
    )

    static let v2 = VersionProtection(
        initialSalt: [
            0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
            0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
        ],
        keyLabel: "quicv2 key", ivLabel: "quicv2 iv", hpLabel: "quicv2 hp",
        retryKey: [0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92],
        retryNonce: [0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a],
        usesV2PacketTypes: true
    )

    static let draft29 = VersionProtection(
        initialSalt: [
            0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
            0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
        ],
        keyLabel: "quic key", ivLabel: "quic iv", hpLabel: "quic hp",
        retryKey: [0xcc, 0xce, 0x18, 0x7e, 0xd0, 0x9a, 0x09, 0xd0, 0x57, 0x28, 0x15, 0x5a, 0x6c, 0xb9, 0x6b, 0xe1],
        retryNonce: [0xe5, 0x49, 0x30, 0xf9, 0x7f, 0x21, 0x36, 0xf0, 0x53, 0x0a, 0x8c, 0x1c],
        usesV2PacketTypes: false
    )

    /// The long header packet type from the first byte's type bits (RFC 9000 §17.2, RFC 9369 §3.2).
    func longPacketType(firstByte: UInt8) -> QUICPacketType {
        let bits = (firstByte >> 4) & 0x03
        if usesV2PacketTypes {
            switch bits {
            case 0b01: return .initial
            case 0b10: return .zeroRTT
            case 0b11: return .handshake
            default: return .retry
            }
        }
        switch bits {
        case 0b00: return .initial
        case 0b01: return .zeroRTT
        case 0b10: return .handshake
        default: return .retry
        }
    }
}

/// The kind of a QUIC packet (RFC 9000 §17).
public enum QUICPacketType: Sendable, Hashable {
    case initial, zeroRTT, handshake, retry, versionNegotiation, oneRTT
}
