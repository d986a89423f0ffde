import Foundation
import Testing

@testable import TLSAudit

@Suite struct RemediationTests {
    /// Every finding id says what to change (the report prints it under the id).
    @Test func everyFindingHasARemediation() {
        for descriptor in FindingCatalog.all {
            let line = FindingCatalog.remediation(of: descriptor.id)
            #expect(line?.isEmpty == false, "\(descriptor.id) has no remediation")
            #expect(line?.hasSuffix(".") == true, "\(descriptor.id)")
        }
        #expect(Set(FindingCatalog.remediations.keys).isSubset(of: Set(FindingCatalog.all.map(\.id))), "a remediation for an unknown id")
    }
}

extension RemediationTests {
    /// docs/audit.md's "What to change" table is the catalog's, row for row.
    @Test func theDocsTableIsTheCatalogs() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/audit.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## What to change, by finding").last)
        var rows: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
            guard cells.count >= 2 else { continue }
            let id = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            rows[id] = cells.dropFirst().joined(separator: " | ").replacingOccurrences(of: "\\|", with: "|")
        }
        for descriptor in FindingCatalog.all {
            #expect(rows[descriptor.id] == FindingCatalog.remediation(of: descriptor.id), "\(descriptor.id)")
        }
        #expect(rows.count == FindingCatalog.all.count)
    }
}
