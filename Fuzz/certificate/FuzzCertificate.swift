// libFuzzer target: X509Inspection's certificate summary over DER bytes (swift-asn1 and
// swift-certificates underneath). Malformed input must throw, never trap; a summary must be well formed.
import FuzzSupport
import X509Inspection

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let der = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let summary = try? CertificateSummary(derEncoded: der) else { return 0 }
    if summary.sha256.utf8.count != 64 { fuzzFailure("sha256 \(summary.sha256)") }
    if let bits = summary.keyBits, bits < 0 { fuzzFailure("key bits \(bits)") }
    return 0
}

@_cdecl("fuzz_certificate_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
