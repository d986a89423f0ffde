// libFuzzer target: what `--keylog` reads that an attacker or a broken tool can shape — a key log file, the
// decrypted bytes of a protected flight (a forged key log opens records to anything), and a whole captured
// handshake handed to the opener with fixed secrets. The first byte picks which; malformed input must be
// refused, never trap.
import FuzzSupport
import TLSKeys
import TLSWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    let input = Array(bytes.dropFirst())
    switch bytes[0] % 3 {
    case 0:
        let log = KeyLog(parsing: input)
        if log.problems.count > KeyLog.maxProblemsKept { fuzzFailure("problems kept \(log.problems.count)") }
    case 1:
        if let split = try? ProtectedHandshakeMessage.split(input) {
            let used = split.messages.reduce(0) { $0 + $1.bytes.count }
            if used + split.remainder != input.count { fuzzFailure("split lost bytes: \(used) + \(split.remainder) != \(input.count)") }
        }
    default:
        // A captured handshake cut from the input: messages and records of both sides, by length prefixes.
        var capture = HandshakeCapture()
        var offset = 0
        func chunk() -> [UInt8] {
            guard offset < input.count else { return [] }
            let length = min(Int(input[offset]) * 4, input.count - offset - 1)
            defer { offset += 1 + length }
            return Array(input[(offset + 1)..<(offset + 1 + length)])
        }
        capture.clientMessages = [chunk(), chunk()]
        capture.serverMessages = [chunk(), chunk()]
        for _ in 0..<2 {
            let record = chunk()
            capture.serverProtected.append(.init(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5))))
            let client = chunk()
            capture.clientProtected.append(.init(header: Array(client.prefix(5)), payload: Array(client.dropFirst(5))))
        }
        let random = String(repeating: "ab", count: 32)
        let secret = String(repeating: "cd", count: 48)
        let log = KeyLog(parsing: Array("""
            CLIENT_RANDOM \(random) \(secret)
            CLIENT_HANDSHAKE_TRAFFIC_SECRET \(random) \(String(repeating: "01", count: 32))
            SERVER_HANDSHAKE_TRAFFIC_SECRET \(random) \(String(repeating: "02", count: 32))
            """.utf8))
        guard let secrets = log.secrets(clientRandom: [UInt8](repeating: 0xab, count: 32)) else { fuzzFailure("fixed log") }
        for (version, suite) in [(TLSVersion.tls13, UInt16(0x1301)), (.tls13, 0x1303), (.tls12, 0xc02f), (.tls12, 0xc027), (.tls10, 0xc013)] {
            let proof = HandshakeOpener.open(version: version, suite: CipherSuite(rawValue: suite), capture: capture, secrets: secrets)
            if proof.serverFinishedVerified == true && proof.clientFinishedVerified == nil && version == .tls13 {
                // Possible only with forged input that happens to authenticate; nothing to check further.
                _ = proof
            }
        }
    }
    return 0
}

@_cdecl("fuzz_keys_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
