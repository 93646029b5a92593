import Fluent
import Vapor

/// The operators' read API over the stored conversations (X-API-Key, or the history page's session):
/// a key limited to some systems sees only theirs. `GET /v1/cache/conversations`, `GET /v1/cache/conversations/{id}/messages`, `GET /v1/cache/export`.
struct CacheController: RouteCollection {
    let access: OperatorAccess
    let database: @Sendable () -> any Database
    let reports: ReportDatabase
    /// Exports run a few at a time, per key and in all (`ConcurrencyGate.reports`).
    let gate: ConcurrencyGate
    /// The systems' source links, which the sources of a stored conversation carry.
    let pages: PageSettings

    /// Without `limit` a listing returns up to this many rows, as one array (the seed returned everything).
    static let unpagedLimit = 1000
    static let maxLimit = 500

    func boot(routes: any RoutesBuilder) throws {
        let cache = routes.grouped("cache")
        cache.get("conversations", use: conversations)
        cache.get("conversations", ":conversation_id", "messages", use: messages)
        cache.get("export", use: export)
    }

    /// An array, as the seed answered; the page's position travels in headers: `X-Total-Count`, and
    /// `X-Next-Cursor` plus a `Link: <…>; rel="next"` when more rows follow.
    @Sendable
    func conversations(_ req: Request) async throws -> Response {
        let filter = try CacheFilter.parse(req, scope: try await access.scope(req))
        let limit = try Self.limit(req)
        let cursor = try req.query[String.self, at: "cursor"].map(CacheCursor.init(encoded:))
        let page = try await ConversationCache(database: database()).conversations(
            filter, limit: limit ?? Self.unpagedLimit, after: cursor)
        let response = try await page.items.map(CachedConversation.init).encodeResponse(for: req)
        response.headers.replaceOrAdd(name: "X-Total-Count", value: String(page.total))
        if let next = page.next { response.announceNextPage(cursor: next.encoded, of: req) }
        return response
    }

    @Sendable
    func messages(_ req: Request) async throws -> [CachedMessage] {
        let scope = try await access.scope(req)
        let conversationID = try req.parameters.require("conversation_id")
        let cache = ConversationCache(database: database())
        // Another system's conversation is as unknown to a scoped key as one never stored.
        guard let conversation = try await cache.conversation(conversationID), scope.permits(conversation.systemID)
        else {
            throw ChatError.conversationNotFound
        }
        let links = pages.sourceLinks(of: conversation.systemID)
        return try await cache.messages(ofConversations: [conversationID]).map { row in
            var message = CachedMessage(row)
            message.retrieverResources = links.linked(message.retrieverResources)
            return message
        }
    }

    /// Every message of the filtered conversations, streamed page by page so memory stays flat:
    /// `format=csv` (default) or `format=jsonl`.
    @Sendable
    func export(_ req: Request) async throws -> Response {
        let filter = try CacheFilter.parse(req, scope: try await access.scope(req))
        let format = try CacheExportFormat(req.query[String.self, at: "format"])
        let caller = ConcurrencyGate.caller(of: req)
        try gate.enter(key: caller)
        let (gate, logger) = (gate, req.logger)
        var headers = HTTPHeaders()
        headers.contentType = format.mediaType
        headers.replaceOrAdd(
            name: .contentDisposition, value: "attachment; filename=\"\(format.fileName(at: Date()))\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(
            status: .ok, headers: headers,
            body: .init(managedAsyncStream: { [reports] writer in
                defer { gate.release(key: caller) }
                try await reports.read { database in
                    let exporter = CacheExporter(
                        cache: ConversationCache(database: database), filter: filter, format: format, logger: logger)
                    try await exporter.write { try await writer.writeBuffer(ByteBuffer(string: $0)) }
                }
            }))
    }

    static func limit(_ req: Request) throws -> Int? {
        guard let raw = req.query[String.self, at: "limit"] else { return nil }
        guard let limit = Int(raw), (1...maxLimit).contains(limit) else {
            throw Abort(.unprocessableEntity, reason: "limit must be a whole number from 1 to \(maxLimit)")
        }
        return limit
    }
}

/// One row of `GET /v1/cache/conversations`: the seed's fields plus what the sync knows.
struct CachedConversation: Content {
    var conversationID: String
    var systemID: String
    var userID: String
    var name: String?
    var createdAt: String
    var updatedAt: String
    var syncedAt: String?
    /// Set when Dify no longer lists the conversation (deleted there).
    var deletedAt: String?

    enum CodingKeys: String, CodingKey {
        case conversationID = "conversation_id", systemID = "system_id", userID = "user_id", name
        case createdAt = "created_at", updatedAt = "updated_at", syncedAt = "synced_at", deletedAt = "deleted_at"
    }

    init(_ row: ConversationCache.ConversationRow) {
        conversationID = row.conversationID
        systemID = row.systemID
        userID = row.userID
        name = row.name
        createdAt = ISO8601.string(row.createdAt)
        updatedAt = ISO8601.string(row.updatedAt)
        syncedAt = row.syncedAt.map(ISO8601.string)
        deletedAt = row.deletedAt.map(ISO8601.string)
    }
}

/// One row of `GET /v1/cache/conversations/{id}/messages`.
struct CachedMessage: Content {
    var messageID: String
    var role: String
    var content: String
    var status: String
    var createdAt: String
    /// An answer's sources, as Dify cited them ([] for none).
    var retrieverResources: [JSONValue]
    var files: [JSONValue]
    /// On a question asked again: the Dify message id of its first attempt; null otherwise.
    var regenerates: String?

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id", role, content, status, createdAt = "created_at"
        case retrieverResources = "retriever_resources", files, regenerates
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messageID, forKey: .messageID)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encode(status, forKey: .status)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(retrieverResources, forKey: .retrieverResources)
        try container.encode(files, forKey: .files)
        try container.encode(regenerates, forKey: .regenerates)
    }

    init(_ row: ConversationCache.MessageRow) {
        messageID = row.messageID
        role = row.role
        content = row.content
        status = row.status
        createdAt = ISO8601.string(row.createdAt)
        retrieverResources = JSONValue.list(inColumn: row.retrieverResources)
        files = JSONValue.list(inColumn: row.files)
        regenerates = row.regenerates
    }
}

/// UTC times with milliseconds, e.g. `2026-11-25T17:09:59.123Z`.
enum ISO8601 {
    static func string(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// `2026-12-03T00:00:00Z`.
    static func wholeSeconds(_ date: Date) -> String { Date.ISO8601FormatStyle().format(date) }
}

extension Response {
    /// A paged list's next page: `X-Next-Cursor`, and a `Link: <…>; rel="next"` to the same query with that cursor.
    func announceNextPage(cursor: String, of request: Request) {
        headers.replaceOrAdd(name: "X-Next-Cursor", value: cursor)
        var components = URLComponents(string: request.url.string) ?? URLComponents()
        components.queryItems =
            (components.queryItems ?? []).filter { $0.name != "cursor" } + [URLQueryItem(name: "cursor", value: cursor)]
        if let link = components.string { headers.replaceOrAdd(name: .link, value: "<\(link)>; rel=\"next\"") }
    }
}
