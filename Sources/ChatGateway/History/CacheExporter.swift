import Foundation
import Logging
import Vapor

enum CacheExportFormat: Sendable {
    case csv, jsonLines

    init(_ raw: String?) throws {
        switch raw?.lowercased() {
        case nil, "", "csv": self = .csv
        case "jsonl", "ndjson", "jsonlines": self = .jsonLines
        default: throw Abort(.unprocessableEntity, reason: "format must be csv or jsonl")
        }
    }

    var mediaType: HTTPMediaType {
        switch self {
        case .csv: HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        case .jsonLines: HTTPMediaType(type: "application", subType: "x-ndjson", parameters: ["charset": "utf-8"])
        }
    }

    func fileName(at date: Date) -> String {
        let day = Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted).format(date)
        return "chat-history-\(day).\(self == .csv ? "csv" : "jsonl")"
    }
}

/// Writes every message of the filtered conversations, newest conversation first and each conversation's
/// messages oldest first, reading `pageSize` conversations at a time: memory stays flat whatever the size.
struct CacheExporter: Sendable {
    let cache: ConversationCache
    let filter: CacheFilter
    let format: CacheExportFormat
    let logger: Logger
    var pageSize = 200

    static let columns = [
        "conversation_id", "system_id", "user_id", "conversation_name", "message_id", "role", "content", "status",
        "created_at", "retriever_resources", "regenerates", "files",
    ]

    func write(_ emit: (String) async throws -> Void) async throws {
        if format == .csv { try await emit(CSV.header(Self.columns)) }
        var cursor: CacheCursor?
        var written = 0
        repeat {
            let page = try await cache.conversations(filter, limit: pageSize, after: cursor, counting: false)
            let messages = Dictionary(
                grouping: try await cache.messages(ofConversations: page.items.map(\.conversationID)),
                by: \.conversationID)
            var chunk = ""
            for conversation in page.items {
                for message in messages[conversation.conversationID] ?? [] {
                    chunk += line(conversation, message)
                    written += 1
                }
            }
            if !chunk.isEmpty { try await emit(chunk) }
            cursor = page.next
        } while cursor != nil
        logger.info("history exported", metadata: ["messages": .stringConvertible(written)])
    }

    private func line(
        _ conversation: ConversationCache.ConversationRow, _ message: ConversationCache.MessageRow
    ) -> String {
        let fields = [
            conversation.conversationID, conversation.systemID, conversation.userID, conversation.name ?? "",
            message.messageID,
            message.role, message.content, message.status, ISO8601.string(message.createdAt),
            message.retrieverResources ?? "", message.regenerates ?? "", message.files ?? "",
        ]
        switch format {
        case .csv:
            return CSV.record(fields)
        case .jsonLines:
            let object = Dictionary(uniqueKeysWithValues: zip(Self.columns, fields))
            let data =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }
}
