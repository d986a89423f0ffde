/// How serious a finding is.
public enum Severity: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case info, low, medium, high, critical
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String {
        switch self {
        case .info: "info"
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        }
    }
}

/// One audit finding on a connection.
public struct Finding: Sendable, Hashable {
    /// Stable kebab-case id (contract's findings table).
    public var id: String
    public var severity: Severity
    public var message: String
    public init(id: String, severity: Severity, message: String) {
        self.id = id
        self.severity = severity
        self.message = message
    }
}

extension Severity {
    /// Parses "info", "low", "medium", "high" or "critical" (any case, surrounding blanks ignored), as
    /// `--fail-on` and policy files spell them; nil for anything else.
    public init?(parsing text: String) {
        let wanted = text.trimmingBlanks().lowercased()
        guard let match = Severity.allCases.first(where: { $0.description == wanted }) else { return nil }
        self = match
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation needed).
    func trimmingBlanks() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(self.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
