import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import X509Inspection

/// Summaries of certificates already parsed, so a server's chain seen on thousands of connections is
/// parsed once. Keyed by the DER's SHA-256 (32 bytes, whatever the certificate's size: keying on the DER
/// itself let 4,096 entries hold gigabytes of hostile certificates), and bounded both in entries and in
/// the bytes its summaries hold; when either bound is reached it is emptied (a simple, allocation-light
/// policy: real traffic has few distinct chains).
public struct CertificateCache {
    public let capacity: Int
    public let maxBytes: Int
    private var entries: [DigestKey: Result<CertificateSummary, CertificateParseError>] = [:]
    /// Bytes the cached summaries hold (their strings), estimated.
    public private(set) var bytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(capacity: Int = 4096, maxBytes: Int = 16 * 1024 * 1024) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// The last certificates seen, DER kept, found by a hash of their length and last bytes (the signature,
    /// unique to each certificate) and confirmed by comparing the whole DER: a server's chain on its next
    /// connection costs a compare instead of a SHA-256 (which was 4 % of a connection-heavy run). Bounded in
    /// entries and bytes like the cache.
    private var recent: [Int: (der: [UInt8], result: Result<CertificateSummary, CertificateParseError>)] = [:]
    private var recentBytes = 0
    static let recentCapacity = 256
    static let recentMaxBytes = 2 * 1024 * 1024

    public mutating func summary(of der: [UInt8]) -> Result<CertificateSummary, CertificateParseError> {
        let quickKey = Self.quickKey(der)
        if let seen = recent[quickKey], Self.sameBytes(seen.der, der) {
            hits += 1
            return seen.result
        }
        let result = summaryByDigest(of: der)
        if recent.count >= Self.recentCapacity || recentBytes + der.count > Self.recentMaxBytes {
            recent.removeAll(keepingCapacity: true)
            recentBytes = 0
        }
        if der.count <= Self.recentMaxBytes / 8 {
            recent[quickKey] = (der, result)
            recentBytes += der.count + 64
        }
        return result
    }

    /// `a == b` by `memcmp`: the array's `==` compared byte by byte (~3 instructions a byte, ~3,600 for a
    /// certificate, on every record).
    static func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in
                guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
                return memcmp(leftBase, rightBase, left.count) == 0
            }
        }
    }

    /// A hash of the DER's length and last 64 bytes (keyed per process by `Hasher`'s seed).
    static func quickKey(_ der: [UInt8]) -> Int {
        var hasher = Hasher()
        hasher.combine(der.count)
        der.withUnsafeBytes { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.suffix(64)))
        }
        return hasher.finalize()
    }

    private mutating func summaryByDigest(of der: [UInt8]) -> Result<CertificateSummary, CertificateParseError> {
        let key = DigestKey(SHA256.hash(data: der))
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
        let size = Self.estimatedBytes(of: result)
        if entries.count >= capacity || bytes + size > maxBytes {
            entries.removeAll(keepingCapacity: true)
            bytes = 0
        }
        // A summary larger than the whole cache (a certificate with tens of thousands of names) is not kept.
        guard size <= maxBytes else { return result }
        entries[key] = result
        bytes += size
        return result
    }

    /// What one entry costs: its key, the dictionary's overhead, and the summary's strings.
    static func estimatedBytes(of result: Result<CertificateSummary, CertificateParseError>) -> Int {
        var size = 160
        switch result {
        case .success(let summary):
            size += summary.sha256.utf8.count + summary.subject.utf8.count + summary.issuer.utf8.count
                + summary.serial.utf8.count + summary.keyType.utf8.count + summary.signatureAlgorithm.utf8.count
                + (summary.curve?.utf8.count ?? 0)
            for name in summary.subjectAlternativeNames { size += 16 + name.utf8.count }
        case .failure(let error):
            size += error.reason.utf8.count
        }
        return size
    }
}

/// A SHA-256 digest as a dictionary key: four words, hashed in one call.
private struct DigestKey: Hashable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { bytes in
            withUnsafeMutableBytes(of: &words) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(target.count)))
            }
        }
        self.words = words
    }

    static func == (lhs: DigestKey, rhs: DigestKey) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
