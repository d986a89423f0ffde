import WireCursor

/// The handshake messages TLS 1.3 sends under the handshake keys (RFC 8446 §4.3–4.4), as a key log opens
/// them: what the server chose beyond the ServerHello, its certificate chain, the signature that binds the
/// chain's key to this handshake, and each side's Finished. Parsed from decrypted bytes, which are as
/// untrusted as any others (a key log may be wrong or forged): every length is checked.
public enum ProtectedHandshakeMessage: Sendable, Hashable {
    /// EncryptedExtensions: the extensions' types, and the ALPN protocol the server selected if any.
    case encryptedExtensions(types: [ExtensionType], alpn: [UInt8]?)
    /// Certificate: the certificate_request_context (empty from a server) and the chain, leaf first.
    case certificate(context: [UInt8], chain: CertificateChain)
    /// CertificateRequest: the server asks the client for a certificate.
    case certificateRequest
    /// CertificateVerify: the signature scheme and the signature's length.
    case certificateVerify(scheme: SignatureScheme, signatureLength: Int)
    /// Finished: verify_data.
    case finished(verifyData: [UInt8])
    /// Another type (NewSessionTicket, KeyUpdate, ...), with its body length.
    case other(HandshakeType, length: Int)

    /// The message's handshake type.
    public var type: HandshakeType {
        switch self {
        case .encryptedExtensions: .encryptedExtensions
        case .certificate: .certificate
        case .certificateRequest: .certificateRequest
        case .certificateVerify: .certificateVerify
        case .finished: .finished
        case .other(let type, _): type
        }
    }

    /// Parses one message body of `type`.
    public init(type: HandshakeType, parsing body: inout ByteCursor, limits: TLSLimits = TLSLimits()) throws(DecodeError) {
        switch type.rawValue {
        case 8:
            var block = try body.readLengthPrefixed16("EncryptedExtensions.extensions")
            var truncated = false
            var alpn: [UInt8]?
            var failure: DecodeError?
            let extensions = try readExtensions(&block, limit: limits.maxExtensions, truncated: &truncated) { type, data in
                guard type == .alpn else { return }
                // ProtocolNameList with exactly one name (RFC 7301 §3.1).
                var list = data
                do throws(DecodeError) {
                    var names = try list.readLengthPrefixed16("ALPN.protocol_name_list")
                    alpn = try names.readLengthPrefixed8("ALPN.protocol_name").remainingBytes
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            self = .encryptedExtensions(types: extensions.map(\.type), alpn: alpn)
        case 11:
            let context = try body.readLengthPrefixed8("Certificate.certificate_request_context").remainingBytes
            var list = try body.readLengthPrefixed24("Certificate.certificate_list")
            var certificates: [[UInt8]] = []
            while !list.isEmpty {
                guard certificates.count < limits.maxCertificates else {
                    throw DecodeError(.tooLarge, at: list.position, "Certificate.certificate_list (maxCertificates)")
                }
                let der = try list.readLengthPrefixed24("CertificateEntry.cert_data")
                guard !der.isEmpty else { throw DecodeError(.malformed, at: der.position, "CertificateEntry.cert_data") }
                _ = try list.readLengthPrefixed16("CertificateEntry.extensions")
                certificates.append(der.remainingBytes)
            }
            self = .certificate(context: context, chain: CertificateChain(certificates: certificates))
        case 13:
            body.skipToEnd()
            self = .certificateRequest
        case 15:
            let scheme = SignatureScheme(rawValue: try body.readUInt16("CertificateVerify.algorithm"))
            let signature = try body.readLengthPrefixed16("CertificateVerify.signature")
            self = .certificateVerify(scheme: scheme, signatureLength: signature.remaining)
        case 20:
            self = .finished(verifyData: body.remainingBytes)
            body.skipToEnd()
        default:
            self = .other(type, length: body.remaining)
            body.skipToEnd()
        }
        try body.expectEnd("Handshake body (trailing bytes)")
    }

    /// The messages in a run of decrypted handshake bytes (a flight may span records, and a record may
    /// hold several messages), each with its whole bytes for the transcript; an incomplete last message
    /// is left out and reported as `remainder`.
    public static func split(_ bytes: [UInt8], limits: TLSLimits = TLSLimits()) throws(DecodeError)
        -> (messages: [(message: ProtectedHandshakeMessage, bytes: ArraySlice<UInt8>)], remainder: Int)
    {
        var result: [(ProtectedHandshakeMessage, ArraySlice<UInt8>)] = []
        var offset = 0
        while bytes.count - offset >= 4 {
            let length = Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard bytes.count - offset - 4 >= length else { break }
            let type = HandshakeType(rawValue: bytes[offset])
            let whole = bytes[offset..<offset + 4 + length]
            let parsed = whole.dropFirst(4).withUnsafeBytes { buffer -> Result<ProtectedHandshakeMessage, DecodeError> in
                var cursor = ByteCursor(buffer)
                do throws(DecodeError) {
                    return .success(try ProtectedHandshakeMessage(type: type, parsing: &cursor, limits: limits))
                } catch {
                    return .failure(error)
                }
            }
            result.append((try parsed.get(), whole))
            offset += 4 + length
        }
        return (result, bytes.count - offset)
    }
}
