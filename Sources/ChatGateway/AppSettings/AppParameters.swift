import Foundation
import NIOConcurrencyHelpers

/// What the gateway needs of a Dify app's `GET /parameters`: its input variables (`/openai/v1` sends a system message
/// to one named `system_prompt`), the files it takes, and what the chat page shows. Read once a minute per system,
/// not once per chat.
final class AppParameters: Sendable {
    struct Parameters: Sendable, Equatable {
        var inputVariables: Set<String> = []
        var uploads = UploadRules()
        var imagesEnabled: Bool { uploads.types.contains("image") && uploads.numberLimits > 0 }
        /// At most this many images per message.
        var imageLimit: Int? { imagesEnabled ? uploads.numberLimits : nil }
        /// `remote_url`, `local_file`: how the app accepts images.
        var imageTransferMethods: Set<String> { uploads.transferMethods }
        var speechToText = false
        var textToSpeech = false
        /// What the chat page is shown of them: the features it offers, never the app's moderation settings.
        var page: [String: JSONValue] = [:]

        static let pageKeys = [
            "opening_statement", "suggested_questions", "suggested_questions_after_answer", "speech_to_text",
            "text_to_speech", "retriever_resource", "file_upload", "system_parameters", "user_input_form",
        ]

        init() {}

        init(json: JSONValue, maxUploadBytes: Int = .max) {
            let fields = json.objectValue ?? [:]
            for item in fields["user_input_form"]?.arrayValue ?? [] {
                for control in item.objectValue?.values.compactMap(\.objectValue) ?? [] {
                    if let variable = control["variable"]?.stringValue { inputVariables.insert(variable) }
                }
            }
            uploads = UploadRules(parameters: fields, maxBytes: maxUploadBytes)
            func enabled(_ key: String) -> Bool {
                if case .bool(true)? = fields[key]?.objectValue?["enabled"] { return true }
                return false
            }
            speechToText = enabled("speech_to_text")
            textToSpeech = enabled("text_to_speech")
            page = fields.filter { Self.pageKeys.contains($0.key) }
        }
    }

    private let dify: any DifyClient
    private let now: @Sendable () -> Date
    private let maxUploadBytes: Int
    private let cached = NIOLockedValueBox([String: (Parameters, Date)]())
    static let lifetime: TimeInterval = 60

    init(dify: any DifyClient, maxUploadBytes: Int = .max, now: @escaping @Sendable () -> Date) {
        self.dify = dify
        self.maxUploadBytes = maxUploadBytes
        self.now = now
    }

    func parameters(of target: DifyTarget) async throws -> Parameters {
        if let (parameters, read) = cached.withLockedValue({ $0[target.systemID] }),
            now().timeIntervalSince(read) < Self.lifetime
        {
            return parameters
        }
        let answer = try await dify.forward(
            DifyPassthroughRequest(.GET, endpoint: "parameters", path: "parameters"), to: target)
        let body = try await answer.collect()
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            throw DifyError.malformedResponse("the app's parameters are not JSON")
        }
        let parameters = Parameters(json: json, maxUploadBytes: maxUploadBytes)
        cached.withLockedValue { $0[target.systemID] = (parameters, now()) }
        return parameters
    }
}
