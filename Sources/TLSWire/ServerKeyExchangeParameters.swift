import WireCursor

/// What a ServerKeyExchange's layout depends on: the suite and version its ServerHello negotiated
/// (the server-direction stream parser keeps them from its own ServerHello).
public struct KeyExchangeContext: Sendable, Hashable {
    public var cipherSuite: CipherSuite
    public var version: TLSVersion
    public init(cipherSuite: CipherSuite, version: TLSVersion) {
        self.cipherSuite = cipherSuite
        self.version = version
    }
}

/// Why a ServerKeyExchange was not decoded. Never guessed around: the session reports it.
public enum ServerKeyExchangeProblem: Error, Sendable, Hashable {
    /// No ServerHello came before it in this direction (sent by the client, or the hello was lost).
    case noServerHello
    /// The negotiated suite is unregistered (or a signalling value): its layout is unknown.
    case unknownSuite(CipherSuite)
    /// The negotiated key exchange sends no ServerKeyExchange (static RSA, DH or ECDH, Kerberos,
    /// TLS 1.3...) or one this parser does not read (ECCPWD, GOST).
    case unexpected(KeyExchangeAlgorithm)
    /// The body does not fit the key exchange's layout (offsets within the body).
    case malformed(DecodeError)
}

/// The parameters a ServerKeyExchange carries, read with the layout of the negotiated key exchange.
/// Fields that do not belong to that key exchange are nil.
public struct ServerKeyExchangeParameters: Sendable, Hashable {
    public var keyExchange: KeyExchangeAlgorithm
    /// RFC 4279 psk_identity_hint (PSK, RSA_PSK, DHE_PSK, ECDHE_PSK), as sent (may be empty).
    public var pskIdentityHint: [UInt8]?
    /// ECParameters.namedcurve (ECDHE, ECDH_anon, ECDHE_PSK with curve_type named_curve).
    public var namedGroup: NamedGroup?
    /// ECParameters.curve_type of an explicit curve (1 explicit_prime, 2 explicit_char2; RFC 4492 §5.4),
    /// which has no named group.
    public var explicitCurveType: UInt8?
    /// Bit length of ServerDHParams.dh_p, leading zero bits not counted (DHE, DHE_EXPORT, DH_anon, DHE_PSK).
    public var dhPrimeBits: Int?
    /// The RFC 7919 group (ffdhe2048...) whose prime and generator (2) the ServerDHParams carry, if any.
    public var ffdheGroup: NamedGroup?
    /// Bit length of ServerRSAParams.rsa_modulus (RSA_EXPORT's temporary key).
    public var rsaModulusBits: Int?
    /// Bit length of ServerSRPParams.srp_N (SRP).
    public var srpPrimeBits: Int?
    /// The signature's algorithm (TLS 1.2 form); nil when unsigned or before TLS 1.2.
    public var signatureAlgorithm: SignatureScheme?

    public init(
        keyExchange: KeyExchangeAlgorithm, pskIdentityHint: [UInt8]? = nil, namedGroup: NamedGroup? = nil,
        explicitCurveType: UInt8? = nil, dhPrimeBits: Int? = nil, ffdheGroup: NamedGroup? = nil, rsaModulusBits: Int? = nil,
        srpPrimeBits: Int? = nil, signatureAlgorithm: SignatureScheme? = nil
    ) {
        self.keyExchange = keyExchange
        self.pskIdentityHint = pskIdentityHint
        self.namedGroup = namedGroup
        self.explicitCurveType = explicitCurveType
        self.dhPrimeBits = dhPrimeBits
        self.ffdheGroup = ffdheGroup
        self.rsaModulusBits = rsaModulusBits
        self.srpPrimeBits = srpPrimeBits
        self.signatureAlgorithm = signatureAlgorithm
    }
}

extension ServerKeyExchange {
    /// Parses a ServerKeyExchange body (the cursor spans exactly the body, which is consumed) with the
    /// layout of `context`'s key exchange. Never throws: what does not fit is a `ServerKeyExchangeProblem`.
    ///
    ///     struct {
    ///         select (KeyExchangeAlgorithm) {
    ///             case dh_anon:   ServerDHParams params;                                   /* RFC 5246 §7.4.3 */
    ///             case dhe_dss, dhe_rsa: ServerDHParams params; digitally-signed struct {...} signed_params;
    ///             case rsa (export only): ServerRSAParams params; Signature signed_params;  /* RFC 2246 §7.4.3 */
    ///             case ec_diffie_hellman: ServerECDHParams params; Signature signed_params; /* RFC 8422 §5.4 */
    ///             case ecdh_anon: ServerECDHParams params;
    ///             case psk, rsa_psk: opaque psk_identity_hint<0..2^16-1>;                  /* RFC 4279 §2, §4 */
    ///             case diffie_hellman_psk: opaque psk_identity_hint<0..2^16-1>; ServerDHParams params; /* §3 */
    ///             case ec_diffie_hellman_psk: opaque psk_identity_hint<0..2^16-1>; ServerECDHParams params; /* RFC 5489 */
    ///             case srp: ServerSRPParams params; [signed when the suite has a certificate] /* RFC 5054 §2.8.1 */
    ///         };
    ///     } ServerKeyExchange;
    public init(parsing cursor: inout ByteCursor, context: KeyExchangeContext?) {
        let length = cursor.remaining
        defer { cursor.skipToEnd() }
        guard let context else {
            self.init(length: length, parameters: .failure(.noServerHello))
            return
        }
        guard let parts = context.cipherSuite.parts else {
            self.init(length: length, parameters: .failure(.unknownSuite(context.cipherSuite)))
            return
        }
        do throws(DecodeError) {
            guard let parameters = try Self.read(&cursor, parts: parts, version: context.version) else {
                self.init(length: length, parameters: .failure(.unexpected(parts.keyExchangeAlgorithm)))
                return
            }
            self.init(length: length, parameters: .success(parameters))
        } catch {
            self.init(length: length, parameters: .failure(.malformed(error)))
        }
    }

    /// nil: this key exchange has no ServerKeyExchange we read.
    private static func read(
        _ cursor: inout ByteCursor, parts: CipherSuiteParts, version: TLSVersion
    ) throws(DecodeError) -> ServerKeyExchangeParameters? {
        let kx = parts.keyExchangeAlgorithm
        var result = ServerKeyExchangeParameters(keyExchange: kx)
        let signed: Bool
        switch kx {
        case .dhe, .dheExport, .dhAnon, .dhAnonExport:
            try readServerDHParams(&cursor, into: &result)
            signed = kx == .dhe || kx == .dheExport
        case .ecdhe, .ecdhAnon:
            try readServerECDHParams(&cursor, into: &result)
            signed = kx == .ecdhe
        case .rsaExport:
            // RFC 2246 §7.4.3: struct { opaque rsa_modulus<1..2^16-1>; opaque rsa_exponent<1..2^16-1>; } ServerRSAParams;
            let modulus = try cursor.readLengthPrefixed16("ServerRSAParams.rsa_modulus")
            let exponent = try cursor.readLengthPrefixed16("ServerRSAParams.rsa_exponent")
            guard !modulus.isEmpty, !exponent.isEmpty else { throw DecodeError(.malformed, at: modulus.position, "ServerRSAParams") }
            result.rsaModulusBits = bitLength(modulus)
            signed = true
        case .psk, .rsaPSK:
            result.pskIdentityHint = try cursor.readLengthPrefixed16("ServerKeyExchange.psk_identity_hint").remainingBytes
            signed = false
        case .dhePSK:
            result.pskIdentityHint = try cursor.readLengthPrefixed16("ServerKeyExchange.psk_identity_hint").remainingBytes
            try readServerDHParams(&cursor, into: &result)
            signed = false
        case .ecdhePSK:
            result.pskIdentityHint = try cursor.readLengthPrefixed16("ServerKeyExchange.psk_identity_hint").remainingBytes
            try readServerECDHParams(&cursor, into: &result)
            signed = false
        case .srp:
            // RFC 5054 §2.8.1: struct { opaque srp_N<1..2^16-1>; opaque srp_g<1..2^16-1>; opaque srp_s<1..2^8-1>;
            //                           opaque srp_B<1..2^16-1>; } ServerSRPParams;
            let prime = try cursor.readLengthPrefixed16("ServerSRPParams.srp_N")
            let generator = try cursor.readLengthPrefixed16("ServerSRPParams.srp_g")
            let salt = try cursor.readLengthPrefixed8("ServerSRPParams.srp_s")
            let publicValue = try cursor.readLengthPrefixed16("ServerSRPParams.srp_B")
            guard !prime.isEmpty, !generator.isEmpty, !salt.isEmpty, !publicValue.isEmpty else {
                throw DecodeError(.malformed, at: prime.position, "ServerSRPParams")
            }
            result.srpPrimeBits = bitLength(prime)
            signed = parts.authenticationAlgorithm == .rsa || parts.authenticationAlgorithm == .dss
        case .null, .rsa, .dh, .dhExport, .ecdh, .krb5, .krb5Export, .eccpwd, .gost, .tls13:
            return nil
        }
        if signed {
            // RFC 5246 §4.7 digitally-signed (TLS 1.2: SignatureAndHashAlgorithm first); RFC 2246 §7.4.3
            // Signature (SSL 3.0 to TLS 1.1): just the opaque signature<0..2^16-1>.
            // DTLS 1.0 is TLS 1.1's layout (compare the TLS equivalent: 0xfeff is numerically above 0x0303).
            let tlsVersion = version.tlsEquivalent
            if tlsVersion >= .tls12 && tlsVersion.tls13Draft == nil {
                result.signatureAlgorithm = SignatureScheme(rawValue: try cursor.readUInt16("DigitallySigned.algorithm"))
            }
            _ = try cursor.readLengthPrefixed16("DigitallySigned.signature")
        }
        try cursor.expectEnd("ServerKeyExchange")
        return result
    }

    /// RFC 5246 §7.4.3; the bit length of dh_p, and the RFC 7919 group it is, if any.
    ///
    ///     struct {
    ///         opaque dh_p<1..2^16-1>;
    ///         opaque dh_g<1..2^16-1>;
    ///         opaque dh_Ys<1..2^16-1>;
    ///     } ServerDHParams;     /* Ephemeral DH parameters */
    private static func readServerDHParams(
        _ cursor: inout ByteCursor, into result: inout ServerKeyExchangeParameters
    ) throws(DecodeError) {
        let prime = try cursor.readLengthPrefixed16("ServerDHParams.dh_p")
        let generator = try cursor.readLengthPrefixed16("ServerDHParams.dh_g")
        let publicValue = try cursor.readLengthPrefixed16("ServerDHParams.dh_Ys")
        guard !prime.isEmpty, !generator.isEmpty, !publicValue.isEmpty else {
            throw DecodeError(.malformed, at: prime.position, "ServerDHParams")
        }
        let bits = bitLength(prime)
        result.dhPrimeBits = bits
        result.ffdheGroup = ffdheGroup(prime: prime, bits: bits, generator: generator)
    }

    /// The RFC 7919 group with this prime and generator 2 (leading zero bytes allowed on both).
    private static func ffdheGroup(prime: ByteCursor, bits: Int, generator: ByteCursor) -> NamedGroup? {
        let group: NamedGroup
        switch bits {
        case 2048: group = NamedGroup(rawValue: 0x0100)
        case 3072: group = NamedGroup(rawValue: 0x0101)
        case 4096: group = NamedGroup(rawValue: 0x0102)
        case 6144: group = NamedGroup(rawValue: 0x0103)
        case 8192: group = NamedGroup(rawValue: 0x0104)
        default: return nil
        }
        guard let known = IANARegistry.ffdhePrime(group.rawValue) else { return nil }
        let byteCount = bits / 8  // every size above is a whole number of bytes
        guard generator.remainingBuffer.drop(while: { $0 == 0 }).elementsEqual([2]),
            prime.remainingBuffer.suffix(byteCount).elementsEqual(known)
        else { return nil }
        return group
    }

    /// RFC 8422 §5.4 (named curves) and RFC 4492 §5.4 (explicit curves, deprecated):
    ///
    ///     struct {
    ///         ECCurveType    curve_type;    /* 1 explicit_prime, 2 explicit_char2, 3 named_curve */
    ///         select (curve_type) {
    ///             case explicit_prime: opaque prime_p <1..2^8-1>; ECCurve curve; ECPoint base;
    ///                                  opaque order <1..2^8-1>; opaque cofactor <1..2^8-1>;
    ///             case explicit_char2: uint16 m; ECBasisType basis; select (basis) {
    ///                                      case ec_basis_trinomial: opaque k <1..2^8-1>;
    ///                                      case ec_basis_pentanomial: opaque k1, k2, k3 <1..2^8-1>; };
    ///                                  ECCurve curve; ECPoint base; opaque order, cofactor <1..2^8-1>;
    ///             case named_curve: NamedCurve namedcurve;
    ///         };
    ///     } ECParameters;
    ///     struct { opaque a <1..2^8-1>; opaque b <1..2^8-1>; } ECCurve;
    ///     struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;  /* ECPoint: opaque point <1..2^8-1> */
    private static func readServerECDHParams(
        _ cursor: inout ByteCursor, into result: inout ServerKeyExchangeParameters
    ) throws(DecodeError) {
        let curveType = try cursor.readUInt8("ECParameters.curve_type")
        switch curveType {
        case 3:
            result.namedGroup = NamedGroup(rawValue: try cursor.readUInt16("ECParameters.namedcurve"))
        case 1, 2:
            if curveType == 1 {
                try readNonEmpty8(&cursor, "ECParameters.prime_p")
            } else {
                _ = try cursor.readUInt16("ECParameters.m")
                let basis = try cursor.readUInt8("ECParameters.basis")
                guard basis == 1 || basis == 2 else { throw DecodeError(.malformed, at: cursor.position - 1, "ECBasisType") }
                for _ in 0..<(basis == 1 ? 1 : 3) { try readNonEmpty8(&cursor, "ECParameters.k") }
            }
            try readNonEmpty8(&cursor, "ECCurve.a")
            try readNonEmpty8(&cursor, "ECCurve.b")
            try readNonEmpty8(&cursor, "ECParameters.base")
            try readNonEmpty8(&cursor, "ECParameters.order")
            try readNonEmpty8(&cursor, "ECParameters.cofactor")
            result.explicitCurveType = curveType
        default:
            throw DecodeError(.malformed, at: cursor.position - 1, "ECParameters.curve_type")
        }
        try readNonEmpty8(&cursor, "ServerECDHParams.public")
    }

    private static func readNonEmpty8(_ cursor: inout ByteCursor, _ context: StaticString) throws(DecodeError) {
        let field = try cursor.readLengthPrefixed8(context)
        guard !field.isEmpty else { throw DecodeError(.malformed, at: field.position, context) }
    }

    /// Bit length of a big-endian unsigned integer, leading zero bits not counted.
    private static func bitLength(_ number: ByteCursor) -> Int {
        for (index, byte) in number.remainingBuffer.enumerated() where byte != 0 {
            return (number.remaining - index - 1) * 8 + (8 - byte.leadingZeroBitCount)
        }
        return 0
    }
}

extension ServerKeyExchange {
    /// The named curve of an (EC)DHE exchange, when the parameters were read and have one.
    public var ecdheNamedGroup: NamedGroup? { (try? parameters.get())?.namedGroup }
    /// The DH prime's bit length, when the parameters were read and are finite-field DH.
    public var dhPrimeBits: Int? { (try? parameters.get())?.dhPrimeBits }
}
