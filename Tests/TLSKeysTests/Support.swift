import Crypto

/// Seals like a TLS 1.2 stack (for the opening test): AES-GCM with the given nonce; ciphertext and tag.
func sealGCM(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], additionalData: [UInt8]) throws -> [UInt8] {
    let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce), authenticating: additionalData)
    return Array(box.ciphertext) + Array(box.tag)
}
