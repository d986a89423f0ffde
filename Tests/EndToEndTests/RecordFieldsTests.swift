import Foundation
import Testing

/// `--format csv|tsv --fields`: every field of every fixture's records against the same record's JSON,
/// and the CSV quoting against Python's csv module.
@Suite struct RecordFieldsTests {
    static let captures = Harness.fixtureCaptures().filter { !$0.hasPrefix("truncated") }.map {
        Harness.pcaps.appendingPathComponent($0).path
    }

    static func allFieldNames() throws -> [String] {
        // The error for an unknown field lists them all.
        let result = try Harness.run(["analyze", "--format", "csv", "--fields", "nosuch", captures[0]])
        let list = try #require(result.stderr.components(separatedBy: "the fields are ").last?.split(separator: "\n").first)
        return list.components(separatedBy: ", ")
    }

    /// What a field's cell should hold, from the record's JSON.
    static func expected(_ field: String, _ record: [String: Any]) -> String {
        func text(_ value: Any?) -> String {
            switch value {
            case nil, is NSNull: return ""
            // JSONSerialization gives booleans as NSNumber: told apart by their Objective-C type.
            case let number as NSNumber where String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true)):
                return number.boolValue ? "true" : "false"
            case let number as NSNumber: return number.stringValue
            case let string as String: return string
            default: return "\(value!)"
            }
        }
        let severities = ["info", "low", "medium", "high", "critical"]
        let findings = record["findings"] as? [[String: Any]] ?? []
        switch field {
        case "resumed", "established": return (record[field] as? Bool) == true ? "true" : "false"
        case "messages": return (record["messages"] as? [String] ?? []).joined(separator: ";")
        case "findings": return findings.compactMap { $0["id"] as? String }.joined(separator: ";")
        case "findings.worst":
            return findings.compactMap { $0["severity"] as? String }.max { severities.firstIndex(of: $0)! < severities.firstIndex(of: $1)! } ?? ""
        case "anomalies": return (record["anomalies"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }.joined(separator: ";")
        case "certificates": return String((record["certificates"] as? [Any])?.count ?? 0)
        case "duration": return ""  // compared as a number below
        default: break
        }
        if field.hasPrefix("leaf.") {
            let leaf = (record["certificates"] as? [[String: Any]])?.first
            let key = String(field.dropFirst(5))
            if key == "san" { return leaf.map { ($0["san"] as? [String] ?? []).joined(separator: ";") } ?? "" }
            return text(leaf?[key])
        }
        // A dotted name is a path through the record's objects (`keys.finished_verified.client`).
        var value: Any? = record
        for part in field.split(separator: ".") { value = (value as? [String: Any])?[String(part)] }
        return text(value)
    }

    @Test func everyFieldAgreesWithTheJSONRecord() throws {
        let names = try Self.allFieldNames()
        #expect(names.count > 50 && names.contains("leaf.subject") && names.contains("community_id"))
        var checked = 0
        for capture in Self.captures {
            let json = try Harness.run(["analyze", "--format", "ndjson", capture]).stdoutText.split(separator: "\n")
            let tsv = try Harness.run(["analyze", "--format", "tsv", "--fields", names.joined(separator: ","), capture])
            #expect(tsv.status == 0, "\(tsv.stderr)")
            var rows = tsv.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if rows.last == "" { rows.removeLast() }
            #expect(rows.first == names.joined(separator: "\t"))
            #expect(rows.count == json.count + 1, "\(capture)")
            for (line, row) in zip(json, rows.dropFirst()) {
                let record = try #require(try Harness.jsonObject(Data(line.utf8)) as? [String: Any])
                let cells = row.components(separatedBy: "\t")
                #expect(cells.count == names.count)
                for (name, cell) in zip(names, cells) {
                    if name == "duration" {
                        #expect(abs((Double(cell) ?? -1) - ((record["duration"] as? Double) ?? -2)) < 1e-6)
                        continue
                    }
                    // TSV turns tabs and line breaks in a value into spaces; no fixture value has one.
                    #expect(cell == Self.expected(name, record), "\(capture): \(name)")
                    checked += 1
                }
            }
        }
        #expect(checked > 3000)
    }

    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// RFC 4180 quoting (a value with commas, such as an RFC 4514 subject, is quoted) as Python reads it.
    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func csvIsWhatPythonsCsvModuleReads() throws {
        let fields = "ts,server_name,leaf.subject,leaf.san,messages,findings"
        let capture = Harness.pcaps.appendingPathComponent("tls12-ecdhe-rsa-chain.pcap").path
        let csv = try Harness.run(["analyze", "--format", "csv", "--fields", fields, capture])
        let tsv = try Harness.run(["analyze", "--format", "tsv", "--fields", fields, capture])
        #expect(csv.stdoutText.contains("\"CN="), "a subject with commas is quoted")
        let script = "import csv,sys; [print('\\t'.join(r)) for r in csv.reader(sys.stdin)]"
        let parsed = try Harness.runTool(URL(fileURLWithPath: try #require(Self.python)), ["-c", script], stdin: csv.stdout)
            .stdoutText
        #expect(parsed == tsv.stdoutText)
    }

    @Test func fieldsNeedCsvOrTsv() throws {
        let capture = Self.captures[0]
        #expect(try Harness.run(["analyze", "--fields", "ts", capture]).stderr.contains("--fields applies to --format csv or tsv"))
        #expect(try Harness.run(["audit", "--format", "csv", capture]).status == 2)
    }
}
