import Vapor

extension GatewayAuthenticator {
    /// `system_id` / `user_id` may come in the query or, for POST and DELETE, in a JSON body; the body wins.
    func identityFromQueryOrBody(_ req: Request) async throws -> CallerIdentity {
        let credential = try await credential(for: req)
        let query = try req.query.decode(IdentityQuery.self)
        let body = req.body.data.flatMap { _ in try? req.content.decode(IdentityQuery.self) }
        return try identity(
            credential, systemID: body?.systemID ?? query.systemID, userID: body?.userID ?? query.userID)
    }
}

/// Ownership checks shared by every per-conversation and per-message endpoint.
extension CallerIdentity {
    /// A known owner that is someone else means "not found": never reveal that the id exists. An id the gateway
    /// never stored is "not found" for a chat token too, and where `recordedOnly`; a server key may otherwise
    /// still reach what Dify holds for its user.
    func requireOwnership(
        _ owner: (systemID: String, userID: String)?, notFound: ChatError = .conversationNotFound,
        recordedOnly: Bool = false
    ) throws(ChatError) {
        guard let owner else {
            if isChatToken || recordedOnly { throw notFound }
            return
        }
        guard owns(owner) else { throw notFound }
    }
}
