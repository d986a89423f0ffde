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
