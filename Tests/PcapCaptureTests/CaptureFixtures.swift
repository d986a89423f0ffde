import Foundation

/// Builds classic pcap files byte by byte (libpcap's savefile format), in either byte order and precision.
struct PcapFileBuilder {
    var bigEndian: Bool
    var nanosecond: Bool
    var bytes: [UInt8] = []

    init(bigEndian: Bool = false, nanosecond: Bool = false, linkType: UInt32 = 1, snapLength: UInt32 = 65_535) {
        self.bigEndian = bigEndian
        self.nanosecond = nanosecond
        put32(nanosecond ? 0xa1b2_3c4d : 0xa1b2_c3d4)
        put16(2)
        put16(4)
        put32(0)  // thiszone
        put32(0)  // sigfigs
        put32(snapLength)
        put32(linkType)
    }

    /// Appends one record; `fraction` is microseconds or nanoseconds according to the file's magic.
    mutating func add(seconds: UInt32, fraction: UInt32, data: [UInt8], originalLength: Int? = nil) {
        put32(seconds)
        put32(fraction)
        put32(UInt32(data.count))
        put32(UInt32(originalLength ?? data.count))
        bytes += data
    }

    private mutating func put16(_ value: UInt16) {
        let ordered = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: ordered) { bytes += $0 }
    }

    private mutating func put32(_ value: UInt32) {
        let ordered = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: ordered) { bytes += $0 }
    }
}

/// Builds a little-endian pcapng file: SHB, one IDB (optionally with if_tsresol = 9), EPBs.
struct PcapngFileBuilder {
    var bytes: [UInt8] = []
    let nanosecond: Bool

    init(linkType: UInt16 = 1, nanosecond: Bool) {
        self.nanosecond = nanosecond
        // Section Header Block.
        put32(0x0a0d_0d0a)
        put32(28)
        put32(0x1a2b_3c4d)
        put16(1)
        put16(0)
        put32(0xffff_ffff)
        put32(0xffff_ffff)  // section length -1
        put32(28)
        // Interface Description Block.
        let length: UInt32 = nanosecond ? 32 : 20
        put32(1)
        put32(length)
        put16(linkType)
        put16(0)
        put32(65_535)
        if nanosecond {
            put16(9)  // if_tsresol
            put16(1)
            bytes += [9, 0, 0, 0]  // 10^-9, padded
            put16(0)  // opt_endofopt
            put16(0)
        }
        put32(length)
    }

    /// Appends an Enhanced Packet Block; `timestamp` is in the interface's units (µs or ns).
    mutating func add(timestamp: UInt64, data: [UInt8], originalLength: Int? = nil) {
        let padded = (data.count + 3) & ~3
        let length = UInt32(32 + padded)
        put32(6)
        put32(length)
        put32(0)  // interface id
        put32(UInt32(truncatingIfNeeded: timestamp >> 32))
        put32(UInt32(truncatingIfNeeded: timestamp))
        put32(UInt32(data.count))
        put32(UInt32(originalLength ?? data.count))
        bytes += data
        bytes += [UInt8](repeating: 0, count: padded - data.count)
        put32(length)
    }

    /// Appends a second Interface Description Block (interface 1), in microseconds.
    mutating func addInterface(linkType: UInt16 = 1) {
        put32(1)
        put32(20)
        put16(linkType)
        put16(0)
        put32(65_535)
        put32(20)
    }

    /// Appends an Enhanced Packet Block on interface `interface` (see `add`).
    mutating func add(interface: UInt32, timestamp: UInt64, data: [UInt8]) {
        let start = bytes.count
        add(timestamp: timestamp, data: data)
        withUnsafeBytes(of: interface.littleEndian) { bytes.replaceSubrange(start + 8..<start + 12, with: $0) }
    }

    /// Appends a Name Resolution Block with no records but its end marker (libpcap passes over it).
    mutating func addNameResolutionBlock() {
        put32(4)
        put32(16)
        put32(0)  // nrb_record_end
        put32(16)
    }

    /// Appends an Interface Statistics Block (not a packet; writers put one at the end of a capture).
    mutating func addStatisticsBlock() {
        put32(5)
        put32(24)
        put32(0)
        put32(0)
        put32(0)
        put32(24)
    }

    private mutating func put16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private mutating func put32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Minimal Ethernet/IPv4 frames for BPF tests (checksums zero: BPF does not look at them).
enum Frames {
    static func ethernetIPv4(protocolNumber: UInt8, transport: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00]
        let total = 20 + transport.count
        frame += [0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xff), 0x12, 0x34, 0x40, 0x00, 64, protocolNumber, 0, 0]
        frame += [10, 0, 0, 1, 10, 0, 0, 2]
        frame += transport
        return frame
    }

    /// TCP SYN 40000 → 443.
    static let tcp: [UInt8] = ethernetIPv4(
        protocolNumber: 6,
        transport: [0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0])

    /// UDP 40000 → 53 with 4 bytes of payload.
    static let udp: [UInt8] = ethernetIPv4(
        protocolNumber: 17, transport: [0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0, 0, 0xde, 0xad, 0xbe, 0xef])
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pcapcapture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
