import Vapor

/// `POST /v1/files/upload`: a file for the caller's next message, streamed to Dify as theirs, within what the app's
/// `file_upload` takes (its types, and each type's size). The answer is Dify's, with the file's Dify `type` added, to
/// send back in the chat's `files`.
struct FileUploadController: RouteCollection {
    let features: AppFeatures

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "files", "upload", body: .stream, use: upload)
    }

    @Sendable
    func upload(_ req: Request) async throws -> Response {
        let caller = try await features.uploader(req)
        let (target, app) = try await features.app(for: caller)
        let rules = app.uploads
        guard rules.enabled, rules.transferMethods.contains("local_file") else { throw MediaError.uploadsDisabled }
        try await features.admitMedia(caller)
        let uploaded = try await features.forwardUpload(
            req, endpoint: "files/upload", as: caller, to: target,
            largest: rules.types.compactMap { rules.sizeLimits[$0] }.max() ?? 0
        ) { _, filename in
            guard let type = rules.type(ofFileNamed: filename) else { throw MediaError.unsupportedFileType(filename) }
            return rules.sizeLimits[type] ?? 0
        }
        guard case .object(var file) = try await DifyAPIController.json(of: uploaded, for: caller) else {
            throw DifyError.malformedResponse("the upload's answer is not a JSON object")
        }
        file["type"] = rules.type(ofFileNamed: file["name"]?.stringValue ?? "").map(JSONValue.string) ?? .null
        return Response.json(.object(file), status: .created)
    }
}
