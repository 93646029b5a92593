/// The fake model: answers are a pure function of the query (and of how often it was asked), so tests can predict them.
///
/// - `"/answer <text>"` answers exactly `<text>` (lets a test choose markdown, `<script>`, emoji...).
/// - `"/tokens N"` answers N words: `"tok1 tok2 ... tokN"` (N ≤ 100 000).
/// - `"/vary <text>"` answers `"<text> #N"`, N being how often this exact query has been asked in the conversation
///   (1 the first time), so asking again (a regenerate) gets a different answer.
/// - `"/agent <text>"` answers what `<text>` would, as an agent app does: a tool step streamed as two `agent_thought`
///   events (called, then with its observation), the answer as `agent_message` chunks; `GET /messages` lists the
///   step in `agent_thoughts`.
/// - `"/workflow <text>"` answers what `<text>` would, as a chatflow does: `workflow_started`, `node_started` and
///   `node_finished` for its start, LLM and answer nodes, then `workflow_finished` before `message_end`.
/// - `"/file <url> [<text>]"` sends a `message_file` event (an assistant image at `<url>`) before the answer to
///   `<text>` (without one: "Here is the file."); `GET /messages` lists the file in `message_files`.
/// - anything else answers `"Echo: " + query`, or with `FakeDifyAnswerStyle.demo` a rich answer quoting it.
///
/// Directives combine: `/agent /vary hello` is an agent answering "hello #1".
/// A stream sends the answer in chunks of about one word (the word plus the whitespace after it),
/// so the chunks concatenated give the answer back exactly.
public enum FakeDifyAnswer {
    public static func answer(for query: String, asked: Int = 1, style: FakeDifyAnswerStyle = .echo) -> String {
        reply(for: query, asked: asked, style: style).text
    }

    static func reply(for query: String, asked: Int, style: FakeDifyAnswerStyle) -> FakeDifyReply {
        func argument(_ directive: String) -> String? {
            query.hasPrefix(directive + " ") ? String(query.dropFirst(directive.count + 1)) : nil
        }
        if let text = argument("/answer") { return FakeDifyReply(text: text) }
        if let count = argument("/tokens"), let n = Int(Substring(count).trimmingWhitespace), (0...100_000).contains(n)
        {
            return FakeDifyReply(text: (0..<n).map { "tok\($0 + 1)" }.joined(separator: " "))
        }
        if let text = argument("/vary") { return FakeDifyReply(text: "\(text) #\(asked)") }
        if let text = argument("/agent") {
            var inner = reply(for: text, asked: asked, style: style)
            inner.agentTask = text
            return inner
        }
        if let text = argument("/workflow") {
            var inner = reply(for: text, asked: asked, style: style)
            inner.workflow = true
            return inner
        }
        if let rest = argument("/file"), let url = rest.split(separator: " ").first {
            let text = String(rest.dropFirst(url.count)).trimmingCharacters(in: .whitespaces)
            var inner =
                text.isEmpty ? FakeDifyReply(text: "Here is the file.") : reply(for: text, asked: asked, style: style)
            inner.fileURLs.insert(String(url), at: 0)
            return inner
        }
        switch style {
        case .echo: return FakeDifyReply(text: "Echo: " + query)
        case .demo: return FakeDifyReply(text: FakeDifyDemo.answer(to: query))
        }
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

/// What the fake model produces for one query: the answer, and what its directives add around it.
struct FakeDifyReply: Sendable {
    var text: String
    /// `/agent`: what the tool step searched for.
    var agentTask: String?
    /// `/workflow`: stream chatflow events around the answer.
    var workflow = false
    /// `/file`: the assistant's files, oldest first.
    var fileURLs: [String] = []
}

extension Substring {
    var trimmingWhitespace: Substring {
        var s = self
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
