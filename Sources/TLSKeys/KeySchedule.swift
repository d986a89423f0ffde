import Crypto

/// The hash of a TLS 1.3 suite (RFC 8446 §7.1), or of a TLS 1.2 suite's PRF (SHA-256 unless the suite
/// names SHA-384, RFC 5246 §5).
public enum ScheduleHash: Sendable, Hashable {
    case sha256, sha384

    /// The hash a suite's IANA name ends in: SHA-384 for "..._SHA384", else SHA-256.
    public init(suiteName: String) {
        self = suiteName.hasSuffix("_SHA384") ? .sha384 : .sha256
    }

    public var length: Int { self == .sha256 ? 32 : 48 }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha384: Array(SHA384.hash(data: data))
        }
    }

    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha384: return Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        }
    }
}

/// The PRF of a TLS version and suite: TLS 1.2's P_hash, or TLS 1.0/1.1's P_MD5 XOR P_SHA1 (RFC 2246 §5),
/// whose handshake hash is MD5 and SHA-1 side by side.
public enum PRFHash: Sendable, Hashable {
    case tls12(ScheduleHash)
    case md5sha1

    public func handshakeHash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .tls12(let hash): hash.hash(data)
        case .md5sha1: Array(Insecure.MD5.hash(data: data)) + Array(Insecure.SHA1.hash(data: data))
        }
    }
}

/// TLS 1.3's key schedule (RFC 8446 §7.1): HKDF-Extract, HKDF-Expand-Label and Derive-Secret, the traffic
/// keys of a secret (§7.3) and the Finished verify_data (§4.4.4). Tested against RFC 8448's trace.
public enum TLS13KeySchedule {
    /// HKDF-Extract(salt, IKM) (RFC 5869 §2.2): HMAC(salt, IKM).
    public static func extract(_ hash: ScheduleHash, salt: [UInt8], inputKeyMaterial: [UInt8]) -> [UInt8] {
        hash.hmac(key: salt.isEmpty ? [UInt8](repeating: 0, count: hash.length) : salt, inputKeyMaterial)
    }

    /// HKDF-Expand-Label(Secret, Label, Context, Length): HKDF-Expand with the HkdfLabel structure, label
    /// prefixed "tls13 ".
    public static func expandLabel(
        _ hash: ScheduleHash, secret: [UInt8], label: String, context: [UInt8], length: Int
    ) -> [UInt8] {
        let fullLabel = Array("tls13 ".utf8) + Array(label.utf8)
        var info: [UInt8] = [UInt8(length >> 8 & 0xff), UInt8(length & 0xff), UInt8(fullLabel.count)]
        info += fullLabel
        info.append(UInt8(context.count))
        info += context
        return expand(hash, pseudorandomKey: secret, info: info, length: length)
    }

    /// HKDF-Expand (RFC 5869 §2.3).
    static func expand(_ hash: ScheduleHash, pseudorandomKey: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = hash.hmac(key: pseudorandomKey, block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }

    /// Derive-Secret(Secret, Label, Messages), given the transcript hash of the messages.
    public static func deriveSecret(_ hash: ScheduleHash, secret: [UInt8], label: String, transcriptHash: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: secret, label: label, context: transcriptHash, length: hash.length)
    }

    /// The write key and IV of a traffic secret (RFC 8446 §7.3).
    public static func trafficKeys(_ hash: ScheduleHash, secret: [UInt8], keyLength: Int) -> (key: [UInt8], iv: [UInt8]) {
        (expandLabel(hash, secret: secret, label: "key", context: [], length: keyLength),
         expandLabel(hash, secret: secret, label: "iv", context: [], length: 12))
    }

    /// finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length).
    public static func finishedKey(_ hash: ScheduleHash, secret: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: secret, label: "finished", context: [], length: hash.length)
    }

    /// verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*)).
    public static func finishedVerifyData(_ hash: ScheduleHash, secret: [UInt8], transcriptHash: [UInt8]) -> [UInt8] {
        hash.hmac(key: finishedKey(hash, secret: secret), transcriptHash)
    }

    /// The secrets of a full (EC)DHE handshake without PSK, from the shared secret: what a key log does not
    /// hold but a story of the schedule shows (and RFC 8448 lists step by step).
    public struct HandshakeSecrets: Sendable, Hashable {
        public var early: [UInt8]
        public var handshake: [UInt8]
        public var clientHandshakeTraffic: [UInt8]
        public var serverHandshakeTraffic: [UInt8]
        public var master: [UInt8]

        /// `helloHash`: Transcript-Hash(ClientHello...ServerHello).
        public init(_ hash: ScheduleHash, sharedSecret: [UInt8], helloHash: [UInt8], preSharedKey: [UInt8]? = nil) {
            let zeros = [UInt8](repeating: 0, count: hash.length)
            let emptyHash = hash.hash([])
            early = TLS13KeySchedule.extract(hash, salt: [], inputKeyMaterial: preSharedKey ?? zeros)
            let derivedEarly = TLS13KeySchedule.deriveSecret(hash, secret: early, label: "derived", transcriptHash: emptyHash)
            handshake = TLS13KeySchedule.extract(hash, salt: derivedEarly, inputKeyMaterial: sharedSecret)
            clientHandshakeTraffic = TLS13KeySchedule.deriveSecret(hash, secret: handshake, label: "c hs traffic", transcriptHash: helloHash)
            serverHandshakeTraffic = TLS13KeySchedule.deriveSecret(hash, secret: handshake, label: "s hs traffic", transcriptHash: helloHash)
            let derivedHandshake = TLS13KeySchedule.deriveSecret(hash, secret: handshake, label: "derived", transcriptHash: emptyHash)
            master = TLS13KeySchedule.extract(hash, salt: derivedHandshake, inputKeyMaterial: zeros)
        }
    }
}

/// The TLS 1.0–1.2 pseudorandom function and what it derives (RFC 5246 §5, §6.3, §7.4.9; RFC 2246 §5;
/// RFC 7627 for the extended master secret).
public enum TLS12PRF {
    /// PRF(secret, label, seed) to `length` bytes: P_SHA256/P_SHA384 for TLS 1.2, P_MD5 XOR P_SHA1 over the
    /// secret's halves for TLS 1.0 and 1.1.
    public static func prf(_ hash: PRFHash, secret: [UInt8], label: String, seed: [UInt8], length: Int) -> [UInt8] {
        let labelAndSeed = Array(label.utf8) + seed
        switch hash {
        case .tls12(let hash):
            return pHash(hash, secret: secret, seed: labelAndSeed, length: length)
        case .md5sha1:
            let half = (secret.count + 1) / 2
            let md5 = pMD5(secret: Array(secret.prefix(half)), seed: labelAndSeed, length: length)
            let sha1 = pSHA1(secret: Array(secret.suffix(half)), seed: labelAndSeed, length: length)
            return zip(md5, sha1).map { $0 ^ $1 }
        }
    }

    /// master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47],
    /// or with the extended master secret, PRF(pre_master_secret, "extended master secret", session_hash).
    public static func masterSecret(
        _ hash: PRFHash, preMasterSecret: [UInt8], clientRandom: [UInt8], serverRandom: [UInt8], sessionHash: [UInt8]? = nil
    ) -> [UInt8] {
        if let sessionHash {
            return prf(hash, secret: preMasterSecret, label: "extended master secret", seed: sessionHash, length: 48)
        }
        return prf(hash, secret: preMasterSecret, label: "master secret", seed: clientRandom + serverRandom, length: 48)
    }

    /// The key block (RFC 5246 §6.3): note the randoms in the other order than for the master secret.
    public static func keyBlock(
        _ hash: PRFHash, masterSecret: [UInt8], clientRandom: [UInt8], serverRandom: [UInt8], length: Int
    ) -> [UInt8] {
        prf(hash, secret: masterSecret, label: "key expansion", seed: serverRandom + clientRandom, length: length)
    }

    /// Finished.verify_data = PRF(master_secret, "client finished" | "server finished", Hash(handshake_messages))[0..11].
    public static func finishedVerifyData(
        _ hash: PRFHash, masterSecret: [UInt8], fromClient: Bool, handshakeHash: [UInt8]
    ) -> [UInt8] {
        prf(hash, secret: masterSecret, label: fromClient ? "client finished" : "server finished", seed: handshakeHash, length: 12)
    }

    static func pHash(_ hash: ScheduleHash, secret: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        iterate(length: length, seed: seed) { hash.hmac(key: secret, $0) }
    }

    private static func pMD5(secret: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        iterate(length: length, seed: seed) { Array(HMAC<Insecure.MD5>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
    }

    private static func pSHA1(secret: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        iterate(length: length, seed: seed) { Array(HMAC<Insecure.SHA1>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
    }

    private static func iterate(length: Int, seed: [UInt8], _ mac: ([UInt8]) -> [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var a = seed
        while output.count < length {
            a = mac(a)
            output += mac(a + seed)
        }
        return Array(output.prefix(length))
    }
}
