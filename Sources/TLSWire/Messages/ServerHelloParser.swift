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
// Drafts 14 and earlier used that layout with 0x0304 itself in the version field; a ServerHello with
// legacy_version 0x0304 (never sent by RFC 8446 servers, whose legacy_version is 0x0303) is read in
// the layout its bytes fit: the older one when cipher_suite and an extensions block end exactly at
// the end of the body.
//
// Drafts before 23 carried key_share as extension 40 (draft-ietf-tls-tls13-22 §4.2); 40 is reserved
// in the final registry, so a ServerHello's extension 40 is read as key_share.
//
// A HelloRetryRequest is a ServerHello whose random is `helloRetryRequestRandom` (drafts before 22
// used a separate message type 6, reported as `.other`).
extension ServerHello {
    /// Parses a ServerHello (or HelloRetryRequest) handshake body.
    ///
    /// Decodes supported_versions (server form: one version), key_share (one KeyShareEntry; in a
    /// HelloRetryRequest only the NamedGroup) and ALPN (exactly one protocol). A malformed extension
    /// is listed and not decoded; past `limits.maxExtensions` extensions the rest are walked but
    /// not kept (`extensionsTruncated`).
    public init(parsing cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        let version = TLSVersion(rawValue: try cursor.readUInt16("ServerHello.legacy_version"))
        let random = try cursor.readBytes(count: 32, "ServerHello.random")
        if Self.hasDraftLayout(version: version, rest: cursor) {
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
        var seen = ClientHello.ClientExtensionsSeen()
        var walker = ExtensionWalker(try cursor.readLengthPrefixed16("ServerHello.extensions"), limit: limits.maxExtensions)
        while let next = try walker.next() { decodeExtension(next.type, next.body, &seen) }
        extensions = walker.extensions
        extensionsTruncated = walker.truncated
    }

    /// The draft (≤ 21) layout: a draft version below 22, or 0x0304 whose bytes after the random are
    /// exactly cipher_suite + an extensions block (draft 14 and earlier).
    private static func hasDraftLayout(version: TLSVersion, rest: ByteCursor) -> Bool {
        if let draft = version.tls13Draft { return draft < 22 }
        guard version == .tls13, let blockLength = rest.peekUInt16(at: 2) else { return false }
        return rest.remaining == 4 + Int(blockLength)
    }

    /// Draft key_share code point (draft-ietf-tls-tls13-22 and earlier).
    private static let draftKeyShare = ExtensionType(rawValue: 40)

    private mutating func decodeExtension(_ type: ExtensionType, _ body: ByteCursor, _ seen: inout ClientHello.ClientExtensionsSeen) {
        var body = body
        do throws(DecodeError) {
            switch type {
            case .supportedVersions where seen.first(1 << 0):
                // RFC 8446 §4.2.1 (server form): ProtocolVersion selected_version;
                let selected = TLSVersion(rawValue: try body.readUInt16("supported_versions.selected_version"))
                try body.expectEnd("supported_versions")
                selectedVersion = selected
            case .keyShare where seen.first(1 << 1), Self.draftKeyShare where seen.first(1 << 1):
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

extension HelloVerifyRequest {
    /// Parses a HelloVerifyRequest body (RFC 6347 §4.2.1; the struct is on the type). Trailing bytes are
    /// left for the caller (`HandshakeMessage` rejects them).
    public init(parsing cursor: inout ByteCursor) throws(DecodeError) {
        let version = TLSVersion(rawValue: try cursor.readUInt16("HelloVerifyRequest.server_version"))
        let cookie = try cursor.readLengthPrefixed8("HelloVerifyRequest.cookie")
        self.init(serverVersion: version, cookie: cookie.remainingBytes)
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
    /// Bytes left after the message's structure throw `.malformed`. A ServerKeyExchange is read with
    /// `keyExchangeContext` (its direction's ServerHello); it never throws (see `ServerKeyExchange.parameters`).
    ///
    /// `dtls`: the body came in DTLS records: a ClientHello has the DTLS layout (its cookie), and a
    /// HelloVerifyRequest is checked to parse before it is reported as `.other(.helloVerifyRequest, ...)`.
    public init(
        type: HandshakeType, parsing body: inout ByteCursor, limits: TLSLimits = TLSLimits(),
        keyExchangeContext: KeyExchangeContext? = nil, dtls: Bool = false
    ) throws(DecodeError) {
        switch type {
        case .clientHello where dtls: self = .clientHello(try ClientHello(parsingDTLS: &body, limits: limits))
        case .helloVerifyRequest where dtls:
            let length = body.remaining
            _ = try HelloVerifyRequest(parsing: &body)
            self = .other(type, length: length)
        case .clientHello: self = .clientHello(try ClientHello(parsing: &body, limits: limits))
        case .serverHello: self = .serverHello(try ServerHello(parsing: &body, limits: limits))
        case .certificate: self = .certificate(try CertificateChain(parsing: &body, limits: limits))
        case .serverKeyExchange:
            self = .serverKeyExchange(ServerKeyExchange(parsing: &body, context: keyExchangeContext))
        default:
            self = .other(type, length: body.remaining)
            body.skipToEnd()
        }
        try body.expectEnd("Handshake body (trailing bytes)")
    }
}

// SSL 2.0 SERVER-HELLO (draft-hickman-netscape-ssl-00, "Server Only Protocol Messages"), as the first
// bytes of the server's stream. The 2-byte record header is read by the stream parser; this parser
// starts at msg_type:
//
//     char MSG-SERVER-HELLO              /* 4 */
//     char SESSION-ID-HIT
//     char CERTIFICATE-TYPE              /* 1 = SSL_CT_X509_CERTIFICATE */
//     char SERVER-VERSION-MSB, SERVER-VERSION-LSB
//     char CERTIFICATE-LENGTH-MSB, CERTIFICATE-LENGTH-LSB
//     char CIPHER-SPECS-LENGTH-MSB, CIPHER-SPECS-LENGTH-LSB
//     char CONNECTION-ID-LENGTH-MSB, CONNECTION-ID-LENGTH-LSB
//     char CERTIFICATE-DATA[MSB<<8|LSB]
//     char CIPHER-SPECS-DATA[MSB<<8|LSB]
//     char CONNECTION-ID-DATA[MSB<<8|LSB]
extension ServerHello {
    /// Parses an SSL 2.0 SERVER-HELLO from msg_type on (the cursor spans the record body); returns the
    /// hello and the certificate (nil when CERTIFICATE-LENGTH is 0, as on a session-id hit). Bytes after
    /// the connection id are record padding and ignored.
    public static func parsingSSLv2(
        _ cursor: inout ByteCursor, limits: TLSLimits = TLSLimits()
    ) throws(DecodeError) -> (hello: ServerHello, certificate: [UInt8]?) {
        guard try cursor.readUInt8("SERVER-HELLO.msg_type") == 4 else {
            throw DecodeError(.malformed, at: cursor.position, "SERVER-HELLO.msg_type")
        }
        let sessionIDHit = try cursor.readUInt8("SERVER-HELLO.session_id_hit")
        _ = try cursor.readUInt8("SERVER-HELLO.certificate_type")
        let version = TLSVersion(rawValue: try cursor.readUInt16("SERVER-HELLO.server_version"))
        let certificateLength = Int(try cursor.readUInt16("SERVER-HELLO.certificate_length"))
        let specLength = Int(try cursor.readUInt16("SERVER-HELLO.cipher_specs_length"))
        let connectionIDLength = Int(try cursor.readUInt16("SERVER-HELLO.connection_id_length"))
        guard specLength % 3 == 0 else { throw DecodeError(.malformed, at: cursor.position, "SERVER-HELLO.cipher_specs_length") }
        let certificate = try cursor.readBytes(count: certificateLength, "SERVER-HELLO.certificate")
        var specs = try cursor.readCursor(count: specLength, "SERVER-HELLO.cipher_specs")
        var truncated: HelloLists = []
        let cipherSpecs = try specs.readSSLv2CipherSpecs(limit: limits.maxListEntries, truncated: &truncated)
        let connectionID = try cursor.readBytes(count: connectionIDLength, "SERVER-HELLO.connection_id")
        cursor.skipToEnd()
        var hello = ServerHello(version: version, sessionID: connectionID, cipherSuite: CipherSuite(rawValue: 0))
        hello.isSSLv2Format = true
        hello.sslv2CipherSpecs = cipherSpecs
        hello.sslv2SessionIDHit = sessionIDHit != 0
        return (hello, certificate.isEmpty ? nil : certificate)
    }
}
