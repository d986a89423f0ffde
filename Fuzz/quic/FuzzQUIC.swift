// libFuzzer target: one QUICConnectionReader fed a sequence of datagrams from both directions. Nothing
// may trap, and what the reader holds stays within what its caps allow (a finding if not).
//
// Input: [mode] then datagrams, each [direction] [length: 2] bytes (direction bit 0: from the initiator).
// Mode bit 0: small limits (CRYPTO stream, pending frames, reasons, packets per datagram hit sooner). Mode bit 1:
// the reader keeps the handshake for a key log (its caps hold), and the Handshake packets it kept are opened with a
// secret from the input through QUICHandshakeSpace (nothing may trap).
// Fuzz/make-seeds.py writes seeds holding real Initial packets (RFC 9001 / RFC 9369 keys), so the
// fuzzer starts past the decryption.
import FuzzSupport
import QUICWire
import TLSWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    var limits = QUICLimits()
    var tlsLimits = TLSLimits()
    if mode & 1 != 0 {
        limits.maxCryptoStreamBytes = 2048
        limits.maxPendingCryptoFrames = 3
        limits.maxPendingCryptoBytes = 1024
        limits.maxReasonBytes = 4
        limits.maxNegotiationVersions = 2
        limits.maxPacketsPerDatagram = 2
        tlsLimits.maxHandshakeMessage = 1500
        tlsLimits.maxExtensions = 8
    }
    // Contiguous stream bytes (an array may hold twice what it uses), pending pieces, ids and keys.
    let bound = 2 * (2 * limits.maxCryptoStreamBytes + limits.maxPendingCryptoBytes + limits.maxPendingCryptoFrames * 64)
        + 16 * 1024
    var reader = QUICConnectionReader(limits: limits, tlsLimits: tlsLimits)
    let keeping = mode & 2 != 0
    if keeping { reader.keepHandshakeBytes() }
    // A key log's secrets are 32 to 64 bytes (KeyLog checks): a short input is padded to that.
    var secret = keeping ? Array(input.take(32)) : []
    if keeping { secret += [UInt8](repeating: 0, count: 32 - secret.count) }
    while !input.isEmpty {
        let direction = input.byte()
        let length = Int(input.uint16())
        let datagram = input.take(length)
        reader.feed(datagram, fromInitiator: direction & 1 == 0) { event in
            if case .versionNegotiation(let versions) = event, versions.count > limits.maxNegotiationVersions {
                fuzzFailure("\(versions.count) versions kept, over maxNegotiationVersions")
            }
            if case .connectionClose(let close, _) = event, close.reason.count > limits.maxReasonBytes {
                fuzzFailure("a reason of \(close.reason.count) bytes kept, over maxReasonBytes")
            }
        }
        if reader.retainedBytes > bound {
            fuzzFailure("the reader holds \(reader.retainedBytes) bytes, over its bound of \(bound)")
        }
    }
    if let kept = reader.keptBytes {
        if kept.byteCount > KeptQUICHandshake.maxBytes || kept.packets.count > KeptQUICHandshake.maxPackets {
            fuzzFailure("kept \(kept.byteCount) bytes in \(kept.packets.count) packets, over the caps")
        }
        for cipher in [QUICPacketCipher.aes128GCM, .chacha20Poly1305] {
            _ = try? QUICHandshakeSpace.cryptoStream(kept.packets, secret: secret, cipher: cipher, version: kept.version ?? .v1)
        }
    }
    if let version = reader.version, !version.isKnown {
        fuzzFailure("the connection's version \(version.name) is one no Initial could have opened with")
    }
    return 0
}

@_cdecl("fuzz_quic_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
