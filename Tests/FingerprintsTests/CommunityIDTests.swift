import Fingerprints
import Testing

/// Community ID v1 against values from Corelight's reference implementation (`communityid` 1.5.0 on PyPI;
/// the first is also the spec README's example). EndToEnd's TraceabilityTests compare every fixture record.
@Suite struct CommunityIDTests {
    static func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }

    @Test func matchesTheReferenceImplementation() {
        // tcp 128.232.110.120:34855 → 66.35.250.204:80
        #expect(
            CommunityID.v1(protocolNumber: 6, address: Self.v4("128.232.110.120"), port: 34855,
                           otherAddress: Self.v4("66.35.250.204"), otherPort: 80)
                == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        // The same with seed 1.
        #expect(
            CommunityID.v1(protocolNumber: 6, address: Self.v4("128.232.110.120"), port: 34855,
                           otherAddress: Self.v4("66.35.250.204"), otherPort: 80, seed: 1)
                == "1:3V71V58M3Ksw/yuFALMcW0LAHvc=")
        // tcp 10.0.0.2:1234 → 10.0.0.1:443: the higher address first, so the endpoints are swapped.
        #expect(
            CommunityID.v1(protocolNumber: 6, address: Self.v4("10.0.0.2"), port: 1234,
                           otherAddress: Self.v4("10.0.0.1"), otherPort: 443)
                == "1:gxWQqEhXbAHUy6QGvhiQ/eR8YvQ=")
        // udp [2001:db8::1]:53000 → [2001:db8::2]:443
        let one: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        let two: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [2]
        #expect(
            CommunityID.v1(protocolNumber: 17, address: one, port: 53000, otherAddress: two, otherPort: 443)
                == "1:8DA3NwOscwNfeLLHKFyCA0RmrPY=")
        // tcp [::1]:443 → [::1]:50000: same address, the lower port first.
        let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
        #expect(
            CommunityID.v1(protocolNumber: 6, address: loopback, port: 443, otherAddress: loopback, otherPort: 50000)
                == "1:vUrCBE8TPDWeAu49NtZc+anxylA=")
    }

    @Test func bothDirectionsGiveTheSameID() {
        let a = CommunityID.v1(protocolNumber: 6, address: [192, 0, 2, 1], port: 50000, otherAddress: [192, 0, 2, 9], otherPort: 443)
        let b = CommunityID.v1(protocolNumber: 6, address: [192, 0, 2, 9], port: 443, otherAddress: [192, 0, 2, 1], otherPort: 50000)
        #expect(a == b)
        #expect(a != CommunityID.v1(protocolNumber: 17, address: [192, 0, 2, 1], port: 50000, otherAddress: [192, 0, 2, 9], otherPort: 443))
    }
}
