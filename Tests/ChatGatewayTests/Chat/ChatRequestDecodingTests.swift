import Testing
import Vapor
@testable import ChatGateway

/// `POST /v1/chat` reads its body with the one-pass JSON reader when it can; whenever it does, the result must be
/// what `Content` decoding gives, and whenever the body is anything else it must leave the body to `Content`
/// (whose errors the API documents).
@Suite("Chat request decoding")
struct ChatRequestDecodingTests {
    private static func request(_ app: Application, body: String, contentType: String? = "application/json") -> Request {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: .contentType, value: contentType) }
        return Request(application: app, method: .POST, url: "/v1/chat", headers: headers,
                       collectedBody: ByteBuffer(string: body), on: app.eventLoopGroup.any())
    }

    private static func withApp(_ body: (Application) async throws -> Void) async throws {
        let app = try await Application.make(.testing)
        do { try await body(app) } catch { try await app.asyncShutdown(); throw error }
        try await app.asyncShutdown()
    }

    @Test func readsWhatContentDecodingReads() async throws {
        try await Self.withApp { app in
            let bodies = [
                #"{"system_id":"drillquiz","user_id":"u-1","message":"hello"}"#,
                #"{"message":"hi","system_id":null,"user_id":null,"conversation_id":null,"inputs":null,"stream":null}"#,
                #"{"message":"h\u00e9\n\"q\"","conversation_id":"c-1","stream":true,"extra":[1,2,{"x":null}]}"#,
                #"{"message":"m","inputs":{"n":1,"f":1.5,"big":12345678901234,"s":"x","a":[true,false,null],"o":{"k":"v"}},"stream":false}"#,
                " \n{\"message\" : \"spaced\" } \n",
            ]
            for body in bodies {
                let req = Self.request(app, body: body, contentType: "application/json; charset=utf-8")
                let direct = try #require(ChatRequest.decodedDirectly(from: req), "not read directly: \(body)")
                let decoded = try req.content.decode(ChatRequest.self)
                #expect(direct.systemID == decoded.systemID && direct.userID == decoded.userID && direct.message == decoded.message)
                #expect(direct.conversationID == decoded.conversationID && direct.inputs == decoded.inputs && direct.stream == decoded.stream, "\(body)")
            }
        }
    }

    @Test func leavesEverythingElseToContentDecoding() async throws {
        try await Self.withApp { app in
            let bodies = [
                #"{"system_id":"drillquiz","user_id":"u-1"}"#,            // no message
                #"{"message":null}"#, #"{"message":5}"#,
                #"{"message":"m","stream":"yes"}"#, #"{"message":"m","stream":1}"#,
                #"{"message":"m","inputs":[1]}"#, #"{"message":"m","system_id":7}"#, #"{"message":"m","conversation_id":false}"#,
                #"["message"]"#, #"{"message":"m""#, #"{"message":"m"} trailing"#, "",
            ]
            for body in bodies {
                #expect(ChatRequest.decodedDirectly(from: Self.request(app, body: body)) == nil, "read directly: \(body)")
            }
            for contentType in ["text/plain", "application/json-patch+json", "application/x-www-form-urlencoded", nil] {
                #expect(ChatRequest.decodedDirectly(from: Self.request(app, body: #"{"message":"m"}"#, contentType: contentType)) == nil)
            }
        }
    }
}
