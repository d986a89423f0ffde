// Typed key exchange and authentication of a cipher suite. The generated cipher suite table
// (GeneratedCipherSuites.swift) carries them, so code that needs the layout of a ServerKeyExchange,
// or whether a suite is forward secret, switches over a closed set instead of comparing strings.

/// How a suite agrees on the premaster secret (the part of its name before `_WITH_`).
///
/// Closed on purpose: every registered suite maps to one of these (the generator fails on an
/// unknown one), and an unregistered suite has no parts at all.
public enum KeyExchangeAlgorithm: Sendable, Hashable, CaseIterable {
    /// TLS_NULL_WITH_NULL_NULL.
    case null
    /// Static RSA key transport (RFC 5246): no ServerKeyExchange.
    case rsa
    /// RSA_EXPORT (RFC 2246 §7.4.3): a ServerKeyExchange with a temporary ≤512-bit RSA key when the
    /// certificate's key is longer.
    case rsaExport
    /// Static DH from the certificate (DH_DSS, DH_RSA): no ServerKeyExchange.
    case dh
    /// Static DH, export grade (DH_DSS_EXPORT, DH_RSA_EXPORT).
    case dhExport
    /// Ephemeral DH, signed (RFC 5246 §7.4.3 ServerDHParams).
    case dhe
    /// Ephemeral DH, export grade (DHE_DSS_EXPORT, DHE_RSA_EXPORT).
    case dheExport
    /// Anonymous ephemeral DH (DH_anon): ServerDHParams, unsigned.
    case dhAnon
    /// Anonymous ephemeral DH, export grade (DH_anon_EXPORT).
    case dhAnonExport
    /// Static ECDH from the certificate (ECDH_ECDSA, ECDH_RSA; RFC 8422): no ServerKeyExchange.
    case ecdh
    /// Ephemeral ECDH, signed (RFC 8422 §5.4 ServerECDHParams).
    case ecdhe
    /// Anonymous ephemeral ECDH (ECDH_anon): ServerECDHParams, unsigned.
    case ecdhAnon
    /// Kerberos (RFC 2712).
    case krb5
    case krb5Export
    /// Plain pre-shared key (RFC 4279 §2): the ServerKeyExchange, if any, holds only a psk_identity_hint.
    case psk
    /// DHE with a pre-shared key (RFC 4279 §3): hint, then ServerDHParams.
    case dhePSK
    /// ECDHE with a pre-shared key (RFC 5489 §2): hint, then ServerECDHParams.
    case ecdhePSK
    /// RSA key transport with a pre-shared key (RFC 4279 §4): hint only.
    case rsaPSK
    /// SRP (RFC 5054 §2.5.3): ServerSRPParams, signed when the suite has a certificate.
    case srp
    /// Password-based ECC (RFC 8492).
    case eccpwd
    /// GOST R 34.11-2012 VKO key agreement (RFC 9189).
    case gost
    /// A TLS 1.3 suite: the handshake (key_share, pre_shared_key) decides.
    case tls13

    /// The contract's `cipher.key_exchange` spelling. The anonymous variants keep the names IANA's
    /// suite names give them ("DH", "DH_EXPORT", "ECDH", with authentication "anon").
    public var name: String {
        switch self {
        case .null: "NULL"
        case .rsa: "RSA"
        case .rsaExport: "RSA_EXPORT"
        case .dh, .dhAnon: "DH"
        case .dhExport, .dhAnonExport: "DH_EXPORT"
        case .dhe: "DHE"
        case .dheExport: "DHE_EXPORT"
        case .ecdh, .ecdhAnon: "ECDH"
        case .ecdhe: "ECDHE"
        case .krb5: "KRB5"
        case .krb5Export: "KRB5_EXPORT"
        case .psk: "PSK"
        case .dhePSK: "DHE_PSK"
        case .ecdhePSK: "ECDHE_PSK"
        case .rsaPSK: "RSA_PSK"
        case .srp: "SRP_SHA"
        case .eccpwd: "ECCPWD"
        case .gost: "GOSTR341112_256"
        case .tls13: "TLS13"
        }
    }

    /// The suite's key agreement is ephemeral (forward secret) whatever the server's certificate.
    public var isEphemeral: Bool {
        switch self {
        case .dhe, .dheExport, .dhAnon, .dhAnonExport, .ecdhe, .ecdhAnon, .dhePSK, .ecdhePSK, .tls13: true
        default: false
        }
    }

    /// Finite-field Diffie-Hellman with parameters from the server (ServerDHParams in the ServerKeyExchange).
    public var usesServerDHParams: Bool {
        switch self {
        case .dhe, .dheExport, .dhAnon, .dhAnonExport, .dhePSK: true
        default: false
        }
    }

    /// Elliptic-curve Diffie-Hellman with parameters from the server (ServerECDHParams).
    public var usesServerECDHParams: Bool {
        switch self {
        case .ecdhe, .ecdhAnon, .ecdhePSK: true
        default: false
        }
    }
}

/// How a suite authenticates the server (the part after the key exchange in its name).
public enum AuthenticationAlgorithm: Sendable, Hashable, CaseIterable {
    case null, rsa, dss, ecdsa, anon, psk, krb5, srp, eccpwd, gostR341012

    /// The contract's `cipher.authentication` spelling.
    public var name: String {
        switch self {
        case .null: "NULL"
        case .rsa: "RSA"
        case .dss: "DSS"
        case .ecdsa: "ECDSA"
        case .anon: "anon"
        case .psk: "PSK"
        case .krb5: "KRB5"
        case .srp: "SRP"
        case .eccpwd: "ECCPWD"
        case .gostR341012: "GOSTR341012"
        }
    }
}

extension CipherSuite {
    /// The suite's key exchange; nil for unregistered and signalling (SCSV) code points.
    public var keyExchangeAlgorithm: KeyExchangeAlgorithm? { parts?.keyExchangeAlgorithm }
}
