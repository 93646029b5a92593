import Fluent
import Foundation

/// One side of a turn. Ids follow the seed: `<dify message id>_user` / `<dify message id>_assistant`,
/// and `local-<hex>` for a user message Dify never acknowledged.
final class StoredMessage: Model, @unchecked Sendable {
    static let schema = "gateway_messages"

    enum Status: String, Codable, Sendable {
        /// Stored before the upstream call, waiting for Dify.
        case pending
        /// An assistant answer still arriving from a stream; `content` is filled in when it ends.
        case streaming
        case complete
        /// Dify failed, timed out or broke its stream; `error` says how. What arrived is kept.
        case failed
        /// The user stopped the answer (or shutdown cut it); `content` is what arrived before the stop.
        case stopped
        /// A user message the gateway refused before calling Dify (a budget used up); kept all the same.
        case refused
        /// The gateway shut down or crashed during the answer, and Dify's answer could not be recovered;
        /// `content` is what arrived.
        case interrupted
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "message_id") var messageID: String
    @OptionalField(key: "conversation_id") var conversationID: String?
    @Field(key: "system_id") var systemID: String
    @Field(key: "user_id") var userID: String
    @Field(key: "role") var role: String
    @Field(key: "content") var content: String
    @Field(key: "status") var status: Status
    @OptionalField(key: "error") var error: String?
    /// Dify's task id of a streamed answer: what `POST /v1/chat/{task_id}/stop` names.
    @OptionalField(key: "task_id") var taskID: String?
    /// A turn the gateway ran: its state, on the user's message.
    @OptionalField(key: "turn_status") var turnStatus: String?
    /// The process running the turn, until it ends.
    @OptionalField(key: "turn_holder") var turnHolder: String?
    @OptionalField(key: "turn_result") var turnResult: String?
    @OptionalField(key: "last_event_id") var lastEventID: Int?
    @OptionalField(key: "idempotency_key") var idempotencyKey: String?
    @OptionalField(key: "request_hash") var requestHash: String?
    /// An answer's sources: Dify's `retriever_resources`, as JSON text.
    @OptionalField(key: "retriever_resources") var retrieverResources: String?
    /// A user message's Dify `files`, as JSON text.
    @OptionalField(key: "files") var files: String?
    /// On a question asked again (regenerate): the Dify message id of the first attempt.
    @OptionalField(key: "regenerates") var regenerates: String?
    /// The wire a user's message came through (`/v1`, `page`, `/dify/v1`, `/openai/v1`).
    @OptionalField(key: "channel") var channel: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    /// Dify's id of a user message's turn once Dify named it (`<id>_user`); nil for the placeholder before that.
    var turnMessageID: String? { messageID.hasSuffix("_user") ? String(messageID.dropLast(5)) : nil }

    init() {}
}
