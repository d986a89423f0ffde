import Testing
import TLSWire
@testable import Fingerprints

/// tshark 4.0.17's `tls.handshake.ja3_full` / `tls.handshake.ja3` for the reference hellos.
@Test(arguments: [
    (
        ReferenceHellos.nonASCIIALPN,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,65281-51-45-5-17513-13-16-35-27-43-0-18-10-23-11-21,29-23-24,0",
        "1c258ebef8eee2dfa3df6d8d07285af9"
    ),
    (
        ReferenceHellos.firefoxDelegatedCredentials,
        "771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0",
        "579ccef312d18482fc42e2b822ca2430"
    ),
    (
        ReferenceHellos.tls10OnlySNI,
        "769,57-56-53-22-19-10-51-50-47-154-153-150-5-4-21-18-9-20-17-8-6-3-255,0,,",
        "06a92bf69b367389d2feb0d70501ddfe"
    ),
    (
        ReferenceHellos.tls12NoSupportedVersions,
        "771,49200-49196-49192-49188-49172-49162-159-107-57-52393-52392-52394-65413-196-136-129-157-61-53-192-132-49199-49195-49191-49187-49171-49161-158-103-51-190-69-156-60-47-186-65-49169-49159-5-4-49170-49160-22-10-255,0-11-10-13-16,29-23-24,0",
        "3faa4ad39f690c4ef1c3160caa375465"
    ),
    (
        ReferenceHellos.chromeWithPSK,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,13-16-0-11-35-17513-65281-51-10-45-43-5-23-18-27-41,29-23-24,0",
        "d81fcba3f82df97ae9971d938da5caa6"
    ),
    (
        ReferenceHellos.quicChrome,
        "771,4865-4866-4867,45-27-17513-13-43-0-10-57-16-51,29-23-24,",
        "0cda1bd7f270e894ed5de2af2f06cb80"
    ),
] as [(ClientHello, String, String)])
func ja3MatchesTshark(hello: ClientHello, string: String, hash: String) {
    let ja3 = JA3(clientHello: hello)
    #expect(ja3.string == string)
    #expect(ja3.hash == hash)
}

// MARK: - Loopback capture made here

// `tcpdump -i lo` while `openssl s_server -alpn h2,http/1.1` (OpenSSL 3.0.19) answered
// `openssl s_client -tls1_2 -servername localhost -alpn h2,http/1.1`, `openssl s_client -alpn http/1.1`
// (TLS 1.3) and `curl -k https://localhost` (curl/OpenSSL); fields and ja3/ja3s read back with tshark 4.0.17.

private let openSSLCiphers: [UInt16] = [
    0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027,
    0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
]

@Test func ja3OpenSSLClientTLS12() {
    let client = hello(
        version: 0x0303, ciphers: openSSLCiphers, extensions: [0, 11, 10, 35, 16, 22, 23, 13],
        serverName: "localhost", alpn: [Array("h2".utf8), Array("http/1.1".utf8)],
        groups: [0x001d, 0x0017, 0x001e, 0x0019, 0x0018], pointFormats: [0, 1, 2]
    )
    let ja3 = JA3(clientHello: client)
    #expect(
        ja3.string
            == "771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-16-22-23-13,29-23-30-25-24,0-1-2"
    )
    #expect(ja3.hash == "22558766122974704364c9c75c5cce0a")

    let server = ServerHello(
        version: .tls12, cipherSuite: CipherSuite(rawValue: 0xc02c),
        extensions: [65281, 11, 35, 16, 23].map { TLSExtension(type: ExtensionType(rawValue: $0), body: []) }
    )
    let ja3s = JA3(serverHello: server)
    #expect(ja3s.string == "771,49196,65281-11-35-16-23")
    #expect(ja3s.hash == "e195432758194ce2d482396b82e0d48e")
}

@Test func ja3OpenSSLClientTLS13() {
    let client = hello(
        version: 0x0303, ciphers: [0x1302, 0x1303, 0x1301] + openSSLCiphers,
        extensions: [0, 11, 10, 35, 16, 22, 23, 13, 43, 45, 51], serverName: "localhost",
        alpn: [Array("http/1.1".utf8)], supportedVersions: [0x0304, 0x0303, 0x0302, 0x0301],
        groups: [0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104],
        pointFormats: [0, 1, 2]
    )
    let ja3 = JA3(clientHello: client)
    #expect(
        ja3.string
            == "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-16-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2"
    )
    #expect(ja3.hash == "5a1edc7f170af1014fc65c994878e63c")

    // JA3S uses the legacy version (0x0303), not supported_versions' 0x0304.
    let server = ServerHello(
        version: .tls12, cipherSuite: CipherSuite(rawValue: 0x1302),
        extensions: [43, 51].map { TLSExtension(type: ExtensionType(rawValue: $0), body: []) },
        selectedVersion: .tls13
    )
    let ja3s = JA3(serverHello: server)
    #expect(ja3s.string == "771,4866,43-51")
    #expect(ja3s.hash == "15af977ce25de452b96affa2addb1036")
}

@Test func ja3CurlClient() {
    let client = hello(
        version: 0x0303, ciphers: [0x1302, 0x1303, 0x1301] + openSSLCiphers,
        extensions: [0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21], serverName: "localhost",
        alpn: [Array("h2".utf8), Array("http/1.1".utf8)], supportedVersions: [0x0304, 0x0303, 0x0302, 0x0301],
        groups: [0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104],
        pointFormats: [0, 1, 2]
    )
    #expect(JA3(clientHello: client).hash == "0149f47eabf9a20d0893e2a44e5a6323")
}

@Test func ja3HashIsMD5OfString() {
    // md5("") and md5("769,47,,,") from `printf %s ... | md5sum`.
    #expect(JA3(string: "").hash == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(JA3(string: "769,47,,,").hash == "b02be259814e870a469a20ce9b2a7900")
}

@Test func ja3sDropsGREASEExtensions() {
    let server = ServerHello(
        version: .tls12, cipherSuite: CipherSuite(rawValue: 0x1301),
        extensions: [0x0a0a, 43, 51].map { TLSExtension(type: ExtensionType(rawValue: $0), body: []) }
    )
    #expect(JA3(serverHello: server).string == "771,4865,43-51")
}
