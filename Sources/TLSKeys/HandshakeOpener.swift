import QUICWire
import TLSWire
import WireCursor

/// What a passive observer kept of one handshake for a key log to open: each side's cleartext handshake
/// messages (whole, with their 4-byte headers, in the order sent) and its first protected records (5-byte
/// header and body), from the ClientHello's random on.
public struct HandshakeCapture: Sendable, Hashable {
    public typealias ProtectedRecord = KeptHandshakeBytes.ProtectedRecord

    public var clientMessages: [[UInt8]] = []
    public var serverMessages: [[UInt8]] = []
    public var clientProtected: [ProtectedRecord] = []
    public var serverProtected: [ProtectedRecord] = []
    /// QUIC: the Handshake packets (the flights travel in their CRYPTO frames, not in TLS records).
    public var quic: KeptQUICHandshake?

    public init() {}

    /// What a QUIC connection reader kept (`QUICConnectionReader.keepHandshakeBytes`).
    public init(quic: KeptQUICHandshake) {
        clientMessages = quic.clientMessages
        serverMessages = quic.serverMessages
        self.quic = quic
    }

    /// What the client's and the server's stream parsers kept (`TLSStreamParser.keepHandshakeBytes`).
    public init(client: KeptHandshakeBytes, server: KeptHandshakeBytes) {
        clientMessages = client.messages
        serverMessages = server.messages
        clientProtected = client.protectedRecords
        serverProtected = server.protectedRecords
    }

    /// The ClientHello's random (bytes 6..<38 of the first client message), which a key log is keyed by.
    public var clientRandom: [UInt8]? {
        guard let hello = clientMessages.first, hello.count >= 38, hello[0] == 1 else { return nil }
        return Array(hello[6..<38])
    }

    var serverRandom: [UInt8]? {
        guard let hello = serverMessages.last(where: { $0.first == 2 }), hello.count >= 38 else { return nil }
        return Array(hello[6..<38])
    }
}

/// What the keys proved of a handshake: how they were derived, each Finished checked, and the protected
/// messages they opened (TLS 1.3's EncryptedExtensions, certificates, CertificateVerify). Secrets are not
/// kept here: the record shows them only when asked (`--show-secrets`).
public struct KeyProof: Sendable, Hashable {
    /// One step of the derivation, as the record's `keys.steps` lists it.
    public struct Step: Sendable, Hashable {
        public var from: String
        public var to: String
        public var function: String
        public var keyLength: Int?
        public var ivLength: Int?
        public init(from: String, to: String, function: String, keyLength: Int?, ivLength: Int?) {
            self.from = from
            self.to = to
            self.function = function
            self.keyLength = keyLength
            self.ivLength = ivLength
        }
    }

    public var steps: [Step] = []
    /// nil: not checked (its record was not captured, or the cipher is not one this opens).
    public var clientFinishedVerified: Bool?
    public var serverFinishedVerified: Bool?
    /// The server's and the client's protected handshake messages, opened (TLS 1.3).
    public var serverMessages: [ProtectedHandshakeMessage] = []
    public var clientMessages: [ProtectedHandshakeMessage] = []
    /// Why something could not be opened or checked.
    public var problems: [String] = []
    /// A TLS 1.3 CertificateVerify opened: its scheme, signature and the content it signs (RFC 8446 §4.4.3), for
    /// a check with the sender's certificate key (X509Inspection, where the certificates are parsed).
    public struct SignatureInput: Sendable, Hashable {
        public var scheme: SignatureScheme
        public var signature: [UInt8]
        public var content: [UInt8]
    }
    public var serverCertificateVerify: SignatureInput?
    public var clientCertificateVerify: SignatureInput?
    /// The suite the handshake was opened with.
    var suite: CipherSuite?

    /// Keys were given but a Finished did not verify (or its record did not open): the `keylog-mismatch` finding.
    public var mismatch: Bool { clientFinishedVerified == false || serverFinishedVerified == false }
}

/// Opens a captured handshake with the secrets a key log holds for it and checks both Finished messages
/// (RFC 8446 §4.4.4 for TLS 1.3, RFC 5246 §7.4.9 for TLS 1.0–1.2).
public enum HandshakeOpener {
    public static func open(
        version: TLSVersion, suite: CipherSuite, capture: HandshakeCapture, secrets: KeyLog.Secrets
    ) -> KeyProof {
        var proof = KeyProof()
        proof.suite = suite
        guard let name = suite.ianaName, let parts = suite.parts else {
            proof.problems.append("suite \(suite.name) is not registered")
            return proof
        }
        if version.isTLS13Family {
            openTLS13(name: name, parts: parts, capture: capture, secrets: secrets, into: &proof)
        } else {
            openTLS12(version: version, name: name, parts: parts, capture: capture, secrets: secrets, into: &proof)
        }
        return proof
    }

    // MARK: - TLS 1.3

    private static func openTLS13(
        name: String, parts: CipherSuiteParts, capture: HandshakeCapture, secrets: KeyLog.Secrets, into proof: inout KeyProof
    ) {
        let hash = ScheduleHash(suiteName: name)
        guard let (cipher, keyLength) = RecordProtection.Cipher.of(encryption: parts.encryption) else {
            proof.problems.append("\(parts.encryption) records are not opened here")
            return
        }
        // Transcript: ClientHello…ServerHello; after a HelloRetryRequest the first ClientHello is replaced by
        // message_hash (RFC 8446 §4.4.1).
        var transcript: [UInt8] = []
        let clientHellos = capture.clientMessages.filter { $0.first == 1 }
        let serverHellos = capture.serverMessages.filter { $0.first == 2 }
        guard let firstHello = clientHellos.first, let serverHello = serverHellos.last else {
            proof.problems.append("the hellos were not captured")
            return
        }
        if serverHellos.count > 1, clientHellos.count > 1 {
            let digest = hash.hash(firstHello)
            transcript = [254, 0, 0, UInt8(digest.count)] + digest + serverHellos[0] + clientHellos[1]
        } else {
            transcript = firstHello
        }
        transcript += serverHello

        guard let serverSecret = secrets[.serverHandshakeTrafficSecret], let clientSecret = secrets[.clientHandshakeTrafficSecret] else {
            proof.problems.append("the key log has no handshake traffic secrets for this connection")
            return
        }
        proof.steps = [
            KeyProof.Step(from: "(EC)DHE shared secret", to: "handshake secret", function: "HKDF-Extract", keyLength: nil, ivLength: nil),
            KeyProof.Step(from: "handshake secret", to: "client/server handshake traffic secret", function: "Derive-Secret (ClientHello…ServerHello)", keyLength: nil, ivLength: nil),
            KeyProof.Step(from: "server handshake traffic secret", to: "server handshake key, iv", function: "HKDF-Expand-Label", keyLength: keyLength, ivLength: 12),
            KeyProof.Step(from: "client handshake traffic secret", to: "client handshake key, iv", function: "HKDF-Expand-Label", keyLength: keyLength, ivLength: 12),
        ]

        if let quic = capture.quic {
            // QUIC keys come from the same secrets with QUIC's labels, and protect packets (RFC 9001 §5.1).
            let label = quic.version == .v2 ? "quicv2" : "quic"
            proof.steps[2].function = "HKDF-Expand-Label (\"\(label) key\", \"\(label) iv\", \"\(label) hp\")"
            proof.steps[3].function = proof.steps[2].function
            proof.steps[2].to = "server Handshake packet key, iv, header protection key"
            proof.steps[3].to = "client Handshake packet key, iv, header protection key"
        }

        // The server's flight, record by record (or packet by packet), until its Finished.
        let serverKeys = TLS13KeySchedule.trafficKeys(hash, secret: serverSecret, keyLength: keyLength)
        let serverProtection = RecordProtection(cipher: cipher, key: serverKeys.key, iv: serverKeys.iv)
        let serverOpened = capture.quic.map { openQUICFlight($0, fromClient: false, secret: serverSecret, proof: &proof) }
            ?? openFlight(capture.serverProtected, serverProtection, proof: &proof, side: "server")
        guard let flight = serverOpened else {
            proof.serverFinishedVerified = false
            return
        }
        guard prove(flight, server: true, secret: serverSecret, hash, transcript: &transcript, into: &proof) else {
            proof.problems.append("the server's Finished was not captured")
            return
        }
        // The server accepted 0-RTT (early_data in EncryptedExtensions): the client's EndOfEarlyData, always
        // empty, went under the early keys before its flight and is in the transcript (RFC 8446 §4.5).
        let acceptedEarlyData = proof.serverMessages.contains {
            if case .encryptedExtensions(let types, _) = $0 { types.contains(.earlyData) } else { false }
        }
        if acceptedEarlyData && capture.quic == nil {  // QUIC has no EndOfEarlyData (RFC 9001 §8.3)
            transcript += [5, 0, 0, 0]
            proof.clientMessages.append(.other(HandshakeType(rawValue: 5), length: 0))
        }
        // The client's flight (its certificate and CertificateVerify if asked, then Finished).
        let clientKeys = TLS13KeySchedule.trafficKeys(hash, secret: clientSecret, keyLength: keyLength)
        let clientProtection = RecordProtection(cipher: cipher, key: clientKeys.key, iv: clientKeys.iv)
        // A client that sent 0-RTT data (early_data offered) puts records under the early traffic keys before its
        // handshake flight: those are passed over (RFC 8446 §4.2.10).
        let offeredEarlyData = Self.extensionTypes(firstHello, clientHello: true)?.contains(42) ?? false
        let clientOpened = capture.quic.map { openQUICFlight($0, fromClient: true, secret: clientSecret, proof: &proof) }
            ?? openFlight(capture.clientProtected, clientProtection, proof: &proof, side: "client", skippingLeading: offeredEarlyData)
        guard let clientFlight = clientOpened else {
            proof.clientFinishedVerified = false
            return
        }
        if !prove(clientFlight, server: false, secret: clientSecret, hash, transcript: &transcript, into: &proof) {
            proof.problems.append("the client's Finished was not captured")
        }
    }

    /// One side's opened flight into the proof, message by message until its Finished: the messages kept, a
    /// CertificateVerify's signature input noted, the Finished's verify_data checked against the transcript so far
    /// (RFC 8446 §4.4.4), each message added to the transcript. False when no Finished came.
    private static func prove(
        _ flight: [(message: ProtectedHandshakeMessage, bytes: [UInt8])], server: Bool, secret: [UInt8],
        _ hash: ScheduleHash, transcript: inout [UInt8], into proof: inout KeyProof
    ) -> Bool {
        for (message, bytes) in flight {
            if server { proof.serverMessages.append(message) } else { proof.clientMessages.append(message) }
            switch message {
            case .certificateVerify(let scheme, _):
                let input = signatureInput(scheme, bytes, server: server, hash.hash(transcript))
                if server { proof.serverCertificateVerify = input } else { proof.clientCertificateVerify = input }
            case .finished(let verifyData):
                let expected = TLS13KeySchedule.finishedVerifyData(hash, secret: secret, transcriptHash: hash.hash(transcript))
                if server { proof.serverFinishedVerified = verifyData == expected } else {
                    proof.clientFinishedVerified = verifyData == expected
                }
                transcript += bytes
                return true
            default:
                break
            }
            transcript += bytes
        }
        return false
    }

    /// RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, then Transcript-Hash(… Certificate); the
    /// signature follows the scheme and its 2-byte length in the message (`bytes` has the 4-byte header).
    static func signatureInput(_ scheme: SignatureScheme, _ bytes: [UInt8], server: Bool, _ transcriptHash: [UInt8]) -> KeyProof.SignatureInput {
        let context = Array("TLS 1.3, \(server ? "server" : "client") CertificateVerify".utf8)
        return KeyProof.SignatureInput(
            scheme: scheme, signature: Array(bytes.dropFirst(8)),
            content: [UInt8](repeating: 0x20, count: 64) + context + [0] + transcriptHash)
    }

    /// QUIC: a side's Handshake packets opened, their CRYPTO stream split into messages; nil (the problem
    /// noted) when a packet does not open.
    private static func openQUICFlight(
        _ quic: KeptQUICHandshake, fromClient: Bool, secret: [UInt8], proof: inout KeyProof
    ) -> [(message: ProtectedHandshakeMessage, bytes: [UInt8])]? {
        let side = fromClient ? "client" : "server"
        guard let version = quic.version, let suite = proof.suite, let cipher = QUICPacketCipher(suite: suite) else {
            proof.problems.append("\(side): no Handshake packet captured, or a suite whose QUIC packets are not opened here")
            return []
        }
        do {
            let stream = try QUICHandshakeSpace.cryptoStream(
                quic.packets.filter { $0.fromClient == fromClient }, secret: secret, cipher: cipher, version: version)
            return try ProtectedHandshakeMessage.split(stream).messages.map { ($0.message, Array($0.bytes)) }
        } catch let error as QUICHandshakeOpenError {
            proof.problems.append("\(side) \(error)")
            if case .notAuthenticated = error { return nil }
            return []
        } catch {
            proof.problems.append("\(side) handshake: \(error)")
            return []
        }
    }

    /// Opens a side's protected handshake records in order (sequence numbers from 0) until a Finished;
    /// nil (with the problem noted) when one does not open: wrong keys.
    private static func openFlight(
        _ records: [HandshakeCapture.ProtectedRecord], _ protection: RecordProtection, proof: inout KeyProof, side: String,
        skippingLeading: Bool = false
    ) -> [(message: ProtectedHandshakeMessage, bytes: [UInt8])]? {
        var plaintext: [UInt8] = []
        var sequence: UInt64 = 0
        var skipped = 0
        for record in records where record.contentType == 23 {
            guard record.isComplete else {
                // Cut by a gap or the capture's end: not a wrong key, just not seen whole.
                proof.problems.append("\(side) record \(sequence) was not captured whole")
                break
            }
            if skippingLeading, sequence == 0, skipped < records.count - 1,
                (try? protection.openTLS13(header: record.header, payload: record.payload, sequence: 0)) == nil
            {
                skipped += 1
                continue
            }
            do {
                let opened = try protection.openTLS13(header: record.header, payload: record.payload, sequence: sequence)
                sequence += 1
                guard opened.contentType == 22 else { continue }
                plaintext += opened.content
                let split = try ProtectedHandshakeMessage.split(plaintext)
                if split.messages.contains(where: { if case .finished = $0.message { true } else { false } }) {
                    return split.messages.map { ($0.message, Array($0.bytes)) }
                }
            } catch let error as RecordOpenError {
                proof.problems.append("\(side) record \(sequence): \(error)")
                return nil
            } catch {
                proof.problems.append("\(side) handshake: \(error)")
                return nil
            }
        }
        return (try? ProtectedHandshakeMessage.split(plaintext))?.messages.map { ($0.message, Array($0.bytes)) } ?? []
    }

    // MARK: - TLS 1.0–1.2

    private static func openTLS12(
        version: TLSVersion, name: String, parts: CipherSuiteParts, capture: HandshakeCapture, secrets: KeyLog.Secrets,
        into proof: inout KeyProof
    ) {
        guard let master = secrets.masterSecret else {
            proof.problems.append("the key log has no master secret (CLIENT_RANDOM) for this connection")
            return
        }
        guard let clientRandom = capture.clientRandom, let serverRandom = capture.serverRandom,
            let clientHello = capture.clientMessages.first
        else {
            proof.problems.append("the hellos were not captured")
            return
        }
        let prf: PRFHash = version == .tls12 || version == .dtls12 ? .tls12(ScheduleHash(suiteName: name)) : .md5sha1
        let recordVersion = version.rawValue
        // Both sides' protections from the key block (RFC 5246 §6.3): MAC keys, write keys, IVs.
        let aead = RecordProtection.Cipher.of(encryption: parts.encryption)
        let mac = CBCRecordProtection.MAC(suiteName: name)
        let keyLength: Int
        switch parts.encryption {
        case "AES_128_CBC", "AES_128_GCM": keyLength = 16
        case "AES_256_CBC", "AES_256_GCM", "CHACHA20_POLY1305": keyLength = 32
        default:
            proof.problems.append("\(parts.encryption) records are not opened here")
            return
        }
        let macLength = aead == nil ? (mac?.length ?? 0) : 0
        let ivLength = aead.map { $0.cipher == .aesGCM ? 4 : 12 } ?? 16
        let block = TLS12PRF.keyBlock(prf, masterSecret: master, clientRandom: clientRandom, serverRandom: serverRandom,
                                      length: 2 * macLength + 2 * keyLength + 2 * ivLength)
        func slice(_ start: Int, _ count: Int) -> [UInt8] { Array(block[start..<start + count]) }
        let serverHelloExtensions = capture.serverMessages.first { $0.first == 2 }.flatMap { Self.extensionTypes($0) } ?? []
        let encryptThenMAC = serverHelloExtensions.contains(22)
        proof.steps = [
            KeyProof.Step(from: "pre-master secret", to: "master secret",
                          function: serverHelloExtensions.contains(23) ? "PRF \"extended master secret\" (RFC 7627)" : "PRF \"master secret\"",
                          keyLength: nil, ivLength: nil),
            KeyProof.Step(from: "master secret", to: "key block: MAC keys, write keys, IVs", function: "PRF \"key expansion\"",
                          keyLength: keyLength, ivLength: aead == nil && version != .tls10 ? nil : ivLength),
        ]
        func open(client: Bool, record: HandshakeCapture.ProtectedRecord) -> [UInt8]? {
            do {
                if let aead {
                    let key = slice(2 * macLength + (client ? 0 : keyLength), keyLength)
                    let iv = slice(2 * macLength + 2 * keyLength + (client ? 0 : ivLength), ivLength)
                    return try RecordProtection(cipher: aead.cipher, key: key, iv: iv)
                        .openTLS12(contentType: 22, version: recordVersion, payload: record.payload, sequence: 0)
                }
                guard let mac else { return nil }
                var protection = CBCRecordProtection(
                    key: slice(2 * macLength + (client ? 0 : keyLength), keyLength),
                    macKey: slice(client ? 0 : macLength, macLength), mac: mac, encryptThenMAC: encryptThenMAC,
                    implicitIV: version == .tls10 ? slice(2 * macLength + 2 * keyLength + (client ? 0 : 16), 16) : nil)
                return try protection.open(contentType: 22, version: recordVersion, payload: record.payload, sequence: 0)
            } catch {
                proof.problems.append("\(client ? "client" : "server") Finished record: \(error)")
                return nil
            }
        }
        // A full handshake: the client's Finished covers ClientHello, the server's flight before it (not a
        // NewSessionTicket, which follows it) and the client's own messages after its hello; the server's adds
        // both. An abbreviated one (resumption: no ServerHelloDone) has the server finish first, over
        // ClientHello, ServerHello and any NewSessionTicket; the client's Finished adds the server's
        // (RFC 5246 §7.4.9, RFC 5077 §3.1).
        func firstWhole(_ records: [HandshakeCapture.ProtectedRecord], side: String) -> HandshakeCapture.ProtectedRecord? {
            guard let record = records.first(where: { $0.contentType == 22 }) else { return nil }
            guard record.isComplete else {
                proof.problems.append("the \(side) Finished record was not captured whole")
                return nil
            }
            return record
        }
        let clientProtected = firstWhole(capture.clientProtected, side: "client")
        let serverProtected = firstWhole(capture.serverProtected, side: "server")
        func verify(client: Bool, _ record: HandshakeCapture.ProtectedRecord?, transcript: [UInt8]) -> [UInt8]? {
            guard let record else { return nil }
            guard let finished = open(client: client, record: record) else {
                if client { proof.clientFinishedVerified = false } else { proof.serverFinishedVerified = false }
                return nil
            }
            let verified = finished.count >= 4 && Array(finished.dropFirst(4))
                == TLS12PRF.finishedVerifyData(prf, masterSecret: master, fromClient: client, handshakeHash: prf.handshakeHash(transcript))
            if client { proof.clientFinishedVerified = verified } else { proof.serverFinishedVerified = verified }
            return verified ? finished : nil
        }
        let abbreviated = !capture.serverMessages.contains { $0.first == 14 }
        if abbreviated {
            let transcript = clientHello + capture.serverMessages.flatMap { $0 }
            if let finished = verify(client: false, serverProtected, transcript: transcript) {
                _ = verify(client: true, clientProtected, transcript: transcript + finished)
            }
        } else {
            let serverBefore = capture.serverMessages.filter { $0.first != 4 }.flatMap { $0 }
            let tickets = capture.serverMessages.filter { $0.first == 4 }.flatMap { $0 }
            let transcript = clientHello + serverBefore + capture.clientMessages.dropFirst().flatMap { $0 }
            if let finished = verify(client: true, clientProtected, transcript: transcript) {
                _ = verify(client: false, serverProtected, transcript: transcript + finished + tickets)
            }
        }
    }

    /// The extension types of a ServerHello (or ClientHello) message, whole with its header; nil when it does
    /// not parse.
    static func extensionTypes(_ message: [UInt8], clientHello: Bool = false) -> [UInt16]? {
        message.dropFirst(4).withUnsafeBytes { buffer -> [UInt16]? in
            var cursor = ByteCursor(buffer)
            if clientHello { return (try? ClientHello(parsing: &cursor))?.extensions.map(\.type.rawValue) }
            return (try? ServerHello(parsing: &cursor))?.extensions.map(\.type.rawValue)
        }
    }
}
