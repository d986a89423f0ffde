/// Times as people and records write them: what the CLI's `--now`/`--since`/`--until` take and what
/// `tlsscope report` reads back from records (`ts`, certificates' `not_before`/`not_after`).
public enum TimeText {
    /// Whole seconds since 1970; an RFC 3339 date-time ("2025-01-31T00:00:00Z", with an optional
    /// fraction, and "Z" or a "±hh:mm" offset); or a full date ("2025-01-31", midnight UTC). Nil for
    /// anything else, an impossible date (2025-02-31) or a time that does not fit in 64-bit seconds.
    public static func seconds(_ text: String) -> Int64? {
        // Seconds since 1970: digits only (a sign would be an option's typo more likely than a time before 1970).
        if text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { return Int64(text) }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard bytes.count - index >= width else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func skip(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        // RFC 3339 §5.6: date-fullyear is exactly four digits.
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2) else {
            return nil
        }
        if index == bytes.count {
            return CivilDate.epochSeconds(year: Int64(year), month: month, day: day, hour: 0, minute: 0, second: 0)
        }
        guard skip("Tt "), let hour = number(2), skip(":"), let minute = number(2), skip(":"),
            let second = number(2)
        else { return nil }
        if skip(".") {
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > start else { return nil }
        }
        var offset = 0
        if !skip("Zz") {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard skip("+-"), let offsetHours = number(2), skip(":"), let offsetMinutes = number(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count,
            let local = CivilDate.epochSeconds(
                year: Int64(year), month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        // A time at +hh:mm is that far ahead of UTC (years are four digits, so this cannot overflow).
        return local - Int64(offset)
    }
}
