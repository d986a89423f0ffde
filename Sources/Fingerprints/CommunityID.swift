import Crypto
import Foundation

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
        var input: [UInt8] = []
        input.reserveCapacity(2 + 2 * lowAddress.count + 6)
        input.append(UInt8(seed >> 8))
        input.append(UInt8(seed & 0xFF))
        input += lowAddress
        input += highAddress
        input.append(protocolNumber)
        input.append(0)
        input.append(UInt8(lowPort >> 8))
        input.append(UInt8(lowPort & 0xFF))
        input.append(UInt8(highPort >> 8))
        input.append(UInt8(highPort & 0xFF))
        return "1:" + Data(Insecure.SHA1.hash(data: input)).base64EncodedString()
    }
}
