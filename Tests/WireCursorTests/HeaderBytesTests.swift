import Testing
import WireCursor

@Test func headerIsTakenWithOneBoundsCheckAndReadBigEndian() throws {
    let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0xFF]
    try bytes.withUnsafeBytes { buffer in
        var cursor = ByteCursor(buffer)
        try cursor.skip(1)
        let header = try cursor.readHeader(8, "test.header")
        #expect(header.count == 8)
        #expect(header.uint8(at: 0) == 0x02)
        #expect(header.uint16(at: 1) == 0x0304)
        #expect(header.uint32(at: 3) == 0x0506_0708)
        #expect(header.uint64(at: 0) == 0x0203_0405_0607_0809)
        #expect(cursor.position == 9)
        #expect(cursor.remaining == 2)
    }
}

@Test func headerLongerThanWhatIsLeftThrowsTruncatedAndDoesNotMove() throws {
    let bytes: [UInt8] = [1, 2, 3, 4, 5]
    bytes.withUnsafeBytes { buffer in
        var cursor = ByteCursor(buffer)
        #expect(throws: DecodeError(.truncated, at: 0, "x")) { try cursor.readHeader(6, "IPv4.header") }
        #expect(cursor.position == 0)
        do throws(DecodeError) {
            _ = try cursor.readHeader(6, "IPv4.header")
        } catch {
            #expect(error.offset == 0)
            #expect("\(error.context)" == "IPv4.header")
        }
    }
    // An empty buffer has no base address: still a truncation, not a trap.
    [UInt8]().withUnsafeBytes { buffer in
        var cursor = ByteCursor(buffer)
        #expect(throws: DecodeError(.truncated, at: 0, "x")) { try cursor.readHeader(1, "empty") }
    }
}
