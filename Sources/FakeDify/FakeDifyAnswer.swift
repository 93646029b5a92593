/// The fake model: answers are a pure function of the query, so tests can predict them.
///
/// - `"/answer <text>"` answers exactly `<text>` (lets a test choose markdown, `<script>`, emoji...).
/// - `"/tokens N"` answers N words: `"tok1 tok2 ... tokN"` (N ≤ 100 000).
/// - anything else answers `"Echo: " + query`.
///
/// A stream sends the answer in chunks of about one word (the word plus the whitespace after it),
/// so the chunks concatenated give the answer back exactly.
public enum FakeDifyAnswer {
    public static func answer(for query: String) -> String {
        if query.hasPrefix("/answer ") {
            return String(query.dropFirst("/answer ".count))
        }
        if query.hasPrefix("/tokens "),
            let n = Int(query.dropFirst("/tokens ".count).trimmingWhitespace), (0...100_000).contains(n)
        {
            return (0..<n).map { "tok\($0 + 1)" }.joined(separator: " ")
        }
        return "Echo: " + query
    }

    /// Longest chunk, in characters: text without spaces (CJK, long URLs) still streams in pieces.
    static let maxChunkCharacters = 12

    /// Splits on whole Characters (grapheme clusters), so no chunk ever splits a UTF-8 sequence.
    public static func chunks(of answer: String) -> [String] {
        var chunks: [String] = []
        var current = ""
        var count = 0
        var sawSpace = false
        for character in answer {
            let isSpace = character.isWhitespace
            if !current.isEmpty, (sawSpace && !isSpace) || count >= maxChunkCharacters {
                chunks.append(current)
                current = ""
                count = 0
                sawSpace = false
            }
            current.append(character)
            count += 1
            if isSpace { sawSpace = true }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// Deterministic follow-up questions for `/messages/{id}/suggested`.
    public static let suggestedQuestions = [
        "Can you tell me more?",
        "Can you give an example?",
        "What should I do next?",
    ]

    /// The name Dify's (LLM) name generation would give; the fake takes the query itself,
    /// cut like Dify cuts generated names: at most 75 characters, then "...".
    public static func conversationName(for query: String) -> String {
        let scalars = query.unicodeScalars
        guard scalars.count > 75 else { return query }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: scalars.prefix(75))
        return String(cut) + "..."
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var s = self
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
