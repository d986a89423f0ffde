import Testing
import TLSWire
import X509Inspection
@testable import TLSKeys

func hex(_ text: String) -> [UInt8] {
    KeyLog.hex(Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0a })) ?? []
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// RFC 8448 §3 ("Simple 1-RTT Handshake"), TLS_AES_128_GCM_SHA256: the records as sent and the values the
/// RFC lists for each step of the schedule.
enum RFC8448 {
    static let clientHelloRecord = hex(
        "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001")
    static let serverHelloRecord = hex(
        "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304")
    /// The server's protected flight (EncryptedExtensions, Certificate, CertificateVerify, Finished).
    static let serverFlightRecord = hex(
        "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b")
    static let sharedSecret = hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
    static let helloHash = hex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")
    static let earlySecret = hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
    static let handshakeSecret = hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
    static let clientHandshakeTraffic = hex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
    static let serverHandshakeTraffic = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
    static let masterSecret = hex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
}

@Suite struct TLS13KeyScheduleTests {
    /// Every step of RFC 8448's schedule, from the shared secret and the hash of the hellos as sent.
    @Test func secretsOfRFC8448() {
        let transcript = Array(RFC8448.clientHelloRecord.dropFirst(5)) + Array(RFC8448.serverHelloRecord.dropFirst(5))
        #expect(ScheduleHash.sha256.hash(transcript) == RFC8448.helloHash)
        let secrets = TLS13KeySchedule.HandshakeSecrets(.sha256, sharedSecret: RFC8448.sharedSecret, helloHash: RFC8448.helloHash)
        #expect(secrets.early == RFC8448.earlySecret)
        #expect(secrets.handshake == RFC8448.handshakeSecret)
        #expect(secrets.clientHandshakeTraffic == RFC8448.clientHandshakeTraffic)
        #expect(secrets.serverHandshakeTraffic == RFC8448.serverHandshakeTraffic)
        #expect(secrets.master == RFC8448.masterSecret)
        let server = TLS13KeySchedule.trafficKeys(.sha256, secret: RFC8448.serverHandshakeTraffic, keyLength: 16)
        #expect(hexString(server.key) == "3fce516009c21727d0f2e4e86ee403bc")
        #expect(hexString(server.iv) == "5d313eb2671276ee13000b30")
        let client = TLS13KeySchedule.trafficKeys(.sha256, secret: RFC8448.clientHandshakeTraffic, keyLength: 16)
        #expect(hexString(client.key) == "dbfaa693d1762c5b666af5d950258d01")
        #expect(hexString(client.iv) == "5bd3c71b836e0b76bb73265f")
        #expect(hexString(TLS13KeySchedule.finishedKey(.sha256, secret: RFC8448.serverHandshakeTraffic))
            == "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")
    }

    /// The server's flight opened with the server handshake keys: EncryptedExtensions, the certificate
    /// (CN=rsa), CertificateVerify (rsa_pss_rsae_sha256), and a Finished whose verify_data is the HMAC of
    /// the transcript; a wrong key or sequence number fails to authenticate instead.
    @Test func serverFlightOfRFC8448OpensAndProvesItself() throws {
        let keys = TLS13KeySchedule.trafficKeys(.sha256, secret: RFC8448.serverHandshakeTraffic, keyLength: 16)
        let protection = RecordProtection(cipher: .aesGCM, key: keys.key, iv: keys.iv)
        let record = RFC8448.serverFlightRecord
        #expect(record.count == 679)
        let opened = try protection.openTLS13(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5)), sequence: 0)
        #expect(opened.contentType == 22)
        // Walk the handshake messages: type, 24-bit length, body.
        var messages: [(type: UInt8, bytes: [UInt8])] = []
        var offset = 0
        let content = opened.content
        while offset + 4 <= content.count {
            let length = Int(content[offset + 1]) << 16 | Int(content[offset + 2]) << 8 | Int(content[offset + 3])
            guard offset + 4 + length <= content.count else { break }
            messages.append((content[offset], Array(content[offset..<offset + 4 + length])))
            offset += 4 + length
        }
        #expect(messages.map(\.type) == [8, 11, 15, 20])
        // Certificate (RFC 8446 §4.4.2): context length, list length, first entry's DER.
        let certificate = messages[1].bytes
        let derLength = Int(certificate[8]) << 16 | Int(certificate[9]) << 8 | Int(certificate[10])
        let leaf = try CertificateSummary(derEncoded: Array(certificate[11..<11 + derLength]))
        #expect(leaf.subject == "CN=rsa")
        #expect(messages[2].bytes[4] == 0x08 && messages[2].bytes[5] == 0x04, "rsa_pss_rsae_sha256")
        let transcript = Array(RFC8448.clientHelloRecord.dropFirst(5)) + Array(RFC8448.serverHelloRecord.dropFirst(5))
            + messages[0].bytes + messages[1].bytes + messages[2].bytes
        let expected = TLS13KeySchedule.finishedVerifyData(.sha256, secret: RFC8448.serverHandshakeTraffic, transcriptHash: ScheduleHash.sha256.hash(transcript))
        #expect(Array(messages[3].bytes.dropFirst(4)) == expected)

        var wrongKey = keys.key
        wrongKey[0] ^= 1
        #expect(throws: RecordOpenError.authenticationFailed) {
            try RecordProtection(cipher: .aesGCM, key: wrongKey, iv: keys.iv)
                .openTLS13(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5)), sequence: 0)
        }
        #expect(throws: RecordOpenError.authenticationFailed) {
            try protection.openTLS13(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5)), sequence: 1)
        }
        #expect(throws: RecordOpenError.self) {
            try protection.openTLS13(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5).prefix(10)), sequence: 0)
        }
    }
}

@Suite struct TLS12PRFTests {
    /// The P_SHA256 and P_SHA384 vectors posted to the TLS working group (msg03416), and the TLS 1.0 PRF
    /// vector (secret 48 × 0xab, seed 64 × 0xcd, label "PRF Testvector").
    @Test func publishedVectors() {
        let sha256 = TLS12PRF.prf(.tls12(.sha256), secret: hex("9bbe436ba940f017b17652849a71db35"), label: "test label",
                                  seed: hex("a0ba9f936cda311827a6f796ffd5198c"), length: 100)
        #expect(hexString(sha256) == "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66")
        let sha384 = TLS12PRF.prf(.tls12(.sha384), secret: hex("b80b733d6ceefcdc71566ea48e5567df"), label: "test label",
                                  seed: hex("cd665cf6a8447dd6ff8b27555edb7465"), length: 64)
        #expect(hexString(sha384) == "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd")
        let tls10 = TLS12PRF.prf(.md5sha1, secret: [UInt8](repeating: 0xab, count: 48), label: "PRF Testvector",
                                 seed: [UInt8](repeating: 0xcd, count: 64), length: 104)
        #expect(hexString(tls10) == "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff69255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f1afbc655a8c9a013")
    }

    /// A TLS 1.2 AES-GCM record sealed as a TLS stack seals it (explicit nonce, sequence-number AAD) opens;
    /// another sequence number does not.
    @Test func gcmRecordOpens() throws {
        let key = [UInt8](repeating: 7, count: 16)
        let salt: [UInt8] = [1, 2, 3, 4]
        let explicit: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 5]
        let plaintext = Array("finished".utf8)
        let additional: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 5, 22, 3, 3, 0, 8]
        let sealed = try sealGCM(key: key, nonce: salt + explicit, plaintext: plaintext, additionalData: additional)
        let protection = RecordProtection(cipher: .aesGCM, key: key, iv: salt)
        #expect(try protection.openTLS12(contentType: 22, version: 0x0303, payload: explicit + sealed, sequence: 5) == plaintext)
        #expect(throws: RecordOpenError.authenticationFailed) {
            try protection.openTLS12(contentType: 22, version: 0x0303, payload: explicit + sealed, sequence: 6)
        }
    }
}

@Suite struct KeyLogTests {
    /// Labels of both generations, comments and blanks; malformed lines reported with their numbers and
    /// skipped, the rest kept.
    @Test func parsesAndReportsByLine() {
        let random = String(repeating: "ab", count: 32)
        let text = """
            # SSL/TLS secrets log file, generated by NSS
            CLIENT_RANDOM \(random) \(String(repeating: "11", count: 48))
            CLIENT_HANDSHAKE_TRAFFIC_SECRET \(random) \(String(repeating: "22", count: 32))

            SERVER_HANDSHAKE_TRAFFIC_SECRET \(random) \(String(repeating: "33", count: 48))
            CLIENT_RANDOM \(random)
            BOGUS_LABEL \(random) 00
            CLIENT_RANDOM \(String(repeating: "ab", count: 31)) \(String(repeating: "11", count: 48))
            CLIENT_RANDOM \(random) \(String(repeating: "1g", count: 48))
            CLIENT_RANDOM \(random) \(String(repeating: "11", count: 32))
            """
        let log = KeyLog(parsing: Array(text.utf8))
        #expect(log.count == 1)
        let secrets = log.secrets(clientRandom: [UInt8](repeating: 0xab, count: 32))
        #expect(secrets?.masterSecret == [UInt8](repeating: 0x11, count: 48))
        #expect(secrets?[.clientHandshakeTrafficSecret] == [UInt8](repeating: 0x22, count: 32))
        #expect(secrets?[.serverHandshakeTrafficSecret] == [UInt8](repeating: 0x33, count: 48))
        #expect(log.problems.map(\.line) == [6, 7, 8, 9, 10])
        #expect(log.problems.first?.description == "line 6: CLIENT_RANDOM needs a client random and a secret")
        #expect(log.secrets(clientRandom: [UInt8](repeating: 0xac, count: 32)) == nil)
    }
}

/// The protected messages' parser on what the keys open: RFC 8448's flight, then every truncation and
/// single-byte change of it (decrypted bytes are untrusted too: a parse fails or succeeds, never traps).
@Suite struct ProtectedHandshakeTests {
    static func rfc8448Flight() throws -> [UInt8] {
        let keys = TLS13KeySchedule.trafficKeys(.sha256, secret: RFC8448.serverHandshakeTraffic, keyLength: 16)
        let record = RFC8448.serverFlightRecord
        return try RecordProtection(cipher: .aesGCM, key: keys.key, iv: keys.iv)
            .openTLS13(header: Array(record.prefix(5)), payload: Array(record.dropFirst(5)), sequence: 0).content
    }

    @Test func rfc8448ServerFlight() throws {
        let (messages, remainder) = try ProtectedHandshakeMessage.split(try Self.rfc8448Flight())
        #expect(remainder == 0)
        #expect(messages.count == 4)
        guard messages.count == 4 else { return }
        guard case .encryptedExtensions(let types, let alpn) = messages[0].message else {
            Issue.record("not EncryptedExtensions: \(messages[0].message)")
            return
        }
        #expect(types.map(\.rawValue) == [10, 28, 0], "supported_groups, record_size_limit, server_name")
        #expect(alpn == nil)
        guard case .certificate(let context, let chain) = messages[1].message else {
            Issue.record("not Certificate")
            return
        }
        #expect(context.isEmpty)
        #expect(chain.certificates.count == 1)
        #expect(try CertificateSummary(derEncoded: chain.certificates[0]).subject == "CN=rsa")
        #expect(messages[2].message == .certificateVerify(scheme: SignatureScheme(rawValue: 0x0804), signatureLength: 128))
        guard case .finished(let verifyData) = messages[3].message else {
            Issue.record("not Finished")
            return
        }
        #expect(verifyData.count == 32)
    }

    @Test func damagedFlightsNeverTrap() throws {
        let flight = try Self.rfc8448Flight()
        var parsed = 0
        var failed = 0
        for cut in stride(from: 0, through: flight.count, by: 7) {
            if (try? ProtectedHandshakeMessage.split(Array(flight.prefix(cut)))) != nil { parsed += 1 } else { failed += 1 }
        }
        var generator = UInt64(0x5eed)
        for _ in 0..<2000 {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            var damaged = flight
            let index = Int(generator >> 33) % damaged.count
            damaged[index] ^= UInt8(truncatingIfNeeded: generator >> 13) | 1
            if (try? ProtectedHandshakeMessage.split(damaged)) != nil { parsed += 1 } else { failed += 1 }
        }
        #expect(parsed > 0 && failed > 0, "both outcomes occur: \(parsed) parsed, \(failed) refused")
    }
}
