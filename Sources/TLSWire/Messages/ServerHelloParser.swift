import WireCursor

// RFC 8446 §4.1.3 (RFC 5246 §7.4.1.3 is the same, with `extensions` optional):
//
//     struct {
//         ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//         Random random;
//         opaque legacy_session_id_echo<0..32>;
//         CipherSuite cipher_suite;
//         uint8 legacy_compression_method = 0;
//         Extension extensions<6..2^16-1>;
//     } ServerHello;
//
// TLS 1.3 drafts before draft-22 put the draft version (0x7f00 | n) in the version field and had
// no session id or compression method (draft-ietf-tls-tls13-21 §4.1.3):
//
//     struct {
//         ProtocolVersion version;
//         Random random;
//         CipherSuite cipher_suite;
//         Extension extensions<6..2^16-1>;
//     } ServerHello;
//
// A HelloRetryRequest is a ServerHello whose random is `helloRetryRequestRandom` (drafts before 22
// used a separate message type 6, reported as `.other`).
extension ServerHello {
    /// Parses a ServerHello (or HelloRetryRequest) handshake body.
    ///
    /// Decodes supported_versions (server form: one version), key_share (one KeyShareEntry; in a
    /// HelloRetryRequest only the NamedGroup) and ALPN (exactly one protocol). A malformed extension
    /// body is kept raw and not decoded; more than `limits.maxExtensions` extensions throws `.tooLarge`.
    public init(parsing cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        let version = TLSVersion(rawValue: try cursor.readUInt16("ServerHello.legacy_version"))
        let random = try cursor.readBytes(count: 32, "ServerHello.random")
        if let draft = version.tls13Draft, draft < 22 {
            let suite = CipherSuite(rawValue: try cursor.readUInt16("ServerHello.cipher_suite"))
            self.init(version: version, random: random, cipherSuite: suite)
        } else {
            let session = try cursor.readLengthPrefixed8("ServerHello.legacy_session_id_echo")
            guard session.remaining <= 32 else {
                throw DecodeError(.malformed, at: session.position, "ServerHello.legacy_session_id_echo")
            }
            let suite = CipherSuite(rawValue: try cursor.readUInt16("ServerHello.cipher_suite"))
            let compression = try cursor.readUInt8("ServerHello.legacy_compression_method")
            self.init(
                version: version, random: random, sessionID: session.remainingBytes, cipherSuite: suite,
                compressionMethod: compression)
        }
        isHelloRetryRequest = random == Self.helloRetryRequestRandom
        if cursor.isEmpty { return }  // no extensions block (before TLS 1.3)
        var block = try cursor.readLengthPrefixed16("ServerHello.extensions")
        var seen = ClientHello.ClientExtensionsSeen()
        extensions = try readExtensions(&block, limit: limits.maxExtensions) { type, body in
            decodeExtension(type, body, &seen)
        }
    }

    private mutating func decodeExtension(_ type: ExtensionType, _ body: ByteCursor, _ seen: inout ClientHello.ClientExtensionsSeen) {
        var body = body
        do throws(DecodeError) {
            switch type {
            case .supportedVersions where seen.first(1 << 0):
                // RFC 8446 §4.2.1 (server form): ProtocolVersion selected_version;
                let selected = TLSVersion(rawValue: try body.readUInt16("supported_versions.selected_version"))
                try body.expectEnd("supported_versions")
                selectedVersion = selected
            case .keyShare where seen.first(1 << 1):
                // RFC 8446 §4.2.8: struct { KeyShareEntry server_share; } KeyShareServerHello;
                //                  struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
                let group = NamedGroup(rawValue: try body.readUInt16("KeyShareEntry.group"))
                if !isHelloRetryRequest {
                    let key = try body.readLengthPrefixed16("KeyShareEntry.key_exchange")
                    guard !key.isEmpty else { throw DecodeError(.malformed, at: key.position, "KeyShareEntry.key_exchange") }
                }
                try body.expectEnd("key_share")
                selectedGroup = group
            case .alpn where seen.first(1 << 2):
                // RFC 7301 §3.1: the server's ProtocolNameList "MUST contain exactly one ProtocolName".
                var list = try body.readLengthPrefixed16("ProtocolNameList")
                try body.expectEnd("application_layer_protocol_negotiation")
                let name = try list.readLengthPrefixed8("ProtocolName")
                try list.expectEnd("ProtocolNameList")
                guard !name.isEmpty else { throw DecodeError(.malformed, at: name.position, "ProtocolName") }
                alpn = name.remainingBytes
            default:
                break
            }
        } catch {
            // Kept raw in `extensions`; nothing decoded.
        }
    }
}

// RFC 5246 §7.4.2 (the TLS 1.3 layout, with per-certificate extensions, is always encrypted):
//
//     opaque ASN.1Cert<1..2^24-1>;
//     struct {
//         ASN.1Cert certificate_list<0..2^24-1>;
//     } Certificate;
extension CertificateChain {
    /// Parses a TLS 1.2-layout Certificate body, copying each DER certificate out (the chain outlives
    /// the packet). More than `limits.maxCertificates` certificates throws `.tooLarge`.
    public init(parsing cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        var list = try cursor.readLengthPrefixed24("Certificate.certificate_list")
        var certificates: [[UInt8]] = []
        while !list.isEmpty {
            guard certificates.count < limits.maxCertificates else {
                throw DecodeError(.tooLarge, at: list.position, "Certificate.certificate_list (maxCertificates)")
            }
            let der = try list.readLengthPrefixed24("ASN.1Cert")
            guard !der.isEmpty else { throw DecodeError(.malformed, at: der.position, "ASN.1Cert") }
            certificates.append(der.remainingBytes)
        }
        self.init(certificates: certificates)
    }
}

// RFC 8446 §4 / RFC 5246 §7.4:
//
//     struct {
//         HandshakeType msg_type;    /* handshake type */
//         uint24 length;             /* remaining bytes in message */
//         select (Handshake.msg_type) { ... };
//     } Handshake;
extension HandshakeMessage {
    /// Parses one handshake message body of type `type` (the cursor spans exactly the body).
    /// Bytes left after the message's structure throw `.malformed`.
    public init(type: HandshakeType, parsing body: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        switch type {
        case .clientHello: self = .clientHello(try ClientHello(parsing: &body, limits: limits))
        case .serverHello: self = .serverHello(try ServerHello(parsing: &body, limits: limits))
        case .certificate: self = .certificate(try CertificateChain(parsing: &body, limits: limits))
        case .serverKeyExchange:
            // Kept raw: its layout depends on the negotiated key exchange.
            self = .serverKeyExchange(ServerKeyExchange(body: body.remainingBytes))
            body.skipToEnd()
        default:
            self = .other(type, length: body.remaining)
            body.skipToEnd()
        }
        try body.expectEnd("Handshake body (trailing bytes)")
    }
}
