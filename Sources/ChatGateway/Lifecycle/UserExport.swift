import Foundation
import NIOCore
import SQLKit
import Vapor

/// Everything the gateway holds about one user, streamed a page at a time so memory stays bounded however much
/// there is: conversations with their messages (status, sources, files, feedback, usage), messages that never had a
/// conversation, the files' metadata and the usage per day. As one JSON document, or JSON Lines with a `type` each.
struct UserExport: Sendable {
    enum Format: String, Sendable {
        case json, jsonl

        var contentType: HTTPMediaType {
            switch self {
            case .json: .json
            case .jsonl: HTTPMediaType(type: "application", subType: "x-ndjson")
            }
        }
    }

    let database: @Sendable () -> any SQLDatabase
    let now: @Sendable () -> Date
    var pageSize = 500

    /// The streamed answer, with a file name for the download.
    func response(systemID: String, userID: String, format: Format) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = format.contentType
        let safeUser = String(
            userID.unicodeScalars.filter {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
            }.prefix(64))
        headers.replaceOrAdd(
            name: .contentDisposition,
            value:
                "attachment; filename=\"\(systemID)-\(safeUser.isEmpty ? "user" : safeUser)-export.\(format.rawValue)\""
        )
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(
            status: .ok, headers: headers,
            body: .init(asyncStream: { writer in
                do {
                    try await write(systemID: systemID, userID: userID, format: format, to: writer)
                    try await writer.write(.end)
                } catch {
                    // The head is sent: all that is left is to cut the body short, so the reader sees invalid JSON.
                    try? await writer.write(.error(error))
                }
            }))
    }

    func write(systemID: String, userID: String, format: Format, to writer: any AsyncBodyStreamWriter) async throws {
        var out = Output(format: format, writer: writer)
        let header: [String: JSONValue] = [
            "system_id": .string(systemID), "user_id": .string(userID),
            "exported_at": .string(ISO8601.string(now())),
        ]
        try await out.open(header)
        let owner = Owner(systemID: systemID, userID: userID)
        // Conversations, each with its messages.
        try await out.beginList("conversations")
        var afterConversation: (Date, String)?
        while true {
            var query = owner.filter(
                database().select().columns("conversation_id", "name", "created_at", "updated_at", "legal_hold_at")
                    .from(StoredConversation.schema))
            if let (createdAt, id) = afterConversation {
                query = query.where(
                    SQLQueryString("(created_at, conversation_id) > (\(bind: createdAt), \(bind: id))"))
            }
            let rows = try await query.orderBy("created_at").orderBy("conversation_id").limit(pageSize / 5).all()
            for row in rows {
                let id = try row.decode(column: "conversation_id", as: String.self)
                let conversation: [String: JSONValue] = [
                    "conversation_id": .string(id), "name": .text(try row.decode(column: "name", as: String?.self)),
                    "created_at": .string(ISO8601.string(try row.decode(column: "created_at", as: Date.self))),
                    "updated_at": .string(ISO8601.string(try row.decode(column: "updated_at", as: Date.self))),
                    "legal_hold": .bool(try row.decode(column: "legal_hold_at", as: Double?.self) != nil),
                ]
                try await out.beginItem(conversation, type: "conversation", nested: "messages")
                try await messages(of: owner, conversationID: id, into: &out)
                try await out.endItem()
                afterConversation = (try row.decode(column: "created_at", as: Date.self), id)
            }
            if rows.count < pageSize / 5 { break }
        }
        try await out.endList()
        try await out.beginList("messages_without_conversation")
        try await messages(of: owner, conversationID: nil, into: &out)
        try await out.endList()
        try await out.beginList("files")
        try await files(of: owner, into: &out)
        try await out.endList()
        try await out.beginList("usage")
        try await usage(of: owner, into: &out)
        try await out.endList()
        try await out.close()
    }

    private struct Owner {
        let systemID: String
        let userID: String

        func filter(_ query: SQLSelectBuilder) -> SQLSelectBuilder { query.owned(bySystem: systemID, user: userID) }
    }

    private static let messageColumns = [
        "id", "message_id", "conversation_id", "role", "content", "status", "error", "created_at", "position",
        "retriever_resources", "files", "feedback_rating", "feedback_content", "prompt_tokens", "completion_tokens",
        "total_tokens", "total_price", "currency", "latency_ms",
    ]

    /// A conversation's messages in order (or, for nil, those without one), a page at a time.
    private func messages(of owner: Owner, conversationID: String?, into out: inout Output) async throws {
        var after: (Date, Int, UUID)?
        while true {
            var query = owner.filter(database().select().columns(Self.messageColumns).from(StoredMessage.schema))
            query =
                if let conversationID {
                    query.where("conversation_id", .equal, SQLBind(conversationID))
                } else {
                    query.where("conversation_id", .is, SQLLiteral.null)
                }
            if let (createdAt, position, id) = after {
                query = query.where(
                    SQLQueryString(
                        "(created_at, position, id) > (\(bind: createdAt), \(bind: position), \(bind: id))"))
            }
            let rows = try await query.orderBy("created_at").orderBy("position").orderBy("id").limit(pageSize).all()
            for row in rows {
                try await out.item(try Self.message(row), type: "message")
                after = (
                    try row.decode(column: "created_at", as: Date.self),
                    try row.decode(column: "position", as: Int.self),
                    try row.decode(column: "id", as: UUID.self)
                )
            }
            if rows.count < pageSize { return }
        }
    }

    private static func message(_ row: any SQLRow) throws -> [String: JSONValue] {
        func text(_ column: String) throws -> JSONValue { .text(try row.decode(column: column, as: String?.self)) }
        func integer(_ column: String) throws -> JSONValue {
            .integer(try row.decode(column: column, as: Int?.self))
        }
        let rating = try row.decode(column: "feedback_rating", as: String?.self)
        let usage: JSONValue =
            try row.decode(column: "total_tokens", as: Int?.self) == nil
            ? .null
            : .object([
                "prompt_tokens": try integer("prompt_tokens"), "completion_tokens": try integer("completion_tokens"),
                "total_tokens": try integer("total_tokens"), "total_price": try text("total_price"),
                "currency": try text("currency"), "latency_ms": try integer("latency_ms"),
            ])
        return [
            "message_id": try text("message_id"), "conversation_id": try text("conversation_id"),
            "role": try text("role"), "content": try text("content"), "status": try text("status"),
            "error": try text("error"),
            "created_at": .string(ISO8601.string(try row.decode(column: "created_at", as: Date.self))),
            "sources": .array(
                JSONValue.list(inColumn: try row.decode(column: "retriever_resources", as: String?.self))),
            "files": .array(JSONValue.list(inColumn: try row.decode(column: "files", as: String?.self))),
            "feedback": try rating.map { .object(["rating": .string($0), "content": try text("feedback_content")]) }
                ?? .null,
            "usage": usage,
        ]
    }

    /// Each file the user sent, with the message it came with.
    private func files(of owner: Owner, into out: inout Output) async throws {
        var after: UUID?
        while true {
            var query = owner.filter(
                database().select().columns("id", "message_id", "conversation_id", "files").from(StoredMessage.schema)
            ).where("files", .isNot, SQLLiteral.null)
            if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(pageSize).all()
            for row in rows {
                for file in JSONValue.list(inColumn: try row.decode(column: "files", as: String?.self)) {
                    var item = file.objectValue ?? [:]
                    item["message_id"] = .string(try row.decode(column: "message_id", as: String.self))
                    item["conversation_id"] = .text(try row.decode(column: "conversation_id", as: String?.self))
                    try await out.item(item, type: "file")
                }
                after = try row.decode(column: "id", as: UUID.self)
            }
            if rows.count < pageSize { return }
        }
    }

    private func usage(of owner: Owner, into out: inout Output) async throws {
        let columns = ["chats", "completed", "failed", "refused", "prompt_tokens", "completion_tokens", "total_tokens"]
        let rows = try await owner.filter(
            database().select().columns(["day", "currency", "price_scaled"] + columns).from(UsageRollup.usersTable)
        ).orderBy("day").orderBy("currency").all()
        for row in rows {
            let day = Date(timeIntervalSince1970: Double(try row.decode(column: "day", as: Int.self)) * 86_400)
            var item: [String: JSONValue] = [
                "day": .string(String(ISO8601.wholeSeconds(day).prefix(10))),
                "currency": .text(try row.decode(column: "currency", as: String.self).nilIfEmpty),
            ]
            for column in columns { item[column] = .integer(try row.decode(column: column, as: Int.self)) }
            let price = try row.decode(column: "price_scaled", as: Int64.self)
            item["total_price"] = item["currency"] == .null ? .null : .string(DifyUsage.decimalText(scaled: price))
            try await out.item(item, type: "usage")
        }
    }

    /// Writes the document as either format, flushing every 64 KB.
    private struct Output {
        let format: Format
        let writer: any AsyncBodyStreamWriter
        var buffer = ByteBuffer()
        /// Whether the list being written has an item yet (JSON's commas), innermost last.
        var lists: [Bool] = []

        init(format: Format, writer: any AsyncBodyStreamWriter) {
            self.format = format
            self.writer = writer
        }

        mutating func open(_ header: [String: JSONValue]) async throws {
            switch format {
            case .jsonl: try await line(header, type: "export")
            case .json:
                var fields = ByteBuffer()
                JSONValue.object(header).write(into: &fields)
                fields.moveWriterIndex(to: fields.writerIndex - 1)  // the object stays open for the lists
                buffer.writeBuffer(&fields)
            }
        }

        mutating func beginList(_ name: String) async throws {
            guard format == .json else { return }
            buffer.writeString(",")
            JSONValue.string(name).write(into: &buffer)
            buffer.writeString(":[")
            lists.append(false)
        }

        mutating func endList() async throws {
            guard format == .json else { return }
            buffer.writeString("]")
            lists.removeLast()
        }

        mutating func item(_ fields: [String: JSONValue], type: String) async throws {
            switch format {
            case .jsonl: try await line(fields, type: type)
            case .json:
                comma()
                JSONValue.object(fields).write(into: &buffer)
            }
            try await flushIfFull()
        }

        /// An item that holds a list of its own (a conversation's messages), which the next calls fill.
        mutating func beginItem(_ fields: [String: JSONValue], type: String, nested: String) async throws {
            switch format {
            case .jsonl: try await line(fields, type: type)
            case .json:
                comma()
                var object = ByteBuffer()
                JSONValue.object(fields).write(into: &object)
                object.moveWriterIndex(to: object.writerIndex - 1)
                buffer.writeBuffer(&object)
                try await beginList(nested)
            }
        }

        mutating func endItem() async throws {
            guard format == .json else { return }
            try await endList()
            buffer.writeString("}")
        }

        mutating func close() async throws {
            if format == .json { buffer.writeString("}\n") }
            try await writer.write(.buffer(buffer))
            buffer.clear()
        }

        private mutating func comma() {
            if lists.last == true { buffer.writeString(",") }
            if !lists.isEmpty { lists[lists.count - 1] = true }
        }

        private mutating func line(_ fields: [String: JSONValue], type: String) async throws {
            var object = fields
            object["type"] = .string(type)
            JSONValue.object(object).write(into: &buffer)
            buffer.writeString("\n")
            try await flushIfFull()
        }

        private mutating func flushIfFull() async throws {
            guard buffer.readableBytes >= 65_536 else { return }
            try await writer.write(.buffer(buffer))
            buffer = ByteBuffer()
        }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
