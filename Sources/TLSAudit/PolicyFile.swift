// Policy files (schema in docs/audit.md). Cold code: read once at start-up, so Foundation's
// JSONSerialization is fine here. YAML needs jpsim/Yams; without it the YAML path reports that plainly.
import Foundation
import TLSWire

#if canImport(Yams)
    import Yams
#endif

/// The syntax of a policy file.
public enum PolicyFileFormat: String, Sendable, Hashable, CaseIterable {
    case json, yaml

    /// From a file name's extension: ".json" → json, ".yaml"/".yml" → yaml; nil otherwise.
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".json") {
            self = .json
        } else if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            self = .yaml
        } else {
            return nil
        }
    }

    /// Whether this build can read the format (YAML needs Yams linked into TLSAudit).
    public var isSupported: Bool {
        switch self {
        case .json: true
        case .yaml:
            #if canImport(Yams)
                true
            #else
                false
            #endif
        }
    }
}

/// Why a policy file was rejected. Tests compare `code`; `message` is one line for stderr.
public struct PolicyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of mistake the file has.
    public enum Code: Sendable, Hashable {
        /// Not valid JSON/YAML.
        case syntax
        /// Keys the schema does not know (the message names them).
        case unknownKeys
        /// A value of the wrong type (string for a list, text for a number...).
        case wrongType
        /// A value of the right type that means nothing (unknown version, suite, group, severity, base...).
        case invalidValue
        /// A finding id that does not exist (in `severity`, `disabled` or `exceptions`).
        case unknownFindingID
        /// An attempt to lower or disable a broken-crypto finding.
        case brokenCryptoFloor
        /// An exception without a reason.
        case missingReason
        /// YAML asked for, but this build has no YAML parser.
        case yamlUnavailable
    }

    public var code: Code
    public var message: String
    public var description: String { message }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension AuditPolicy {
    /// Parses a policy file. Settings not given are taken from `base` (default "intermediate").
    public static func load(contentsOf bytes: [UInt8], format: PolicyFileFormat) throws(PolicyFileError)
        -> AuditPolicy
    {
        let object: Any
        switch format {
        case .json:
            do {
                object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
            } catch {
                throw PolicyFileError(.syntax, "policy file is not valid JSON: \(jsonErrorText(error, in: bytes))")
            }
        case .yaml:
            #if canImport(Yams)
                let loaded: Any?
                do {
                    loaded = try Yams.load(yaml: String(decoding: bytes, as: UTF8.self))
                } catch {
                    throw PolicyFileError(.syntax, "policy file is not valid YAML: \(oneLine("\(error)"))")
                }
                guard let loaded else { throw PolicyFileError(.syntax, "policy file is empty") }
                object = loaded
            #else
                throw PolicyFileError(
                    .yamlUnavailable, "YAML policy files need a build with Yams; use a JSON policy file instead")
            #endif
        }
        return try PolicyFileReader.policy(from: object)
    }
}

/// Foundation's JSON error as a line and column: it says "… around character 24." (a byte offset), which
/// is turned into "invalid value at line 2, column 11".
private func jsonErrorText(_ error: Error, in bytes: [UInt8]) -> String {
    let debug = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? error.localizedDescription
    guard let range = debug.range(of: "around character "),
        let offset = Int(debug[range.upperBound...].prefix { $0.isNumber }), offset >= 0
    else { return oneLine(debug) }
    var line = 1
    var column = 1
    for byte in bytes.prefix(offset) {
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
            column += 1
        }
    }
    var what = oneLine(String(debug[..<range.lowerBound])).trimmingBlanks()
    if what.isEmpty { what = "syntax error" }
    return "\(what.prefix(1).lowercased() + what.dropFirst()) at line \(line), column \(column)"
}

/// Parser messages can span lines (YAML quotes the offending line); stderr gets one.
private func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { String($0).trimmingBlanks() }.filter { !$0.isEmpty }
        .joined(separator: " ")
}

/// Turns the parsed JSON/YAML tree into an AuditPolicy, checking every key and value.
enum PolicyFileReader {
    static let topLevelKeys: Set<String> = [
        "name", "description", "base", "versions", "cipher_suites", "groups", "certificate_key_types",
        "certificate_curves", "certificate_signatures", "min_rsa_bits", "min_ec_bits", "min_dh_bits",
        "max_certificate_lifetime_days", "severity", "disabled", "exceptions",
    ]
    static let exceptionKeys: Set<String> = ["id", "server_name", "server_ip", "client_ja3", "client_ja4", "reason"]
    static let keyTypes: Set<String> = ["rsa", "ecdsa", "ed25519", "ed448", "dsa"]

    static func policy(from object: Any) throws(PolicyFileError) -> AuditPolicy {
        let root = try dictionary(object, at: "the policy file")
        try rejectUnknownKeys(root, allowed: topLevelKeys, at: "policy file")

        var policy = AuditPolicy.intermediate
        if let base = try string(root["base"], at: "base") {
            guard let builtIn = AuditPolicy.builtIn(named: base) else {
                throw PolicyFileError(.invalidValue, "base: \"\(base)\" is not modern, intermediate or old")
            }
            policy = builtIn
        }
        policy.name = try string(root["name"], at: "name") ?? "custom"

        if let names = try strings(root["versions"], at: "versions") {
            policy.versions = Set(try names.map { name throws(PolicyFileError) in try version(named: name) })
        }
        if let names = try strings(root["cipher_suites"], at: "cipher_suites") {
            policy.cipherSuites = Set(try names.map { name throws(PolicyFileError) in try cipherSuite(named: name) })
        }
        if let names = try strings(root["groups"], at: "groups") {
            policy.groups = Set(try names.map { name throws(PolicyFileError) in try group(named: name) })
        }
        if let names = try strings(root["certificate_key_types"], at: "certificate_key_types") {
            let lowered = names.map { $0.lowercased() }
            if let bad = lowered.first(where: { !keyTypes.contains($0) }) {
                throw PolicyFileError(
                    .invalidValue,
                    "certificate_key_types: \"\(bad)\" is not one of \(keyTypes.sorted().joined(separator: ", "))")
            }
            policy.certificateKeyTypes = Set(lowered)
        }
        if let names = try strings(root["certificate_curves"], at: "certificate_curves") {
            policy.certificateCurves = Set(names.map(curveName))
        }
        if let names = try strings(root["certificate_signatures"], at: "certificate_signatures") {
            policy.certificateSignatures = Set(names)
        }
        policy.minimumRSABits = try bits(root["min_rsa_bits"], at: "min_rsa_bits") ?? policy.minimumRSABits
        policy.minimumECBits = try bits(root["min_ec_bits"], at: "min_ec_bits") ?? policy.minimumECBits
        policy.minimumDHBits = try bits(root["min_dh_bits"], at: "min_dh_bits") ?? policy.minimumDHBits
        policy.maximumCertificateLifetimeDays =
            try bits(root["max_certificate_lifetime_days"], at: "max_certificate_lifetime_days")
            ?? policy.maximumCertificateLifetimeDays

        if let overrides = root["severity"] {
            let table = try dictionary(overrides, at: "severity")
            for id in table.keys.sorted() {
                try checkFindingID(id, at: "severity")
                guard let text = try string(table[id], at: "severity.\(id)"), let severity = Severity(parsing: text)
                else {
                    throw PolicyFileError(
                        .invalidValue, "severity.\(id): expected info, low, medium, high or critical")
                }
                if FindingCatalog.brokenCryptoIDs.contains(id) && severity < .critical {
                    throw PolicyFileError(
                        .brokenCryptoFloor, "severity.\(id): broken crypto stays critical under every policy")
                }
                policy.severities[id] = severity
            }
        }
        if let ids = try strings(root["disabled"], at: "disabled") {
            for id in ids {
                try checkFindingID(id, at: "disabled")
                if FindingCatalog.brokenCryptoIDs.contains(id) {
                    throw PolicyFileError(
                        .brokenCryptoFloor, "disabled: \(id) is broken crypto and cannot be disabled (use an exception)"
                    )
                }
            }
            policy.disabled = Set(ids)
        }
        if let list = root["exceptions"] {
            guard let entries = list as? [Any] else {
                throw PolicyFileError(.wrongType, "exceptions: expected a list")
            }
            policy.exceptions = try entries.enumerated().map { element throws(PolicyFileError) in
                try exception(element.element, at: "exceptions[\(element.offset)]")
            }
        }
        return policy
    }

    static func exception(_ object: Any, at path: String) throws(PolicyFileError) -> AuditPolicy.Exception {
        let entry = try dictionary(object, at: path)
        try rejectUnknownKeys(entry, allowed: exceptionKeys, at: path)
        guard let id = try string(entry["id"], at: "\(path).id") else {
            throw PolicyFileError(.invalidValue, "\(path): missing id")
        }
        try checkFindingID(id, at: "\(path).id")
        guard let reason = try string(entry["reason"], at: "\(path).reason"), !reason.trimmingBlanks().isEmpty else {
            throw PolicyFileError(.missingReason, "\(path): an exception needs a reason")
        }
        return AuditPolicy.Exception(
            id: id,
            serverName: try string(entry["server_name"], at: "\(path).server_name"),
            serverAddress: try string(entry["server_ip"], at: "\(path).server_ip"),
            clientJA3: try string(entry["client_ja3"], at: "\(path).client_ja3"),
            clientJA4: try string(entry["client_ja4"], at: "\(path).client_ja4"),
            reason: reason)
    }

    // MARK: Value helpers

    static func dictionary(_ object: Any, at path: String) throws(PolicyFileError) -> [String: Any] {
        if let table = object as? [String: Any] { return table }
        if let table = object as? [AnyHashable: Any] {  // YAML mappings
            var result: [String: Any] = [:]
            for (key, value) in table {
                guard let name = key.base as? String else {
                    throw PolicyFileError(.wrongType, "\(path): keys must be strings")
                }
                result[name] = value
            }
            return result
        }
        throw PolicyFileError(.wrongType, "\(path): expected an object")
    }

    static func rejectUnknownKeys(_ table: [String: Any], allowed: Set<String>, at path: String)
        throws(PolicyFileError)
    {
        let unknown = table.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw PolicyFileError(
                .unknownKeys, "\(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", "))")
        }
    }

    static func string(_ value: Any?, at path: String) throws(PolicyFileError) -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw PolicyFileError(.wrongType, "\(path): expected a string") }
        return text
    }

    static func strings(_ value: Any?, at path: String) throws(PolicyFileError) -> [String]? {
        guard let value, !(value is NSNull) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String] else {
            throw PolicyFileError(.wrongType, "\(path): expected a list of strings")
        }
        return texts
    }

    static func bits(_ value: Any?, at path: String) throws(PolicyFileError) -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        if value is String { throw PolicyFileError(.wrongType, "\(path): expected a whole number") }
        guard let number = value as? Int, number > 0 else {
            throw PolicyFileError(.wrongType, "\(path): expected a positive whole number")
        }
        return number
    }

    static func checkFindingID(_ id: String, at path: String) throws(PolicyFileError) {
        guard FindingCatalog.byID[id] != nil else {
            throw PolicyFileError(.unknownFindingID, "\(path): unknown finding id \"\(id)\"")
        }
    }

    // MARK: Names

    /// "TLS 1.2" (the contract), "TLSv1.2"/"TLSv1" (Mozilla, OpenSSL), "SSLv3", "DTLS 1.2", or "0x0303".
    static func version(named name: String) throws(PolicyFileError) -> TLSVersion {
        let key = name.lowercased().filter { $0 != " " && $0 != "v" && $0 != "_" }
        let table: [String: TLSVersion] = [
            "ssl2": .ssl2, "ssl2.0": .ssl2, "ssl3": .ssl3, "ssl3.0": .ssl3,
            "tls1": .tls10, "tls1.0": .tls10, "tls1.1": .tls11, "tls1.2": .tls12, "tls1.3": .tls13,
            "dtls1": .dtls10, "dtls1.0": .dtls10, "dtls1.2": .dtls12, "dtls1.3": .dtls13,
        ]
        if let version = table[key] { return version }
        if let code = hexCode(name) { return TLSVersion(rawValue: code) }
        throw PolicyFileError(.invalidValue, "versions: \"\(name)\" is not a TLS version")
    }

    /// IANA name or "0x1301".
    static func cipherSuite(named name: String) throws(PolicyFileError) -> CipherSuite {
        if let code = suiteCodes[name.uppercased()] ?? hexCode(name) { return CipherSuite(rawValue: code) }
        throw PolicyFileError(.invalidValue, "cipher_suites: \"\(name)\" is not an IANA cipher suite name")
    }

    /// IANA name (any case), the OpenSSL/Mozilla aliases prime256v1 / P-256 etc., or "0x001d".
    static func group(named name: String) throws(PolicyFileError) -> NamedGroup {
        let aliases: [String: UInt16] = [
            "prime256v1": 0x0017, "p-256": 0x0017, "p-384": 0x0018, "p-521": 0x0019, "prime192v1": 0x0013,
        ]
        let lower = name.lowercased()
        if let code = aliases[lower] ?? groupCodes[lower] ?? hexCode(name) { return NamedGroup(rawValue: code) }
        throw PolicyFileError(.invalidValue, "groups: \"\(name)\" is not an IANA supported-groups name")
    }

    /// Certificate curve names as CertificateSummary reports them (SEC 2), from common aliases.
    static func curveName(_ name: String) -> String {
        switch name.lowercased() {
        case "prime256v1", "p-256", "secp256r1": "secp256r1"
        case "p-384", "secp384r1": "secp384r1"
        case "p-521", "secp521r1": "secp521r1"
        case "prime192v1", "secp192r1": "secp192r1"
        default: name
        }
    }

    static func hexCode(_ text: String) -> UInt16? {
        let lower = text.lowercased()
        guard lower.hasPrefix("0x") else { return nil }
        return UInt16(lower.dropFirst(2), radix: 16)
    }

    /// Upper-cased IANA suite name → code, built once from the generated registry.
    static let suiteCodes: [String: UInt16] = {
        var table: [String: UInt16] = [:]
        for code in UInt16.min...UInt16.max {
            if let name = CipherSuite(rawValue: code).ianaName { table[name.uppercased()] = code }
        }
        return table
    }()

    /// Lower-cased IANA group name → code.
    static let groupCodes: [String: UInt16] = {
        var table: [String: UInt16] = [:]
        for code in UInt16.min...UInt16.max {
            if let name = NamedGroup(rawValue: code).ianaName { table[name.lowercased()] = code }
        }
        return table
    }()
}
