import FakeDify
import Testing

@Suite("Auth and request validation", .timeLimit(.minutes(3)))
struct AuthAndValidationTests {
    @Test func unauthorizedTexts() async throws {
        try await withFakeDify { _, http in
            let cases: [(String?, String)] = [
                (nil, "Authorization header must be provided and start with 'Bearer'"),
                ("Bearerapp-fake-key", "Authorization header must be provided and start with 'Bearer'"),
                ("Basic app-fake-key", "Authorization scheme must be 'Bearer'"),
                ("Bearer app-wrong", "Access token is invalid"),
            ]
            for (auth, message) in cases {
                let r = try await http.send(.GET, "/v1/parameters", auth: auth)
                #expect(r.status == 401)
                #expect(r.body == #"{"code": "unauthorized", "message": "\#(message)", "status": 401}"#)
                #expect(r.headers.first(name: "WWW-Authenticate") == #"Bearer realm="api""#)
            }
            // The scheme is case-insensitive.
            #expect(try await http.send(.GET, "/v1/info", auth: "bearer app-fake-key").status == 200)
        }
    }

    @Test func otherAcceptedKeys() async throws {
        try await withFakeDify(FakeDifyOptions(apiKeys: ["app-a", "app-b"])) { _, http in
            let second = try await http.send(.GET, "/v1/meta", auth: "Bearer app-b")
            #expect(second.body == #"{"tool_icons": {}}"#)
            let defaultKey = try await http.send(.GET, "/v1/meta")
            #expect(defaultKey.status == 401)
        }
    }

    @Test func chatBodyValidation() async throws {
        try await withFakeDify { _, http in
            let missingUser = try await http.send(.POST, "/v1/chat-messages", json: #"{"query": "hi", "inputs": {}}"#)
            #expect(
                missingUser.body
                    == #"{"code": "invalid_param", "message": "Arg user must be provided.", "status": 400}"#)
            let emptyUser = try await http.chat("hi", user: "")
            #expect(emptyUser.json["message"].string == "Arg user must be provided.")
            let emptyQuery = try await http.chat("")
            #expect(emptyQuery.body == #"{"code": "invalid_param", "message": "query is required", "status": 400}"#)
            let longUser = try await http.chat("hi", user: String(repeating: "x", count: 256))
            #expect(longUser.status == 500)
            #expect(longUser.json["code"].string == "internal_server_error")
            #expect(try await http.chat("hi", user: String(repeating: "x", count: 255)).status == 200)
            let badMode = try await http.send(
                .POST, "/v1/chat-messages",
                json: #"{"query": "hi", "inputs": {}, "user": "u", "response_mode": "fast"}"#)
            #expect(badMode.status == 400 && badMode.json["code"].string == "invalid_param")
            let noInputs = try await http.send(.POST, "/v1/chat-messages", json: #"{"query": "hi", "user": "u"}"#)
            #expect(noInputs.status == 400 && noInputs.json["code"].string == "invalid_param")
            let badConversation = try await http.chat("hi", conversationID: "nope")
            #expect(badConversation.json["message"].string == "conversation_id must be a valid UUID")
            // The Python SDK always sends `files: null`.
            #expect(try await http.chat("hi", extra: #""files": null"#).status == 200)
        }
    }

    @Test func bodyEncodingErrors() async throws {
        try await withFakeDify { _, http in
            let notJSON = try await http.send(.POST, "/v1/chat-messages", json: "hello")
            #expect(notJSON.status == 400 && notJSON.json["code"].string == "bad_request")
            let empty = try await http.send(.POST, "/v1/chat-messages", json: "")
            #expect(
                empty.body
                    == #"{"code": "bad_request", "message": "Invalid JSON payload received or JSON payload is empty.", "status": 400}"#
            )
            let wrongType = try await http.send(
                .POST, "/v1/chat-messages", json: chatBody("hi"), contentType: "text/plain")
            #expect(wrongType.status == 415 && wrongType.json["code"].string == "unsupported_media_type")
        }
    }

    @Test func routingErrorsComeBeforeAuth() async throws {
        try await withFakeDify { _, http in
            let nonUUID = try await http.send(.DELETE, "/v1/conversations/abc", json: "{}", auth: nil)
            #expect(nonUUID.status == 404 && nonUUID.body == werkzeug404)
            #expect(try await http.send(.GET, "/v1/no-such-route").body == werkzeug404)
            let getUpload = try await http.send(.GET, "/v1/files/upload")
            #expect(getUpload.status == 405 && getUpload.headers.first(name: "Allow") == "OPTIONS, POST")
            let wrongMethod = try await http.send(.GET, "/v1/chat-messages")
            #expect(wrongMethod.status == 405 && wrongMethod.json["code"].string == "method_not_allowed")
            #expect(wrongMethod.headers.first(name: "Allow") == "OPTIONS, POST")
        }
    }

    @Test func listParameterValidation() async throws {
        try await withFakeDify { _, http in
            for limit in ["0", "101", "x"] {
                let r = try await http.send(.GET, "/v1/conversations?user=u1&limit=\(limit)")
                #expect(
                    r.status == 400 && r.json["code"].string == "invalid_param" && r.json["params"].string == "limit")
            }
            let sort = try await http.send(.GET, "/v1/conversations?user=u1&sort_by=name")
            #expect(sort.status == 400 && sort.json["params"].string == "sort_by")
            let missing = try await http.send(.GET, "/v1/messages?user=u1")
            #expect(missing.status == 400)
        }
    }
}
