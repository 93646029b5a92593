/// Sort orders of `GET /conversations`.
enum FakeConversationSort: String, CaseIterable {
    case createdAt = "created_at", createdAtDesc = "-created_at"
    case updatedAt = "updated_at", updatedAtDesc = "-updated_at"

    var descending: Bool { rawValue.hasPrefix("-") }

    func key(_ c: FakeConversation) -> Int {
        self == .createdAt || self == .createdAtDesc ? c.createdSeq : c.updatedSeq
    }
}

extension FakeDifyStore {
    func liveConversation(_ id: String, user: String) -> FakeConversation? {
        guard let c = conversations[id], c.user == user, !c.isDeleted else { return nil }
        return c
    }

    /// `ConversationService.pagination_by_last_id`: rows strictly after the cursor row on the sort key;
    /// `has_more` only when the page is full and more rows follow.
    func listConversations(
        user: String, lastID: String?, limit: Int, sort: FakeConversationSort
    )
        throws -> FakeDifyJSON
    {
        var rows = conversations.values.filter { $0.user == user && !$0.isDeleted }
        rows.sort { sort.descending ? sort.key($0) > sort.key($1) : sort.key($0) < sort.key($1) }
        if let lastID {
            guard let last = liveConversation(lastID, user: user) else { throw DifyError.lastConversationNotExists }
            let cursor = sort.key(last)
            rows = rows.filter { sort.descending ? sort.key($0) < cursor : sort.key($0) > cursor }
        }
        let page = rows.prefix(limit)
        return pageJSON(limit: limit, hasMore: page.count == limit && rows.count > limit, data: page.map(\.json))
    }

    /// `MessageService.pagination_by_first_id`: the newest `limit` turns before `first_id`
    /// (or overall), returned oldest to newest.
    func listMessages(user: String, conversationID: String, firstID: String?, limit: Int) throws -> FakeDifyJSON {
        guard let conversation = liveConversation(conversationID, user: user) else {
            throw DifyError.conversationNotExists
        }
        var ids = conversation.messageIDs[...]
        if let firstID {
            guard let index = ids.firstIndex(of: firstID) else { throw DifyError.firstMessageNotExists }
            ids = ids[..<index]
        }
        let page = ids.suffix(limit)
        return pageJSON(
            limit: limit, hasMore: page.count == limit && ids.count > limit,
            data: page.compactMap { messages[$0]?.json })
    }

    func deleteConversation(_ id: String, user: String) throws {
        guard liveConversation(id, user: user) != nil else { throw DifyError.conversationNotExists }
        conversations[id]?.isDeleted = true
    }

    /// Manual names must be non-blank; auto names come from the first query (400 with an empty
    /// message when there is none, as Dify). Only a manual rename bumps `updated_at`.
    func renameConversation(_ id: String, user: String, name: String?, autoGenerate: Bool) throws -> FakeDifyJSON {
        guard let conversation = liveConversation(id, user: user) else { throw DifyError.conversationNotExists }
        if autoGenerate {
            guard let first = conversation.messageIDs.first.flatMap({ messages[$0] }) else {
                throw DifyError.invalidParam("")
            }
            conversations[id]?.name = FakeDifyAnswer.conversationName(for: first.query)
        } else {
            guard let name, !name.allSatisfy(\.isWhitespace) else {
                throw DifyError.invalidParam("name is required when auto_generate is false")
            }
            let now = tick()
            conversations[id]?.name = name
            conversations[id]?.updatedAt = now.seconds
            conversations[id]?.updatedSeq = now.seq
        }
        return conversations[id]!.json
    }

    /// Null rating deletes feedback; null with no feedback is Dify's 400.
    func feedback(messageID: String, user: String, rating: String?, content: String?) throws {
        guard let message = messages[messageID], message.user == user else { throw DifyError.messageNotExists }
        if rating == nil, message.rating == nil {
            throw DifyError.invalidParam("rating cannot be None when feedback not exists")
        }
        messages[messageID]?.rating = rating
        messages[messageID]?.feedbackContent = rating == nil ? nil : content
        recordFeedback(FakeDifyFeedback(messageID: messageID, rating: rating, content: content, user: user))
    }

    /// A message of `user`'s, or nil.
    func message(id: String, user: String) -> FakeMessage? {
        guard let message = messages[id], message.user == user else { return nil }
        return message
    }

    /// Checks the message, then (as Dify does) its conversation.
    func suggestedQuestions(messageID: String, user: String) throws -> [String] {
        guard let message = messages[messageID], message.user == user else { throw DifyError.messageNotExists }
        guard liveConversation(message.conversationID, user: user) != nil else { throw DifyError.conversationNotExists }
        return FakeDifyAnswer.suggestedQuestions
    }

    /// Live (not deleted) conversation ids of a user, newest-updated first.
    public func conversationIDs(user: String) -> [String] {
        conversations.values.filter { $0.user == user && !$0.isDeleted }
            .sorted { $0.updatedSeq > $1.updatedSeq }.map(\.id)
    }

    /// Messages (turns) of a conversation, deleted or not; 0 if unknown.
    public func messageCount(conversationID: String) -> Int {
        conversations[conversationID.lowercased()]?.messageIDs.count ?? 0
    }
}
