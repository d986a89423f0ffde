import TextFormatting

/// RFC 3339 UTC timestamps without Foundation's formatters (which are slow and locale-bound).
public enum RFC3339 {
    /// "2014-02-11T16:54:12.123456Z" (microseconds) from nanoseconds since 1970.
    public static func string(nanoseconds: Int64) -> String {
        // Floor division without an intermediate that could overflow (capture timestamps are input).
        var seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        if fraction < 0 {
            seconds -= 1
            fraction += 1_000_000_000
        }
        return format(seconds: seconds, micros: Int(fraction / 1000))
    }

    /// "2014-02-11T16:54:12Z" from seconds since 1970.
    public static func string(seconds: Int64) -> String {
        format(seconds: seconds, micros: nil)
    }

    /// Digits written straight into the string's storage: a record has several timestamps (its own and
    /// each certificate's validity), and building them from a dozen small strings cost ~600 instructions each.
    private static func format(seconds: Int64, micros: Int?) -> String {
        var days = seconds / 86_400
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else {
            // Outside four-digit years (only absurd inputs): the plain way, sign and all.
            let date = "\(year)-" + pad(month) + "-" + pad(day) + "T" + pad(secondOfDay / 3600) + ":"
                + pad(secondOfDay / 60 % 60) + ":" + pad(secondOfDay % 60)
            return date + (micros.map { "." + String(String($0 + 1_000_000).dropFirst()) } ?? "") + "Z"
        }
        return String(unsafeUninitializedCapacity: 27) { buffer in
            var end = 0
            func digits(_ value: Int, _ width: Int) {
                var rest = value
                for position in stride(from: end + width - 1, through: end, by: -1) {
                    buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
                end += width
            }
            func character(_ ascii: Unicode.Scalar) {
                buffer[end] = UInt8(ascii: ascii)
                end += 1
            }
            digits(Int(year), 4)
            character("-")
            digits(month, 2)
            character("-")
            digits(day, 2)
            character("T")
            digits(secondOfDay / 3600, 2)
            character(":")
            digits(secondOfDay / 60 % 60, 2)
            character(":")
            digits(secondOfDay % 60, 2)
            if let micros {
                character(".")
                digits(micros, 6)
            }
            character("Z")
            return end
        }
    }

    /// The civil date `days` after 1970-01-01 (the shared, overflow-free helper).
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let date = CivilDate.civil(days: days)
        return (date.year, date.month, date.day)
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
