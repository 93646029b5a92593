import Foundation
import SQLKit

/// Which Dify conversation a stateless OpenAI request continues. A client's conversation key wins; else the
/// conversation whose history, as its last answer left it, is exactly the request's history before its new message.
/// Kept per (system, user) in `gateway_openai_conversations`, one row per Dify conversation.
struct OpenAIConversations: Sendable {
    static let table = "gateway_openai_conversations"
    /// The earlier turns carried into a new conversation, at most: the latest whole messages that fit.
    static let transcriptLimit = 4000

    let database: @Sendable () -> any SQLDatabase
    let store: ConversationStore
    let now: @Sendable () -> Date

    /// How a request's conversation was found: named by `X-Gateway-Conversation`.
    enum Match: String, Sendable {
        /// An earlier turn's conversation, by key or history.
        case continued
        /// No history: a new conversation.
        case new
        /// History that matched no conversation: a new one, told the earlier turns in a transcript.
        case transcript
    }

    func resolve(
        key: String?, history: [OpenAIChatRequest.Message], for caller: CallerIdentity
    ) async throws -> (conversationID: String?, match: Match) {
        if let key, let found = try await find("key_hash", key.sha256Hex, for: caller) {
            return (found, .continued)
        }
        guard !history.isEmpty else { return (nil, .new) }
        if let found = try await find("history_hash", Self.historyHash(history), for: caller) {
            return (found, .continued)
        }
        return (nil, .transcript)
    }

    /// The one conversation of `caller` with `column` = `value` that the gateway still holds; a value two
    /// conversations share names neither.
    private func find(_ column: String, _ value: String, for caller: CallerIdentity) async throws -> String? {
        let rows = try await database().select().column("conversation_id").from(Self.table)
            .owned(bySystem: caller.systemID, user: caller.userID)
            .where(SQLIdentifier(column), .equal, SQLBind(value)).limit(2).all()
        guard rows.count == 1, let id = try? rows[0].decode(column: "conversation_id", as: String.self) else {
            return nil
        }
        // A conversation deleted since (through the gateway, or in Dify as the sync found) is no longer continued.
        guard try await store.isLive(conversation: id) else {
            try await forget(id)
            return nil
        }
        return id
    }

    /// After a completed turn: the conversation's history is now `history` (the answer included as it was
    /// returned), and `key`, when given, names it from now on.
    func remember(
        _ conversationID: String, key: String?, history: [OpenAIChatRequest.Message], for caller: CallerIdentity
    ) async throws {
        let sql = database()
        let keyHash = key.map(\.sha256Hex)
        if let keyHash {
            try await sql.update(Self.table).set("key_hash", to: SQLLiteral.null)
                .owned(bySystem: caller.systemID, user: caller.userID)
                .where("key_hash", .equal, keyHash).where("conversation_id", .notEqual, conversationID).run()
        }
        try await sql.insert(into: Self.table)
            .columns("conversation_id", "system_id", "user_id", "key_hash", "history_hash", "updated_at")
            .values(
                SQLBind(conversationID), SQLBind(caller.systemID), SQLBind(caller.userID), SQLBind(keyHash),
                SQLBind(Self.historyHash(history)), SQLBind(now().timeIntervalSince1970)
            )
            .onConflict(with: ["conversation_id"]) { update in
                var update =
                    update
                    .set("history_hash", to: SQLExcludedColumn("history_hash"))
                    .set("updated_at", to: SQLExcludedColumn("updated_at"))
                if keyHash != nil { update = update.set("key_hash", to: SQLExcludedColumn("key_hash")) }
                return update
            }
            .run()
    }

    /// Drops what the gateway remembered of a conversation.
    func forget(_ conversationID: String) async throws {
        try await database().delete(from: Self.table).where("conversation_id", .equal, conversationID).run()
    }

    /// The history in a canonical form (role and trimmed text of each message), hashed.
    static func historyHash(_ history: [OpenAIChatRequest.Message]) -> String {
        let canonical = JSONValue.array(
            history.map {
                .array([.string($0.role), .string($0.text.trimmingCharacters(in: .whitespacesAndNewlines))])
            })
        return String(buffer: canonical.jsonBuffer()).sha256Hex
    }

    /// The query for a new conversation with earlier turns: as many of the latest whole messages as fit in
    /// `transcriptLimit` characters (the end of the last one, when even it does not), then the new message.
    static func transcript(of history: [OpenAIChatRequest.Message], then message: String) -> String {
        var lines: [String] = []
        var used = 0
        for earlier in history.reversed() {
            let speaker = earlier.role == "user" ? "User" : "Assistant"
            let line = "\(speaker): \(earlier.text)"
            guard used + line.count <= transcriptLimit else {
                if lines.isEmpty { lines.append("\(speaker): …" + earlier.text.suffix(transcriptLimit)) }
                break
            }
            lines.append(line)
            used += line.count + 1
        }
        return "Earlier in this conversation:\n" + lines.reversed().joined(separator: "\n") + "\n\n" + message
    }

}
