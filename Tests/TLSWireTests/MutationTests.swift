import Testing

@testable import TLSWire

/// Seeded random corruption of real streams: the parser must never trap, and every corrupted input
/// must still give the same events however it is split.
@Suite struct MutationTests {
    @Test(arguments: [
        Captured.opensslClientHelloTLS13, Captured.gnutlsClientHello, Captured.opensslTLS12ServerStream,
        Captured.opensslTLS12ClientStream,
    ])
    func corruptedStreamsAreSplitInvariant(input: [UInt8]) {
        var generator = SplitMix64(seed: UInt64(input.count))
        var stopped = 0
        for _ in 0..<60 {
            var mutated = input
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: mutated[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: mutated[index] ^= 0x80
                default: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            let got = streamEvents(mutated, randomSplits: 2)
            if got.last?.stopCode != nil { stopped += 1 }
            // At most one stop, and it is the last event.
            #expect(got.dropLast().allSatisfy { $0.stopCode == nil })
        }
        #expect(stopped > 0)  // the corruption does reach the error paths
    }
}
