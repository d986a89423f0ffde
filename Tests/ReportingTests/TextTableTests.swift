import Testing

@testable import Reporting

/// The text table fits a terminal: shrink, then leave out the least needed columns; cells never break
/// the alignment (cut in the middle, a timestamp at its end).
@Suite struct TextTableTests {
    static func shown(_ width: Int?) -> [String] {
        let widths = TextTable.fit(TextTable.natural, to: width)
        return zip(TextTable.natural, widths).compactMap { $0.1 == nil ? nil : $0.0.title }
    }

    static func lineLength(_ width: Int?) -> Int {
        let widths = TextTable.fit(TextTable.natural, to: width)
        return zip(TextTable.natural, widths).reduce(0) { sum, pair in
            guard let width = pair.1 else { return sum }
            return sum + (pair.0.width == 0 ? pair.0.minimum : width + 1)
        }
    }

    @Test func columnsFitTheTerminal() {
        #expect(Self.shown(nil).count == 11)
        #expect(Self.shown(250).count == 11)
        #expect(Self.shown(160) == ["TIME", "CLIENT", "SERVER", "VERSION", "CIPHER SUITE", "SNI", "FINDINGS", "STATE"])
        #expect(Self.shown(120) == ["TIME", "CLIENT", "SERVER", "VERSION", "CIPHER SUITE", "SNI", "FINDINGS", "STATE"])
        #expect(Self.shown(100) == ["CLIENT", "SERVER", "VERSION", "CIPHER SUITE", "SNI", "FINDINGS", "STATE"])
        #expect(Self.shown(80) == ["SERVER", "VERSION", "CIPHER SUITE", "SNI", "FINDINGS", "STATE"])
        for width in [80, 100, 120, 160, 200] { #expect(Self.lineLength(width) <= width, "\(width)") }
    }

    @Test func cellsAreCutInTheMiddle() {
        #expect(TextCells.elided("[2001:db8:1234:5678::1]:443", to: 15) == "[2001:d…:1]:443")
        #expect(TextCells.elided("short", to: 15) == "short")
        #expect(TextCells.wrapped("one two three four", width: 29, indent: 2) == "  one two three four\n")
        #expect(TextCells.wrapped(String(repeating: "word ", count: 10), width: 22, indent: 0).split(separator: "\n").count == 3)
    }

    /// HTML: what comes from the wire is escaped for text and attributes, control characters shown as "?".
    @Test func htmlEscaping() {
        #expect(HTML.escape("<script>\"x\" & 'y'</script>\u{01}") == "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;?")
        #expect(HTML.escape("ünïcode ✓") == "ünïcode ✓")
    }
}
