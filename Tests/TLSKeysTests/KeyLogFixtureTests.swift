import Foundation
import Testing
import TLSWire
@testable import TLSKeys

/// The key-logged fixtures (Fixtures/make-fixtures.sh, scenario 15: openssl s_client -keylogfile) opened
/// with TLSKeys alone: each direction's TCP bytes (as tshark lists them) cut into records, the keys found
/// by client random, the protected handshake records opened and both Finished messages verified against
/// the transcript; for TLS 1.3 the server's leaf certificate matches what tshark decrypts with the same log.
@Suite(.enabled(if: tsharkPath != nil, "needs tshark (scripts/install-deps --test)"))
struct KeyLogFixtureTests {
    struct Record {
        var type: UInt8
        var header: [UInt8]
        var payload: [UInt8]
    }

    /// Each direction's records, client first.
    static func records(_ name: String, serverPort: Int) throws -> (client: [Record], server: [Record]) {
        let pcap = fixturesRoot.appendingPathComponent("pcap/\(name).pcap").path
        let listing = try #require(runTool(tsharkPath ?? "", ["-r", pcap, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.payload"]))
        #expect(runTool(tsharkPath ?? "", ["-r", pcap, "-Y", "tcp.analysis.flags"]) == "", "\(name): a clean capture (no retransmissions)")
        var client: [UInt8] = []
        var server: [UInt8] = []
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let port = Int(fields[0]) else { continue }
            let bytes = hex(String(fields[1]).replacingOccurrences(of: ":", with: ""))
            if port == serverPort { server += bytes } else { client += bytes }
        }
        func split(_ stream: [UInt8]) -> [Record] {
            var records: [Record] = []
            var offset = 0
            while offset + 5 <= stream.count {
                let length = Int(stream[offset + 3]) << 8 | Int(stream[offset + 4])
                guard offset + 5 + length <= stream.count else { break }
                records.append(Record(type: stream[offset], header: Array(stream[offset..<offset + 5]),
                                      payload: Array(stream[offset + 5..<offset + 5 + length])))
                offset += 5 + length
            }
            return records
        }
        return (split(client), split(server))
    }

    /// Handshake messages (type, whole message bytes) in a run of handshake bytes.
    static func messages(_ bytes: [UInt8]) -> [(type: UInt8, bytes: [UInt8])] {
        var result: [(UInt8, [UInt8])] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard offset + 4 + length <= bytes.count else { break }
            result.append((bytes[offset], Array(bytes[offset..<offset + 4 + length])))
            offset += 4 + length
        }
        return result
    }

    /// TLS 1.0–1.2: one side's cleartext handshake bytes up to its ChangeCipherSpec, and its first protected
    /// record after it (its Finished).
    static func clearThenProtected(_ records: [Record]) -> (clear: [UInt8], protected: Record?) {
        var clear: [UInt8] = []
        for (index, record) in records.enumerated() {
            if record.type == 20 { return (clear, records.dropFirst(index + 1).first) }
            if record.type == 22 { clear += record.payload }
        }
        return (clear, nil)
    }

    static func keyLog(_ name: String) throws -> KeyLog {
        let data = try Data(contentsOf: fixturesRoot.appendingPathComponent("keylog/\(name).keys"))
        let log = KeyLog(parsing: Array(data))
        #expect(log.problems.isEmpty)
        return log
    }

    @Test(arguments: [
        ("keylog-tls13-aes128gcm", 44360, "TLS_AES_128_GCM_SHA256"),
        ("keylog-tls13-aes256gcm", 44361, "TLS_AES_256_GCM_SHA384"),
        ("keylog-tls13-chacha20", 44362, "TLS_CHACHA20_POLY1305_SHA256"),
    ])
    func tls13(name: String, port: Int, suiteName: String) throws {
        let (client, server) = try Self.records(name, serverPort: port)
        let clientHello = try #require(client.first { $0.type == 22 }).payload
        let serverHello = try #require(server.first { $0.type == 22 }).payload
        let secrets = try #require(try Self.keyLog(name).secrets(clientRandom: Array(clientHello[6..<38])))
        let hash = ScheduleHash(suiteName: suiteName)
        let parts = try #require(CipherSuite(recordName: suiteName)?.parts)
        let (cipher, keyLength) = try #require(RecordProtection.Cipher.of(encryption: parts.encryption))

        // The server's protected flight, opened record by record (sequence numbers from 0).
        let serverSecret = try #require(secrets[.serverHandshakeTrafficSecret])
        let serverKeys = TLS13KeySchedule.trafficKeys(hash, secret: serverSecret, keyLength: keyLength)
        let serverProtection = RecordProtection(cipher: cipher, key: serverKeys.key, iv: serverKeys.iv)
        var flight: [UInt8] = []
        var sequence: UInt64 = 0
        for record in server where record.type == 23 {
            let opened = try serverProtection.openTLS13(header: record.header, payload: record.payload, sequence: sequence)
            sequence += 1
            #expect(opened.contentType == 22)
            flight += opened.content
            if Self.messages(flight).contains(where: { $0.type == 20 }) { break }
        }
        let serverMessages = Self.messages(flight)
        #expect(serverMessages.map(\.type) == [8, 11, 15, 20], "EncryptedExtensions, Certificate, CertificateVerify, Finished")
        // TLSWire's parser of protected messages reads the same flight.
        let parsed = try ProtectedHandshakeMessage.split(flight).messages.map(\.message)
        #expect(parsed.count == 4)
        if parsed.count == 4, case .certificate(_, let chain) = parsed[1] {
            #expect(chain.certificates.count == 2, "leaf and intermediate")
        } else {
            Issue.record("no Certificate parsed")
        }
        var transcript = clientHello + serverHello
        for message in serverMessages.dropLast() { transcript += message.bytes }
        let serverFinished = try #require(serverMessages.last).bytes.dropFirst(4)
        #expect(Array(serverFinished) == TLS13KeySchedule.finishedVerifyData(hash, secret: serverSecret, transcriptHash: hash.hash(transcript)))

        // The client's Finished, under the client's handshake keys, over the transcript through the server's.
        let clientSecret = try #require(secrets[.clientHandshakeTrafficSecret])
        let clientKeys = TLS13KeySchedule.trafficKeys(hash, secret: clientSecret, keyLength: keyLength)
        let clientRecord = try #require(client.first { $0.type == 23 })
        let opened = try RecordProtection(cipher: cipher, key: clientKeys.key, iv: clientKeys.iv)
            .openTLS13(header: clientRecord.header, payload: clientRecord.payload, sequence: 0)
        let clientFinished = try #require(Self.messages(opened.content).first { $0.type == 20 })
        transcript += try #require(serverMessages.last).bytes
        #expect(Array(clientFinished.bytes.dropFirst(4)) == TLS13KeySchedule.finishedVerifyData(hash, secret: clientSecret, transcriptHash: hash.hash(transcript)))

        // The leaf certificate: the same DER tshark decrypts with this key log.
        let certificate = serverMessages[1].bytes
        let leafLength = Int(certificate[8]) << 16 | Int(certificate[9]) << 8 | Int(certificate[10])
        let leaf = Array(certificate[11..<11 + leafLength])
        let tshark = try #require(runTool(tsharkPath ?? "", [
            "-r", fixturesRoot.appendingPathComponent("pcap/\(name).pcap").path,
            "-o", "tls.keylog_file:" + fixturesRoot.appendingPathComponent("keylog/\(name).keys").path,
            "-Y", "tls.handshake.certificate", "-T", "fields", "-e", "tls.handshake.certificate",
        ]))
        let first = try #require(tshark.split(separator: "\n").first?.split(separator: ",").first)
        #expect(hex(String(first).replacingOccurrences(of: ":", with: "")) == leaf)
    }

    @Test(arguments: [
        ("keylog-tls12-aes128gcm", 44363, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("keylog-tls12-aes256gcm", 44364, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("keylog-tls12-chacha20", 44365, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    ])
    func tls12(name: String, port: Int, suiteName: String) throws {
        let (client, server) = try Self.records(name, serverPort: port)
        let clientHello = try #require(client.first { $0.type == 22 }).payload
        let serverHello = try #require(server.first { $0.type == 22 }).payload
        let master = try #require(try Self.keyLog(name).secrets(clientRandom: Array(clientHello[6..<38]))?.masterSecret)
        let prf = PRFHash.tls12(ScheduleHash(suiteName: suiteName))
        let parts = try #require(CipherSuite(recordName: suiteName)?.parts)
        let (cipher, keyLength) = try #require(RecordProtection.Cipher.of(encryption: parts.encryption))
        let ivLength = cipher == .aesGCM ? 4 : 12
        let block = TLS12PRF.keyBlock(prf, masterSecret: master, clientRandom: Array(clientHello[6..<38]),
                                      serverRandom: Array(serverHello[6..<38]), length: 2 * keyLength + 2 * ivLength)
        let clientKey = Array(block[0..<keyLength])
        let serverKey = Array(block[keyLength..<2 * keyLength])
        let clientIV = Array(block[2 * keyLength..<2 * keyLength + ivLength])
        let serverIV = Array(block[2 * keyLength + ivLength..<2 * keyLength + 2 * ivLength])

        let clientSide = Self.clearThenProtected(client)
        let serverSide = Self.clearThenProtected(server)
        let serverFlight = Self.messages(serverSide.clear)
        // The client speaks first and last before its Finished: ClientHello, the server's flight (without a
        // NewSessionTicket, which follows the client's Finished), ClientKeyExchange.
        let beforeTicket = serverFlight.filter { $0.type != 4 }.flatMap(\.bytes)
        var transcript = clientSide.clear.prefix(clientHello.count) + beforeTicket + clientSide.clear.dropFirst(clientHello.count)
        let clientRecord = try #require(clientSide.protected)
        let clientFinished = try RecordProtection(cipher: cipher, key: clientKey, iv: clientIV)
            .openTLS12(contentType: 22, version: 0x0303, payload: clientRecord.payload, sequence: 0)
        #expect(clientFinished.first == 20)
        #expect(Array(clientFinished.dropFirst(4)) == TLS12PRF.finishedVerifyData(
            prf, masterSecret: master, fromClient: true, handshakeHash: prf.handshakeHash(Array(transcript))))

        transcript += clientFinished + serverFlight.filter { $0.type == 4 }.flatMap(\.bytes)
        let serverRecord = try #require(serverSide.protected)
        let serverFinished = try RecordProtection(cipher: cipher, key: serverKey, iv: serverIV)
            .openTLS12(contentType: 22, version: 0x0303, payload: serverRecord.payload, sequence: 0)
        #expect(Array(serverFinished.dropFirst(4)) == TLS12PRF.finishedVerifyData(
            prf, masterSecret: master, fromClient: false, handshakeHash: prf.handshakeHash(Array(transcript))))

        // A wrong master secret: the record does not open.
        var wrong = master
        wrong[0] ^= 1
        let wrongBlock = TLS12PRF.keyBlock(prf, masterSecret: wrong, clientRandom: Array(clientHello[6..<38]),
                                           serverRandom: Array(serverHello[6..<38]), length: 2 * keyLength + 2 * ivLength)
        #expect(throws: RecordOpenError.authenticationFailed) {
            try RecordProtection(cipher: cipher, key: Array(wrongBlock[0..<keyLength]), iv: Array(wrongBlock[2 * keyLength..<2 * keyLength + ivLength]))
                .openTLS12(contentType: 22, version: 0x0303, payload: clientRecord.payload, sequence: 0)
        }
    }

    /// CBC with HMAC: encrypt-then-MAC and MAC-then-encrypt on TLS 1.2 (explicit IVs), and TLS 1.0 (the key
    /// block's IVs, the MD5/SHA-1 PRF): both Finished messages open and verify; a wrong MAC key does not.
    @Test(arguments: [
        ("keylog-tls12-cbc-etm", 44366, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", UInt16(0x0303), true),
        ("keylog-tls12-cbc", 44367, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", UInt16(0x0303), false),
        ("keylog-tls10-cbc", 44368, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", UInt16(0x0301), false),
    ])
    func cbc(name: String, port: Int, suiteName: String, version: UInt16, encryptThenMAC: Bool) throws {
        let (client, server) = try Self.records(name, serverPort: port)
        let clientHello = try #require(client.first { $0.type == 22 }).payload
        let serverHello = try #require(server.first { $0.type == 22 }).payload
        let master = try #require(try Self.keyLog(name).secrets(clientRandom: Array(clientHello[6..<38]))?.masterSecret)
        let prf: PRFHash = version == 0x0303 ? .tls12(ScheduleHash(suiteName: suiteName)) : .md5sha1
        let mac = try #require(CBCRecordProtection.MAC(suiteName: suiteName))
        let keyLength = suiteName.contains("AES_256") ? 32 : 16
        let block = TLS12PRF.keyBlock(prf, masterSecret: master, clientRandom: Array(clientHello[6..<38]),
                                      serverRandom: Array(serverHello[6..<38]), length: 2 * mac.length + 2 * keyLength + 32)
        func protection(client: Bool, macKeyFlip: UInt8 = 0) -> CBCRecordProtection {
            var macKey = Array(block[(client ? 0 : mac.length)..<(client ? mac.length : 2 * mac.length)])
            macKey[0] ^= macKeyFlip
            let keyStart = 2 * mac.length + (client ? 0 : keyLength)
            let ivStart = 2 * mac.length + 2 * keyLength + (client ? 0 : 16)
            return CBCRecordProtection(
                key: Array(block[keyStart..<keyStart + keyLength]), macKey: macKey, mac: mac, encryptThenMAC: encryptThenMAC,
                implicitIV: version == 0x0301 ? Array(block[ivStart..<ivStart + 16]) : nil)
        }
        let clientSide = Self.clearThenProtected(client)
        let serverSide = Self.clearThenProtected(server)
        let serverFlight = Self.messages(serverSide.clear)
        var transcript = Array(clientSide.clear.prefix(clientHello.count)) + serverFlight.filter { $0.type != 4 }.flatMap(\.bytes)
            + Array(clientSide.clear.dropFirst(clientHello.count))
        let clientRecord = try #require(clientSide.protected)
        var clientProtection = protection(client: true)
        let clientFinished = try clientProtection.open(contentType: 22, version: version, payload: clientRecord.payload, sequence: 0)
        #expect(clientFinished.first == 20 && clientFinished.count == 16)
        #expect(Array(clientFinished.dropFirst(4)) == TLS12PRF.finishedVerifyData(
            prf, masterSecret: master, fromClient: true, handshakeHash: prf.handshakeHash(transcript)))
        transcript += clientFinished + serverFlight.filter { $0.type == 4 }.flatMap(\.bytes)
        let serverRecord = try #require(serverSide.protected)
        var serverProtection = protection(client: false)
        let serverFinished = try serverProtection.open(contentType: 22, version: version, payload: serverRecord.payload, sequence: 0)
        #expect(Array(serverFinished.dropFirst(4)) == TLS12PRF.finishedVerifyData(
            prf, masterSecret: master, fromClient: false, handshakeHash: prf.handshakeHash(transcript)))
        var wrong = protection(client: true, macKeyFlip: 1)
        #expect(throws: RecordOpenError.authenticationFailed) {
            try wrong.open(contentType: 22, version: version, payload: clientRecord.payload, sequence: 0)
        }
    }
}
