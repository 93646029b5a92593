import FakeDify
import Testing

@Suite("Conversations", .timeLimit(.minutes(3)))
struct ConversationTests {
    @Test func paginationByLastID() async throws {
        try await withFakeDify { server, http in
            let seeded = await server.store.seed(user: "pager", conversations: 45, turnsEach: 1)
            await server.store.seed(user: "someone-else", conversations: 3, turnsEach: 1)
            var pages: [(count: Int, hasMore: Bool)] = []
            var seen: [String] = []
            var lastID = ""
            repeat {
                let r = try await http.send(.GET, "/v1/conversations?user=pager&limit=20&last_id=\(lastID)")
                #expect(r.json["limit"].int == 20)
                let ids = r.json["data"].array.compactMap { $0["id"].string }
                pages.append((ids.count, r.json["has_more"].bool ?? false))
                seen += ids
                lastID = ids.last ?? ""
            } while pages.last!.hasMore && pages.count < 10
            #expect(pages.map(\.count) == [20, 20, 5])
            #expect(pages.map(\.hasMore) == [true, true, false])
            // Default sort: newest updated first, so the seed order reversed.
            #expect(seen == Array(seeded.reversed()))
            #expect(await server.store.conversationIDs(user: "pager") == seen)

            let ascending = try await http.send(.GET, "/v1/conversations?user=pager&limit=5&sort_by=created_at")
            #expect(ascending.json["data"].array.compactMap { $0["id"].string } == Array(seeded.prefix(5)))
            // A full last page with nothing after it has has_more false.
            let exact = try await http.send(.GET, "/v1/conversations?user=pager&limit=5&last_id=\(seeded[5])")
            #expect(exact.json["data"].array.count == 5 && exact.json["has_more"].bool == false)

            let unknown = try await http.send(.GET, "/v1/conversations?user=pager&last_id=\(seeded[0].reversedUUID)")
            #expect(unknown.body == notFound("Last Conversation Not Exists."))
            let otherUsers = try await http.send(.GET, "/v1/conversations?user=someone-else&last_id=\(seeded[0])")
            #expect(otherUsers.body == notFound("Last Conversation Not Exists."))
        }
    }

    @Test func conversationObjectAndNaming() async throws {
        try await withFakeDify { _, http in
            let long = String(repeating: "a", count: 80)
            let named = try await http.chat(long, user: "namer").json["conversation_id"].string!
            let plain = try await http.chat("short", user: "namer", extra: #""auto_generate_name": false"#)
                .json["conversation_id"].string!
            let list = try await http.send(.GET, "/v1/conversations?user=namer").json["data"].array
            #expect(list.map { $0["id"].string } == [plain, named])
            #expect(list[0]["name"].string == "New conversation")
            #expect(list[1]["name"].string == String(repeating: "a", count: 75) + "...")
            #expect(list[0].keys == ["id", "name", "inputs", "status", "introduction", "created_at", "updated_at"])
            #expect(list[0]["status"].string == "normal" && list[0]["inputs"].keys.isEmpty)

            // A new turn bumps updated_at, moving the older conversation to the front.
            _ = try await http.chat("again", user: "namer", conversationID: named)
            let after = try await http.send(.GET, "/v1/conversations?user=namer").json["data"].array
            #expect(after.map { $0["id"].string } == [named, plain])
            #expect((after[0]["updated_at"].int ?? 0) >= (after[0]["created_at"].int ?? .max))
            // Another user's conversation does not exist for this user.
            let foreign = try await http.chat("hi", user: "intruder", conversationID: named)
            #expect(foreign.status == 404 && foreign.body == notFound("Conversation Not Exists."))
        }
    }

    @Test func deleteThenNotFound() async throws {
        try await withFakeDify { server, http in
            let id = await server.store.seed(user: "d", conversations: 2, turnsEach: 2)[0]
            let other = try await http.send(.DELETE, "/v1/conversations/\(id)", json: #"{"user": "not-d"}"#)
            #expect(other.body == notFound("Conversation Not Exists."))
            let deleted = try await http.send(.DELETE, "/v1/conversations/\(id)", json: #"{"user": "d"}"#)
            #expect(deleted.status == 204 && deleted.body.isEmpty)
            #expect(await !server.store.conversationIDs(user: "d").contains(id))
            let again = try await http.send(.DELETE, "/v1/conversations/\(id)", json: #"{"user": "d"}"#)
            #expect(again.body == notFound("Conversation Not Exists."))
            let history = try await http.send(.GET, "/v1/messages?user=d&conversation_id=\(id)")
            #expect(history.body == notFound("Conversation Not Exists."))
            #expect(try await http.chat("hi", user: "d", conversationID: id).status == 404)
            let rename = try await http.send(
                .POST, "/v1/conversations/\(id)/name", json: #"{"user": "d", "name": "x"}"#)
            #expect(rename.status == 404)
            #expect(try await http.send(.GET, "/v1/conversations?user=d").json["data"].array.count == 1)
            // A DELETE without a JSON body fails in Flask's get_json().
            #expect(try await http.send(.DELETE, "/v1/conversations/\(id)").status == 415)
        }
    }

    @Test func rename() async throws {
        try await withFakeDify { server, http in
            let ids = await server.store.seed(user: "r", conversations: 2, turnsEach: 1)
            let manual = try await http.send(
                .POST, "/v1/conversations/\(ids[0])/name", json: #"{"user": "r", "name": "My chat"}"#)
            #expect(
                manual.status == 200 && manual.json["name"].string == "My chat" && manual.json["id"].string == ids[0])
            // A manual rename bumps updated_at.
            #expect(await server.store.conversationIDs(user: "r").first == ids[0])
            let blank = try await http.send(
                .POST, "/v1/conversations/\(ids[0])/name", json: #"{"user": "r", "name": "  "}"#)
            #expect(
                blank.body
                    == #"{"code": "invalid_param", "message": "name is required when auto_generate is false", "status": 400}"#
            )
            let auto = try await http.send(
                .POST, "/v1/conversations/\(ids[0])/name", json: #"{"user": "r", "auto_generate": true}"#)
            #expect(auto.json["name"].string == "Seeded question 1.1")
            let empty = await server.store.seed(user: "r", conversations: 1, turnsEach: 0)[0]
            let noMessages = try await http.send(
                .POST, "/v1/conversations/\(empty)/name", json: #"{"user": "r", "auto_generate": true}"#)
            #expect(noMessages.body == #"{"code": "invalid_param", "message": "", "status": 400}"#)
        }
    }

    @Test func inputsAreFixedAtCreation() async throws {
        var options = FakeDifyOptions()
        options.inputVariables = ["language"]
        try await withFakeDify(options) { server, http in
            let first = try await http.send(
                .POST, "/v1/chat-messages",
                json: #"{"query": "hi", "inputs": {"language": "ko", "junk": 1}, "user": "i"}"#)
            let id = try #require(first.json["conversation_id"].string)
            _ = try await http.send(
                .POST, "/v1/chat-messages",
                json: #"{"query": "hi", "inputs": {"language": "en"}, "user": "i", "conversation_id": "\#(id)"}"#)
            let list = try await http.send(.GET, "/v1/conversations?user=i").json["data"][0]
            #expect(list["inputs"].keys == ["language"] && list["inputs"]["language"].string == "ko")
            let history = try await http.send(.GET, "/v1/messages?user=i&conversation_id=\(id)").json["data"].array
            #expect(history.map { $0["inputs"]["language"].string } == ["ko", "ko"])
            let parameters = try await http.send(.GET, "/v1/parameters").json
            #expect(parameters["user_input_form"][0]["text-input"]["variable"].string == "language")
            #expect(await server.store.lastChatRequestBody?.contains(#""en""#) == true)
        }
    }
}

extension String {
    /// A different, well-formed UUID.
    var reversedUUID: String { String(reversed()) }
}
