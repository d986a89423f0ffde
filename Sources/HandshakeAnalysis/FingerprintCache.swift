import Fingerprints
import TLSWire

/// JA3/JA4 of hellos already seen. Clients send the same hello shape again and again (a browser, a
/// library), and fingerprinting costs tens of thousands of instructions per hello (string building, four
/// SHA-256 and an MD5), so the fingerprints are keyed by exactly the fields they are computed from.
/// Bounded: emptied when full, and a hello whose shape is longer than `maxShapeWords` (no real client
/// offers hundreds of suites; a hostile one offers tens of thousands) is fingerprinted but not kept, so
/// the cache holds at most `capacity` × `maxShapeWords` words.
struct FingerprintCache {
    let capacity: Int
    static let maxShapeWords = 1024
    private var clients: [HelloShape: (JA3, JA4)] = [:]
    private var servers: [HelloShape: JA3] = [:]

    var cachedClients: Int { clients.count }

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    mutating func client(_ hello: ClientHello, transport: FingerprintTransport = .tcp) -> (JA3, JA4) {
        var shape = HelloShape(hello)
        // JA4's first letter: the same hello over QUIC or DTLS has another fingerprint.
        switch transport {
        case .tcp: break
        case .quic: shape.appendMarker(1)
        case .dtls: shape.appendMarker(2)
        }
        if let known = clients[shape] { return known }
        let computed = (JA3(clientHello: hello), JA4(clientHello: hello, transport: transport))
        guard shape.count <= Self.maxShapeWords else { return computed }
        if clients.count >= capacity { clients.removeAll(keepingCapacity: true) }
        clients[shape] = computed
        return computed
    }

    mutating func server(_ hello: ServerHello) -> JA3 {
        let shape = HelloShape(hello)
        if let known = servers[shape] { return known }
        let computed = JA3(serverHello: hello)
        guard shape.count <= Self.maxShapeWords else { return computed }
        if servers.count >= capacity { servers.removeAll(keepingCapacity: true) }
        servers[shape] = computed
        return computed
    }
}

/// The fingerprint inputs of a hello as one word list: every list the JA3/JA3S/JA4 definitions read, in
/// wire order, GREASE left out (every definition ignores it), each list prefixed by its length so two
/// different hellos can never flatten to the same words.
struct HelloShape: Hashable {
    private var words: [UInt16] = []
    var count: Int { words.count }

    /// A word after every list (their lengths prefix them, so it cannot be mistaken for list content).
    mutating func appendMarker(_ word: UInt16) { words.append(word) }

    init(_ hello: borrowing ClientHello) {
        words.reserveCapacity(hello.cipherSuites.count + hello.extensions.count + 48)
        words.append(hello.version.rawValue)
        append(hello.cipherSuites.lazy.filter { !$0.isGREASE }.map(\.rawValue))
        append(hello.extensions.lazy.filter { !$0.type.isGREASE }.map(\.type.rawValue))
        append(hello.supportedGroups.lazy.filter { !$0.isGREASE }.map(\.rawValue))
        append(hello.ecPointFormats.lazy.map { UInt16($0) })
        append(hello.signatureAlgorithms.lazy.filter { !$0.isGREASE }.map(\.rawValue))
        append(hello.supportedVersions.lazy.filter { !$0.isGREASE }.map(\.rawValue))
        append((hello.alpn.first ?? []).lazy.map { UInt16($0) })
        words.append(hello.alpn.isEmpty ? 0 : 1)
        words.append(hello.serverName == nil ? 0 : 1)
    }

    init(_ hello: borrowing ServerHello) {
        words.append(hello.version.rawValue)
        words.append(hello.cipherSuite.rawValue)
        append(hello.extensions.lazy.filter { !$0.type.isGREASE }.map(\.type.rawValue))
    }

    private mutating func append<Values: Sequence<UInt16>>(_ values: Values) {
        let countIndex = words.count
        words.append(0)
        var count: UInt16 = 0
        for value in values {
            words.append(value)
            count &+= 1
        }
        words[countIndex] = count
    }

    func hash(into hasher: inout Hasher) {
        words.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
