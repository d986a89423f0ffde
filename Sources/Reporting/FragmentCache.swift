import HandshakeAnalysis
import TLSWire
import X509Inspection

/// Encoded JSON of the parts of a record that repeat from connection to connection: a client's hello lists
/// (the same browser or library offers the same suites, extensions and groups every time) and a server's
/// certificate chain. On a connection-heavy capture they were a third of the writer's work; a hit is one
/// hash of the lists and a copy of the bytes.
///
/// Bounded in bytes (`maxBytes`): when an entry would pass the bound the cache starts over, so a capture of
/// ever-new hellos costs a hash per record and never grows memory. Output is byte for byte the same as
/// without the cache (tests encode with and without it).
public struct FragmentCache {
    /// The members of a client_hello object from `cipher_suites` to `extensions`.
    struct OfferKey: Hashable {
        var cipherSuites: [CipherSuite]
        var compressionMethods: [UInt8]
        var extensionTypes: [ExtensionType]

        func hash(into hasher: inout Hasher) {
            FragmentCache.combineBytes(of: cipherSuites, into: &hasher)
            FragmentCache.combineBytes(of: compressionMethods, into: &hasher)
            FragmentCache.combineBytes(of: extensionTypes, into: &hasher)
        }
    }

    /// The members of a client_hello object from `alpn` to `ech`.
    struct ListsKey: Hashable {
        var alpn: [[UInt8]]
        var supportedVersions: [TLSVersion]
        var supportedGroups: [NamedGroup]
        var ecPointFormats: [UInt8]
        var signatureAlgorithms: [SignatureScheme]
        var keyShareGroups: [NamedGroup]
        var pskModes: [UInt8]
        var hasECH: Bool

        func hash(into hasher: inout Hasher) {
            hasher.combine(alpn.count)
            for name in alpn { FragmentCache.combineBytes(of: name, into: &hasher) }
            FragmentCache.combineBytes(of: supportedVersions, into: &hasher)
            FragmentCache.combineBytes(of: supportedGroups, into: &hasher)
            FragmentCache.combineBytes(of: ecPointFormats, into: &hasher)
            FragmentCache.combineBytes(of: signatureAlgorithms, into: &hasher)
            FragmentCache.combineBytes(of: keyShareGroups, into: &hasher)
            FragmentCache.combineBytes(of: pskModes, into: &hasher)
            hasher.combine(hasECH)
        }
    }

    /// The members of a server_hello object from `cipher_suite` to `hello_retry_request`.
    struct ServerKey: Hashable {
        var cipherSuite: CipherSuite
        var compressionMethod: UInt8
        var extensionTypes: [ExtensionType]
        var selectedVersion: TLSVersion?
        var selectedGroup: NamedGroup?
        var alpn: [UInt8]?
        var helloRetryRequest: Bool

        func hash(into hasher: inout Hasher) {
            hasher.combine(cipherSuite)
            hasher.combine(compressionMethod)
            FragmentCache.combineBytes(of: extensionTypes, into: &hasher)
            hasher.combine(selectedVersion)
            hasher.combine(selectedGroup)
            hasher.combine(alpn?.count ?? -1)
            if let alpn { FragmentCache.combineBytes(of: alpn, into: &hasher) }
            hasher.combine(helloRetryRequest)
        }
    }

    /// Hashes a list of registry code points (each a `UInt16`, or bytes) as its count and its memory at once:
    /// hashing it element by element through `Hasher` was most of a look-up. Lists that are equal have the
    /// same bytes, so this agrees with the synthesised `==`.
    static func combineBytes<Element>(of list: [Element], into hasher: inout Hasher) {
        hasher.combine(list.count)
        list.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public let maxBytes: Int
    private var servers: [ServerKey: [UInt8]] = [:]
    private var messageLists: [[HandshakeStep]: [UInt8]] = [:]
    private var offers: [OfferKey: [UInt8]] = [:]
    private var lists: [ListsKey: [UInt8]] = [:]
    private var chains: [[String]: [UInt8]] = [:]
    private var bytes = 0
    private var scratch = JSONWriter(capacity: 4096)

    public init(maxBytes: Int = 4 * 1024 * 1024) {
        self.maxBytes = maxBytes
    }

    /// Bytes of encoded JSON held.
    public var heldBytes: Int { bytes }

    /// Writes `hello`'s members from cipher_suites to extensions into the open client_hello object.
    mutating func writeOffer(_ hello: ClientHello, into json: inout JSONWriter) {
        let key = OfferKey(
            cipherSuites: hello.cipherSuites, compressionMethods: hello.compressionMethods,
            extensionTypes: hello.extensions.map(\.type))
        if let fragment = offers[key] { return json.rawMembers(fragment) }
        let fragment = members { RecordEncoder.encodeOffer(hello, into: &$0) }
        json.rawMembers(fragment)
        if admit(fragment.count + 256) { offers[key] = fragment }
    }

    /// Writes `hello`'s members from alpn to ech into the open client_hello object.
    mutating func writeLists(_ hello: ClientHello, into json: inout JSONWriter) {
        let key = ListsKey(
            alpn: hello.alpn, supportedVersions: hello.supportedVersions, supportedGroups: hello.supportedGroups,
            ecPointFormats: hello.ecPointFormats, signatureAlgorithms: hello.signatureAlgorithms,
            keyShareGroups: hello.keyShareGroups, pskModes: hello.pskModes, hasECH: hello.hasECH)
        if let fragment = lists[key] { return json.rawMembers(fragment) }
        let fragment = members { RecordEncoder.encodeLists(hello, into: &$0) }
        json.rawMembers(fragment)
        if admit(fragment.count + 256) { lists[key] = fragment }
    }

    /// Writes `hello`'s members from cipher_suite to hello_retry_request into the open server_hello object.
    mutating func writeServerChoices(_ hello: ServerHello, helloRetryRequest: Bool, into json: inout JSONWriter) {
        let helloRetryRequest = helloRetryRequest || hello.isHelloRetryRequest  // the random says it too
        let key = ServerKey(
            cipherSuite: hello.cipherSuite, compressionMethod: hello.compressionMethod,
            extensionTypes: hello.extensions.map(\.type), selectedVersion: hello.selectedVersion,
            selectedGroup: hello.selectedGroup, alpn: hello.alpn, helloRetryRequest: helloRetryRequest)
        if let fragment = servers[key] { return json.rawMembers(fragment) }
        let fragment = members { RecordEncoder.encodeChoices(hello, helloRetryRequest: helloRetryRequest, into: &$0) }
        json.rawMembers(fragment)
        if admit(fragment.count + 256) { servers[key] = fragment }
    }

    /// Writes a messages array ("client:client_hello", ...): a handful of sequences make up most records.
    mutating func writeMessages(_ steps: [HandshakeStep], into json: inout JSONWriter) {
        if let fragment = messageLists[steps] { return json.rawValue(fragment) }
        scratch.reset()
        RecordEncoder.encode(steps, into: &scratch)
        let fragment = scratch.bytes
        json.rawValue(fragment)
        if admit(fragment.count + 64 + steps.count * 16) { messageLists[steps] = fragment }
    }

    /// Writes a certificates array.
    mutating func writeChain(_ certificates: [CertificateSummary], into json: inout JSONWriter) {
        guard !certificates.isEmpty else { return RecordEncoder.encode(certificates, into: &json) }
        let key = certificates.map(\.sha256)
        if let fragment = chains[key] { return json.rawValue(fragment) }
        scratch.reset()
        RecordEncoder.encode(certificates, into: &scratch)
        let fragment = scratch.bytes
        json.rawValue(fragment)
        if admit(fragment.count + 256) { chains[key] = fragment }
    }

    /// The members `write` writes into an empty object, without the braces.
    private mutating func members(_ write: (inout JSONWriter) -> Void) -> [UInt8] {
        scratch.reset()
        scratch.beginObject()
        write(&scratch)
        scratch.endObject()
        return Array(scratch.bytes.dropFirst().dropLast())
    }

    /// Room for `count` more bytes, starting over when the bound would be passed.
    private mutating func admit(_ count: Int) -> Bool {
        guard count <= maxBytes / 4 else { return false }
        if bytes + count > maxBytes {
            offers.removeAll()
            lists.removeAll()
            servers.removeAll()
            messageLists.removeAll()
            chains.removeAll()
            bytes = 0
        }
        bytes += count
        return true
    }
}
