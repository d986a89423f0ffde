import Foundation
import Reporting
import Testing

@Suite struct RFC3339Tests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z"),
        (1_392_137_652, "2014-02-11T16:54:12Z"), (253_402_300_799, "9999-12-31T23:59:59Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"), (-62_167_219_200, "0000-01-01T00:00:00Z"),
    ])
    func secondsAreFormatted(_ seconds: Int64, _ expected: String) {
        #expect(RFC3339.string(seconds: seconds) == expected)
    }

    @Test func nanosecondsKeepMicrosecondsAndRoundDown() {
        #expect(RFC3339.string(nanoseconds: 1_392_137_652_123_456_789) == "2014-02-11T16:54:12.123456Z")
        #expect(RFC3339.string(nanoseconds: 0) == "1970-01-01T00:00:00.000000Z")
        #expect(RFC3339.string(nanoseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(RFC3339.string(nanoseconds: -1_000_000_000) == "1969-12-31T23:59:59.000000Z")
    }

    /// Against Foundation's formatter over 1970–2100 (capture times and most certificate validities).
    @Test func agreesWithFoundationOverTwoCenturies() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var state: UInt64 = 42
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Int64(state >> 33) % 4_102_444_800  // up to 2100
            #expect(RFC3339.string(seconds: seconds) == formatter.string(from: Date(timeIntervalSince1970: Double(seconds))))
        }
    }

    /// Timestamps come from captures and certificates: no value traps, however absurd.
    @Test func extremeValuesDoNotTrap() {
        let values: [Int64] = [.min, .min + 1, .max, .max - 1, -86_400 * 1_000_000_000]
        for value in values {
            #expect(!RFC3339.string(seconds: value).isEmpty)
            #expect(RFC3339.string(nanoseconds: value).hasSuffix("Z"))
        }
    }
}
