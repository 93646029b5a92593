import FakeDify
import Testing

@Suite("Messages, feedback, suggestions, app info", .timeLimit(.minutes(3)))
struct MessageTests {
    @Test func historyPagesByFirstID() async throws {
        try await withFakeDify { server, http in
            let id = await server.store.seed(user: "h", conversations: 1, turnsEach: 45)[0]
            #expect(await server.store.messageCount(conversationID: id) == 45)
            var pages: [[String]] = []
            var hasMore: [Bool] = []
            var firstID = ""
            repeat {
                let r = try await http.send(
                    .GET, "/v1/messages?user=h&conversation_id=\(id)&limit=20&first_id=\(firstID)")
                let data = r.json["data"].array
                pages.append(data.compactMap { $0["query"].string })
                hasMore.append(r.json["has_more"].bool ?? false)
                firstID = data.first?["id"].string ?? ""
            } while hasMore.last! && pages.count < 10
            #expect(pages.map(\.count) == [20, 20, 5])
            #expect(hasMore == [true, true, false])
            // Newest page first; each page oldest to newest.
            let all = (1...45).map { "Seeded question 1.\($0)" }
            #expect(pages[0] == Array(all.suffix(20)))
            #expect(pages.reversed().flatMap { $0 } == all)

            let item = try await http.send(.GET, "/v1/messages?user=h&conversation_id=\(id)&limit=1").json["data"][0]
            #expect(item["answer"].string == "Echo: Seeded question 1.45")
            #expect(item["feedback"].isNull && item["status"].string == "normal" && item["error"].isNull)
            for key in ["message_files", "retriever_resources", "agent_thoughts"] { #expect(item[key].array.isEmpty) }

            let unknown = try await http.send(.GET, "/v1/messages?user=h&conversation_id=\(id)&first_id=\(id)")
            #expect(unknown.body == notFound("First Message Not Exists."))
            let foreign = try await http.send(.GET, "/v1/messages?user=x&conversation_id=\(id)")
            #expect(foreign.body == notFound("Conversation Not Exists."))
            let empty = try await http.send(.GET, "/v1/messages?user=h&conversation_id=")
            #expect(empty.json["data"].array.isEmpty && empty.json["has_more"].bool == false)
        }
    }

    @Test func feedbackRules() async throws {
        try await withFakeDify { server, http in
            let conversation = await server.store.seed(user: "f", conversations: 1, turnsEach: 1)[0]
            let history = try await http.send(.GET, "/v1/messages?user=f&conversation_id=\(conversation)")
            let message = try #require(history.json["data"][0]["id"].string)
            let path = "/v1/messages/\(message)/feedbacks"
            let clear = try await http.send(.POST, path, json: #"{"user": "f", "rating": null}"#)
            #expect(
                clear.body
                    == #"{"code": "invalid_param", "message": "rating cannot be None when feedback not exists", "status": 400}"#
            )
            let like = try await http.send(.POST, path, json: #"{"user": "f", "rating": "like", "content": "nice"}"#)
            #expect(like.body == #"{"result": "success"}"#)
            let rated = try await http.send(.GET, "/v1/messages?user=f&conversation_id=\(conversation)")
            #expect(rated.json["data"][0]["feedback"]["rating"].string == "like")
            #expect(try await http.send(.POST, path, json: #"{"user": "f", "rating": "dislike"}"#).status == 200)
            #expect(try await http.send(.POST, path, json: #"{"user": "f"}"#).status == 200)
            let cleared = try await http.send(.GET, "/v1/messages?user=f&conversation_id=\(conversation)")
            #expect(cleared.json["data"][0]["feedback"].isNull)
            let foreign = try await http.send(.POST, path, json: #"{"user": "g", "rating": "like"}"#)
            #expect(foreign.body == notFound("Message Not Exists."))
            let noUser = try await http.send(.POST, path, json: #"{"rating": "like"}"#)
            #expect(noUser.json["message"].string == "Arg user must be provided.")
            let bad = try await http.send(.POST, path, json: #"{"user": "f", "rating": "love"}"#)
            #expect(bad.status == 400 && bad.json["code"].string == "invalid_param")
        }
    }

    @Test func suggestedQuestions() async throws {
        try await withFakeDify { server, http in
            let answer = try await http.chat("hi", user: "s")
            let message = try #require(answer.json["message_id"].string)
            let ok = try await http.send(.GET, "/v1/messages/\(message)/suggested?user=s")
            #expect(ok.json["result"].string == "success")
            #expect(ok.json["data"].array.compactMap(\.string) == FakeDifyAnswer.suggestedQuestions)
            let noUser = try await http.send(.GET, "/v1/messages/\(message)/suggested")
            #expect(
                noUser.body == #"{"code": "invalid_param", "message": "Arg user must be provided.", "status": 400}"#)
            let foreign = try await http.send(.GET, "/v1/messages/\(message)/suggested?user=t")
            #expect(foreign.body == notFound("Message Not Exists."))
            #expect(try await http.send(.GET, "/v1/messages/nope/suggested?user=s").body == werkzeug404)
            var options = await server.store.options
            options.suggestedQuestionsEnabled = false
            await server.store.setOptions(options)
            let off = try await http.send(.GET, "/v1/messages/\(message)/suggested?user=s")
            #expect(
                off.body == #"{"code": "bad_request", "message": "Suggested Questions Is Disabled.", "status": 400}"#)
            #expect(
                try await http.send(.GET, "/v1/parameters").json["suggested_questions_after_answer"]["enabled"].bool
                    == false)
        }
    }

    @Test func appInfo() async throws {
        try await withFakeDify { _, http in
            let parameters = try await http.send(.GET, "/v1/parameters").json
            for key in [
                "opening_statement", "suggested_questions", "suggested_questions_after_answer", "speech_to_text",
                "text_to_speech", "retriever_resource", "annotation_reply", "user_input_form", "file_upload",
                "system_parameters",
            ] {
                #expect(parameters[key].exists, "\(key)")
            }
            #expect(parameters["system_parameters"]["file_size_limit"].int == 15)
            let info = try await http.send(.GET, "/v1/info").json
            #expect(info["mode"].string == "chat" && info["tags"].array.isEmpty && info["name"].string != nil)
        }
    }
}
