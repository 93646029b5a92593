import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("Voice: a recording becomes text, an answer is read aloud", .hangLimit)
struct VoiceTests {
    @Test func aRecordingBecomesTheTextOfAMessage() async throws {
        try await GatewayHarness.with(adjust: { $0.maxVoiceBytes = 65_536 }) { gateway in
            let reply = try await PageFeaturesHarness.upload(
                gateway, "/v1/audio-to-text", filename: "voice.wav", contentType: "audio/wav", bytes: 4000)
            #expect(reply.status == 200)
            #expect((reply.object["text"] as? String)?.isEmpty == false)
            let tooLong = try await PageFeaturesHarness.upload(
                gateway, "/v1/audio-to-text", filename: "voice.wav", contentType: "audio/wav",
                bytes: 65_537)
            #expect(tooLong.status == 413)
            // A form without the file is Dify's 400 for the caller, not the gateway's 502.
            let empty = try await gateway.call(
                .POST, "/v1/audio-to-text",
                headers: try await PageFeaturesHarness.bearer(gateway) + [
                    ("Content-Type", "multipart/form-data; boundary=b")
                ], rawBody: Data("--b--\r\n".utf8))
            #expect(empty.status == 400)
            #expect(empty.detail?.hasPrefix("Dify refused it:") == true)
        }
    }

    @Test func anAnswerIsReadAloudOnlyForItsUser() async throws {
        try await GatewayHarness.with { gateway in
            let chat = try await PageFeaturesHarness.chat(gateway, ["message": "Read me"])
            let answerID = "\(try #require(chat.object["message_id"] as? String))_assistant"
            let audio = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: try await PageFeaturesHarness.bearer(gateway),
                json: ["message_id": answerID])
            #expect(audio.status == 200)
            #expect(audio.headers.first(name: "Content-Type")?.hasPrefix("audio/") == true)
            #expect(audio.body.count > 100)
            let someoneElse = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: try await PageFeaturesHarness.bearer(gateway, user: "u2"),
                json: ["message_id": answerID])
            #expect(someoneElse.status == 404)
            let nothing = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: try await PageFeaturesHarness.bearer(gateway), json: [:])
            #expect(nothing.status == 422)
            // Any text is speech for whoever holds a page's token: only a client backend's key may ask for it.
            let text = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: try await PageFeaturesHarness.bearer(gateway),
                json: ["text": "Say anything"])
            #expect(text.status == 403)
            let backend = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "text": "Say anything"])
            #expect(backend.status == 200)
        }
    }

    @Test func anAppWithTheFeaturesOffRefusesThem() async throws {
        let options = PageFeaturesHarness.options {
            $0.speechToTextEnabled = false
            $0.textToSpeechEnabled = false
        }
        try await GatewayHarness.with(fakeOptions: options) { gateway in
            let transcript = try await PageFeaturesHarness.upload(
                gateway, "/v1/audio-to-text", filename: "voice.wav", contentType: "audio/wav", bytes: 10)
            #expect(transcript.status == 400)
            let speech = try await gateway.call(
                .POST, "/v1/text-to-audio", headers: try await PageFeaturesHarness.bearer(gateway),
                json: ["text": "hello"])
            #expect(speech.status == 400)
            #expect(speech.detail == "This assistant has text to speech turned off.")
        }
    }
}
