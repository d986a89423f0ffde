import Crypto
import _CryptoExtras

/// Why a protected record could not be opened.
public enum RecordOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The AEAD tag did not verify: wrong keys, a wrong sequence number, or damaged bytes.
    case authenticationFailed
    /// Shorter than its nonce and tag, or a header that does not match its length.
    case malformed(String)
    /// All padding, no content type (RFC 8446 §5.4 forbids it).
    case noContentType

    public var description: String {
        switch self {
        case .authenticationFailed: "the record does not authenticate with these keys"
        case .malformed(let why): "malformed protected record: \(why)"
        case .noContentType: "protected record without a content type"
        }
    }
}

/// An AEAD record protection of TLS 1.2 (RFC 5288, RFC 7905) or TLS 1.3 (RFC 8446 §5.2–5.3): the suite's
/// cipher, its write key and its IV. Opening a record needs its sequence number in the connection.
public struct RecordProtection: Sendable, Hashable {
    public enum Cipher: Sendable, Hashable {
        case aesGCM, chacha20Poly1305

        /// The cipher of an IANA suite's bulk encryption ("AES_128_GCM", "CHACHA20_POLY1305"), and its key
        /// length; nil for what is not an AEAD this opens (CBC, CCM, ...: reported as not supported).
        public static func of(encryption: String) -> (cipher: Cipher, keyLength: Int)? {
            switch encryption {
            case "AES_128_GCM": (.aesGCM, 16)
            case "AES_256_GCM": (.aesGCM, 32)
            case "CHACHA20_POLY1305": (.chacha20Poly1305, 32)
            default: nil
            }
        }
    }

    public var cipher: Cipher
    public var key: [UInt8]
    /// TLS 1.3 and ChaCha20: 12 bytes XORed with the sequence number; TLS 1.2 AES-GCM: the 4-byte salt.
    public var iv: [UInt8]

    public init(cipher: Cipher, key: [UInt8], iv: [UInt8]) {
        self.cipher = cipher
        self.key = key
        self.iv = iv
    }

    /// Opens a TLS 1.3 TLSCiphertext (`header`: its 5 bytes, the additional data; `payload`: what follows)
    /// and strips the padding: the real content type and the content.
    public func openTLS13(header: [UInt8], payload: [UInt8], sequence: UInt64) throws(RecordOpenError) -> (contentType: UInt8, content: [UInt8]) {
        guard header.count == 5, Int(header[3]) << 8 | Int(header[4]) == payload.count else {
            throw .malformed("header length does not match the payload")
        }
        var inner = try open(nonce: Self.xorNonce(iv, sequence), payload: payload, additionalData: header)
        while let last = inner.last, last == 0 { inner.removeLast() }
        guard let contentType = inner.popLast() else { throw .noContentType }
        return (contentType, inner)
    }

    /// Opens a TLS 1.2 AEAD record: AES-GCM carries an 8-byte explicit nonce first (RFC 5288 §3);
    /// ChaCha20-Poly1305 builds its nonce like TLS 1.3 (RFC 7905 §2). The additional data is the sequence
    /// number, type, version and plaintext length (RFC 5246 §6.2.3.3).
    public func openTLS12(contentType: UInt8, version: UInt16, payload: [UInt8], sequence: UInt64) throws(RecordOpenError) -> [UInt8] {
        let nonce: [UInt8]
        var sealed = payload[...]
        switch cipher {
        case .aesGCM:
            guard payload.count >= 8 + 16, iv.count == 4 else { throw .malformed("shorter than its explicit nonce and tag") }
            nonce = iv + payload.prefix(8)
            sealed = payload.dropFirst(8)
        case .chacha20Poly1305:
            nonce = Self.xorNonce(iv, sequence)
        }
        let plaintextLength = sealed.count - 16
        guard plaintextLength >= 0 else { throw .malformed("shorter than its tag") }
        var additionalData: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (56 - 8 * $0)) }
        additionalData += [contentType, UInt8(version >> 8), UInt8(version & 0xff), UInt8(plaintextLength >> 8 & 0xff), UInt8(plaintextLength & 0xff)]
        return try open(nonce: nonce, payload: Array(sealed), additionalData: additionalData)
    }

    private func open(nonce: [UInt8], payload: [UInt8], additionalData: [UInt8]) throws(RecordOpenError) -> [UInt8] {
        guard payload.count >= 16 else { throw .malformed("shorter than its tag") }
        let ciphertext = payload.dropLast(16)
        let tag = payload.suffix(16)
        let key = SymmetricKey(data: key)
        do {
            switch cipher {
            case .aesGCM:
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM.open(box, using: key, authenticating: additionalData))
            case .chacha20Poly1305:
                let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try ChaChaPoly.open(box, using: key, authenticating: additionalData))
            }
        } catch {
            throw .authenticationFailed
        }
    }

    /// The per-record nonce: the IV XOR the sequence number, left-padded to the IV's length (RFC 8446 §5.3).
    static func xorNonce(_ iv: [UInt8], _ sequence: UInt64) -> [UInt8] {
        var nonce = iv
        for index in 0..<min(8, nonce.count) {
            nonce[nonce.count - 1 - index] ^= UInt8(truncatingIfNeeded: sequence >> (8 * index))
        }
        return nonce
    }
}

/// A CBC-mode record protection of TLS 1.0–1.2 (RFC 5246 §6.2.3.2; RFC 2246 §6.2.3.2): AES in CBC mode with
/// an HMAC, either MAC-then-encrypt (the original order) or encrypt-then-MAC (RFC 7366, when both ends agreed
/// the extension). TLS 1.1 and later send each record's IV first; TLS 1.0 chains it from the previous
/// record, starting from the key block's IV.
public struct CBCRecordProtection: Sendable, Hashable {
    public enum MAC: Sendable, Hashable {
        case sha1, sha256, sha384
        public var length: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha384: 48
            }
        }
        /// The MAC of an IANA suite's name: "_SHA" → HMAC-SHA1, "_SHA256", "_SHA384".
        public init?(suiteName: String) {
            if suiteName.hasSuffix("_SHA384") { self = .sha384 } else if suiteName.hasSuffix("_SHA256") { self = .sha256 } else if suiteName.hasSuffix("_SHA") { self = .sha1 } else { return nil }
        }
        func code(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
            let key = SymmetricKey(data: key)
            switch self {
            case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
            case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
            case .sha384: return Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
            }
        }
    }

    public var key: [UInt8]
    public var macKey: [UInt8]
    public var mac: MAC
    public var encryptThenMAC: Bool
    /// TLS 1.0: the IV of the next record (the key block's, then the last ciphertext block of the previous
    /// record); nil when records carry their own (TLS 1.1 and later).
    public var implicitIV: [UInt8]?

    public init(key: [UInt8], macKey: [UInt8], mac: MAC, encryptThenMAC: Bool, implicitIV: [UInt8]? = nil) {
        self.key = key
        self.macKey = macKey
        self.mac = mac
        self.encryptThenMAC = encryptThenMAC
        self.implicitIV = implicitIV
    }

    /// Opens a record's body: checks the MAC and the padding and returns the content. With an implicit
    /// IV, the next record's IV is kept (records must then be opened in order).
    public mutating func open(contentType: UInt8, version: UInt16, payload: [UInt8], sequence: UInt64) throws(RecordOpenError) -> [UInt8] {
        let block = 16
        var body = payload[...]
        if encryptThenMAC {
            guard body.count >= mac.length else { throw .malformed("shorter than its MAC") }
            let received = Array(body.suffix(mac.length))
            body = body.dropLast(mac.length)
            let expected = mac.code(key: macKey, Self.header(sequence, contentType, version, body.count) + body)
            guard Self.constantTimeEqual(received, expected) else { throw .authenticationFailed }
        }
        let iv: [UInt8]
        if let implicitIV {
            iv = implicitIV
        } else {
            guard body.count >= block else { throw .malformed("shorter than its IV") }
            iv = Array(body.prefix(block))
            body = body.dropFirst(block)
        }
        guard !body.isEmpty, body.count % block == 0 else { throw .malformed("ciphertext is not whole AES blocks") }
        let plaintext: [UInt8]
        do {
            plaintext = Array(try AES._CBC.decrypt(body, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: iv), noPadding: true))
        } catch {
            throw .malformed("AES-CBC")
        }
        if implicitIV != nil { implicitIV = Array(body.suffix(block)) }
        // padding_length, then that many bytes of its value (RFC 5246 §6.2.3.2).
        guard let paddingLength = plaintext.last.map(Int.init), paddingLength + 1 <= plaintext.count,
            plaintext.suffix(paddingLength + 1).allSatisfy({ Int($0) == paddingLength })
        else { throw .authenticationFailed }
        let unpadded = plaintext.dropLast(paddingLength + 1)
        if encryptThenMAC { return Array(unpadded) }
        guard unpadded.count >= mac.length else { throw .authenticationFailed }
        let content = Array(unpadded.dropLast(mac.length))
        let expected = mac.code(key: macKey, Self.header(sequence, contentType, version, content.count) + content)
        guard Self.constantTimeEqual(Array(unpadded.suffix(mac.length)), expected) else { throw .authenticationFailed }
        return content
    }

    /// seq_num + type + version + length: what the MAC covers before the data.
    static func header(_ sequence: UInt64, _ contentType: UInt8, _ version: UInt16, _ length: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (56 - 8 * $0)) }
            + [contentType, UInt8(version >> 8), UInt8(version & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
