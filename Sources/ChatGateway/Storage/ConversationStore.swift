import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Tracing

/// The gateway's record of users, conversations and messages. Every operation that writes is one transaction,
/// which it may share with other chats' writes (`WriteBatcher`).
struct ConversationStore: Sendable {
    let database: any Database
    let now: @Sendable () -> Date
    /// Several gateway processes use the database (PostgreSQL): what one process knows of a turn, another may not.
    let sharedByReplicas: Bool
    private let writes: WriteBatcher
    private let metrics: GatewayMetrics

    /// `concurrentWrites`: how many write transactions may run at once (SQLite has one writer).
    init(
        database: any Database, concurrentWrites: Int = 1, sharedByReplicas: Bool = false,
        now: @escaping @Sendable () -> Date, metrics: GatewayMetrics = GatewayMetrics(isKnownSystem: { _ in false }),
        usageThresholds: UsageThresholds? = nil
    ) {
        self.database = database
        self.sharedByReplicas = sharedByReplicas
        self.now = now
        self.writes = WriteBatcher(
            database: database, transactions: concurrentWrites,
            afterUsage: usageThresholds.map { thresholds in
                { @Sendable usage, sql in try await thresholds.check(usage, on: sql) }
            }, locksFirst: !sharedByReplicas)
        self.metrics = metrics
    }

    /// One write, committed in a transaction (possibly shared), under a span of its own; a failure is counted.
    private func write(
        _ operation: String, usage: [UsageRollup.Key: UsageRollup.Counters] = [:],
        _ statements: @escaping WriteBatcher.Write
    ) async throws {
        try await withSpan("db \(operation)", ofKind: .client) { span in
            span.attributes["db.operation.name"] = operation
            metrics.storeWrite(operation)
            do {
                try await writes.perform(statements, usage: usage)
            } catch {
                metrics.storeFailure()
                span.setStatus(.init(code: .error))
                throw error
            }
        }
    }

    /// Another capability's statements (the budgets' holds) among the store's writes, so that on SQLite they wait
    /// for its one writer here rather than on a thread the database's other connections need; what they return.
    func write<Value: Sendable>(
        _ operation: String, returning statements: @escaping @Sendable (any SQLDatabase) async throws -> Value
    ) async throws -> Value {
        let result = NIOLockedValueBox<Value?>(nil)
        try await write(operation) { sql in
            let value = try await statements(sql)
            result.withLockedValue { $0 = value }
        }
        return result.withLockedValue { $0! }
    }

    /// A user's message stored before Dify is called, under a placeholder id until Dify names the turn.
    struct PendingMessage: Sendable {
        let rowID: UUID
        let conversationID: String?
        let systemID: String
        let createdAt: Date
        /// Set when the request carried an `Idempotency-Key`.
        let idempotency: IdempotencyRecord?
        /// What the user asked, and the wire it came through: for the turn's webhook event.
        var question = ""
        var channel: String? = nil

        /// The turn's id: the user message's row id.
        var turnID: String { rowID.uuidString.lowercased() }
    }

    /// Upserts the (system, user) so the history sync knows about them.
    func registerUser(_ caller: CallerIdentity) async throws {
        let stamp = now()
        try await write("register user") { sql in try await Self.upsertUser(caller, at: stamp, on: sql) }
    }

    /// Who owns a conversation the gateway has seen, if it has seen it.
    /// Whether the gateway holds the conversation and has not seen it deleted.
    func isLive(conversation conversationID: String) async throws -> Bool {
        try await StoredConversation.query(on: database).filter(\.$conversationID == conversationID)
            .filter(\.$deletedAt == nil).first() != nil
    }

    func owner(ofConversation conversationID: String) async throws -> (systemID: String, userID: String)? {
        guard
            let row = try await StoredConversation.query(on: database)
                .filter(\.$conversationID == conversationID).first()
        else { return nil }
        return (row.systemID, row.userID)
    }

    /// Stores the user's message before Dify is called, so nothing the user sent can be lost, as a turn that
    /// `holder` (this process) runs, and registers the (system, user) for the history sync in the same transaction.
    /// With an `Idempotency-Key`, the key is claimed in that transaction too: a key claimed already throws
    /// `IdempotencyRecord.Claimed` with the turn that has it, and nothing is written.
    func recordPendingUserMessage(
        _ caller: CallerIdentity, conversationID: String?, content: String, holder: String,
        idempotency: IdempotencyRecord? = nil, isTask: Bool = false, files: [JSONValue] = [],
        regenerates: String? = nil,
        channel: String? = nil
    ) async throws -> PendingMessage {
        let stamp = now()
        var message = MessageWrite(
            messageID: Self.localMessageID(), conversationID: conversationID, systemID: caller.systemID,
            userID: caller.userID, role: "user", content: content, status: .pending, createdAt: stamp, updatedAt: stamp)
        message.turn = .init(status: .accepted, holder: holder, idempotency: idempotency, kind: isTask ? "task" : nil)
        message.files = JSONValue.columnText(ofList: files)
        message.regenerates = regenerates
        message.channel = channel
        let counted = Self.count(caller, at: stamp, isTask ? ["chats", "tasks"] : ["chats"])
        try await write("store user message", usage: counted) { [message] sql in
            try await Self.upsertUser(caller, at: stamp, on: sql)
            guard let idempotency else {
                return try await sql.insert(into: StoredMessage.schema).model(message, nilEncodingStrategy: .asNil)
                    .run()
            }
            try await sql.insert(into: StoredMessage.schema).model(message, nilEncodingStrategy: .asNil)
                .ignoringConflicts(with: ["idempotency_key"]).run()
            let owner = try await sql.select().column("id").from(StoredMessage.schema)
                .where("idempotency_key", .equal, SQLBind(idempotency.keyHash)).first()?
                .decode(column: "id", as: UUID.self)
            if let owner, owner != message.id { throw IdempotencyRecord.Claimed(turnID: owner) }
        }
        return PendingMessage(
            rowID: message.id, conversationID: conversationID, systemID: caller.systemID, createdAt: stamp,
            idempotency: idempotency, question: content, channel: channel)
    }

    /// A message refused before Dify was called (a budget used up): kept, marked refused with the reason, with the
    /// refusal's `event` (a budget's first in its period) in the same transaction.
    func recordRefusedUserMessage(
        _ caller: CallerIdentity, conversationID: String?, content: String, reason: String,
        event: WebhookEvent? = nil
    ) async throws {
        let stamp = now()
        let message = MessageWrite(
            messageID: Self.localMessageID(), conversationID: conversationID, systemID: caller.systemID,
            userID: caller.userID, role: "user", content: content, status: .refused, error: reason, createdAt: stamp,
            updatedAt: stamp)
        try await write("store refused message", usage: Self.count(caller, at: stamp, ["chats", "refused"])) { sql in
            try await Self.upsertUser(caller, at: stamp, on: sql)
            try await sql.insert(into: StoredMessage.schema).model(message, nilEncodingStrategy: .asNil).run()
            if let event { try await WebhookOutbox.emit(event, at: stamp, on: sql) }
        }
        metrics.messageStored(system: caller.systemID, role: "user", status: .refused)
    }

    /// A blocking answer: the turn is recorded complete, with Dify's usage in the same transaction.
    func recordAnswer(_ answer: DifyChatAnswer, for pending: PendingMessage, caller: CallerIdentity) async throws {
        let ids = TurnIDs(conversationID: answer.conversationID, messageID: answer.messageID, taskID: answer.taskID)
        try await recordTurn(
            ids, for: pending, caller: caller, answer: answer.answer, status: .complete,
            usage: DifyUsage(metadata: answer.metadata), sources: answer.metadata,
            ending: .init(status: .completed, result: TurnResult(answer: answer), lastEventID: 1))
    }

    /// The first event of a stream named the conversation and message: record the turn with an empty assistant
    /// row marked `streaming`, so the conversation exists even if the gateway dies mid-answer.
    func recordStreamStarted(_ ids: TurnIDs, for pending: PendingMessage, caller: CallerIdentity) async throws {
        try await recordTurn(
            ids, for: pending, caller: caller, answer: "", status: .streaming, replacingAnswer: false)
    }

    /// Stores what a turn produced, however it ended, with `message_end`'s usage when it came. It writes the
    /// whole turn, so the answer is stored even if recording the start failed. `lastEventID` is the id of the
    /// ending in the turn's log.
    /// With `expectedHolder` (recovery), nothing is written unless that process still holds the turn.
    func recordTurnEnded(
        _ ending: TurnEnding, partialAnswer: String, lastEventID: Int, for pending: PendingMessage,
        caller: CallerIdentity, expectedHolder: String? = nil
    ) async throws {
        var final = TurnFinal(status: ending.status, result: TurnResult(ending), lastEventID: lastEventID)
        final.expectedHolder = expectedHolder
        switch ending {
        case .completed(let ids, let answer, let metadata, let stopped):
            try await recordTurn(
                ids, for: pending, caller: caller, answer: answer, status: stopped ? .stopped : .complete,
                usage: DifyUsage(metadata: metadata), sources: metadata, ending: final)
        case .failed(let error, let ids?):
            try await recordTurn(
                ids, for: pending, caller: caller, answer: partialAnswer, status: .failed, error: error.summary,
                errorCode: error.webhookCode, ending: final)
        case .interrupted(let ids?, let reason):
            try await recordTurn(
                ids, for: pending, caller: caller, answer: partialAnswer, status: .interrupted, error: reason,
                ending: final)
        case .failed(let error, nil):
            final.releasesKey = !error.reachedDify
            try await recordFailure(
                error.summary, code: error.webhookCode, as: .failed, for: pending, caller: caller, ending: final)
        case .interrupted(nil, let reason):
            try await recordFailure(
                reason, code: "interrupted", as: .interrupted, for: pending, caller: caller, ending: final)
        }
    }

    /// Keeps the user's message, marked failed with the reason. A failure before Dify started (it was not
    /// reached) frees the turn's `Idempotency-Key`, so the same request may be sent again.
    func recordFailure(_ error: DifyError, for pending: PendingMessage, caller: CallerIdentity) async throws {
        try await recordTurnEnded(
            .failed(error, ids: nil), partialAnswer: "", lastEventID: 1, for: pending, caller: caller)
    }

    /// `kind`: how the event tells it (the message row says `failed` either way).
    private func recordFailure(
        _ reason: String, code: String, as kind: StoredMessage.Status, for pending: PendingMessage,
        caller: CallerIdentity, ending: TurnFinal
    ) async throws {
        let stamp = now()
        let event = WebhookEvent.turnEnded(
            .init(status: kind, text: "", errorCode: code, errorMessage: reason), turnID: pending.turnID,
            conversationID: pending.conversationID, question: pending.question, channel: pending.channel,
            caller: caller, at: stamp)
        try await write("record failure", usage: Self.count(caller, at: pending.createdAt, ["failed"])) { sql in
            try await ending.run(
                sql.update(StoredMessage.schema)
                    .set("status", to: SQLBind(StoredMessage.Status.failed.rawValue))
                    .set("error", to: SQLBind(reason))
                    .set("updated_at", to: SQLBind(stamp)),
                row: pending.rowID)
            if let event { try await WebhookOutbox.emit(event, at: stamp, on: sql) }
        }
        metrics.messageStored(system: pending.systemID, role: "user", status: .failed)
    }

    /// Maps the conversation to its owner (once: the unique key decides, not a select-then-insert), gives the
    /// pending message Dify's id and stores the answer.
    private func recordTurn(
        _ ids: TurnIDs, for pending: PendingMessage, caller: CallerIdentity,
        answer: String, status: StoredMessage.Status, error: String? = nil, errorCode: String? = nil,
        usage: DifyUsage? = nil, sources metadata: JSONValue? = nil, replacingAnswer: Bool = true,
        ending: TurnFinal? = nil
    ) async throws {
        let (conversationID, messageID, taskID) = (ids.conversationID, ids.messageID, ids.taskID)
        let stamp = now()
        let conversation = ConversationWrite(
            conversationID: conversationID, systemID: caller.systemID, userID: caller.userID, difyUser: caller.difyUser,
            createdAt: pending.createdAt, updatedAt: stamp)
        var reply = MessageWrite(
            messageID: "\(messageID)_assistant", conversationID: conversationID, systemID: caller.systemID,
            userID: caller.userID,
            role: "assistant", content: answer, status: status, error: error, taskID: taskID, createdAt: stamp,
            updatedAt: stamp, usage: usage)
        reply.retrieverResources = RetrieverResources.text(inMetadata: metadata)
        var turnUsage: [UsageRollup.Key: UsageRollup.Counters] = [:]
        if status != .streaming {
            let key = UsageRollup.Key(
                day: UsageRollup.day(of: stamp), systemID: caller.systemID, userID: caller.userID,
                currency: UsageRollup.currency(of: usage))
            turnUsage[key] = .answer(status: status, usage: usage)
        }
        let event = WebhookEvent.turnEnded(
            .init(
                status: status, ids: ids, text: answer, usage: usage, metadata: metadata, errorCode: errorCode,
                errorMessage: error),
            turnID: pending.turnID, conversationID: conversationID, question: pending.question,
            channel: pending.channel, caller: caller, at: stamp)
        let created = WebhookEvent.conversationCreated(conversationID, channel: pending.channel, caller: caller)
        try await write("record turn", usage: turnUsage) { [reply] sql in
            try await WebhookOutbox.upsert(
                conversation, created: created, then: event.map { [$0] } ?? [], at: stamp, on: sql)
            let user = sql.update(StoredMessage.schema)
                .set("message_id", to: SQLBind("\(messageID)_user"))
                .set("conversation_id", to: SQLBind(conversationID))
                .set("status", to: SQLBind(StoredMessage.Status.complete.rawValue))
                .set("updated_at", to: SQLBind(stamp))
            if let ending {
                try await ending.run(user, row: pending.rowID)
            } else {
                try await user.set("turn_status", to: SQLBind(TurnStatus.streaming.rawValue))
                    .where("id", .equal, SQLBind(pending.rowID)).run()
            }
            try await sql.upsert(
                [reply], into: StoredMessage.schema, onConflict: ["message_id"],
                // The answer is dated when it is final: the day its usage is summed under, also for a stream
                // that began before midnight.
                update: replacingAnswer
                    ? ["content", "status", "error", "created_at", "updated_at", "retriever_resources"]
                        + MessageWrite.usageColumns : [])
        }
        // A turn counts once it is final: a stream's start row (`streaming`) is replaced by its end.
        if status != .streaming {
            metrics.messageStored(system: caller.systemID, role: "user", status: .complete)
            metrics.messageStored(system: caller.systemID, role: "assistant", status: status)
        }
    }

    /// Forgets an expired `Idempotency-Key`, so a new request may claim it.
    func releaseIdempotencyKey(of rowID: UUID) async throws {
        try await write("release idempotency key") { sql in
            try await sql.update(StoredMessage.schema).set("idempotency_key", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(rowID)).run()
        }
    }

    /// Who a streamed answer's task belongs to, if the gateway recorded it.
    func owner(ofTask taskID: String) async throws -> (systemID: String, userID: String)? {
        guard let row = try await StoredMessage.query(on: database).filter(\.$taskID == taskID).first() else {
            return nil
        }
        return (row.systemID, row.userID)
    }

    /// Marks a streamed answer's task stopped by its owner, for the replica running it (perhaps another) to
    /// record the answer `stopped` when Dify ends the stream; `stop` tells Dify. If Dify could not be told, the
    /// mark is taken back.
    func requestStop(ofTask taskID: String, _ stop: () async throws -> Void) async throws {
        try await markStopRequested(taskID, true)
        do {
            try await stop()
        } catch {
            try? await markStopRequested(taskID, false)
            throw error
        }
    }

    private func markStopRequested(_ taskID: String, _ requested: Bool) async throws {
        try await write(requested ? "request stop" : "withdraw stop request") { sql in
            try await sql.update(StoredMessage.schema).set("stop_requested", to: SQLBind(requested))
                .where("task_id", .equal, SQLBind(taskID)).run()
        }
    }

    /// Whether the owner of a streamed answer's task asked for it to stop.
    func stopRequested(ofTask taskID: String) async throws -> Bool {
        try await (database as! any SQLDatabase).select().column("task_id").from(StoredMessage.schema)
            .where("task_id", .equal, SQLBind(taskID)).where("stop_requested", .equal, SQLBind(true)).first() != nil
    }

    /// Who a Dify message (one turn) belongs to, if the gateway recorded it.
    func owner(ofMessage messageID: String) async throws -> (systemID: String, userID: String)? {
        guard
            let row = try await StoredMessage.query(on: database)
                .filter(\.$messageID ~~ ["\(messageID)_user", "\(messageID)_assistant"]).first()
        else { return nil }
        return (row.systemID, row.userID)
    }

    /// What the gateway keeps beside Dify's listing of a conversation, by Dify message id: the sources of each answer
    /// and the first attempt each repeated question belongs to.
    func turnNotes(ofConversation conversationID: String) async throws -> TurnNotes {
        let rows = try await (database as! any SQLDatabase).select()
            .columns("message_id", "retriever_resources", "regenerates").from(StoredMessage.schema)
            .where("conversation_id", .equal, SQLBind(conversationID))
            .where {
                $0.where("retriever_resources", .isNot, SQLLiteral.null).orWhere("regenerates", .isNot, SQLLiteral.null)
            }
            .all()
        var notes = TurnNotes()
        for row in rows {
            let messageID = try row.decode(column: "message_id", as: String.self)
            let sources = try row.decode(column: "retriever_resources", as: String?.self)
            if let sources, messageID.hasSuffix("_assistant") {
                notes.sources[String(messageID.dropLast("_assistant".count))] = JSONValue.list(inColumn: sources)
            }
            if let first = try row.decode(column: "regenerates", as: String?.self), messageID.hasSuffix("_user") {
                notes.regenerates[String(messageID.dropLast("_user".count))] = first
            }
        }
        return notes
    }

    struct TurnNotes: Sendable {
        var sources: [String: [JSONValue]] = [:]
        var regenerates: [String: String] = [:]
    }

    /// The question of a turn the gateway stored, to ask again: its conversation, text, Dify `files`, and the first
    /// attempt it already repeats (if it does).
    func question(
        ofTurn messageID: String
    ) async throws -> (
        conversationID: String, content: String, files: [JSONValue], regenerates: String?
    )? {
        guard
            let row = try await StoredMessage.query(on: database).filter(\.$messageID == "\(messageID)_user").first(),
            let conversationID = row.conversationID
        else { return nil }
        return (conversationID, row.content, JSONValue.list(inColumn: row.files), row.regenerates)
    }

    /// Removes a conversation and its messages from the gateway's tables (after Dify deleted it).
    func deleteConversation(_ conversationID: String, of caller: CallerIdentity) async throws {
        let stamp = now()
        try await write("delete conversation") { sql in
            try await WebhookOutbox.emit(.conversationDeleted(conversationID, caller: caller), at: stamp, on: sql)
            _ = try await Self.deleteRows(ofConversations: [conversationID], on: sql)
        }
    }

    /// Deletes conversations with their messages and `/openai/v1` mappings, and forgets what their webhook events said
    /// (retention, a user's delete); how many messages went.
    static func deleteRows(ofConversations ids: [String], on sql: any SQLDatabase) async throws -> Int {
        try await WebhookOutbox.forgetContent(ofConversations: ids, on: sql)
        try await sql.delete(from: OpenAIConversations.table).where("conversation_id", .in, SQLBind.group(ids)).run()
        let messages = try await sql.delete(from: StoredMessage.schema)
            .where("conversation_id", .in, SQLBind.group(ids)).returning("message_id").all().count
        try await sql.delete(from: StoredConversation.schema).where("conversation_id", .in, SQLBind.group(ids)).run()
        return messages
    }

    /// Keeps a renamed conversation's name in step with Dify.
    func renameConversation(_ conversationID: String, to name: String?, by caller: CallerIdentity) async throws {
        let stamp = now()
        try await write("rename conversation") { sql in
            try await sql.update(StoredConversation.schema)
                .set("name", to: SQLBind(name))
                .set("updated_at", to: SQLBind(stamp))
                .where("conversation_id", .equal, SQLBind(conversationID))
                .run()
            try await WebhookOutbox.emit(
                .conversationRenamed(conversationID, name: name, caller: caller), at: stamp, on: sql)
        }
    }

    /// Keeps the rating (and reason) a user gave an answer, after Dify took it; a rating of nil withdraws it.
    func recordFeedback(
        ofMessage messageID: String, rating: String?, reason: String?, by caller: CallerIdentity
    ) async throws {
        let stamp = now()
        try await write("record feedback") { sql in
            let row = try await sql.select().columns("conversation_id", "feedback_rating").from(StoredMessage.schema)
                .where("message_id", .equal, SQLBind("\(messageID)_assistant")).first()
            let previous = try row?.decode(column: "feedback_rating", as: String?.self)
            try await sql.update(StoredMessage.schema)
                .set("feedback_rating", to: SQLBind(rating))
                .set("feedback_content", to: SQLBind(rating == nil ? nil : reason))
                .where("message_id", .equal, SQLBind("\(messageID)_assistant")).run()
            let event = WebhookEvent.feedback(
                messageID: messageID, conversationID: try row?.decode(column: "conversation_id", as: String?.self),
                rating: rating, previous: previous, reason: reason, caller: caller)
            try await WebhookOutbox.emit(event, at: stamp, on: sql)
        }
    }

    /// 1 for each of `columns` on the caller's day, for the usage sums.
    private static func count(
        _ caller: CallerIdentity, at stamp: Date, _ columns: [String]
    ) -> [UsageRollup.Key: UsageRollup.Counters] {
        var counters = UsageRollup.Counters()
        for column in columns { counters[column] = 1 }
        let key = UsageRollup.Key(
            day: UsageRollup.day(of: stamp), systemID: caller.systemID, userID: caller.userID, currency: "")
        return [key: counters]
    }

    /// A (system, user) seen again only has its `updated_at` moved.
    private static func upsertUser(_ caller: CallerIdentity, at stamp: Date, on sql: any SQLDatabase) async throws {
        let user = UserWrite(
            systemID: caller.systemID, userID: caller.userID, difyUser: caller.difyUser, createdAt: stamp,
            updatedAt: stamp)
        try await sql.upsert(
            [user], into: ChatUser.schema, onConflict: ["system_id", "user_id"], update: ["updated_at"])
    }

    /// A placeholder id until Dify names the message: `local-` and 12 hex digits.
    static func localMessageID() -> String {
        localMessagePrefix + String.randomHex(bytes: 6)
    }

    static let localMessagePrefix = "local-"
}
