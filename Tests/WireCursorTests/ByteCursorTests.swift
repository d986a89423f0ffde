import Testing
import WireCursor

@Test func readsBigEndianIntegersAndStopsAtTheEnd() throws {
    let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a]
    try bytes.withUnsafeBytes { (buffer) throws in
        var cursor = ByteCursor(buffer)
        #expect(try cursor.readUInt8() == 0x01)
        #expect(try cursor.readUInt16() == 0x0203)
        #expect(try cursor.readUInt24() == 0x040506)
        #expect(try cursor.readUInt32() == 0x0708090a)
        #expect(cursor.isEmpty)
        #expect(throws: DecodeError(.truncated, at: 0, "")) { try cursor.readUInt8() }
    }
}

@Test func subCursorCannotReadPastItsLength() throws {
    // A 2-byte length of 3, then 5 bytes: the inner cursor sees exactly 3.
    let bytes: [UInt8] = [0x00, 0x03, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]
    try bytes.withUnsafeBytes { (buffer) throws in
        var cursor = ByteCursor(buffer)
        var inner = try cursor.readLengthPrefixed16()
        #expect(inner.remaining == 3)
        #expect(try inner.readUInt16() == 0xaabb)
        #expect(throws: DecodeError(.truncated, at: 0, "")) { try inner.readUInt16() }
        #expect(try cursor.readUInt16() == 0xddee)
    }
}

@Test func lengthPastTheEndIsTruncatedNotATrap() throws {
    let bytes: [UInt8] = [0xff, 0xff, 0x01]
    try bytes.withUnsafeBytes { (buffer) throws in
        var cursor = ByteCursor(buffer)
        #expect(throws: DecodeError(.truncated, at: 0, "")) { try cursor.readLengthPrefixed16() }
        #expect(throws: DecodeError(.truncated, at: 0, "")) { try cursor.skip(-1) }
        #expect(cursor.peekUInt8(at: 5) == nil)
        #expect(cursor.peekUInt16(at: 0) == 0xffff)
    }
}

@Test func littleEndianReads() throws {
    let bytes: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x18, 0x00]
    try bytes.withUnsafeBytes { (buffer) throws in
        var cursor = ByteCursor(buffer)
        #expect(try cursor.readUInt32LE() == 2)
        #expect(try cursor.readUInt16LE() == 0x18)
    }
}
