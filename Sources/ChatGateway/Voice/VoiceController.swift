import Vapor

/// The chat page's voice: `POST /v1/audio-to-text` (a recording becomes the text of a message) and
/// `POST /v1/text-to-audio` (an answer read aloud), as the caller, when the app has the feature on.
struct VoiceController: RouteCollection {
    let features: AppFeatures
    let maxBodyBytes: Int
    /// The longest text read aloud that is not an answer's.
    static let maxTextCharacters = 4000

    struct SpeechRequest: Content {
        var messageID: String?
        var text: String?

        enum CodingKeys: String, CodingKey { case messageID = "message_id", text }
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "audio-to-text", body: .stream, use: transcribe)
        routes.on(
            .POST, "text-to-audio", body: .collect(maxSize: ByteCount(value: maxBodyBytes)), use: speak)
    }

    @Sendable
    func transcribe(_ req: Request) async throws -> Response {
        let caller = try await features.uploader(req)
        let (target, app) = try await features.app(for: caller)
        guard app.speechToText else { throw MediaError.featureDisabled("speech to text") }
        try await features.admitMedia(caller)
        let limit = features.voiceLimit(app)
        let transcript = try await features.forwardUpload(
            req, endpoint: "audio-to-text", as: caller, to: target, largest: limit, limitVariable: "MAX_VOICE_BYTES"
        ) { _, _ in limit }
        return try await DifyAPIController.relayed(transcript, for: caller)
    }

    @Sendable
    func speak(_ req: Request) async throws -> Response {
        let caller = try await features.access.auth.identityFromQueryOrBody(req)
        let body = try req.content.decode(SpeechRequest.self)
        let (target, app) = try await features.app(for: caller)
        guard app.textToSpeech else { throw MediaError.featureDisabled("text to speech") }
        var fields: [String: JSONValue] = ["user": .string(caller.difyUser)]
        if let rawID = body.messageID, !rawID.isEmpty {
            fields["message_id"] = .string(try await features.access.message(rawID, of: caller, recordedOnly: true))
        } else if let text = body.text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            // Any text would be Dify's speech for anyone holding a page's token, outside every budget.
            guard !caller.isChatToken else { throw MediaError.textNeedsAPIKey }
            guard text.count <= Self.maxTextCharacters else {
                throw MediaError.textTooLong(limit: Self.maxTextCharacters)
            }
            fields["text"] = .string(text)
        } else {
            throw MediaError.textOrMessageRequired
        }
        try await features.admitMedia(caller)
        let answer = try await features.access.dify.forward(
            DifyPassthroughRequest(
                .POST, endpoint: "text-to-audio", path: "text-to-audio", body: .json(.object(fields))),
            to: target)
        return try await DifyAPIController.relayed(answer, for: caller)
    }
}
