import Foundation
import NIOConcurrencyHelpers

/// What `/openai/v1` needs of a Dify app's `GET /parameters`: its input variables (a system message goes to one
/// named `system_prompt`) and whether it takes images. Read once a minute per system, not once per chat.
final class AppParameters: Sendable {
    struct Parameters: Sendable, Equatable {
        var inputVariables: Set<String> = []
        var imagesEnabled = false
        /// At most this many images per message; nil for no limit Dify stated.
        var imageLimit: Int?
        /// `remote_url`, `local_file`: how the app accepts images.
        var imageTransferMethods: Set<String> = []

        init() {}

        init(json: JSONValue) {
            for item in json.objectValue?["user_input_form"]?.arrayValue ?? [] {
                for control in item.objectValue?.values.compactMap(\.objectValue) ?? [] {
                    if let variable = control["variable"]?.stringValue { inputVariables.insert(variable) }
                }
            }
            if let image = json.objectValue?["file_upload"]?.objectValue?["image"]?.objectValue {
                if case .bool(true)? = image["enabled"] { imagesEnabled = true }
                if case .number(let limit)? = image["number_limits"] { imageLimit = Int(limit) }
                imageTransferMethods = Set(image["transfer_methods"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            }
        }
    }

    private let dify: any DifyClient
    private let now: @Sendable () -> Date
    private let cached = NIOLockedValueBox([String: (Parameters, Date)]())
    static let lifetime: TimeInterval = 60

    init(dify: any DifyClient, now: @escaping @Sendable () -> Date) {
        self.dify = dify
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
        let parameters = Parameters(json: json)
        cached.withLockedValue { $0[target.systemID] = (parameters, now()) }
        return parameters
    }
}
