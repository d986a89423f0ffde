import X509Inspection

/// Summaries of certificates already parsed, so a server's chain seen on thousands of connections is
/// parsed once. Bounded: when full it is emptied (a simple, allocation-light policy; real traffic has
/// few distinct chains).
public struct CertificateCache {
    public let capacity: Int
    private var entries: [DERKey: Result<CertificateSummary, CertificateParseError>] = [:]
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }


    public mutating func summary(of der: [UInt8]) -> Result<CertificateSummary, CertificateParseError> {
        let key = DERKey(der: der)
        if let known = entries[key] {
            hits += 1
            return known
        }
        misses += 1
        let result: Result<CertificateSummary, CertificateParseError>
        do {
            result = .success(try CertificateSummary(derEncoded: der))
        } catch {
            result = .failure(error)
        }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = result
        return result
    }
}

/// A DER certificate as a dictionary key, hashed in one bulk call (the synthesised `[UInt8]` hash
/// combines byte by byte, which cost more than the lookup saved).
private struct DERKey: Hashable {
    let der: [UInt8]
    func hash(into hasher: inout Hasher) {
        der.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
