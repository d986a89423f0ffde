import Foundation
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting
import Testing
@testable import tlsscope

/// The channel between the capture thread and the writer: first in, first out, and `send` waits while it is
/// full (the bound is what keeps memory flat when the output is slow).
@Test func channelKeepsOrderAndHoldsTheProducerBackWhenFull() async throws {
    let channel = Channel<Int>(capacity: 4)
    let sent = Counter()
    let producer = Thread {
        for value in 0..<1000 {
            channel.send(value)
            sent.increment()
        }
    }
    producer.start()
    // Nothing is received yet: the producer stops after filling the channel.
    try await Task.sleep(nanoseconds: 200_000_000)
    #expect(sent.value == 4)
    var received: [Int] = []
    for _ in 0..<1000 { received.append(channel.receive()) }
    #expect(received == Array(0..<1000))
}

/// A live capture's hand-over never waits: with the writer stuck, connections past the backlog budget are
/// dropped and counted, and those within it are all written, in order, once the writer moves again.
@Test func liveHandOverNeverWaitsAndCountsWhatItDrops() throws {
    let connections = try fixtureConnections()
    #expect(connections.count > 20)
    let sink = BlockingSink()
    let budget = RecordWriter.BacklogBudget(connections: 8, bytes: 1 << 30)
    let writer = RecordWriter(options: AnalysisOptions(), summary: RunSummary(), sink: sink, batchSize: 1, backlog: budget)
    let started = Date()
    for connection in connections { writer.add(connection) }
    #expect(Date().timeIntervalSince(started) < 5, "add waited on a stuck writer")
    // The writer holds one connection in `write`; 8 wait in the channel.
    #expect(writer.handedOver <= 9 && writer.handedOver >= 8, "\(writer.handedOver)")
    #expect(writer.recordsDropped == connections.count - writer.handedOver)
    sink.release()
    let summary = writer.finish()
    #expect(sink.records.count == writer.handedOver)
    #expect(summary.tlsConnections == writer.handedOver)

    // A byte budget smaller than one connection drops them all.
    let tiny = RecordWriter(
        options: AnalysisOptions(), summary: RunSummary(), sink: CollectingSink(), batchSize: 1,
        backlog: RecordWriter.BacklogBudget(connections: 8, bytes: 100))
    for connection in connections.prefix(5) { tiny.add(connection) }
    #expect(tiny.handedOver == 0 && tiny.recordsDropped == 5)
    _ = tiny.finish()
}

/// Reading a file, a writer that lags gets help: once more than `catchUpDepth` batches wait, the reading
/// side completes its next batches itself. The records are the same, byte for byte once encoded, and in
/// the same order, as when the writer completes every one.
@Test func aLaggingWriterIsHelpedAndWritesTheSameRecords() throws {
    let connections = Array(repeating: try fixtureConnections(), count: 3).flatMap { $0 }
    #expect(connections.count > 2 * (RecordWriter.catchUpDepth + 2))
    let completion = RecordCompletion(options: AnalysisOptions())
    let expected = connections.map { encoded(completion.record(of: $0)) }

    let sink = BlockingSink()
    let writer = RecordWriter(options: AnalysisOptions(), summary: RunSummary(), sink: sink, batchSize: 2)
    // The writer holds its first batch in `write` until released; the batches behind it queue up, and
    // past `catchUpDepth` of them the reading side completes what it hands over. Released a moment later,
    // before `add` would wait on a full channel for good.
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { sink.release() }
    for connection in connections { writer.add(connection) }
    let summary = writer.finish()
    #expect(writer.completedBeforeHandOver >= 2, "\(writer.completedBeforeHandOver)")
    #expect(writer.completedBeforeHandOver < connections.count)
    #expect(sink.records.map(encoded) == expected)
    #expect(summary.tlsConnections == connections.count)
}

private func encoded(_ record: HandshakeRecord) -> [UInt8] {
    var json = JSONWriter()
    RecordEncoder.encode(record, into: &json)
    return json.bytes
}

/// Every connection of the fixtures, as the capture side hands them over.
private func fixtureConnections() throws -> [EndedConnection] {
    var connections: [EndedConnection] = []
    var analyzer = HandshakeAnalyzer()
    let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path)
        .filter { $0.hasSuffix(".pcap") && $0 != "truncated.pcap" }.sorted()
    for name in names {
        var source = try PcapSource(file: fixtures.appendingPathComponent(name).path)
        let decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        while case .frame(let frame) = try source.next() {
            analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder,
                             ended: { (connection: EndedConnection) in connections.append(connection) })
        }
    }
    analyzer.finish(ended: { (connection: EndedConnection) in connections.append(connection) })
    return connections
}

/// A sink whose first `write` blocks until `release`.
private final class BlockingSink: RecordSink, @unchecked Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var released = false
    private var written: [HandshakeRecord] = []
    let format = OutputFormat.ndjson
    func write(formatted bytes: [UInt8]) {}
    func write(_ record: HandshakeRecord) {
        lock.lock()
        let wait = !released
        lock.unlock()
        if wait { gate.wait() }
        lock.lock(); written.append(record); lock.unlock()
    }
    func release() {
        lock.lock(); released = true; lock.unlock()
        gate.signal()
    }
    var records: [HandshakeRecord] { lock.lock(); defer { lock.unlock() }; return written }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/pcap")

/// Keeps what the writer thread gives it (read after the run, when the writer is done).
private final class CollectingSink: RecordSink, @unchecked Sendable {
    var records: [HandshakeRecord] = []
    let format = OutputFormat.ndjson
    func write(_ record: HandshakeRecord) { records.append(record) }
    func write(formatted bytes: [UInt8]) {}
}

/// The records `AnalysisRun` (capture on the calling thread, records on the writer thread) writes are those of the plain
/// single-threaded analyzer, in the same order, over a run long enough to fill the channel many times.
@Test func threadedRunWritesWhatTheAnalyzerEmitsInOrder() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path)
        .filter { $0.hasSuffix(".pcap") && $0 != "truncated.pcap" }.sorted()
    #expect(names.count > 20)
    let files = names.map { fixtures.appendingPathComponent($0).path }

    var expected: [String] = []
    var analyzer = HandshakeAnalyzer()
    for path in files {
        var source = try PcapSource(file: path)
        let decoder = try PacketDecoder(linkType: LinkType(rawValue: source.linkType))
        while case .frame(let frame) = try source.next() {
            analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder) {
                expected.append(describe($0))
            }
        }
    }
    analyzer.finish { expected.append(describe($0)) }

    var run = AnalysisRun(filter: nil, showProgress: false)
    let sink = CollectingSink()
    let status = run.analyze(files: files, sink: sink)
    let written = sink.records.map(describe)
    #expect(status == nil)
    #expect(written.count > 40)
    #expect(written == expected)
    #expect(run.summary.tlsConnections == expected.count)
    #expect(run.summary.files == files.count)
    #expect(run.summary.packets == analyzer.counters.packets)
}

/// A damaged file part-way: the records before the damage are all written, then exit status 3.
@Test func threadedRunKeepsEveryRecordBeforeTheDamage() throws {
    var run = AnalysisRun(filter: nil, showProgress: false)
    let sink = CollectingSink()
    let status = run.analyze(files: [fixtures.appendingPathComponent("truncated.pcap").path], sink: sink)
    #expect(status?.code == 3)
    #expect(sink.records.count >= 1)
    #expect(run.summary.errors.count == 1)
}

private func describe(_ record: HandshakeRecord) -> String {
    "\(record.clientAddress):\(record.clientPort) \(record.serverAddress):\(record.serverPort) "
        + "\(record.firstTimestamp) \(record.packets) \(record.bytes) \(record.findings.count) "
        + "\(record.ja4?.fingerprint ?? "-") \(record.certificates.map(\.sha256))"
}
