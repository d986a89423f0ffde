import Foundation
import Testing
@testable import tlsscope

/// `audit --now`: RFC 3339 times, dates and seconds; impossible dates and years that overflow are
/// rejected (the year 999999999999999 used to trap on arithmetic overflow, 2025-02-31 was accepted).
@Suite struct NowOptionTests {
    @Test(arguments: [
        ("2025-01-31T00:00:00Z", Int64(1_738_281_600)),
        ("2025-01-31t00:00:00z", 1_738_281_600),
        ("2025-01-31T01:00:00+01:00", 1_738_281_600),
        ("2025-01-30T19:00:00-05:00", 1_738_281_600),
        ("2025-01-31T00:00:00.999Z", 1_738_281_600),
        ("2025-01-31", 1_738_281_600),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
        ("1738281600", 1_738_281_600),
        ("2025-01-31 00:00:00Z", 1_738_281_600),  // RFC 3339 §5.6's note: a space for the T
        ("0001-01-01T00:00:00Z", -62_135_596_800),
    ] as [(String, Int64)])
    func accepted(text: String, seconds: Int64) {
        #expect(Audit.parseTime(text) == seconds)
    }

    @Test(arguments: [
        "999999999999999-01-01T00:00:00Z", "2025-02-31", "2025-02-31T00:00:00Z", "2025-02-29T00:00:00Z",
        "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z",
        "2025-01-01T00:00:00", "2025-01-01T00:00:00+0100", "2025-1-1", "25-01-01", "yesterday", "",
        "99999999999999999999", "2025-01-01T00:00:00.Z", "-1", "-5", "+5", "now ",
    ])
    func rejected(text: String) {
        #expect(Audit.parseTime(text) == nil)
    }

    /// "now" is the clock's time.
    @Test func nowIsTheClock() throws {
        let before = Int64(Date().timeIntervalSince1970)
        let parsed = try #require(Audit.parseTime("now"))
        #expect(parsed >= before && parsed <= before + 5)
    }
}
