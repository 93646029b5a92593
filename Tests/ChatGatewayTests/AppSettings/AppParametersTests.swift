import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("The app's settings for the chat page", .hangLimit)
struct AppParametersTests {
    @Test func bothShapesOfFileUploadAreRead() throws {
        let old = try JSONDecoder().decode(
            JSONValue.self,
            from: Data(
                (#"{"file_upload": {"image": {"enabled": true, "number_limits": 4, "transfer_methods": ["remote_url"]}},"#
                    + #""system_parameters": {"image_file_size_limit": 2}}"#).utf8))
        let rules = UploadRules(parameters: old.objectValue!, maxBytes: .max)
        #expect(rules.enabled && rules.types == ["image"] && rules.numberLimits == 4)
        #expect(rules.transferMethods == ["remote_url"])
        #expect(rules.sizeLimits["image"] == 2 * 1024 * 1024 && rules.sizeLimits["document"] == 15 * 1024 * 1024)
        #expect(rules.type(ofFileNamed: "a.PNG") == "image" && rules.type(ofFileNamed: "a.pdf") == nil)

        let new = try JSONDecoder().decode(
            JSONValue.self,
            from: Data(
                (#"{"file_upload": {"enabled": true, "allowed_file_types": ["document", "custom"], "#
                    + #""allowed_file_extensions": ["CSV", ".log"], "number_limits": 2}}"#).utf8))
        let custom = UploadRules(parameters: new.objectValue!, maxBytes: 1_000_000)
        #expect(custom.type(ofFileNamed: "notes.pdf") == "document")
        #expect(custom.type(ofFileNamed: "run.log") == "custom" && custom.type(ofFileNamed: "x.exe") == nil)
        #expect(custom.sizeLimits.values.allSatisfy { $0 <= 1_000_000 })
        #expect(!UploadRules(parameters: [:], maxBytes: .max).enabled)
    }

    @Test func thePageGetsTheOpeningStarterQuestionsUploadsAndVoiceButNotModeration() async throws {
        let options = PageFeaturesHarness.options {
            $0.openingStatement = "Welcome to DrillQuiz."
            $0.suggestedQuestions = ["What is a drill?", "Quiz me"]
            $0.textToSpeechEnabled = false
        }
        try await GatewayHarness.with(fakeOptions: options) { gateway in
            let reply = try await gateway.call(
                .GET, "/v1/parameters", headers: try await PageFeaturesHarness.bearer(gateway))
            #expect(reply.status == 200)
            let app = reply.object
            #expect(app["opening_statement"] as? String == "Welcome to DrillQuiz.")
            #expect(app["suggested_questions"] as? [String] == ["What is a drill?", "Quiz me"])
            #expect((app["text_to_speech"] as? [String: Any])?["enabled"] as? Bool == false)
            #expect((app["speech_to_text"] as? [String: Any])?["enabled"] as? Bool == true)
            #expect(app["sensitive_word_avoidance"] == nil)
            #expect(app["inline_math"] as? Bool == false)
            let uploads = try #require(app["uploads"] as? [String: Any])
            #expect(uploads["enabled"] as? Bool == true && uploads["number_limits"] as? Int == 2)
            #expect(uploads["types"] as? [String] == ["document", "image"])
            #expect((uploads["size_limits"] as? [String: Int])?["image"] == 10 * 1024 * 1024)
            let accept = try #require(uploads["accept"] as? [String: [String]])
            #expect(accept["image"]?.contains(".png") == true && accept["document"]?.contains(".pdf") == true)
            #expect(accept["video"] == nil)
            #expect(app["audio_upload_limit"] as? Int == 10 * 1024 * 1024)

            let anonymous = try await gateway.call(.GET, "/v1/parameters")
            #expect(anonymous.status == 401)
        }
    }

    @Test func anOperatorTurnsInlineMathOnForASystem() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: AdminAPITests.admin,
                json: ["system_id": "drillquiz", "name": "DrillQuiz", "inline_math": true])
            #expect(created.status == 201)
            #expect(created.object["inline_math"] as? Bool == true)
            let reply = try await gateway.call(
                .GET, "/v1/parameters", headers: try await PageFeaturesHarness.bearer(gateway))
            #expect(reply.object["inline_math"] as? Bool == true)
        }
    }
}
