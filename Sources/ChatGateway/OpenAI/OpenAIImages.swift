import Foundation
import NIOCore

/// The `image_url` parts of a new message as Dify `files`: an http(s) URL passed as a remote file, a `data:` URL
/// uploaded through Dify's `files/upload` for the user, within what the app accepts.
struct OpenAIImages: Sendable {
    let dify: any DifyClient

    /// One `image_url`, read: inline bytes or a URL for Dify to fetch.
    enum Image: Sendable {
        case inline(DataURL)
        case remote(String)
    }

    /// Reads `urls` and checks them against what the app takes (when its parameters could be read); nothing is sent.
    static func read(_ urls: [String], app: AppParameters.Parameters?) throws(OpenAIError) -> [Image] {
        guard !urls.isEmpty else { return [] }
        if let app, !app.imagesEnabled {
            throw .unsupportedValue("this model does not accept images", param: "messages")
        }
        if let limit = app?.imageLimit, urls.count > limit {
            throw .unsupportedValue("this model accepts at most \(limit) images per message", param: "messages")
        }
        let methods = app?.imageTransferMethods ?? []
        return try urls.map { url throws(OpenAIError) -> Image in
            let image: Image
            if let inline = DataURL(url) {
                image = .inline(inline)
            } else if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") {
                image = .remote(url)
            } else {
                throw .invalidRequest(
                    "image_url.url must be an http(s) URL or a base64 data URL of an image", param: "messages")
            }
            let method = if case .inline = image { "local_file" } else { "remote_url" }
            guard methods.isEmpty || methods.contains(method) else {
                throw .unsupportedValue(
                    "this model takes images only as \(methods.sorted().joined(separator: " or "))", param: "messages")
            }
            return image
        }
    }

    /// The images as Dify `files`, an inline one uploaded for the user first.
    func files(_ images: [Image], target: DifyTarget, difyUser: String) async throws -> [JSONValue] {
        var files: [JSONValue] = []
        for image in images {
            switch image {
            case .inline(let inline):
                let id = try await upload(inline, target: target, difyUser: difyUser)
                files.append(Self.file(["transfer_method": .string("local_file"), "upload_file_id": .string(id)]))
            case .remote(let url):
                files.append(Self.file(["transfer_method": .string("remote_url"), "url": .string(url)]))
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
        // The type goes into a multipart head: only a plain `image/<subtype>`.
        guard let type = parts.first, type.hasPrefix("image/"), type.count <= 64,
            type.dropFirst(6).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".+-".contains($0)) }),
            type.count > 6, parts.contains("base64"),
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
