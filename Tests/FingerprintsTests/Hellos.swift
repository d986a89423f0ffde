import TLSWire

/// A ClientHello built by hand from the fields tshark prints (extension bodies are not needed by the
/// fingerprints: they read the decoded fields).
func hello(
    version: UInt16, ciphers: [UInt16], extensions: [UInt16], serverName: String? = nil, alpn: [[UInt8]] = [],
    supportedVersions: [UInt16] = [], groups: [UInt16] = [], pointFormats: [UInt8] = [],
    signatureAlgorithms: [UInt16] = [], isSSLv2Format: Bool = false
) -> ClientHello {
    ClientHello(
        version: TLSVersion(rawValue: version),
        cipherSuites: ciphers.map(CipherSuite.init(rawValue:)),
        compressionMethods: [0],
        extensions: extensions.map { TLSExtension(type: ExtensionType(rawValue: $0), body: []) },
        serverName: serverName,
        alpn: alpn,
        supportedVersions: supportedVersions.map(TLSVersion.init(rawValue:)),
        supportedGroups: groups.map(NamedGroup.init(rawValue:)),
        ecPointFormats: pointFormats,
        signatureAlgorithms: signatureAlgorithms.map(SignatureScheme.init(rawValue:)),
        isSSLv2Format: isSSLv2Format
    )
}

/// ClientHellos from the JA4 reference captures in ../shared/fixtures/ja4/pcap, transcribed with
/// `tshark -T fields -e tls.handshake.ciphersuite -e tls.handshake.extension.type ...` (GREASE kept).
enum ReferenceHellos {
    /// tls-non-ascii-alpn.pcapng frame 1
    static let nonASCIIALPN = hello(
        version: 0x0303,
        ciphers: [0xaaaa, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
        extensions: [0x9a9a, 0xff01, 0x0033, 0x002d, 0x0005, 0x4469, 0x000d, 0x0010, 0x0023, 0x001b, 0x002b, 0x0000, 0x0012, 0x000a, 0x0017, 0x000b, 0x6a6a, 0x0015],
        serverName: "clientservices.googleapis.com",
        alpn: [[0xba, 0xad], Array("http/1.1".utf8)],
        supportedVersions: [0x0a0a, 0x0304, 0x0303],
        groups: [0x0a0a, 0x001d, 0x0017, 0x0018],
        pointFormats: [0],
        signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    )
    // tshark: ja3_full 771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,65281-51-45-5-17513-13-16-35-27-43-0-18-10-23-11-21,29-23-24,0 ja3 1c258ebef8eee2dfa3df6d8d07285af9
    /// tls12.pcap frame 1. tshark's sig_hash_alg also lists the delegated_credentials (0x0022) schemes
    /// 0403,0503,0603,0203 before these; only signature_algorithms (0x000d) counts (FoxIO ja4 issue #41).
    static let firefoxDelegatedCredentials = hello(
        version: 0x0303,
        ciphers: [0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
        extensions: [0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005, 0x0022, 0x0033, 0x002b, 0x000d, 0x002d, 0x001c, 0x0015],
        serverName: "contile.services.mozilla.com",
        alpn: [Array("h2".utf8), Array("http/1.1".utf8)],
        supportedVersions: [0x0304, 0x0303],
        groups: [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101],
        pointFormats: [0],
        signatureAlgorithms: [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201]
    )
    // tshark: ja3_full 771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0 ja3 579ccef312d18482fc42e2b822ca2430
    /// https3-301-get.pcap frame 4
    static let tls10OnlySNI = hello(
        version: 0x0301,
        ciphers: [0x0039, 0x0038, 0x0035, 0x0016, 0x0013, 0x000a, 0x0033, 0x0032, 0x002f, 0x009a, 0x0099, 0x0096, 0x0005, 0x0004, 0x0015, 0x0012, 0x0009, 0x0014, 0x0011, 0x0008, 0x0006, 0x0003, 0x00ff],
        extensions: [0x0000],
        serverName: "www.github.com",
        alpn: [],
        supportedVersions: [],
        groups: [],
        pointFormats: [],
        signatureAlgorithms: []
    )
    // tshark: ja3_full 769,57-56-53-22-19-10-51-50-47-154-153-150-5-4-21-18-9-20-17-8-6-3-255,0,, ja3 06a92bf69b367389d2feb0d70501ddfe
    /// ipv6.pcapng frame 4
    static let tls12NoSupportedVersions = hello(
        version: 0x0303,
        ciphers: [0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0x009f, 0x006b, 0x0039, 0xcca9, 0xcca8, 0xccaa, 0xff85, 0x00c4, 0x0088, 0x0081, 0x009d, 0x003d, 0x0035, 0x00c0, 0x0084, 0xc02f, 0xc02b, 0xc027, 0xc023, 0xc013, 0xc009, 0x009e, 0x0067, 0x0033, 0x00be, 0x0045, 0x009c, 0x003c, 0x002f, 0x00ba, 0x0041, 0xc011, 0xc007, 0x0005, 0x0004, 0xc012, 0xc008, 0x0016, 0x000a, 0x00ff],
        extensions: [0x0000, 0x000b, 0x000a, 0x000d, 0x0010],
        serverName: "www.cloudflare.com",
        alpn: [Array("h2".utf8), Array("http/1.1".utf8)],
        supportedVersions: [],
        groups: [0x001d, 0x0017, 0x0018],
        pointFormats: [0],
        signatureAlgorithms: [0x0601, 0x0603, 0xefef, 0x0501, 0x0503, 0x0401, 0x0403, 0xeeee, 0xeded, 0x0301, 0x0303, 0x0201, 0x0203]
    )
    // tshark: ja3_full 771,49200-49196-49192-49188-49172-49162-159-107-57-52393-52392-52394-65413-196-136-129-157-61-53-192-132-49199-49195-49191-49187-49171-49161-158-103-51-190-69-156-60-47-186-65-49169-49159-5-4-49170-49160-22-10-255,0-11-10-13-16,29-23-24,0 ja3 3faa4ad39f690c4ef1c3160caa375465
    /// latest.pcapng frame 101
    static let chromeWithPSK = hello(
        version: 0x0303,
        ciphers: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
        extensions: [0x5a5a, 0x000d, 0x0010, 0x0000, 0x000b, 0x0023, 0x4469, 0xff01, 0x0033, 0x000a, 0x002d, 0x002b, 0x0005, 0x0017, 0x0012, 0x001b, 0x6a6a, 0x0029],
        serverName: "app.slack.com",
        alpn: [Array("h2".utf8), Array("http/1.1".utf8)],
        supportedVersions: [0x6a6a, 0x0304, 0x0303],
        groups: [0xbaba, 0x001d, 0x0017, 0x0018],
        pointFormats: [0],
        signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    )
    // tshark: ja3_full 771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,13-16-0-11-35-17513-65281-51-10-45-43-5-23-18-27-41,29-23-24,0 ja3 d81fcba3f82df97ae9971d938da5caa6
    /// quic-tls-handshake.pcapng frame 1
    static let quicChrome = hello(
        version: 0x0303,
        ciphers: [0x1301, 0x1302, 0x1303],
        extensions: [0x002d, 0x001b, 0x4469, 0x000d, 0x002b, 0x0000, 0x000a, 0x0039, 0x0010, 0x0033],
        serverName: "www.google.com",
        alpn: [Array("h3".utf8)],
        supportedVersions: [0x0304],
        groups: [0x001d, 0x0017, 0x0018],
        pointFormats: [],
        signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201]
    )
    // tshark: ja3_full 771,4865-4866-4867,45-27-17513-13-43-0-10-57-16-51,29-23-24, ja3 0cda1bd7f270e894ed5de2af2f06cb80
}
