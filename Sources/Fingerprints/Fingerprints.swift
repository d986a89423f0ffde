import Crypto
import TLSWire
import TextFormatting

/// JA3 (salesforce): the string and its lowercase MD5 hex.
public struct JA3: Sendable, Hashable {
    public var string: String
    public var hash: String
}

/// JA4 (FoxIO) client fingerprint in its four forms.
public struct JA4: Sendable, Hashable {
    /// `ja4`: sorted lists, hashed.
    public var fingerprint: String
    /// `ja4_r`: sorted lists, raw.
    public var raw: String
    /// `ja4_o`: wire order (SNI and ALPN kept), hashed.
    public var originalOrder: String
    /// `ja4_ro`: wire order, raw.
    public var rawOriginalOrder: String
}

/// Transport over which the hello was seen ("t", "q", "d" in JA4).
public enum FingerprintTransport: Sendable, Hashable {
    case tcp, quic, dtls
}

// MARK: - JA3 / JA3S

extension JA3 {
    /// The JA3 of a JA3 string: its MD5 as lowercase hex.
    public init(string: String) {
        self.init(string: string, hash: Hex.string(Insecure.MD5.hash(data: Array(string.utf8))))
    }

    /// JA3 of a ClientHello: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, each
    /// list in wire order, decimal, "-"-joined, GREASE (RFC 8701) removed from every list. SSLVersion is the
    /// hello's legacy_version; an absent list is an empty field.
    public init(clientHello hello: ClientHello) {
        let fields = [
            String(hello.version.rawValue),
            decimalList(hello.cipherSuites.lazy.filter { !$0.isGREASE }.map(\.rawValue)),
            decimalList(hello.extensions.lazy.filter { !$0.type.isGREASE }.map(\.type.rawValue)),
            decimalList(hello.supportedGroups.lazy.filter { !$0.isGREASE }.map(\.rawValue)),
            decimalList(hello.ecPointFormats),
        ]
        self.init(string: fields.joined(separator: ","))
    }

    /// JA3S of a ServerHello: `SSLVersion,Cipher,Extensions` (legacy_version, the selected suite, and the
    /// extensions in wire order without GREASE), all decimal.
    public init(serverHello hello: ServerHello) {
        let fields = [
            String(hello.version.rawValue),
            String(hello.cipherSuite.rawValue),
            decimalList(hello.extensions.lazy.filter { !$0.type.isGREASE }.map(\.type.rawValue)),
        ]
        self.init(string: fields.joined(separator: ","))
    }
}

private func decimalList<Values: Sequence>(_ values: Values) -> String where Values.Element: BinaryInteger {
    values.map { String($0) }.joined(separator: "-")
}

// MARK: - JA4

extension JA4 {
    /// Server name (0x0000) and ALPN (0x0010): counted in ja4_a, left out of the sorted extension hash.
    private static let excludedFromSortedExtensions: Set<UInt16> = [0x0000, 0x0010]

    /// JA4 of a ClientHello, as specified in FoxIO's JA4.md (see the doc comments of the helpers for each
    /// part, and `Tests/FingerprintsTests` for the cases where the reference implementations differ).
    public init(clientHello hello: ClientHello, transport: FingerprintTransport) {
        let ciphers = hello.cipherSuites.filter { !$0.isGREASE }.map(\.rawValue)
        let extensions = hello.extensions.filter { !$0.type.isGREASE }.map(\.type.rawValue)
        let signatureAlgorithms = hello.signatureAlgorithms.filter { !$0.isGREASE }.map(\.rawValue)
        let hasSNI = hello.serverName != nil || extensions.contains(0x0000)

        let a =
            transportMarker(transport) + versionMarker(hello) + (hasSNI ? "d" : "i")
            + twoDigitCount(ciphers.count) + twoDigitCount(extensions.count) + alpnMarker(hello.alpn)

        // Built as bytes and turned into Strings once: this runs for every connection.
        let sortedCiphers = hexList(ciphers.sorted())
        let sortedExtensions = hexList(
            extensions.filter { !Self.excludedFromSortedExtensions.contains($0) }.sorted()
        )
        let originalCiphers = hexList(ciphers)
        let originalExtensions = hexList(extensions)
        let signatures = hexList(signatureAlgorithms)

        // "If there are no signature algorithms in the hello packet, then the string ends without an underscore."
        let underscore = UInt8(ascii: "_")
        let sortedC = signatures.isEmpty ? sortedExtensions : sortedExtensions + [underscore] + signatures
        let originalC = signatures.isEmpty ? originalExtensions : originalExtensions + [underscore] + signatures
        let prefix = Array((a + "_").utf8)

        self.init(
            fingerprint: String(
                decoding: prefix + truncatedSHA256(sortedCiphers) + [underscore]
                    + (sortedExtensions.isEmpty ? zeroHashBytes : truncatedSHA256(sortedC)), as: UTF8.self),
            raw: String(decoding: prefix + sortedCiphers + [underscore] + sortedC, as: UTF8.self),
            originalOrder: String(
                decoding: prefix + truncatedSHA256(originalCiphers) + [underscore]
                    + (originalExtensions.isEmpty ? zeroHashBytes : truncatedSHA256(originalC)), as: UTF8.self),
            rawOriginalOrder: String(decoding: prefix + originalCiphers + [underscore] + originalC, as: UTF8.self)
        )
    }
}

/// "If there are no ciphers/extensions ... the value is set to 000000000000."
private let zeroHashBytes: [UInt8] = Array("000000000000".utf8)

private func transportMarker(_ transport: FingerprintTransport) -> String {
    switch transport {
    case .tcp: "t"
    case .quic: "q"
    case .dtls: "d"
    }
}

/// The highest supported_versions value without GREASE when the extension is present, else the legacy
/// version. DTLS numbers count down (0xfefc is DTLS 1.3, 0xfefd DTLS 1.2), so "highest" means newest there.
func versionMarker(_ hello: ClientHello) -> String {
    let hasSupportedVersions =
        !hello.supportedVersions.isEmpty || hello.extensions.contains { $0.type == .supportedVersions }
    guard hasSupportedVersions else { return versionCode(hello.version) }
    let offered = hello.supportedVersions.filter { !$0.isGREASE }
    guard let newest = offered.max(by: { versionOrderKey($0) < versionOrderKey($1) }) else { return "00" }
    return versionCode(newest)
}

/// Orders DTLS versions (0xfexx, counting down) by recency, above the TLS ones; everything else by value.
private func versionOrderKey(_ version: TLSVersion) -> Int {
    version.rawValue >> 8 == 0xfe ? 0x1_0000 + (0xff - Int(version.rawValue & 0xff)) : Int(version.rawValue)
}

private func versionCode(_ version: TLSVersion) -> String {
    switch version {
    case .tls13: "13"
    case .tls12: "12"
    case .tls11: "11"
    case .tls10: "10"
    case .ssl3: "s3"
    case .ssl2: "s2"
    case .dtls10: "d1"
    case .dtls12: "d2"
    case .dtls13: "d3"
    default: "00"
    }
}

/// Two decimal digits, capped at 99.
private func twoDigitCount(_ count: Int) -> String {
    let capped = min(count, 99)
    return capped < 10 ? "0\(capped)" : "\(capped)"
}

/// First and last character of the first ALPN value; "00" when there is none or it is empty; when the
/// first or last byte is not an ASCII letter or digit, the first and last characters of the value's hex
/// form instead (JA4.md: 0xAB 0xCD → "ad", 0x30 0xAB → "3b", 0x30 0xAB 0xCD 0x31 → "01").
func alpnMarker(_ alpn: [[UInt8]]) -> String {
    guard let value = alpn.first, let first = value.first, let last = value.last else { return "00" }
    if isASCIIAlphanumeric(first), isASCIIAlphanumeric(last) {
        return String(UnicodeScalar(first)) + String(UnicodeScalar(last))
    }
    return String(decoding: [Hex.digit(first >> 4), Hex.digit(last)], as: UTF8.self)
}

private func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
}

/// Four lowercase hex digits per value, comma-joined.
private func hexList(_ values: [UInt16]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * 5)
    for value in values {
        if !bytes.isEmpty { bytes.append(UInt8(ascii: ",")) }
        for shift: UInt16 in [12, 8, 4, 0] { bytes.append(Hex.digit(UInt8(truncatingIfNeeded: value >> shift))) }
    }
    return bytes
}

/// First 12 lowercase hex digits of SHA-256, or the zero hash for an empty list.
private func truncatedSHA256(_ text: [UInt8]) -> [UInt8] {
    guard !text.isEmpty else { return zeroHashBytes }
    var out: [UInt8] = []
    out.reserveCapacity(12)
    Hex.append(SHA256.hash(data: text).prefix(6), to: &out)
    return out
}
