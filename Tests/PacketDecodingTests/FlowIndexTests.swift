import PacketDecoding
@testable import FlowTracking
@testable import TCPReassembly
import Testing

private func key(_ number: Int, ipv6: Bool = false) -> FlowKey {
    let client = ipv6
        ? IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(number), isIPv6: true)
        : IPAddress(ipv4: 0x0A00_0000 | UInt32(number & 0xFFFF))
    let server = ipv6 ? IPAddress(high: 0x2001_0db8_0000_0000, low: 1, isIPv6: true) : IPAddress(ipv4: 0x0A00_0001)
    let packet = DecodedPacket(
        source: client, destination: server, sourcePort: UInt16(truncatingIfNeeded: 1024 + number >> 16),
        destinationPort: 443, transport: .tcp, payloadOffset: 0, payloadLength: 0)
    return FlowKey(packet)
}

/// Random inserts and removals against a dictionary: the index finds exactly what the model holds, across
/// growth and backward-shift deletions, with random seeds and with seeds that make every IPv4 key of the
/// same ports collide on the first multiply (zero seeds).
@Test(arguments: [false, true])
func flowIndexMatchesADictionaryUnderRandomOperations(zeroSeeds: Bool) {
    var generator = SeededGenerator(seed: zeroSeeds ? 7 : 11)
    var index = zeroSeeds ? FlowIndex(seeds: FlowIndex.Seeds(first: 0, second: 0, third: 0)) : FlowIndex()
    var slotKeys: [FlowKey?] = []
    var model: [FlowKey: Int] = [:]
    for step in 0..<20_000 {
        let number = Int(generator.next() % 3000)
        let candidate = key(number, ipv6: number % 7 == 0)
        if let slot = model[candidate], generator.next() % 3 != 0 {
            index.remove(candidate) { slotKeys[$0]! }
            slotKeys[slot] = nil
            model[candidate] = nil
        } else if model[candidate] == nil {
            slotKeys.append(candidate)
            model[candidate] = slotKeys.count - 1
            index.insert(candidate, slot: slotKeys.count - 1) { slotKeys[$0]! }
        }
        if step % 1000 == 0 || step == 19_999 {
            #expect(index.count == model.count)
            for (known, slot) in model {
                #expect(index.find(known) { slotKeys[$0]! } == slot)
            }
            for absent in 3000..<3050 {
                #expect(index.find(key(absent)) { slotKeys[$0]! } == nil)
            }
            #expect(Set(index.slots) == Set(model.values))
        }
    }
    // Removing an absent key changes nothing.
    let before = index.count
    index.remove(key(99_999)) { slotKeys[$0]! }
    #expect(index.count == before)
}

/// Seeds a capture could defeat (here: zero, so IPv4 keys differing in one address hash alike) make probe
/// sequences long; the index notices, takes new random seeds and rebuilds, and still finds every key.
@Test func flowIndexReseedsWhenProbesGrowLong() {
    var index = FlowIndex(seeds: FlowIndex.Seeds(first: 0, second: 0, third: 0))
    var keys: [FlowKey] = []
    // Against 0.0.0.0 (the low address, all zero words) with zero seeds both folds multiply by zero:
    // every key hashes to 0.
    for number in 0..<200 {
        let packet = DecodedPacket(
            source: IPAddress(ipv4: UInt32(number + 1)), destination: IPAddress(ipv4: 0), sourcePort: 5,
            destinationPort: 6, transport: .tcp, payloadOffset: 0, payloadLength: 0)
        keys.append(FlowKey(packet))
        index.insert(keys[number], slot: number) { keys[$0] }
    }
    #expect(index.reseeds >= 1)
    for (slot, known) in keys.enumerated() {
        #expect(index.find(known) { keys[$0] } == slot)
    }
}

/// Inserts 4,096 keys into ten tables (ten random seed sets): no table may need a reseed, the hashes must be
/// nearly all distinct, and every key must be found.
private func expectSpread(_ makeKey: (Int) -> FlowKey, sourceLocation: SourceLocation = #_sourceLocation) {
    let keys = (0..<4096).map(makeKey)
    for _ in 0..<10 {
        var index = FlowIndex()
        for slot in keys.indices { index.insert(keys[slot], slot: slot) { keys[$0] } }
        #expect(index.reseeds == 0, sourceLocation: sourceLocation)
        #expect(Set(keys.map { index.hash($0) }).count > 4000, sourceLocation: sourceLocation)
        #expect(keys.indices.allSatisfy { slot in index.find(keys[slot]) { keys[$0] } == slot },
                sourceLocation: sourceLocation)
    }
}

/// Keys that differ only in their segment (one 4-tuple on many VLANs or VNIs) spread over the table: the
/// segment is hashed, not only compared.
@Test func keysDifferingOnlyInTheirSegmentHashApart() {
    expectSpread { number in
        FlowKey(DecodedPacket(
            source: IPAddress(ipv4: 0x0A00_0001), destination: IPAddress(ipv4: 0x0A00_0002), sourcePort: 40000,
            destinationPort: 443, transport: .tcp, payloadOffset: 0, payloadLength: 0,
            segment: NetworkSegment.adding(.vlan, UInt32(number), to: 0)))
    }
}

/// IPv6 keys built so that the high half of the low address and the ports change together (the high half
/// carries the port in bits 32–47): a hash that XORs the two into one word gives them all one value,
/// whatever the seeds, and every insert would then reseed and rebuild the table. They must spread.
@Test func ipv6KeysCannotCancelTheirPortsOut() {
    expectSpread { number in
        FlowKey(DecodedPacket(
            source: IPAddress(high: 0x2001_0000_0000_0000 | UInt64(number) << 32, low: 1, isIPv6: true),
            destination: IPAddress(high: 0xFD00_0000_0000_0000, low: 1, isIPv6: true),
            sourcePort: UInt16(number), destinationPort: 443, transport: .tcp, payloadOffset: 0, payloadLength: 0))
    }
}

/// Ordinary neighbours: consecutive client addresses and ports, IPv4 and IPv6.
@Test func neighbouringKeysSpread() {
    expectSpread { key($0) }
    expectSpread { key($0, ipv6: true) }
}

/// `FlowKey`'s `==` is written out (inlinable for the per-packet lookup): keys differing in any one field
/// are unequal, as the synthesized `==` and the hash have them, and a copy is equal with an equal hash.
@Test func flowKeyEqualityComparesEveryField() {
    let base = FlowKey(
        low: IPAddress(high: 0x2001_0db8, low: 5, isIPv6: true), 1024,
        high: IPAddress(high: 0x2001_0db8, low: 9, isIPv6: true), 443, .udp, segment: 3)
    var variants: [FlowKey] = []
    var changed = base; changed.lowAddress.high += 1; variants.append(changed)
    changed = base; changed.lowAddress.low += 1; variants.append(changed)
    changed = base; changed.lowAddress.isIPv6 = false; variants.append(changed)
    changed = base; changed.highAddress.high += 1; variants.append(changed)
    changed = base; changed.highAddress.low += 1; variants.append(changed)
    changed = base; changed.highAddress.isIPv6 = false; variants.append(changed)
    changed = base; changed.lowPort += 1; variants.append(changed)
    changed = base; changed.highPort += 1; variants.append(changed)
    changed = base; changed.transport = .tcp; variants.append(changed)
    changed = base; changed.segment += 1; variants.append(changed)
    for variant in variants {
        #expect(variant != base)
        #expect(!(base == variant))
    }
    let copy = base
    #expect(copy == base)
    #expect(copy.hashValue == base.hashValue)
}
