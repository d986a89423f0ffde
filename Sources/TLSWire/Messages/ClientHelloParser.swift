import WireCursor

// RFC 8446 §4.1.2 (RFC 5246 §7.4.1.2 is the same, with `extensions` optional: SSL 3.0 / TLS 1.0
// hellos may end after the compression methods):
//
//     uint16 ProtocolVersion;
//     opaque Random[32];
//     uint8 CipherSuite[2];    /* Cryptographic suite selector */
//
//     struct {
//         ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//         Random random;
//         opaque legacy_session_id<0..32>;
//         CipherSuite cipher_suites<2..2^16-2>;
//         opaque legacy_compression_methods<1..2^8-1>;
//         Extension extensions<8..2^16-1>;
//     } ClientHello;
extension ClientHello {
    /// Parses a ClientHello handshake body (after the 4-byte handshake header).
    ///
    /// The outer structure must be exact (lengths that overrun or leave bytes behind throw). An
    /// extension whose body does not parse is listed in `extensions` and simply not decoded: a
    /// malformed extension does not fail the hello. Each list keeps at most `limits.maxListEntries`
    /// entries (extensions: `limits.maxExtensions`), the rest walked but dropped and the list named in
    /// `truncatedLists`, so a hello of 32,000 suites costs one linear pass and 512 entries.
    /// GREASE values and TLS 1.3 draft versions are kept as sent.
    public init(parsing cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        try self.init(parsing: &cursor, limits: limits, dtls: false)
    }

    /// Parses a DTLS ClientHello handshake body: the TLS layout with a cookie after the session id
    /// (RFC 6347 §4.2.1, RFC 9147 §5.3), kept in `cookie`. Everything else as `init(parsing:limits:)`.
    ///
    ///     struct {
    ///         ProtocolVersion client_version;
    ///         Random random;
    ///         SessionID session_id;
    ///         opaque cookie<0..2^8-1>;
    ///         CipherSuite cipher_suites<2..2^16-1>;
    ///         CompressionMethod compression_methods<1..2^8-1>;
    ///         Extension extensions<0..2^16-1>;
    ///     } ClientHello;
    public init(parsingDTLS cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        try self.init(parsing: &cursor, limits: limits, dtls: true)
    }

    private init(parsing cursor: inout ByteCursor, limits: TLSLimits, dtls: Bool) throws(DecodeError) {
        self.init(version: TLSVersion(rawValue: try cursor.readUInt16("ClientHello.legacy_version")))
        random = try cursor.readBytes(count: 32, "ClientHello.random")
        let session = try cursor.readLengthPrefixed8("ClientHello.legacy_session_id")
        guard session.remaining <= 32 else { throw DecodeError(.malformed, at: session.position, "ClientHello.legacy_session_id") }
        sessionID = session.remainingBytes
        if dtls { cookie = try cursor.readLengthPrefixed8("ClientHello.cookie").remainingBytes }
        var suites = try cursor.readLengthPrefixed16("ClientHello.cipher_suites")
        var truncated = false
        cipherSuites = try suites.readUInt16s(
            "ClientHello.cipher_suites", limit: limits.maxListEntries, truncated: &truncated, as: CipherSuite.init(rawValue:))
        if truncated { truncatedLists.insert(.cipherSuites) }
        compressionMethods = try cursor.readLengthPrefixed8("ClientHello.legacy_compression_methods").remainingBytes
        if cursor.isEmpty { return }  // no extensions block (SSL 3.0 / early TLS)
        var decoded = ClientExtensionsSeen()
        var walker = ExtensionWalker(try cursor.readLengthPrefixed16("ClientHello.extensions"), limit: limits.maxExtensions)
        while let next = try walker.next() { decodeExtension(next.type, next.body, &decoded, limit: limits.maxListEntries) }
        extensions = walker.extensions
        if walker.truncated { truncatedLists.insert(.extensions) }
    }

    /// Which extensions were decoded already: on a duplicate, the first occurrence wins.
    struct ClientExtensionsSeen {
        var bits: UInt16 = 0
        mutating func first(_ bit: UInt16) -> Bool {
            defer { bits |= bit }
            return bits & bit == 0
        }
    }

    private mutating func decodeExtension(_ type: ExtensionType, _ body: ByteCursor, _ seen: inout ClientExtensionsSeen, limit: Int) {
        var body = body
        var truncated = false
        if type == .encryptedClientHello { hasECH = true }  // presence is what we report
        // Each case decodes into locals and assigns only when the whole body parsed: a malformed
        // body records nothing.
        do throws(DecodeError) {
            switch type {
            case .serverName where seen.first(1 << 0):
                // RFC 6066 §3: struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
                //              struct { ServerName server_name_list<1..2^16-1> } ServerNameList;  opaque HostName<1..2^16-1>;
                var list = try body.readLengthPrefixed16("server_name.server_name_list")
                try body.expectEnd("server_name")
                var hostName: [UInt8]?
                while !list.isEmpty {
                    let nameType = try list.readUInt8("ServerName.name_type")
                    // Unknown name types are not defined; RFC 6066 says they use the same opaque<..2^16-1> shape.
                    let name = try list.readLengthPrefixed16("ServerName.name")
                    if nameType == 0, hostName == nil {
                        guard !name.isEmpty else { throw DecodeError(.malformed, at: name.position, "HostName") }
                        hostName = name.remainingBytes
                    }
                }
                if let hostName {
                    serverNameBytes = hostName
                    // Host names are ASCII (RFC 6066 §3): taken as they are, without the generic validation
                    // (~1,000 instructions a name, most of them metadata look-ups); anything else is validated.
                    serverName =
                        hostName.allSatisfy { $0 < 0x80 }
                        ? String(decoding: hostName, as: UTF8.self) : String(validating: hostName, as: UTF8.self)
                }
            case .alpn where seen.first(1 << 1):
                // RFC 7301 §3.1: opaque ProtocolName<1..2^8-1>; struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
                var list = try body.readLengthPrefixed16("ProtocolNameList")
                try body.expectEnd("application_layer_protocol_negotiation")
                var names: [[UInt8]] = []
                while !list.isEmpty {
                    let name = try list.readLengthPrefixed8("ProtocolName")
                    guard !name.isEmpty else { throw DecodeError(.malformed, at: name.position, "ProtocolName") }
                    if names.count < limit { names.append(name.remainingBytes) } else { truncated = true }
                }
                alpn = names
                if truncated { truncatedLists.insert(.alpn) }
            case .supportedVersions where seen.first(1 << 2):
                // RFC 8446 §4.2.1 (client form): ProtocolVersion versions<2..254>;
                var list = try body.readLengthPrefixed8("supported_versions.versions")
                try body.expectEnd("supported_versions")
                supportedVersions = try list.readUInt16s(
                    "supported_versions.versions", limit: limit, truncated: &truncated, as: TLSVersion.init(rawValue:))
                if truncated { truncatedLists.insert(.supportedVersions) }
            case .supportedGroups where seen.first(1 << 3):
                // RFC 8446 §4.2.7: struct { NamedGroup named_group_list<2..2^16-1>; } NamedGroupList;
                var list = try body.readLengthPrefixed16("supported_groups.named_group_list")
                try body.expectEnd("supported_groups")
                supportedGroups = try list.readUInt16s(
                    "supported_groups.named_group_list", limit: limit, truncated: &truncated, as: NamedGroup.init(rawValue:))
                if truncated { truncatedLists.insert(.supportedGroups) }
            case .ecPointFormats where seen.first(1 << 4):
                // RFC 8422 §5.1.2: struct { ECPointFormat ec_point_format_list<1..2^8-1> } ECPointFormatList;
                let list = try body.readLengthPrefixed8("ec_point_formats.ec_point_format_list")
                try body.expectEnd("ec_point_formats")
                ecPointFormats = list.remainingBytes
            case .signatureAlgorithms where seen.first(1 << 5):
                // RFC 8446 §4.2.3: struct { SignatureScheme supported_signature_algorithms<2..2^16-2>; } SignatureSchemeList;
                var list = try body.readLengthPrefixed16("signature_algorithms.supported_signature_algorithms")
                try body.expectEnd("signature_algorithms")
                signatureAlgorithms = try list.readUInt16s(
                    "signature_algorithms", limit: limit, truncated: &truncated, as: SignatureScheme.init(rawValue:))
                if truncated { truncatedLists.insert(.signatureAlgorithms) }
            case .keyShare where seen.first(1 << 6):
                // RFC 8446 §4.2.8: struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
                //                  struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
                var list = try body.readLengthPrefixed16("KeyShareClientHello.client_shares")
                try body.expectEnd("key_share")
                var groups: [NamedGroup] = []
                while !list.isEmpty {
                    let group = NamedGroup(rawValue: try list.readUInt16("KeyShareEntry.group"))
                    _ = try list.readLengthPrefixed16("KeyShareEntry.key_exchange")
                    if groups.count < limit { groups.append(group) } else { truncated = true }
                }
                keyShareGroups = groups
                if truncated { truncatedLists.insert(.keyShares) }
            case .pskKeyExchangeModes where seen.first(1 << 7):
                // RFC 8446 §4.2.9: struct { PskKeyExchangeMode ke_modes<1..255>; } PskKeyExchangeModes;
                let list = try body.readLengthPrefixed8("psk_key_exchange_modes.ke_modes")
                try body.expectEnd("psk_key_exchange_modes")
                pskModes = list.remainingBytes
            default:
                break
            }
        } catch {
            // Kept raw in `extensions`; nothing decoded (see the doc comment of init(parsing:limits:)).
        }
    }
}

// RFC 5246 Appendix E.2 (RFC 6101 Appendix E), the SSL 2.0-compatible ClientHello, as the first bytes
// of a stream. The 2-byte record header (high bit set, 15-bit length) is read by the stream parser;
// this parser starts at msg_type:
//
//     uint8 V2CipherSpec[3];
//     struct {
//         uint16 msg_length;              /* the 2-byte header, high bit set */
//         uint8 msg_type;                 /* 1 = client_hello */
//         Version version;
//         uint16 cipher_spec_length;
//         uint16 session_id_length;
//         uint16 challenge_length;
//         V2CipherSpec cipher_specs[V2ClientHello.cipher_spec_length];
//         opaque session_id[V2ClientHello.session_id_length];
//         opaque challenge[V2ClientHello.challenge_length];
//     } V2ClientHello;
extension ClientHello {
    /// Parses an SSL 2.0-format ClientHello from `msg_type` on (the caller consumed the 2-byte header
    /// and bounds the cursor by its length).
    ///
    /// `cipherSuites` keeps only the specs whose first byte is 0 (they name TLS suites, E.2);
    /// `sslv2CipherSpecs` keeps all of them. `random` is the challenge left-padded with zeros to 32 bytes
    /// as E.2 says a server sees it (a challenge longer than 32 bytes is kept as sent).
    public init(parsingSSLv2 cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        guard try cursor.readUInt8("V2ClientHello.msg_type") == 1 else {
            throw DecodeError(.malformed, at: cursor.position, "V2ClientHello.msg_type")
        }
        self.init(version: TLSVersion(rawValue: try cursor.readUInt16("V2ClientHello.version")), isSSLv2Format: true)
        let specLength = Int(try cursor.readUInt16("V2ClientHello.cipher_spec_length"))
        let sessionLength = Int(try cursor.readUInt16("V2ClientHello.session_id_length"))
        let challengeLength = Int(try cursor.readUInt16("V2ClientHello.challenge_length"))
        guard specLength % 3 == 0 else { throw DecodeError(.malformed, at: cursor.position, "V2ClientHello.cipher_spec_length") }
        var specs = try cursor.readCursor(count: specLength, "V2ClientHello.cipher_specs")
        sslv2CipherSpecs = try specs.readSSLv2CipherSpecs(limit: limits.maxListEntries, truncated: &truncatedLists)
        for spec in sslv2CipherSpecs where spec >> 16 == 0 {
            cipherSuites.append(CipherSuite(rawValue: UInt16(truncatingIfNeeded: spec)))
        }
        sessionID = try cursor.readBytes(count: sessionLength, "V2ClientHello.session_id")
        let challenge = try cursor.readBytes(count: challengeLength, "V2ClientHello.challenge")
        random = challenge.count < 32 ? [UInt8](repeating: 0, count: 32 - challenge.count) + challenge : challenge
        try cursor.expectEnd("V2ClientHello")  // E.2: no padding in the 2-byte-header form
    }
}

extension ByteCursor {
    /// Reads the rest as 3-byte SSL 2.0 cipher specs (`kind << 16 | code`), keeping at most `limit`.
    mutating func readSSLv2CipherSpecs(limit: Int, truncated: inout HelloLists) throws(DecodeError) -> [UInt32] {
        var specs: [UInt32] = []
        while !isEmpty {
            let kind = try readUInt8("V2CipherSpec")
            let code = try readUInt16("V2CipherSpec")
            if specs.count < limit { specs.append(UInt32(kind) << 16 | UInt32(code)) } else { truncated.insert(.sslv2CipherSpecs) }
        }
        return specs
    }
}
