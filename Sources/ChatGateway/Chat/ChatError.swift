/// A chat request the gateway refuses before Dify sees it (422 / 413), or a conversation that is not the caller's (404).
enum ChatError: Error, Equatable {
    case emptyMessage
    /// Neither `message` nor `regenerate`.
    case messageRequired
    /// `regenerate` asks the same question again: it takes no `message`.
    case messageWithRegenerate
    case messageTooLong(length: Int, limit: Int)
    case invalidConversationID
    case inputsTooDeep(limit: Int)
    case conversationNotFound
    case messageNotFound
    case taskNotFound
    /// A turn that is not there or not the caller's (404 either way).
    case turnNotFound
    case nameRequired
    case nameTooLong(limit: Int)
    case invalidRating
    case feedbackTooLong(limit: Int)
}
