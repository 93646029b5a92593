import Vapor

/// Conversations and their messages: list, history, delete, rename.
extension FakeDifyRoutes {
    func listConversations(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        let user = try req.difyQueryUser(required: false)
        let lastID = try req.difyUUIDQuery("last_id")
        let limit = try req.difyLimit()
        var sort = FakeConversationSort.updatedAtDesc
        if let raw = req.query[String.self, at: "sort_by"] {
            guard let value = FakeConversationSort(rawValue: raw) else {
                throw DifyError.invalidParam(
                    "The value '\(raw)' is not a valid choice for 'sort_by'.", params: "sort_by")
            }
            sort = value
        }
        return difyJSONResponse(try await store.listConversations(user: user, lastID: lastID, limit: limit, sort: sort))
    }

    func listMessages(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        let user = try req.difyQueryUser(required: false)
        guard req.query[String.self, at: "conversation_id"] != nil else {
            throw DifyError.invalidParam("conversation_id is required", params: "conversation_id")
        }
        let firstID = try req.difyUUIDQuery("first_id")
        let limit = try req.difyLimit()
        // Newer Dify accepts an empty conversation_id and answers an empty page.
        guard let conversationID = try req.difyUUIDQuery("conversation_id") else {
            return difyJSONResponse(pageJSON(limit: limit, hasMore: false, data: []))
        }
        return difyJSONResponse(
            try await store.listMessages(
                user: user, conversationID: conversationID,
                firstID: firstID, limit: limit))
    }

    /// 204 with no body (werkzeug drops the `{"result":"success"}` Dify returns with it).
    func deleteConversation(_ req: Request) async throws -> Response {
        let id = try req.difyPathUUID("conversation_id")
        try await req.difyAuthenticate(store)
        let body = try req.difyJSONBody()
        let user = try req.difyUser(body["user"], required: false)
        try await store.deleteConversation(id, user: user)
        return Response(status: .noContent)
    }

    func renameConversation(_ req: Request) async throws -> Response {
        let id = try req.difyPathUUID("conversation_id")
        try await req.difyAuthenticate(store)
        let body = try req.difyJSONBody()
        let user = try req.difyUser(body["user"], required: false)
        var autoGenerate = false
        if let value = body["auto_generate"], !value.isNull {
            guard let flag = FakeChatPayload.laxBool(value) else {
                throw DifyError.invalidParam(
                    "1 validation error for ConversationRenamePayload\nauto_generate\n  Input should be a valid boolean [type=bool_parsing]"
                )
            }
            autoGenerate = flag
        }
        var name: String?
        switch body["name"] {
        case nil, .null?: name = nil
        case .string(let s)?: name = s
        default:
            throw DifyError.invalidParam(
                "1 validation error for ConversationRenamePayload\nname\n  Input should be a valid string [type=string_type]"
            )
        }
        return difyJSONResponse(
            try await store.renameConversation(id, user: user, name: name, autoGenerate: autoGenerate))
    }
}
