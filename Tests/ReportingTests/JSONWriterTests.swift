import Foundation
import Reporting
import Testing

private func text(_ writer: JSONWriter) -> String {
    String(decoding: writer.bytes, as: UTF8.self)
}

/// Writes `[value]` and parses it back with Foundation.
private func roundTrip(_ write: (inout JSONWriter) -> Void) throws -> Any? {
    var writer = JSONWriter()
    writer.beginArray()
    write(&writer)
    writer.endArray()
    let parsed = try JSONSerialization.jsonObject(with: Data(writer.bytes))
    return (parsed as? [Any])?.first
}

/// A small deterministic generator (the test must be reproducible).
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite struct JSONWriterTests {
    static let strings: [String] = [
        "", "plain", "with \"quotes\"", "back\\slash", "\\\"", "/slash/", "tab\there", "line\nfeed", "\r\n",
        "\u{7f} DEL", "café", "日本語のテキスト", "👍🏽 family: 👨‍👩‍👧‍👦",
        "\u{2028}\u{2029}", "\u{FFFD}", "\u{10FFFF}",
        String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }),
        "mixed \u{01}日本\"\\\u{1f}😀 end",
    ] + (0..<0x20).map { String(Character(Unicode.Scalar(UInt8($0)))) }

    @Test(arguments: strings)
    func stringsRoundTripThroughFoundation(_ value: String) throws {
        let parsed = try roundTrip { $0.string(value) }
        #expect(parsed as? String == value)
        // The same text via the raw-bytes path.
        let viaBytes = try roundTrip { $0.string(bytes: Array(value.utf8)) }
        #expect(viaBytes as? String == value)
    }

    @Test func escapesAreTheShortForms() {
        var writer = JSONWriter()
        writer.string("\"\\\u{08}\u{0c}\n\r\t\u{00}\u{1f}\u{7f}é/")
        #expect(text(writer) == #""\"\\\b\f\n\r\t\u0000\u001f"# + "\u{7f}é/\"")
    }

    static let invalidUTF8: [[UInt8]] = [
        [0xff], [0x80], [0xbf, 0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x61, 0xe2, 0x82, 0x62],
        [0xc3, 0xa9, 0xff, 0xc3], [0x22, 0xff, 0x5c, 0x0a], [0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f],
    ]

    @Test(arguments: invalidUTF8)
    func invalidUTF8BecomesReplacementCharacters(_ bytes: [UInt8]) throws {
        let parsed = try roundTrip { $0.string(bytes: bytes) }
        let expected = String(decoding: bytes, as: UTF8.self)
        #expect(expected.contains("\u{FFFD}"))
        #expect(parsed as? String == expected)
    }

    @Test func randomBytesAlwaysGiveValidJSONMatchingSwiftDecoding() throws {
        var generator = SplitMix64(state: 2026)
        // Bias towards the interesting bytes: controls, quote, backslash and the UTF-8 lead/continuation ranges.
        let palette: [UInt8] = [0x00, 0x0a, 0x1f, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf,
                                0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff]
        for _ in 0..<3000 {
            let length = Int.random(in: 0...12, using: &generator)
            let bytes: [UInt8] = (0..<length).map { _ in
                Bool.random(using: &generator)
                    ? palette[Int.random(in: 0..<palette.count, using: &generator)]
                    : UInt8.random(in: 0...255, using: &generator)
            }
            let parsed = try roundTrip { $0.string(bytes: bytes) }
            #expect(parsed as? String == String(decoding: bytes, as: UTF8.self), "bytes \(bytes)")
        }
    }

    /// Plain runs are skipped eight bytes at a time: every byte that needs attention (control, quote,
    /// backslash, non-ASCII lead or continuation, invalid) is found at every position of longer strings.
    /// Keys and values up to 16 bytes are checked and copied with overlapping word loads: a special byte at
    /// any position of any short length is still escaped, in keys and values alike.
    @Test func shortKeysAndStringsFindEverySpecialByte() throws {
        for length in 0...20 {
            let plain = String(repeating: "k", count: length)
            let parsedPlain = try #require(try roundTrip { $0.beginObject(); $0.key(dynamic: plain); $0.string(plain); $0.endObject() } as? [String: String])
            #expect(parsedPlain == [plain: plain])
            for position in 0..<max(length, 1) where length > 0 {
                for special in ["\"", "\\", "\n", "\u{01}", "é"] {
                    var characters = Array(plain)
                    characters[position] = Character(special)
                    let text = String(characters)
                    let parsed = try #require(
                        try roundTrip { $0.beginObject(); $0.key(dynamic: text); $0.string(text); $0.endObject() }
                            as? [String: String])
                    #expect(parsed == [text: text], "\(special) at \(position) of \(length)")
                }
            }
        }
    }

    @Test func wordAtATimeScanFindsEverySpecialByteAtEveryPosition() throws {
        let specials: [[UInt8]] = [[0x00], [0x09], [0x1f], [0x22], [0x5c], [0x7f], [0x80], [0xff], [0xc3, 0xa9],
                                   [0xe6, 0x97, 0xa5], [0xf0, 0x9f, 0x98, 0x80]]
        for special in specials {
            for position in 0...24 {
                var bytes = Array("abcdefghijklmnopqrstuvwxy".utf8)
                bytes.insert(contentsOf: special, at: position)
                let parsed = try roundTrip { $0.string(bytes: bytes) }
                #expect(parsed as? String == String(decoding: bytes, as: UTF8.self), "\(special) at \(position)")
                if let valid = String(validating: bytes, as: UTF8.self) {
                    let viaString = try roundTrip { $0.string(valid) }
                    #expect(viaString as? String == valid, "\(special) at \(position)")
                }
            }
        }
        var generator = SplitMix64(state: 8)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...64, using: &generator)
            let bytes: [UInt8] = (0..<length).map { _ in
                Int.random(in: 0..<16, using: &generator) == 0
                    ? UInt8.random(in: 0...255, using: &generator) : UInt8.random(in: 0x20...0x7e, using: &generator)
            }
            let parsed = try roundTrip { $0.string(bytes: bytes) }
            #expect(parsed as? String == String(decoding: bytes, as: UTF8.self), "bytes \(bytes)")
        }
    }

    @Test func nestedStructuresAndEmptyContainers() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type"); writer.string("tls")
        writer.key("empty_array"); writer.beginArray(); writer.endArray()
        writer.key("empty_object"); writer.beginObject(); writer.endObject()
        writer.key("messages")
        writer.beginArray()
        writer.string("client:client_hello")
        writer.beginObject(); writer.key("a")
        writer.beginArray(); writer.beginArray(); writer.endArray(); writer.endArray()
        writer.endObject()
        writer.null()
        writer.endArray()
        writer.key("alert"); writer.null()
        writer.key("established"); writer.bool(true)
        writer.key("resumed"); writer.bool(false)
        writer.endObject()
        #expect(writer.depth == 0)
        #expect(
            text(writer)
                == #"{"type":"tls","empty_array":[],"empty_object":{},"#
                + #""messages":["client:client_hello",{"a":[[]]},null],"#
                + #""alert":null,"established":true,"resumed":false}"#
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(parsed["type"] as? String == "tls")
        #expect((parsed["empty_array"] as? [Any])?.isEmpty == true)
        #expect((parsed["empty_object"] as? [String: Any])?.isEmpty == true)
        #expect(parsed["alert"] is NSNull)
        #expect(parsed["established"] as? Bool == true)
    }

    @Test func optionalHelpersWriteNull() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.string(nil as String?)
        writer.string("x" as String?)
        writer.int(nil as Int?)
        writer.int(7 as Int?)
        writer.bool(nil as Bool?)
        writer.bool(true as Bool?)
        writer.double(nil as Double?, fractionDigits: 6)
        writer.double(1.5 as Double?, fractionDigits: 6)
        writer.endArray()
        #expect(text(writer) == #"[null,"x",null,7,null,true,null,1.500000]"#)
    }

    @Test func integers() throws {
        var writer = JSONWriter()
        writer.beginArray()
        writer.int(0)
        writer.int(-1)
        writer.int(Int.max)
        writer.int(Int.min)
        writer.int(UInt64.max)
        writer.int(UInt16(443))
        writer.int(Int8.min)
        writer.int(Int32(-2_147_483_648))
        writer.endArray()
        #expect(
            text(writer)
                == "[0,-1,9223372036854775807,-9223372036854775808,18446744073709551615,443,-128,-2147483648]")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [NSNumber])
        #expect(parsed[2].int64Value == Int64.max)
        #expect(parsed[3].int64Value == Int64.min)
    }

    @Test(arguments: [
        (0.25, 6, "0.250000"), (0.0, 6, "0.000000"), (-0.0, 6, "0.000000"), (-1.25, 6, "-1.250000"),
        (123_456.789, 6, "123456.789000"), (0.000_000_4, 6, "0.000000"), (0.000_000_6, 6, "0.000001"),
        (-0.000_000_4, 6, "0.000000"), (59.999_999_9, 6, "60.000000"), (1.5, 0, "2"), (2.5, 0, "2"),
        (3.14159, 2, "3.14"), (86_400.000_001, 6, "86400.000001"), (1e9, 6, "1000000000.000000"),
        (7, 12, "7.000000000"),
    ])
    func fixedPointDoubles(value: Double, digits: Int, expected: String) throws {
        var writer = JSONWriter()
        writer.double(value, fractionDigits: digits)
        #expect(text(writer) == expected)
        let parsed = try roundTrip { $0.double(value, fractionDigits: digits) }
        #expect((parsed as? NSNumber)?.doubleValue == Double(expected))
    }

    @Test func nonFiniteAndHugeDoublesStayValidJSON() throws {
        var writer = JSONWriter()
        writer.beginArray()
        writer.double(.nan, fractionDigits: 6)
        writer.double(.infinity, fractionDigits: 6)
        writer.double(-.infinity)
        writer.double(1e300, fractionDigits: 6)
        writer.double(0.1)
        writer.double(-2.5e-8)
        writer.endArray()
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [Any])
        #expect(parsed.count == 6)
        #expect(parsed[0] is NSNull && parsed[1] is NSNull && parsed[2] is NSNull)
        #expect((parsed[3] as? NSNumber)?.doubleValue == 1e300)
        #expect((parsed[4] as? NSNumber)?.doubleValue == 0.1)
        #expect((parsed[5] as? NSNumber)?.doubleValue == -2.5e-8)
    }

    @Test func hexStrings() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.hexString(bytes: [0x00, 0x0f, 0xa0, 0xff, 0x5a] as [UInt8])
        writer.hexString(bytes: [] as [UInt8])
        [UInt8](repeating: 0xab, count: 3).withUnsafeBytes { writer.hexString(bytes: $0) }
        writer.hexString(bytes: ([0x01, 0x02, 0x03] as [UInt8])[1...])
        writer.endArray()
        #expect(text(writer) == #"["000fa0ff5a","","ababab","0203"]"#)
    }

    @Test func dynamicKeysAreEscaped() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("TLS \"1.3\"\n")
        writer.int(3)
        writer.key("日本")
        writer.int(4)
        writer.endObject()
        #expect(text(writer) == #"{"TLS \"1.3\"\n":3,"日本":4}"#)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Int])
        #expect(parsed == ["TLS \"1.3\"\n": 3, "日本": 4])
    }

    @Test func prettyOutputIsIndentedAndParses() throws {
        var writer = JSONWriter(pretty: true)
        writer.beginObject()
        writer.key("connections")
        writer.beginArray()
        writer.beginObject()
        writer.key("client_port"); writer.int(443)
        writer.key("messages"); writer.beginArray(); writer.string("a"); writer.string("b"); writer.endArray()
        writer.key("certificates"); writer.beginArray(); writer.endArray()
        writer.key("cipher"); writer.beginObject(); writer.endObject()
        writer.endObject()
        writer.endArray()
        writer.key("summary"); writer.null()
        writer.endObject()
        writer.newline()
        let expected = """
            {
              "connections": [
                {
                  "client_port": 443,
                  "messages": [
                    "a",
                    "b"
                  ],
                  "certificates": [],
                  "cipher": {}
                }
              ],
              "summary": null
            }

            """
        #expect(text(writer) == expected)
        #expect(try JSONSerialization.jsonObject(with: Data(writer.bytes)) is [String: Any])
    }

    private func writeSampleRecord(_ writer: inout JSONWriter, index: Int) {
        writer.beginObject()
        writer.key("type"); writer.string("tls")
        writer.key("index"); writer.int(index)
        writer.key("duration"); writer.double(Double(index) / 7, fractionDigits: 6)
        writer.key("server_name"); writer.string(index.isMultiple(of: 2) ? "example.com" : nil)
        writer.key("random"); writer.hexString(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 32))
        writer.key("messages")
        writer.beginArray()
        writer.string("client:client_hello")
        writer.string("server:server_hello")
        writer.endArray()
        writer.endObject()
        writer.newline()
    }

    @Test func resetReuseIsByteIdenticalAndKeepsCapacity() {
        var writer = JSONWriter(capacity: 16)
        writeSampleRecord(&writer, index: 41)
        let first = writer.bytes
        let capacity = writer.capacity
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.capacity >= capacity)
        writeSampleRecord(&writer, index: 41)
        #expect(writer.bytes == first)
        // A reset in the middle of a record forgets the open containers.
        writer.reset()
        writer.beginObject()
        writer.beginArray()
        writer.reset()
        #expect(writer.depth == 0)
        writeSampleRecord(&writer, index: 41)
        #expect(writer.bytes == first)
    }

    @Test func topLevelValuesAreNotSeparatedByCommas() {
        var writer = JSONWriter()
        writer.beginObject(); writer.endObject(); writer.newline()
        writer.beginObject(); writer.key("a"); writer.int(1); writer.endObject(); writer.newline()
        #expect(text(writer) == "{}\n{\"a\":1}\n")
    }

    @Test func tenThousandNDJSONRecords() throws {
        var writer = JSONWriter()
        for index in 0..<10_000 { writeSampleRecord(&writer, index: index) }
        let lines = writer.bytes.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 10_000)
        for (index, line) in lines.enumerated() where index.isMultiple(of: 997) || index == 9_999 {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            #expect(record["index"] as? Int == index)
            #expect((record["random"] as? String)?.count == 64)
        }
    }
}
