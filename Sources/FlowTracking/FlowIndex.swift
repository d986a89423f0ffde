import PacketDecoding

/// The flow table's index: `FlowKey` → slot number, by open addressing with linear probing.
///
/// Every packet of every flow, bulk data included, costs one lookup here, so it is built for that: the
/// key is hashed by three folded 64×64→128-bit multiplies (foldhash's construction, as hashbrown uses) instead
/// of SipHash through `Hasher` (which cost more than the rest of the per-packet path), and a bucket is 8
/// bytes (32 bits of hash, the slot number) so a probe touches one cache line; the key itself is compared
/// in the slot a matching hash points to.
///
/// Hostile captures: the multipliers are seeded at random per table, so a capture cannot be built to
/// collide in advance; should a probe sequence still grow past `maxProbe`, the table is rebuilt with new
/// seeds. The load factor stays at or below 1/2.
public struct FlowIndex {
    /// A bucket: `slot < 0` is empty.
    @usableFromInline
    struct Bucket: Sendable {
        @usableFromInline var hash: UInt32
        @usableFromInline var slot: Int32
        static let empty = Bucket(hash: 0, slot: -1)
    }

    // Internal and inlinable, not private: `find` runs for every packet in the flow tables' modules, and
    // a call into this module there (no inlining) cost ~250 instructions per packet (callgrind).
    @usableFromInline var buckets: [Bucket]
    @usableFromInline var mask: Int
    @usableFromInline var seeds: Seeds
    public private(set) var count = 0

    /// A probe sequence longer than this means the hash is being defeated: reseed and grow.
    static let maxProbe = 64
    public static let initialCapacity = 256

    public struct Seeds: Sendable {
        @usableFromInline var first: UInt64
        @usableFromInline var second: UInt64
        @usableFromInline var third: UInt64
        @usableFromInline var fourth: UInt64 = 0
        public static func random() -> Seeds {
            var generator = SystemRandomNumberGenerator()
            return Seeds(first: generator.next(), second: generator.next(), third: generator.next(),
                         fourth: generator.next())
        }
    }

    public init(seeds: Seeds = .random()) {
        buckets = Array(repeating: .empty, count: Self.initialCapacity)
        mask = Self.initialCapacity - 1
        self.seeds = seeds
    }

    /// How many times the table was rebuilt with new seeds after a long probe (tests, diagnostics).
    public private(set) var reseeds = 0

    @inlinable @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// Equal keys give equal hashes; the words cover every field of the key.
    @inlinable @inline(__always)
    func hash(_ key: FlowKey) -> UInt32 { Self.hash(key, seeds: seeds) }

    @inlinable @inline(__always)
    static func hash(_ key: FlowKey, seeds: Seeds) -> UInt32 {
        let ports = UInt64(key.lowPort) << 32 | UInt64(key.highPort) << 16 | UInt64(key.transport.rawValue)
        let family: UInt64 = (key.lowAddress.isIPv6 ? 1 : 0) << 8 | (key.highAddress.isIPv6 ? 1 : 0) << 9
        // Each word the capture chooses enters a multiply either next to a seed or next to a seeded product,
        // never XORed with another chosen word: two chosen words in one operand (an IPv6 address half and
        // the ports, say) could be varied together to keep the operand, hence the hash, the same whatever
        // the seeds, and reseeding could not help.
        let first = Self.fold(key.lowAddress.low ^ seeds.first, key.highAddress.low ^ seeds.second)
        let second = Self.fold(first ^ key.lowAddress.high, key.highAddress.high ^ seeds.third)
        let third = Self.fold(second ^ ports ^ family, key.segment ^ seeds.fourth)
        // Keys differing only in the low bits of one operand give products differing in a regular way;
        // the bucket comes from the low bits of the hash, so a Fibonacci multiply moves every bit into them.
        return UInt32(truncatingIfNeeded: ((third ^ third >> 32) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    /// The slot of `key`; `keyOf` gives the key held by a slot, to confirm a hash match.
    @inlinable @inline(__always)
    public func find(_ key: FlowKey, keyOf: (Int) -> FlowKey) -> Int? {
        let hash = hash(key)
        var position = Int(hash) & mask
        while true {
            let bucket = buckets[position]
            if bucket.slot < 0 { return nil }
            if bucket.hash == hash, keyOf(Int(bucket.slot)) == key { return Int(bucket.slot) }
            position = (position + 1) & mask
        }
    }

    /// Adds `key` → `slot`; the key must not be present.
    public mutating func insert(_ key: FlowKey, slot: Int, keyOf: (Int) -> FlowKey) {
        if (count + 1) * 2 > buckets.count {
            rebuild(capacity: buckets.count * 2, keyOf: keyOf)
        }
        let hash = hash(key)
        var position = Int(hash) & mask
        var probes = 0
        while buckets[position].slot >= 0 {
            position = (position + 1) & mask
            probes += 1
        }
        buckets[position] = Bucket(hash: hash, slot: Int32(slot))
        count += 1
        if probes > Self.maxProbe {
            seeds = .random()
            reseeds += 1
            rebuild(capacity: buckets.count, keyOf: keyOf)
        }
    }

    /// Removes `key` (no-op when absent), shifting later entries of its run back so no tombstone is left.
    public mutating func remove(_ key: FlowKey, keyOf: (Int) -> FlowKey) {
        let hash = hash(key)
        var position = Int(hash) & mask
        while true {
            let bucket = buckets[position]
            if bucket.slot < 0 { return }
            if bucket.hash == hash, keyOf(Int(bucket.slot)) == key { break }
            position = (position + 1) & mask
        }
        // Backward-shift deletion (Knuth 6.4 Algorithm R): move up each later entry whose home lies at or
        // before the hole, cyclically.
        var hole = position
        var next = (hole + 1) & mask
        while buckets[next].slot >= 0 {
            let home = Int(buckets[next].hash) & mask
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = .empty
        count -= 1
    }

    /// Buckets allocated (tests: the index stays within its bound).
    public var capacity: Int { buckets.count }

    /// Every slot number in the index, in no particular order.
    public var slots: [Int] { buckets.compactMap { $0.slot >= 0 ? Int($0.slot) : nil } }

    private mutating func rebuild(capacity: Int, keyOf: (Int) -> FlowKey) {
        let old = buckets
        buckets = Array(repeating: .empty, count: capacity)
        mask = capacity - 1
        for bucket in old where bucket.slot >= 0 {
            let hash = hash(keyOf(Int(bucket.slot)))
            var position = Int(hash) & mask
            while buckets[position].slot >= 0 { position = (position + 1) & mask }
            buckets[position] = Bucket(hash: hash, slot: bucket.slot)
        }
    }
}

/// Spreads flows over `count` workers (a sharded run's): both directions of a flow, by its key, go to the
/// same one. With the flow index's seeded hash, so a capture cannot be made to pile its flows on one worker.
public struct FlowSharder: Sendable {
    public let count: Int
    private let seeds: FlowIndex.Seeds

    public init(count: Int, seeds: FlowIndex.Seeds = .random()) {
        self.count = max(1, count)
        self.seeds = seeds
    }

    /// The worker of the packet's flow, in 0..<count.
    @inline(__always)
    public func shard(of packet: DecodedPacket) -> Int {
        let hash = FlowIndex.hash(FlowKey.canonical(packet).key, seeds: seeds)
        return Int((UInt64(hash) &* UInt64(count)) >> 32)
    }
}
