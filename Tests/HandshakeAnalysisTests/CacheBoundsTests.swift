import Testing
import TLSWire

@testable import HandshakeAnalysis

@Suite struct CacheBoundsTests {
    /// Entries cost their summary, not their DER: 64 distinct 256 KB blobs leave a few KB cached.
    @Test func certificateCacheHoldsDigestsNotDER() {
        var cache = CertificateCache(capacity: 4096, maxBytes: 1 << 20)
        for index in 0..<64 {
            var der = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 256 * 1024)
            der[0] = 0x30
            _ = cache.summary(of: der)
        }
        #expect(cache.misses == 64)
        #expect(cache.bytes < 64 * 1024, "\(cache.bytes) bytes")
        // The same DER again is a hit (keyed by its SHA-256).
        var again = [UInt8](repeating: 3, count: 256 * 1024)
        again[0] = 0x30
        _ = cache.summary(of: again)
        #expect(cache.hits == 1)
    }

    /// Past its byte bound the cache empties instead of growing.
    @Test func certificateCacheStaysUnderItsByteBound() {
        var cache = CertificateCache(capacity: 1_000_000, maxBytes: 4096)
        for index in 0..<500 {
            _ = cache.summary(of: [0x30, UInt8(truncatingIfNeeded: index), UInt8(truncatingIfNeeded: index >> 8)])
            #expect(cache.bytes <= 4096)
        }
    }

    /// A hostile hello (thousands of suites) is fingerprinted but not cached.
    @Test func fingerprintCacheSkipsOversizedHellos() {
        var cache = FingerprintCache(capacity: 16)
        let suites = (0..<5000).map { CipherSuite(rawValue: UInt16($0)) }
        let hello = ClientHello(version: .tls12, cipherSuites: suites)
        let (ja3, _) = cache.client(hello)
        #expect(!ja3.hash.isEmpty)
        #expect(cache.cachedClients == 0)
        _ = cache.client(ClientHello(version: .tls12, cipherSuites: Array(suites.prefix(10))))
        #expect(cache.cachedClients == 1)
    }

    @Test func countTablePutsNamesPastItsBoundUnderOther() {
        var table = CountTable(maxNames: 3)
        for name in ["a", "b", "c", "d", "e", "a"] { table.add(name) }
        #expect(table.counts == ["a": 2, "b": 1, "c": 1, "other": 2])
    }
}
