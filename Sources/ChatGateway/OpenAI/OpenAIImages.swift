import Foundation
import NIOCore

/// The `image_url` parts of a new message as Dify `files`: an http(s) URL passed as a remote file, a `data:` URL
/// uploaded through Dify's `files/upload` for the user, within what the app accepts.
struct OpenAIImages: Sendable {
    let dify: any DifyClient

    func files(
        _ urls: [String], app: AppParameters.Parameters, target: DifyTarget, difyUser: String
    ) async throws -> [JSONValue] {
        guard !urls.isEmpty else { return [] }
        guard app.imagesEnabled else {
            throw OpenAIError.unsupportedValue("this model does not accept images", param: "messages")
        }
        if let limit = app.imageLimit, urls.count > limit {
            throw OpenAIError.unsupportedValue(
                "this model accepts at most \(limit) images per message", param: "messages")
        }
        var files: [JSONValue] = []
        for url in urls {
            if let image = DataURL(url) {
                let id = try await upload(image, target: target, difyUser: difyUser)
                files.append(Self.file(["transfer_method": .string("local_file"), "upload_file_id": .string(id)]))
            } else if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") {
                files.append(Self.file(["transfer_method": .string("remote_url"), "url": .string(url)]))
            } else {
                throw OpenAIError.invalidRequest(
                    "image_url.url must be an http(s) URL or a base64 data URL of an image", param: "messages")
            }
        }
        return files
    }

    private static func file(_ fields: [String: JSONValue]) -> JSONValue {
        .object(fields.merging(["type": .string("image")]) { first, _ in first })
    }

    private func upload(_ image: DataURL, target: DifyTarget, difyUser: String) async throws -> String {
        let boundary = "gateway-\(UUID().uuidString)"
        var body = ByteBuffer()
        body.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n\(difyUser)\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; "
                + "filename=\"image.\(image.fileExtension)\"\r\n"
                + "Content-Type: \(image.mediaType)\r\n\r\n")
        body.writeBytes(image.bytes)
        body.writeString("\r\n--\(boundary)--\r\n")
        let answer = try await dify.forward(
            DifyPassthroughRequest(
                .POST, endpoint: "files/upload", path: "files/upload",
                body: .stream(
                    AsyncThrowingStream {
                        $0.yield(body); $0.finish()
                    },
                    contentType: "multipart/form-data; boundary=\(boundary)")),
            to: target)
        let json = try? JSONDecoder().decode(JSONValue.self, from: try await answer.collect())
        guard let id = json?.objectValue?["id"]?.stringValue else {
            throw DifyError.malformedResponse("Dify's upload answer has no file id")
        }
        return id
    }
}

/// `data:image/png;base64,...`: an image sent inline.
struct DataURL: Sendable {
    let mediaType: String
    let bytes: [UInt8]

    init?(_ url: String) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        let parts = header.split(separator: ";")
        guard let type = parts.first, type.hasPrefix("image/"), parts.contains("base64"),
            let data = Data(base64Encoded: String(url[url.index(after: comma)...]), options: .ignoreUnknownCharacters),
            !data.isEmpty
        else { return nil }
        mediaType = String(type)
        bytes = Array(data)
    }

    var fileExtension: String {
        switch mediaType {
        case "image/jpeg": "jpg"
        case "image/svg+xml": "svg"
        default: String(mediaType.dropFirst(6))
        }
    }
}
