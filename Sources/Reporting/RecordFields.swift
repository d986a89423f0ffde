import Fingerprints
import HandshakeAnalysis
import X509Inspection
import PacketDecoding
import TLSAudit
import TLSKeys
import TLSWire

/// `--format csv|tsv [--fields a,b,c]`: a record as a row of named fields, for spreadsheets and the
/// `cut`/`awk`/`sort` pipelines of people who live in tshark's `-T fields`. The names are the record's
/// JSON keys (docs/output.md), nested ones with a dot (`cipher.mac`, `frames.first`, `leaf.subject` for
/// the server's first certificate); lists are joined with `;`. A value not seen is an empty cell.
public struct RecordFields: Sendable, Equatable {
    public let names: [String]

    /// The columns without `--fields`.
    public static let defaultNames = [
        "ts", "protocol", "client_ip", "client_port", "server_ip", "server_port", "version", "cipher_suite", "group",
        "server_name", "alpn", "established", "resumed", "ja3", "ja4", "findings.worst", "findings", "community_id",
    ]

    /// The default columns.
    public static let defaults: RecordFields = {
        do { return try RecordFields(defaultNames) } catch { return RecordFields(unchecked: ["ts"]) }
    }()

    private init(unchecked names: [String]) { self.names = names }

    /// Every field name, in documentation order.
    public static var allNames: [String] { extractors.map(\.name) }

    /// Fails with the unknown names.
    public init(_ names: [String]) throws(UnknownFields) {
        let unknown = names.filter { name in !Self.extractors.contains { $0.name == name } }
        guard unknown.isEmpty, !names.isEmpty else { throw UnknownFields(names: unknown) }
        self.names = names
    }

    public struct UnknownFields: Error, Sendable {
        public var names: [String]
    }

    /// The values of `record`, in `names` order (nil: not seen).
    func values(of record: HandshakeRecord) -> [String?] {
        names.map { name in Self.extractors.first { $0.name == name }?.value(record) ?? nil }
    }

    /// A row: CSV (RFC 4180: a value with a comma, quote or line break is quoted, quotes doubled) or TSV
    /// (tabs and line breaks in a value become spaces). Ends with CRLF for CSV, LF for TSV.
    func row(_ values: [String?], tabs: Bool) -> String {
        let cells = values.map { value -> String in
            let text = Self.printable(value ?? "")
            if tabs { return String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 }) }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacing("\"", with: "\"\"") + "\""
        }
        return cells.joined(separator: tabs ? "\t" : ",") + (tabs ? "\n" : "\r\n")
    }

    func header(tabs: Bool) -> String { row(names, tabs: tabs) }

    /// Control characters from the wire (other than tab and line breaks, handled by the quoting) as "?".
    private static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7f })
        else { return text }
        return String(text.unicodeScalars.map { scalar -> Character in
            (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0x7f
                ? "?" : Character(scalar)
        })
    }

    private static func joined(_ items: [String]) -> String { items.joined(separator: ";") }

    private static let extractors: [(name: String, value: @Sendable (HandshakeRecord) -> String?)] = [
        ("type", { _ in "tls" }),
        ("ts", { RFC3339.string(nanoseconds: $0.firstTimestamp) }),
        ("duration", { var json = JSONWriter(); json.double($0.duration, fractionDigits: 6); return String(decoding: json.bytes, as: UTF8.self) }),
        ("transport", { $0.transport == .tcp ? "tcp" : "udp" }),
        ("protocol", { $0.recordProtocol.rawValue }),
        ("client_ip", { $0.clientAddress.description }),
        ("client_port", { String($0.clientPort) }),
        ("server_ip", { $0.serverAddress.description }),
        ("server_port", { String($0.serverPort) }),
        ("starttls", { $0.startTLS }),
        ("version", { $0.version?.name }),
        ("cipher_suite", { $0.cipherSuite?.name }),
        ("cipher.key_exchange", { $0.cipher?.keyExchange }),
        ("cipher.authentication", { $0.cipher?.authentication }),
        ("cipher.encryption", { $0.cipher?.encryption }),
        ("cipher.encryption_bits", { $0.cipher.map { String($0.encryptionBits) } }),
        ("cipher.mac", { $0.cipher?.mac }),
        ("messages", { joined($0.messages.map(\.name)) }),
        ("group", { $0.group?.name }),
        ("server_name", { $0.serverName }),
        ("alpn", { $0.alpn.map { String(decoding: $0, as: UTF8.self) } }),
        ("resumed", { String($0.resumed) }),
        ("established", { String($0.established) }),
        ("alert.from", { $0.alert?.from.name }),
        ("alert.level", { $0.alert.map { $0.alert.isFatal ? "fatal" : "warning" } }),
        ("alert.description", { $0.alert?.alert.description.name }),
        ("leaf.sha256", { $0.certificates.first?.sha256 }),
        ("leaf.subject", { $0.certificates.first?.subject }),
        ("leaf.issuer", { $0.certificates.first?.issuer }),
        ("leaf.not_after", { $0.certificates.first.map { RFC3339.string(seconds: $0.notAfter) } }),
        ("leaf.key_type", { $0.certificates.first?.keyType }),
        ("leaf.key_bits", { $0.certificates.first?.keyBits.map(String.init) }),
        ("leaf.san", { $0.certificates.first.map { joined($0.subjectAlternativeNames) } }),
        ("certificates", { String($0.certificates.count) }),
        ("ja3", { $0.ja3?.hash }),
        ("ja3_string", { $0.ja3?.string }),
        ("ja3s", { $0.ja3s?.hash }),
        ("ja3s_string", { $0.ja3s?.string }),
        ("ja4", { $0.ja4?.fingerprint }),
        ("ja4_r", { $0.ja4?.raw }),
        ("ja4_o", { $0.ja4?.originalOrder }),
        ("ja4_ro", { $0.ja4?.rawOriginalOrder }),
        ("findings", { joined($0.findings.map(\.id)) }),
        ("findings.worst", { $0.findings.map(\.severity).max()?.description }),
        ("compliance.modern", { $0.compliance?.passes("modern").map { $0 ? "pass" : "fail" } }),
        ("compliance.intermediate", { $0.compliance?.passes("intermediate").map { $0 ? "pass" : "fail" } }),
        ("compliance.old", { $0.compliance?.passes("old").map { $0 ? "pass" : "fail" } }),
        ("anomalies", { joined($0.anomalies.map(\.kind.rawValue)) }),
        ("source", { $0.source }),
        ("frames.first", { $0.frames.map { String($0.first) } }),
        ("frames.last", { $0.frames.map { String($0.last) } }),
        ("packets", { String($0.packets) }),
        ("bytes", { String($0.bytes) }),
        ("community_id", { $0.communityID }),
        ("keys.source", { $0.keys?.source.rawValue }),
        ("keys.finished_verified.client", { $0.keys?.clientFinishedVerified.map { String($0) } }),
        ("keys.finished_verified.server", { $0.keys?.serverFinishedVerified.map { String($0) } }),
        ("keys.certificate_verify.server.verified", { $0.keys?.serverCertificateVerify?.verified.map { String($0) } }),
    ]
}
