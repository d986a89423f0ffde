// PLACEHOLDER: replaced by scripts/gen-registries.py output.
enum IANARegistry {
    static func cipherSuiteName(_ value: UInt16) -> String? { nil }
    static func cipherSuiteParts(_ value: UInt16) -> CipherSuiteParts? { nil }
    static func cipherSuiteRecommendation(_ value: UInt16) -> IANARecommendation? { nil }
    static func groupName(_ value: UInt16) -> String? { nil }
    static func groupRecommendation(_ value: UInt16) -> IANARecommendation? { nil }
    static func signatureSchemeName(_ value: UInt16) -> String? { nil }
    static func extensionName(_ value: UInt16) -> String? { nil }
    static func alertName(_ value: UInt8) -> String? { nil }
    static func handshakeTypeName(_ value: UInt8) -> String? { nil }
    static func contentTypeName(_ value: UInt8) -> String? { nil }
}
