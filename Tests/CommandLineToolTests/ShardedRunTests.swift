import Foundation
import HandshakeAnalysis
import PcapCapture
import Reporting
import Testing

@testable import tlsscope

/// `analyze --threads N`: whatever N, the bytes written and the summary are those of one thread.

private let captures: [String] = {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/pcap")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) && $0 != "truncated.pcap" }.sorted()
        .map { directory.appendingPathComponent($0).path }
}()

/// Formats what it is given as NDJSON: records from one thread's writer, formatted bytes from a sharded one.
private final class BytesSink: RecordSink, @unchecked Sendable {
    // @unchecked: one writer thread at a time; read after the run.
    let format = OutputFormat.ndjson
    private var formatter = RecordFormatter(format: .ndjson)
    var bytes: [UInt8] = []
    var records = 0
    func write(_ record: HandshakeRecord) {
        bytes += formatter.bytes(of: record)
        records += 1
    }
    func write(formatted bytes: [UInt8]) {
        self.bytes += bytes
        records += 1
    }
}

private struct RunOutput: Equatable {
    var records: String
    var summary: String
    var status: Int32?
    var count: Int

    /// Where `other` first differs (a short description for a failed expectation), nil when equal.
    func firstDifference(from other: RunOutput) -> String? {
        if self == other { return nil }
        let mine = records.split(separator: "\n")
        let theirs = other.records.split(separator: "\n")
        for index in 0..<max(mine.count, theirs.count) {
            let left = index < mine.count ? String(mine[index].prefix(400)) : "(none)"
            let right = index < theirs.count ? String(theirs[index].prefix(400)) : "(none)"
            if left != right { return "record \(index): \(left)\n  vs \(right)" }
        }
        if summary != other.summary { return "summary: \(summary)\n  vs \(other.summary)" }
        return "status \(String(describing: status)) vs \(String(describing: other.status))"
    }
}

private func analyze(
    _ files: [String], threads: Int, options: AnalysisOptions = AnalysisOptions(), reader: FileReader = .automatic
) -> RunOutput {
    var run = AnalysisRun(filter: nil, showProgress: false, options: options, threads: threads)
    run.reader = reader
    let sink = BytesSink()
    let status = run.analyze(files: files, sink: sink)
    var summary = run.summary
    summary.elapsedSeconds = 0
    var json = JSONWriter()
    RecordEncoder.encode(summary, includeType: true, into: &json)
    return RunOutput(
        records: String(decoding: sink.bytes, as: UTF8.self), summary: String(decoding: json.bytes, as: UTF8.self),
        status: status?.code, count: sink.records)
}

@Test(arguments: [2, 3, 5])
func shardedRunWritesWhatOneThreadWrites(threads: Int) {
    #expect(captures.count > 40)
    let one = analyze(captures, threads: 1)
    #expect(one.count > 40)
    let sharded = analyze(captures, threads: threads)
    #expect(sharded.firstDifference(from: one) == nil)
}

/// With a 1 ms idle timeout most flows end idle, at packets of other flows — often another worker's —
/// and several at one packet: the order of those ends must still be one thread's.
@Test func shardedRunOrdersIdleEndsAsOneThread() {
    var options = AnalysisOptions()
    options.idleTimeoutNanoseconds = 1_000_000
    let one = analyze(captures, threads: 1, options: options)
    #expect(one.summary.contains("\"timed_out\":0") == false)
    let sharded = analyze(captures, threads: 4, options: options)
    #expect(sharded.firstDifference(from: one) == nil)
}

/// Frames libpcap reads (standard input, files the block reader leaves to it) are copied into the run's
/// own blocks: same output.
@Test func shardedRunCopiesLibpcapFrames() {
    let one = analyze(captures, threads: 1, reader: .libpcap)
    let sharded = analyze(captures, threads: 3, reader: .libpcap)
    #expect(sharded.firstDifference(from: one) == nil)
    #expect(sharded.firstDifference(from: analyze(captures, threads: 3)) == nil)
}

/// A damaged file part-way: the records before the damage are written, then exit status 3, as with one thread.
@Test func shardedRunKeepsEveryRecordBeforeTheDamage() {
    let truncated = URL(fileURLWithPath: captures[0]).deletingLastPathComponent().appendingPathComponent("truncated.pcap").path
    let files = [captures[0], truncated, captures[1]]
    let one = analyze(files, threads: 1)
    let sharded = analyze(files, threads: 3)
    #expect(one.status == 3)
    #expect(one.count >= 2)
    #expect(sharded.firstDifference(from: one) == nil)
}

/// Files past the reader's 4 MiB block, several in one run: the reader goes on in other blocks while the
/// workers hold earlier ones (each file's reader shares its blocks). A fixture's records repeated to ~10 MB.
@Test func shardedRunReadsPastManyBlocksOfSeveralFiles() throws {
    let source = try Data(contentsOf: URL(fileURLWithPath: captures.first { $0.hasSuffix("tls13-x25519.pcap") } ?? captures[0]))
    #expect(source.count > 24)
    let records = source.dropFirst(24)
    var big = Data(source.prefix(24))
    while big.count < 10 * 1024 * 1024 { big.append(records) }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsscope-sharded-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let first = directory.appendingPathComponent("first.pcap")
    let second = directory.appendingPathComponent("second.pcap")
    try big.write(to: first)
    try big.write(to: second)
    let files = [first.path, second.path]
    let one = analyze(files, threads: 1)
    #expect(one.count > 100)
    for threads in [2, 3] {
        #expect(analyze(files, threads: threads).firstDifference(from: one) == nil)
    }
}
