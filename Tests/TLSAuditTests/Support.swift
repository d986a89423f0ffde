import TLSWire
import X509Inspection

@testable import TLSAudit

// Hand-built connections. The baselines are clean except for the post-quantum info finding, so each test
// changes one thing and looks for the one finding that change should cause.

let day: Int64 = 86_400
/// 2027-01-15T08:00:00Z
let now: Int64 = 1_800_000_000

func certificate(
    keyType: String = "RSA", bits: Int? = 2048, curve: String? = nil,
    signature: String = "sha256WithRSAEncryption", notBefore: Int64 = now - 30 * day,
    notAfter: Int64 = now + 300 * day, selfSigned: Bool = false, subject: String = "CN=www.example.test"
) -> CertificateSummary {
    CertificateSummary(
        sha256: String(repeating: "0", count: 64), subject: subject,
        issuer: selfSigned ? subject : "CN=Example CA", serial: "01", notBefore: notBefore, notAfter: notAfter,
        keyType: keyType, keyBits: bits, curve: curve, signatureAlgorithm: signature,
        subjectAlternativeNames: ["www.example.test"], isSelfSigned: selfSigned, hostNames: ["www.example.test"])
}

let ecdsaLeaf = certificate(
    keyType: "EC", bits: 256, curve: "secp256r1", signature: "ecdsa-with-SHA256",
    notAfter: now + 60 * day)

let renegotiationInfo = TLSExtension(type: .renegotiationInfo, body: [0])

/// TLS 1.2 ECDHE_RSA_WITH_AES_128_GCM_SHA256 over x25519, RSA 2048 leaf, safe renegotiation, a client that
/// offers only good suites and no post-quantum group. Clean under intermediate and old but for pq-not-offered.
func tls12(
    suite: UInt16 = 0xc02f, version: TLSVersion = .tls12, group: UInt16? = 0x001d, dhPrimeBits: Int? = nil,
    certificates: [CertificateSummary] = [certificate()], serverExtensions: [TLSExtension] = [renegotiationInfo],
    compressionMethod: UInt8 = 0, clientSuites: [UInt16] = [0xc02f, 0xc030, 0xcca8],
    clientVersion: TLSVersion = .tls12, supportedVersions: [TLSVersion] = [], clientGroups: [UInt16] = [0x001d, 0x0017]
) -> AuditInput {
    let client = ClientHello(
        version: clientVersion, cipherSuites: clientSuites.map(CipherSuite.init(rawValue:)),
        compressionMethods: [0], serverName: "www.example.test", supportedVersions: supportedVersions,
        supportedGroups: clientGroups.map(NamedGroup.init(rawValue:)))
    let server = ServerHello(
        version: version, cipherSuite: CipherSuite(rawValue: suite), compressionMethod: compressionMethod,
        extensions: serverExtensions)
    return AuditInput(
        clientHello: client, serverHello: server, group: group.map(NamedGroup.init(rawValue:)),
        dhPrimeBits: dhPrimeBits, certificates: certificates, established: true, captureTime: now,
        serverAddress: "192.0.2.10", clientJA3: "0123456789abcdef0123456789abcdef")
}

/// TLS 1.3 AES_128_GCM over X25519MLKEM768 with an ECDSA P-256 leaf (60-day lifetime left, 90 days total).
func tls13(
    suite: UInt16 = 0x1301, group: UInt16? = 0x11ec, clientGroups: [UInt16] = [0x11ec, 0x001d],
    keyShares: [UInt16] = [0x11ec], clientSuites: [UInt16] = [0x1301, 0x1302, 0x1303],
    certificates: [CertificateSummary] = [ecdsaLeaf], resumed: Bool = false
) -> AuditInput {
    let client = ClientHello(
        version: .tls12, cipherSuites: clientSuites.map(CipherSuite.init(rawValue:)), compressionMethods: [0],
        serverName: "www.example.test", supportedVersions: [.tls13, .tls12],
        supportedGroups: clientGroups.map(NamedGroup.init(rawValue:)),
        keyShareGroups: keyShares.map(NamedGroup.init(rawValue:)))
    let server = ServerHello(
        version: .tls12, cipherSuite: CipherSuite(rawValue: suite), selectedVersion: .tls13,
        selectedGroup: group.map(NamedGroup.init(rawValue:)))
    var input = AuditInput(
        clientHello: client, serverHello: server, certificates: certificates, established: true, resumed: resumed,
        captureTime: now)
    input.certificates = certificates
    return input
}

func ids(_ input: AuditInput, _ policy: AuditPolicy = .intermediate) -> [String] {
    audit(input, policy: policy).map(\.id)
}

func finding(_ id: String, _ input: AuditInput, _ policy: AuditPolicy = .intermediate) -> Finding? {
    audit(input, policy: policy).first { $0.id == id }
}

func policy(_ json: String) throws -> AuditPolicy {
    try AuditPolicy.load(contentsOf: Array(json.utf8), format: .json)
}
