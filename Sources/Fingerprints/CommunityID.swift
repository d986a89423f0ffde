import Crypto

/// Community ID v1 (Corelight's community-id-spec): the flow hash Zeek, Suricata and Wireshark log, so a
/// tlsscope record can be joined with their logs. The same for both directions of a flow.
public enum CommunityID {
    /// `"1:"` and the base64 SHA-1 of the seed, the two endpoints ordered (lower address, then lower port,
    /// first), the IP protocol number, a zero byte and the two ports, all in network byte order.
    /// Addresses are 4 (IPv4) or 16 (IPv6) bytes.
    public static func v1(
        protocolNumber: UInt8, address: [UInt8], port: UInt16, otherAddress: [UInt8], otherPort: UInt16,
        seed: UInt16 = 0
    ) -> String {
        let firstIsLower =
            address.lexicographicallyPrecedes(otherAddress) || (address == otherAddress && port <= otherPort)
        let (lowAddress, lowPort, highAddress, highPort) =
            firstIsLower ? (address, port, otherAddress, otherPort) : (otherAddress, otherPort, address, port)
        // The seed is built in a scratch buffer and the text written at once: an array, `Data`-style hashing
        // and a concatenated string were most of the 4,800 instructions a record spent here.
        let capacity = 2 + lowAddress.count + highAddress.count + 6
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { input in
            var count = 0
            func put(_ byte: UInt8) {
                input[count] = byte
                count += 1
            }
            put(UInt8(seed >> 8))
            put(UInt8(seed & 0xFF))
            for byte in lowAddress { put(byte) }
            for byte in highAddress { put(byte) }
            put(protocolNumber)
            put(0)
            put(UInt8(lowPort >> 8))
            put(UInt8(lowPort & 0xFF))
            put(UInt8(highPort >> 8))
            put(UInt8(highPort & 0xFF))
            let digest = Insecure.SHA1.hash(data: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: input[0..<count])))
            return digest.withUnsafeBytes { base64($0, prefix: "1:") }
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding (RFC 4648 §4), written at once (a SHA-1 gives 28 characters), after
    /// `prefix` (ASCII).
    static func base64(_ bytes: UnsafeRawBufferPointer, prefix: StaticString = "") -> String {
        let length = prefix.utf8CodeUnitCount + (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: length) { output in
            var written = 0
            prefix.withUTF8Buffer { text in
                for byte in text {
                    output[written] = byte
                    written += 1
                }
            }
            var index = 0
            while index < bytes.count {
                let remaining = bytes.count - index
                let first = UInt32(bytes[index])
                let second = remaining > 1 ? UInt32(bytes[index + 1]) : 0
                let third = remaining > 2 ? UInt32(bytes[index + 2]) : 0
                let triple = first << 16 | second << 8 | third
                output[written] = alphabet[Int(triple >> 18 & 0x3F)]
                output[written + 1] = alphabet[Int(triple >> 12 & 0x3F)]
                output[written + 2] = remaining > 1 ? alphabet[Int(triple >> 6 & 0x3F)] : UInt8(ascii: "=")
                output[written + 3] = remaining > 2 ? alphabet[Int(triple & 0x3F)] : UInt8(ascii: "=")
                written += 4
                index += 3
            }
            return written
        }
    }
}
