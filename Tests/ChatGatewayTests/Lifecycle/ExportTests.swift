import Foundation
import Testing
import Vapor

@testable import ChatGateway

@Suite("A user's export", .hangLimit)
struct ExportTests {
    static let texts = [
        "plain", "emoji 👩‍👩‍👧‍👦 and 🇰🇷", "CJK 日本語 한국어 中文", "zero\u{200B}width\u{200D}joiner\u{FEFF}",
        "quote \" back\\slash\nnewline",
    ]

    @Test("JSON and JSON Lines hold every conversation and message, text byte for byte, and the usage")
    func exportsEverything() async throws {
        try await PersonalData.with { gateway in
            let user = "exported-user"
            let conversation = try await PersonalData.chat(gateway, Self.texts[0], user: user)
            for text in Self.texts.dropFirst() {
                try await PersonalData.chat(gateway, text, user: user, conversationID: conversation)
            }
            try await PersonalData.chat(gateway, "someone else's", user: "not-exported")
            let path = "/admin/v1/systems/drillquiz/users/\(user)/export"

            let json = try await gateway.call(.GET, path, headers: PersonalData.admin)
            #expect(json.status == 200)
            #expect(json.headers.contentType == .json)
            #expect(json.headers.first(name: .contentDisposition)?.contains("attachment") == true)
            let document = json.object
            #expect(document["user_id"] as? String == user)
            let conversations = try #require(document["conversations"] as? [[String: Any]])
            #expect(conversations.count == 1)
            let messages = try #require(conversations.first?["messages"] as? [[String: Any]])
            let questions = messages.filter { $0["role"] as? String == "user" }.compactMap { $0["content"] as? String }
            #expect(questions.map { Array($0.utf8) } == Self.texts.map { Array($0.utf8) })
            #expect(messages.filter { $0["role"] as? String == "assistant" }.count == Self.texts.count)
            #expect(!json.text.contains("someone else's"))
            let usage = try #require(document["usage"] as? [[String: Any]])
            #expect(usage.compactMap { $0["chats"] as? Int }.reduce(0, +) == Self.texts.count)
            #expect((document["messages_without_conversation"] as? [Any])?.isEmpty == true)

            let lines = try await gateway.call(.GET, path + "?format=jsonl", headers: PersonalData.admin)
            #expect(lines.status == 200)
            #expect(lines.headers.contentType?.subType == "x-ndjson")
            let records = try lines.text.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(records.first?["type"] as? String == "export")
            let lineQuestions = records.filter { $0["type"] as? String == "message" && $0["role"] as? String == "user" }
                .compactMap { $0["content"] as? String }
            #expect(lineQuestions.map { Array($0.utf8) } == Self.texts.map { Array($0.utf8) })
            #expect(records.filter { $0["type"] as? String == "conversation" }.count == 1)

            #expect(try await gateway.call(.GET, path + "?format=xml", headers: PersonalData.admin).status == 422)
            #expect(
                try await gateway.call(.GET, "/admin/v1/systems/nosuch/users/x/export", headers: PersonalData.admin)
                    .status == 404)
            let empty = try await gateway.call(
                .GET, "/admin/v1/systems/drillquiz/users/never-seen/export", headers: PersonalData.admin)
            #expect((empty.object["conversations"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("the chat page's user downloads their own data only where the system offers it")
    func selfExport() async throws {
        try await PersonalData.with(adjust: { $0.encryptionKey = String(repeating: "ab", count: 32) }) { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: PersonalData.admin,
                json: [
                    "system_id": "selfie", "name": "Selfie", "dify_base_url": gateway.fake.baseURL,
                    "dify_api_key": GatewayHarness.difyKey, "self_export": true,
                ])
            #expect(created.status == 201, "\(created.text)")
            let token = try await gateway.token(system: "selfie", user: "me-myself")
            let bearer = [("Authorization", "Bearer \(token)")]
            let chat = try await gateway.call(.POST, "/v1/chat", headers: bearer, json: ["message": "mine"])
            #expect(chat.status == 200, "\(chat.text)")
            let mine = try await gateway.call(.GET, "/v1/me/export", headers: bearer)
            #expect(mine.status == 200, "\(mine.text)")
            #expect(mine.object["user_id"] as? String == "me-myself")
            #expect(mine.text.contains("mine"))
            let other = try await gateway.token(system: "drillquiz", user: "me-myself")
            let refused = try await gateway.call(.GET, "/v1/me/export", headers: [("Authorization", "Bearer \(other)")])
            #expect(refused.status == 403)
            let byKey = try await gateway.call(
                .GET, "/v1/me/export?system_id=selfie&user_id=me-myself", headers: GatewayHarness.keyHeader)
            #expect(byKey.status == 403)
        }
    }
}
