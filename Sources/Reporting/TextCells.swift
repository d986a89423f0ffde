/// Fitting text into a terminal's columns: eliding in the middle (the ends of a name say most), and
/// wrapping prose at spaces with a hanging indent. Widths count characters (grapheme clusters).
enum TextCells {
    /// `text` cut to `width` characters by replacing its middle with "…".
    static func elided(_ text: String, to width: Int) -> String {
        guard width > 0, text.count > width else { return text }
        guard width > 2 else { return String(text.prefix(width)) }
        let head = (width - 1) / 2 + (width - 1) % 2
        let tail = (width - 1) / 2
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }

    /// `text` wrapped at spaces into lines of at most `width` characters (a word longer than a line stays
    /// whole), every line indented by `indent` spaces; each line ends with a newline.
    static func wrapped(_ text: String, width: Int, indent: Int, firstIndent: Int? = nil) -> String {
        let margin = String(repeating: " ", count: indent)
        let firstMargin = firstIndent.map { String(repeating: " ", count: $0) } ?? margin
        let room = max(20, width - indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= room {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.enumerated().map { ($0.offset == 0 ? firstMargin : margin) + $0.element + "\n" }.joined()
    }
}
