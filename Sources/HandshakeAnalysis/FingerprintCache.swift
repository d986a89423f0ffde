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

    /// Written into a scratch buffer of the lists' total length and copied into `words` at once: appending
    /// word by word (a capacity and uniqueness check each, ~90 words a hello) was most of a lookup's cost.
    init(_ hello: borrowing ClientHello) {
        let alpn = hello.alpn.first ?? []
        let capacity =
            12 + hello.cipherSuites.count + hello.extensions.count + hello.supportedGroups.count
            + hello.ecPointFormats.count + hello.signatureAlgorithms.count + hello.supportedVersions.count + alpn.count
        words = withUnsafeTemporaryAllocation(of: UInt16.self, capacity: capacity) { buffer in
            var shape = ShapeWriter(buffer)
            shape.put(hello.version.rawValue)
            shape.list(hello.cipherSuites) { $0.isGREASE ? nil : $0.rawValue }
            shape.list(hello.extensions) { $0.type.isGREASE ? nil : $0.type.rawValue }
            shape.list(hello.supportedGroups) { $0.isGREASE ? nil : $0.rawValue }
            shape.list(hello.ecPointFormats) { UInt16($0) }
            shape.list(hello.signatureAlgorithms) { $0.isGREASE ? nil : $0.rawValue }
            shape.list(hello.supportedVersions) { $0.isGREASE ? nil : $0.rawValue }
            shape.list(alpn) { UInt16($0) }
            shape.put(hello.alpn.isEmpty ? 0 : 1)
            shape.put(hello.serverName == nil ? 0 : 1)
            return shape.words
        }
    }

    init(_ hello: borrowing ServerHello) {
        words.reserveCapacity(3 + hello.extensions.count)  // one allocation, not one per doubling
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

    /// Fills a buffer sized for the whole shape (a word that would not fit is dropped, which the sizing
    /// rules out: 12 words more than the lists hold, for the version, the 8 counts and 2 flags).
    private struct ShapeWriter {
        let buffer: UnsafeMutableBufferPointer<UInt16>
        var count = 0

        init(_ buffer: UnsafeMutableBufferPointer<UInt16>) { self.buffer = buffer }

        mutating func put(_ word: UInt16) {
            guard count < buffer.count else { return }
            buffer[count] = word
            count += 1
        }

        /// `values`' words (nil: left out), after their count.
        mutating func list<Element>(_ values: [Element], _ word: (Element) -> UInt16?) {
            let countIndex = count
            put(0)
            var listed: UInt16 = 0
            for value in values {
                guard let word = word(value) else { continue }
                put(word)
                listed &+= 1
            }
            if countIndex < buffer.count { buffer[countIndex] = listed }
        }

        var words: [UInt16] { Array(UnsafeBufferPointer(rebasing: buffer[0..<count])) }
    }

    func hash(into hasher: inout Hasher) {
        words.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
