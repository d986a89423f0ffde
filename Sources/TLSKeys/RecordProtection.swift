import Crypto

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
