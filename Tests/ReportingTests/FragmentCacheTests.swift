import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Testing

@testable import Reporting

/// Every record of the fixtures, as `analyze` makes them.
private func fixtureRecords() throws -> [HandshakeRecord] {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/pcap")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) && $0 != "truncated.pcap" }.sorted()
    var records: [HandshakeRecord] = []
    var analyzer = HandshakeAnalyzer()
    for name in names {
        var source = try PcapSource(file: directory.appendingPathComponent(name).path)
        let decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        while case .frame(let frame) = try source.next() {
            analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder) {
                records.append($0)
            }
        }
    }
    analyzer.finish { records.append($0) }
    return records
}

private func encoded(_ record: HandshakeRecord, cache: inout FragmentCache?) -> [UInt8] {
    var json = JSONWriter()
    RecordEncoder.encode(record, into: &json, cache: &cache)
    return json.bytes
}

/// The cache changes nothing in the output: every fixture record, encoded twice through one cache (misses,
/// then hits), is byte for byte what the encoder writes without it.
@Test func cachedFragmentsEncodeExactlyAsWithoutTheCache() throws {
    let records = try fixtureRecords()
    #expect(records.count > 50)
    var cache: FragmentCache? = FragmentCache()
    var none: FragmentCache?
    for round in 0..<2 {
        for record in records {
            let plain = encoded(record, cache: &none)
            let cached = encoded(record, cache: &cache)
            #expect(cached == plain, "round \(round): \(String(decoding: cached, as: UTF8.self))")
        }
    }
    #expect((cache?.heldBytes ?? 0) > 0)
}

/// A bound smaller than what the fixtures need: the cache starts over instead of growing, and the output
/// is still exact.
@Test func aFullCacheStartsOverAndStaysExact() throws {
    let records = try fixtureRecords()
    var cache: FragmentCache? = FragmentCache(maxBytes: 8 * 1024)
    var none: FragmentCache?
    for record in records + records {
        #expect(encoded(record, cache: &cache) == encoded(record, cache: &none))
        #expect((cache?.heldBytes ?? 0) <= 8 * 1024)
    }
}
