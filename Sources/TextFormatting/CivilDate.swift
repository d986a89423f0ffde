/// Proleptic Gregorian calendar arithmetic on days and seconds since 1970-01-01 (UTC), after Howard
/// Hinnant's days-from-civil and civil-from-days. One implementation for every place that turns dates into
/// numbers or back: certificate validity, RFC 3339 output, the CLI's `--now`, the audit's messages.
/// Inputs come from captures and the command line, so every function is total: conversions into
/// numbers validate and return nil when the date is impossible or the result does not fit in `Int64`;
/// conversions out of numbers accept every `Int64`.
public enum CivilDate {
    public static let secondsPerDay: Int64 = 86_400

    public static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days in `month` (1...12) of `year`; 0 for a month outside 1...12.
    public static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    /// Days from 1970-01-01 to `year-month-day`; nil when the month or day does not exist or the count
    /// does not fit in `Int64`.
    public static func days(year: Int64, month: Int, day: Int) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        // Years start in March, so the leap day is the last day of the year.
        let marchYear = month <= 2 ? year.subtractingReportingOverflow(1) : (partialValue: year, overflow: false)
        guard !marchYear.overflow else { return nil }
        let era = floorDivide(marchYear.partialValue, 400)
        let yearOfEra = floorModulo(marchYear.partialValue, 400)
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let eraDays = era.multipliedReportingOverflow(by: 146_097)
        guard !eraDays.overflow else { return nil }
        let total = eraDays.partialValue.addingReportingOverflow(dayOfEra - 719_468)
        return total.overflow ? nil : total.partialValue
    }

    /// Seconds since 1970 of a UTC date and time; nil when any field is out of range (second 60, a leap
    /// second, is accepted as RFC 3339 allows) or the result does not fit in `Int64`.
    public static func epochSeconds(
        year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int
    ) -> Int64? {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            let days = days(year: year, month: month, day: day)
        else { return nil }
        // Before 1970, count from the next midnight back, so a result near Int64.min is not lost to an
        // intermediate below it.
        let secondOfDay = Int64(hour * 3600 + minute * 60 + second)
        let (base, offset) = days < 0 ? (days + 1, secondOfDay - secondsPerDay) : (days, secondOfDay)
        let midnight = base.multipliedReportingOverflow(by: secondsPerDay)
        guard !midnight.overflow else { return nil }
        let total = midnight.partialValue.addingReportingOverflow(offset)
        return total.overflow ? nil : total.partialValue
    }

    /// The civil date `days` after 1970-01-01, for any `Int64`.
    public static func civil(days: Int64) -> (year: Int64, month: Int, day: Int) {
        // Shift to eras starting 0000-03-01 without adding 719_468 to `days` first (which could overflow):
        // 719_468 = 4 eras + 135_080 days.
        var era = floorDivide(days, 146_097)
        var dayOfEra = floorModulo(days, 146_097) + 135_080
        era += 4
        if dayOfEra >= 146_097 {
            dayOfEra -= 146_097
            era += 1
        }
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        // |era| ≤ Int64.max / 146_097, so era * 400 and the sum stay far inside Int64.
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// The UTC date and time of `seconds` since 1970, for any `Int64`.
    public static func civil(
        epochSeconds seconds: Int64
    ) -> (year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = floorDivide(seconds, secondsPerDay)
        let secondOfDay = Int(floorModulo(seconds, secondsPerDay))
        let date = civil(days: days)
        return (date.year, date.month, date.day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// "2024-03-01" for `seconds` since 1970 (years before 1000 zero-padded to four digits, negative
    /// years with a sign).
    public static func dateString(epochSeconds seconds: Int64) -> String {
        let date = civil(days: floorDivide(seconds, secondsPerDay))
        return yearString(date.year) + "-" + twoDigits(date.month) + "-" + twoDigits(date.day)
    }

    /// A year as at least four digits, with "-" before a negative one.
    public static func yearString(_ year: Int64) -> String {
        let digits = String(year.magnitude)
        return (year < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// ⌊a / b⌋ for b > 1, without the overflow of `a - b + 1`.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return a % b < 0 ? quotient - 1 : quotient
    }

    /// a mod b in 0..<b for b > 1 (so that a = b × floorDivide(a, b) + floorModulo(a, b)).
    static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 {
        let remainder = a % b
        return remainder < 0 ? remainder + b : remainder
    }
}
