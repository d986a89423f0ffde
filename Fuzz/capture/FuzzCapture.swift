// libFuzzer target: whole capture files (pcap or pcapng bytes) through the library path the CLI takes:
// PcapSource (libpcap) → HandshakeAnalyzer (decoding, reassembly, TLS, preambles) → RecordCompletion
// (certificates, fingerprints, audit) → the JSON RecordEncoder, records and summary. Every record must
// encode to a complete JSON document, and to the same bytes through the FragmentCache as without it.
import Foundation
import FuzzSupport
import HandshakeAnalysis
import PacketDecoding
import PcapCapture
import Reporting

/// libpcap reads from a FILE; the input is written to this process's own file for each run, removed at exit.
/// In memory (/dev/shm) where there is one: truncating a disk file stalled for minutes under a busy disk.
let capturePath = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/tlsscope-fuzz-capture-\(getpid())"
let removeCaptureAtExit: Void = { atexit { unlink(capturePath) } }()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = removeCaptureAtExit
    let descriptor = open(capturePath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { fuzzFailure("cannot write \(capturePath)") }
    var written = 0
    while written < size {
        let count = write(descriptor, data + written, size - written)
        guard count > 0 else { fuzzFailure("cannot write \(capturePath)") }
        written += count
    }
    close(descriptor)

    guard var source = try? PcapSource(file: capturePath),
        let decoder = try? PacketDecoder(linkType: LinkType(rawValue: source.linkType))
    else { return 0 }
    var options = AnalysisOptions()
    options.auditTime = 1_767_225_600  // fixed, so that findings do not depend on the day
    var analyzer = HandshakeAnalyzer(options: options)
    let completion = RecordCompletion(options: options)
    var json = JSONWriter()
    var cached = JSONWriter()
    var cache: FragmentCache? = FragmentCache()
    func report(_ connection: EndedConnection) {
        let record = completion.record(of: connection)
        json.reset()
        RecordEncoder.encode(record, into: &json)
        checkJSON(json)
        // The cache of repeating parts must not change a byte (each record twice: a miss, then a hit).
        for _ in 0..<2 {
            cached.reset()
            RecordEncoder.encode(record, into: &cached, cache: &cache)
            guard cached.bytes == json.bytes else {
                fuzzFailure("FragmentCache changed the record: " + String(decoding: cached.bytes.prefix(2000), as: UTF8.self))
            }
        }
    }
    while case .frame(let frame)? = try? source.next() {
        analyzer.process(frame: frame.bytes, timestamp: frame.timestampNanoseconds, decoder: decoder, ended: report)
    }
    analyzer.finish(ended: report)
    var summary = RunSummary()
    summary.add(analyzer.counters)
    json.reset()
    RecordEncoder.encode(summary, includeType: true, into: &json)
    checkJSON(json)
    return 0
}

func checkJSON(_ json: JSONWriter) {
    guard json.depth == 0, (try? JSONSerialization.jsonObject(with: Data(json.bytes))) != nil else {
        fuzzFailure("not a JSON document: " + String(decoding: json.bytes.prefix(2000), as: UTF8.self))
    }
}

@_cdecl("fuzz_capture_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
