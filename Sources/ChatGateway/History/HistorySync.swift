import Fluent
import Foundation
import Logging
import SQLKit

/// Copies every known user's conversations and messages from Dify's Service API into the gateway's tables:
/// all pages, upserted (a second run changes nothing), unchanged conversations skipped, conversations Dify
/// no longer lists marked deleted. One user's failure is reported and does not touch the others.
struct HistorySync: Sendable {
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let database: any Database
    let now: @Sendable () -> Date
    var concurrency = 4
    var retry = RetryPolicy()
    var pageSize = 100
    let logger: Logger
    /// A system's retention: a conversation the gateway does not hold whose last change in Dify is older is not
    /// copied (retention deleted it; its usage was counted already).
    var retention: RetentionPolicy? = nil
    /// Whether a user's data is being erased: nothing of theirs is copied meanwhile.
    var isErasing: (@Sendable (CallerIdentity) -> Bool)? = nil

    struct KnownUser: Sendable, Hashable {
        let systemID: String
        let userID: String
        let difyUser: String
    }

    /// `progress` is called after each user with (users done, users in total).
    func run(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async -> SyncReport {
        let started = ContinuousClock.now
        var report = SyncReport(startedAt: now())
        let users: [KnownUser]
        do {
            users = try await knownUsers()
        } catch {
            report.errors.append(.init(systemID: "", userID: "", detail: "could not read the users to sync: \(error)"))
            return report
        }
        report.users = users.count
        await withTaskGroup(of: (KnownUser, Result<UserSyncCounts, any Error>).self) { group in
            var next = users.makeIterator()
            func addNext() -> Bool {
                // Cancelled (the gateway is shutting down): users already started finish, no new one starts.
                guard !Task.isCancelled, let user = next.next() else { return false }
                group.addTask {
                    do { return (user, .success(try await self.sync(user))) } catch { return (user, .failure(error)) }
                }
                return true
            }
            for _ in 0..<max(1, concurrency) where !addNext() { break }
            var done = 0
            while let (user, result) = await group.next() {
                done += 1
                switch result {
                case .success(let counts): report.add(counts)
                case .failure(let error):
                    report.errors.append(
                        .init(systemID: user.systemID, userID: user.userID, detail: Self.describe(error)))
                }
                progress(done, users.count)
                _ = addNext()
            }
        }
        report.durationMS = (ContinuousClock.now - started).milliseconds
        logger.info(
            "history sync finished",
            metadata: [
                "users": .stringConvertible(report.users),
                "conversations_synced": .stringConvertible(report.conversationsSynced),
                "messages_synced": .stringConvertible(report.messagesSynced),
                "errors": .stringConvertible(report.errors.count),
                "started_at": .string(report.startedAt), "duration_ms": .stringConvertible(report.durationMS),
            ])
        return report
    }

    /// Everyone who chatted through the gateway (their conversations) or opened the chat page (`gateway_users`).
    func knownUsers() async throws -> [KnownUser] {
        let sql = database as! any SQLDatabase
        let rows = try await sql.raw(
            """
            SELECT system_id, user_id, dify_user FROM \(ident: ChatUser.schema)
            UNION SELECT system_id, user_id, dify_user FROM \(ident: StoredConversation.schema)
            ORDER BY system_id, user_id
            """
        ).all()
        return try rows.map {
            KnownUser(
                systemID: try $0.decode(column: "system_id", as: String.self),
                userID: try $0.decode(column: "user_id", as: String.self),
                difyUser: try $0.decode(column: "dify_user", as: String.self))
        }
    }

    func sync(_ user: KnownUser) async throws -> UserSyncCounts {
        let target = try targets.target(forSystem: user.systemID)
        let remote = try await dify.allConversations(user: user.difyUser, at: target, pageSize: pageSize, retry: retry)
        let local = try await LocalConversations.load(for: user, on: database)
        var counts = UserSyncCounts()
        let caller = CallerIdentity(systemID: user.systemID, userID: user.userID)
        let cutoff = retention?.cutoff(for: user.systemID, at: now())
        for conversation in remote {
            let updatedAt = conversation.updatedAt.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            if let known = local.byID[conversation.id], known.isCurrent(difyUpdatedAt: updatedAt) {
                counts.conversationsSkipped += 1
                continue
            }
            if local.byID[conversation.id] == nil, let cutoff, let updatedAt, updatedAt < cutoff {
                counts.conversationsSkipped += 1
                continue
            }
            let messages = try await dify.allMessages(
                conversationID: conversation.id, user: user.difyUser, at: target, pageSize: pageSize, retry: retry)
            let existing = try await LocalConversations.messageContents(of: conversation.id, on: database)
            var rows: [MessageWrite] = []
            // New turns are chats whose usage the gateway never saw: they enter the daily sums as such.
            var usage: [UsageRollup.Key: UsageRollup.Counters] = [:]
            var (added, updated) = (0, 0)
            let stamp = now()
            for (position, message) in messages.enumerated() {
                let created = message.createdAt.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? stamp
                for (role, text) in [("user", message.query ?? ""), ("assistant", message.answer ?? "")] {
                    let messageID = "\(message.id)_\(role)"
                    switch existing[messageID] {
                    case nil:
                        added += 1
                        let key = UsageRollup.Key(
                            day: UsageRollup.day(of: created), systemID: user.systemID, userID: user.userID,
                            currency: "")
                        usage[key, default: .init()] =
                            usage[key, default: .init()]
                            + (role == "user" ? .userMessage : .answer(status: .complete, usage: nil))
                    case text?: continue
                    case _?: updated += 1
                    }
                    var row = Self.messageWrite(
                        id: messageID, conversationID: conversation.id, user: user, role: role, content: text,
                        position: position, createdAt: created, at: stamp)
                    // A turn the gateway did not run keeps the sources Dify lists for it.
                    if role == "assistant" {
                        row.retrieverResources = JSONValue.columnText(ofList: message.retrieverResources)
                    }
                    rows.append(row)
                }
            }
            if isErasing?(caller) == true { return counts }
            guard
                try await Self.store(
                    Self.conversationWrite(conversation, user: user, updatedAt: updatedAt, at: stamp), messages: rows,
                    usage: usage, on: database)
            else {
                counts.conversationsSkipped += 1
                continue
            }
            counts.messagesAdded += added
            counts.messagesUpdated += updated
            counts.conversationsSynced += 1
        }
        let listed = Set(remote.map(\.id))
        let gone = local.byID.values.filter { $0.deletedAt == nil && !listed.contains($0.conversationID) }.map(
            \.conversationID)
        if !gone.isEmpty {
            try await LocalConversations.markDeleted(gone, at: now(), on: database)
            counts.conversationsDeleted = gone.count
        }
        return counts
    }

    static func describe(_ error: any Error) -> String {
        (error as? DifyError)?.summary ?? String(describing: error)
    }
}
