import Testing
import TextFormatting

// MARK: - Civil dates

@Test(arguments: [
    (1970, 1, 1, Int64(0)),
    (2000, 2, 29, 11_016),
    (1969, 12, 31, -1),
    (1600, 3, 1, -135_080),
    (1, 1, 1, -719_162),
    (9999, 12, 31, 2_932_896),
    (0, 3, 1, -719_468),
    (-1, 12, 31, -719_529),
] as [(Int64, Int, Int, Int64)])
func daysAgreeWithKnownDates(year: Int64, month: Int, day: Int, days: Int64) throws {
    #expect(CivilDate.days(year: year, month: month, day: day) == days)
    let back = CivilDate.civil(days: days)
    #expect(back.year == year && back.month == month && back.day == day)
}

@Test func impossibleDatesAreRejected() {
    #expect(CivilDate.days(year: 2025, month: 2, day: 29) == nil)
    #expect(CivilDate.days(year: 2025, month: 2, day: 31) == nil)
    #expect(CivilDate.days(year: 2024, month: 2, day: 29) != nil)
    #expect(CivilDate.days(year: 1900, month: 2, day: 29) == nil)
    #expect(CivilDate.days(year: 2000, month: 2, day: 29) != nil)
    #expect(CivilDate.days(year: 2025, month: 4, day: 31) == nil)
    #expect(CivilDate.days(year: 2025, month: 13, day: 1) == nil)
    #expect(CivilDate.days(year: 2025, month: 0, day: 1) == nil)
    #expect(CivilDate.days(year: 2025, month: 1, day: 0) == nil)
    #expect(CivilDate.epochSeconds(year: 2025, month: 1, day: 1, hour: 24, minute: 0, second: 0) == nil)
    #expect(CivilDate.epochSeconds(year: 2025, month: 1, day: 1, hour: 0, minute: 60, second: 0) == nil)
    #expect(CivilDate.epochSeconds(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 61) == nil)
}

/// Years far outside any calendar give nil, not an overflow trap (the test suite runs in debug).
@Test func hugeYearsDoNotOverflow() {
    #expect(CivilDate.epochSeconds(year: 999_999_999_999_999, month: 1, day: 1, hour: 0, minute: 0, second: 0) == nil)
    #expect(CivilDate.epochSeconds(year: -999_999_999_999_999, month: 1, day: 1, hour: 0, minute: 0, second: 0) == nil)
    #expect(CivilDate.days(year: .max, month: 12, day: 31) == nil)
    #expect(CivilDate.days(year: .min, month: 1, day: 1) == nil)
    // Still representable in days, though not in seconds.
    #expect(CivilDate.days(year: 999_999_999_999_999, month: 1, day: 1) != nil)
}

@Test func epochSecondsAtTheEdges() {
    #expect(CivilDate.epochSeconds(year: 2000, month: 2, day: 29, hour: 12, minute: 0, second: 1) == 951_825_601)
    #expect(CivilDate.epochSeconds(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59) == 253_402_300_799)
    #expect(CivilDate.epochSeconds(year: 1950, month: 1, day: 1, hour: 0, minute: 0, second: 0) == -631_152_000)
    // 292277026596-12-04T15:30:07Z is Int64.max seconds; one second later does not fit.
    #expect(CivilDate.epochSeconds(year: 292_277_026_596, month: 12, day: 4, hour: 15, minute: 30, second: 7) == .max)
    #expect(CivilDate.epochSeconds(year: 292_277_026_596, month: 12, day: 4, hour: 15, minute: 30, second: 8) == nil)
}

@Test(arguments: [Int64.min, Int64.min + 1, -1, 0, 1, 86_399, 86_400, Int64.max - 1, Int64.max])
func civilFromAnySecondsIsTotalAndRoundTrips(seconds: Int64) {
    let date = CivilDate.civil(epochSeconds: seconds)
    #expect((1...12).contains(date.month) && (1...31).contains(date.day))
    #expect((0...23).contains(date.hour) && (0...59).contains(date.minute) && (0...59).contains(date.second))
    #expect(
        CivilDate.epochSeconds(
            year: date.year, month: date.month, day: date.day, hour: date.hour, minute: date.minute,
            second: date.second) == seconds)
}

@Test func everyDayOfFourCenturiesRoundTrips() {
    var days = CivilDate.days(year: 1800, month: 1, day: 1) ?? 0
    for year in Int64(1800)..<2200 {
        for month in 1...12 {
            for day in 1...CivilDate.daysInMonth(year: year, month: month) {
                #expect(CivilDate.days(year: year, month: month, day: day) == days)
                days += 1
            }
        }
    }
}

@Test func dateStrings() {
    #expect(CivilDate.dateString(epochSeconds: 0) == "1970-01-01")
    #expect(CivilDate.dateString(epochSeconds: -1) == "1969-12-31")
    #expect(CivilDate.dateString(epochSeconds: -62_135_596_800) == "0001-01-01")
    #expect(CivilDate.dateString(epochSeconds: 1_709_251_200) == "2024-03-01")
    #expect(CivilDate.yearString(-5) == "-0005")
}

// MARK: - Hex

@Test func hexIsLowercaseWithoutSeparators() {
    #expect(Hex.string([] as [UInt8]) == "")
    #expect(Hex.string([0x00, 0x0f, 0xa0, 0xff] as [UInt8]) == "000fa0ff")
    #expect((0...15).map { Hex.digit(UInt8($0)) } == Array("0123456789abcdef".utf8))
    #expect(Hex.codePoint(0x00ff) == "0x00ff")
    #expect(Hex.codePoint(0xabcd) == "0xabcd")
}

// MARK: - IP addresses

@Test(arguments: [
    ([UInt8](repeating: 0, count: 16), "::"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8:0:1::1"),
    ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:0:1:1:1:1:1"),
    ([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "fe80::"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], "::ffff:192.0.2.1"),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"),
    ([10, 0, 0, 1], "10.0.0.1"),
] as [([UInt8], String)])
func addressesUseRFC5952(bytes: [UInt8], text: String) {
    #expect(IPAddressText.string(bytes: bytes) == text)
}

@Test func otherLengthsAreNotAddresses() {
    #expect(IPAddressText.string(bytes: [10, 0, 0, 1, 255, 255, 255, 0] as [UInt8]) == nil)
    #expect(IPAddressText.string(bytes: [] as [UInt8]) == nil)
}

@Suite struct AddressLiteralTests {
    @Test func dottedQuadsAndColonsAreAddresses() {
        for text in ["192.0.2.7", "0.0.0.0", "255.255.255.255", "::1", "2001:db8::1", "fe80::1%eth0"] {
            #expect(IPAddressText.isAddressLiteral(text), "\(text)")
        }
        for text in ["www.example.com", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", "1234.1.1.1", "", "example", "1.2.3.a"] {
            #expect(!IPAddressText.isAddressLiteral(text), "\(text)")
        }
    }
}
