import Foundation
import NIOCore

/// OpenAI's Chat Completions shapes for one turn: the blocking `chat.completion` and the streamed
/// `chat.completion.chunk`s, all with the turn's id and one `created`.
struct OpenAIWire: Sendable {
    /// `chatcmpl-<turn id>`: the same for every chunk and for a repeated or reattached request.
    let id: String
    let created: Int
    /// The model as the client named it.
    let model: String

    init(turnID: String, created: Date, model: String) {
        id = "chatcmpl-\(turnID)"
        self.created = Int(created.timeIntervalSince1970)
        self.model = model
    }

    /// A blocking answer.
    func completion(content: String, metadata: JSONValue?) -> JSONValue {
        .object([
            "id": .string(id), "object": .string("chat.completion"), "created": .number(Double(created)),
            "model": .string(model), "system_fingerprint": .null,
            "choices": .array([
                .object([
                    "index": .number(0),
                    "message": .object([
                        "role": .string("assistant"), "content": .string(content), "refusal": .null,
                    ]),
                    "logprobs": .null, "finish_reason": .string("stop"),
                ])
            ]),
            "usage": Self.usage(metadata),
        ])
    }

    /// A chunk with one choice; `usage` is there (null) only when the client asked for the usage chunk.
    func chunk(delta: [String: JSONValue], finishReason: String? = nil, withUsage: Bool) -> JSONValue {
        var object = chunkEnvelope()
        object["choices"] = .array([
            .object([
                "index": .number(0), "delta": .object(delta), "logprobs": .null,
                "finish_reason": finishReason.map(JSONValue.string) ?? .null,
            ])
        ])
        if withUsage { object["usage"] = .null }
        return .object(object)
    }

    /// The last chunk with `stream_options.include_usage`: no choices, Dify's usage.
    func usageChunk(metadata: JSONValue?) -> JSONValue {
        var object = chunkEnvelope()
        object["choices"] = .array([])
        object["usage"] = Self.usage(metadata)
        return .object(object)
    }

    private func chunkEnvelope() -> [String: JSONValue] {
        [
            "id": .string(id), "object": .string("chat.completion.chunk"), "created": .number(Double(created)),
            "model": .string(model), "system_fingerprint": .null,
        ]
    }

    /// Dify's usage as OpenAI counts it; zeros when Dify reported none.
    static func usage(_ metadata: JSONValue?) -> JSONValue {
        let usage = DifyUsage(metadata: metadata)
        return .object([
            "prompt_tokens": .number(Double(usage?.promptTokens ?? 0)),
            "completion_tokens": .number(Double(usage?.completionTokens ?? 0)),
            "total_tokens": .number(Double(usage?.totalTokens ?? 0)),
        ])
    }

    /// What an event adds to the answer's content: text, or a file Dify's app made, as markdown.
    static func content(of event: DifyStreamEvent) -> String? {
        switch event {
        case .answerDelta(_, let text): return text
        case .messageFile(_, _, let type, let url?, let belongsTo) where belongsTo != "user":
            return type == "image" ? "![](\(url))" : "[file](\(url))"
        default: return nil
        }
    }

    /// The answer's content as a stream gave it: what a client resends as the assistant's message.
    static func content(of entries: some Sequence<TurnLog.Entry>) -> String {
        var text = ""
        for entry in entries {
            switch entry.event {
            case .upstream(.answerReplace(_, let replacement)): text = replacement
            case .upstream(let event): text += content(of: event) ?? ""
            default: break
            }
        }
        return text
    }

    /// What `delta.reasoning_content` shows of an agent's thought or a workflow step, when asked for.
    static func reasoning(of event: DifyStreamEvent) -> String? {
        switch event {
        case .agentThought(_, let payload):
            guard case .object(let fields) = payload else { return nil }
            let thought = fields["thought"]?.stringValue ?? ""
            let tool = fields["tool"]?.stringValue ?? ""
            if thought.isEmpty && tool.isEmpty { return nil }
            return tool.isEmpty ? thought + "\n" : "\(thought)\n[\(tool)]\n"
        case .workflow(_, let name, let payload):
            guard case .progress(let event, let title, _, _) = GatewayEventEncoder.progress(name, payload) else {
                return nil
            }
            return "[\(event)\(title.map { ": " + $0 } ?? "")]\n"
        default:
            return nil
        }
    }

    static func errorLine(_ ending: TurnEnding) -> JSONValue {
        let error: any Error =
            switch ending {
            case .failed(let error, _): error
            case .interrupted(_, let reason): DifyError.unreachable(reason)
            case .completed: DifyError.malformedResponse("")
            }
        return OpenAIErrorBody(describing: error).json
    }
}

/// A turn's log as OpenAI's stream: the assistant's role first, the text as `delta.content`, `finish_reason`
/// "stop", the usage chunk when asked for, then `[DONE]`. A turn that failed ends with an `error` data line.
struct OpenAIEventEncoder: TurnEventEncoder {
    let wire: OpenAIWire
    let includeUsage: Bool
    /// `X-Gateway-Reasoning: true`: agent thoughts and workflow steps as `delta.reasoning_content`.
    let reasoning: Bool
    private var sentRole = false
    /// The content this reader was sent, to bring it up to a catch-up's text.
    private var sentContent = ""
    /// A comment line only: OpenAI's SDKs keep the last `id:` and take any blank line after it for an (empty) event.
    var keepAlive: String { ": ping\n" }

    init(wire: OpenAIWire, includeUsage: Bool, reasoning: Bool) {
        self.wire = wire
        self.includeUsage = includeUsage
        self.reasoning = reasoning
    }

    mutating func encode(_ entries: ArraySlice<TurnLog.Entry>, into buffer: inout ByteBuffer) -> Bool {
        var pending: (id: Int, text: String)?
        func flush(_ buffer: inout ByteBuffer) {
            if let text = pending { write(id: text.id, ["content": .string(text.text)], into: &buffer) }
            pending = nil
        }
        for entry in entries {
            if case .upstream(let event) = entry.event, let text = OpenAIWire.content(of: event) {
                sentContent += text
                pending = (entry.id, (pending?.text ?? "") + text)
                continue
            }
            flush(&buffer)
            switch entry.event {
            case .started:
                write(id: entry.id, [:], into: &buffer)
            case .sync(let text, _), .upstream(.answerReplace(_, let text)):
                // OpenAI's stream cannot take text back: only what extends what this reader has goes out.
                if text.hasPrefix(sentContent), text.count > sentContent.count {
                    let rest = String(text.dropFirst(sentContent.count))
                    sentContent = text
                    write(id: entry.id, ["content": .string(rest)], into: &buffer)
                }
            case .upstream(let event):
                if reasoning, let text = OpenAIWire.reasoning(of: event) {
                    write(id: entry.id, ["reasoning_content": .string(text)], into: &buffer)
                }
            case .ended(.completed(_, _, let metadata, _)):
                write(id: entry.id, [:], finishReason: "stop", into: &buffer)
                if includeUsage { Self.data(wire.usageChunk(metadata: metadata), id: entry.id, into: &buffer) }
                buffer.writeString("data: [DONE]\n\n")
                return true
            case .ended(let ending):
                Self.data(OpenAIWire.errorLine(ending), id: entry.id, into: &buffer)
                return true
            }
        }
        flush(&buffer)
        return false
    }

    /// A chunk; the first of a reader's carries the assistant's role.
    private mutating func write(
        id: Int, _ delta: [String: JSONValue], finishReason: String? = nil, into buffer: inout ByteBuffer
    ) {
        var delta = delta
        if !sentRole {
            sentRole = true
            delta["role"] = .string("assistant")
            if delta["content"] == nil { delta["content"] = .string("") }
        }
        Self.data(wire.chunk(delta: delta, finishReason: finishReason, withUsage: includeUsage), id: id, into: &buffer)
    }

    private static func data(_ value: JSONValue, id: Int?, into buffer: inout ByteBuffer) {
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("data: ")
        value.write(into: &buffer)
        buffer.writeString("\n\n")
    }
}
