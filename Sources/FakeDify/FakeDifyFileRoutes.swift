import Crypto
import Vapor

/// One file `POST /files/upload` took.
public struct FakeUploadedFile: Sendable {
    public let id: String
    public let user: String
    public let name: String
    public let size: Int
    public let mimeType: String
}

/// One part of a `multipart/form-data` body.
struct FakeFormPart {
    var headers: [(String, String)] = []
    var body = ByteBuffer()

    var disposition: String { headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? "" }
    var contentType: String? { headers.first { $0.0.lowercased() == "content-type" }?.1 }
    var name: String? { Self.parameter("name", of: disposition) }
    var filename: String? { Self.parameter("filename", of: disposition) }

    static func parameter(_ key: String, of disposition: String) -> String? {
        for item in disposition.split(separator: ";") {
            let pair = item.trimmingCharacters(in: .whitespaces)
            guard pair.hasPrefix("\(key)=") else { continue }
            return String(pair.dropFirst(key.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}

/// `POST /files/upload`, `POST /audio-to-text` and `POST /text-to-audio` (dify-api.md section 8, openapi_chat.json).
extension FakeDifyRoutes {
    /// Dify's default size limits in bytes, by kind of file.
    static func sizeLimit(forExtension ext: String, imageMB: Int) -> Int {
        switch ext {
        case "png", "jpg", "jpeg", "gif", "webp", "svg": imageMB * 1024 * 1024
        case "mp3", "m4a", "wav", "webm", "amr", "mpga": 50 * 1024 * 1024
        case "mp4", "mov", "mpeg": 100 * 1024 * 1024
        default: 15 * 1024 * 1024
        }
    }

    func upload(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        let parts = try req.difyFormParts()
        let files = parts.filter { $0.name == "file" }
        guard !files.isEmpty else {
            throw DifyError(status: 400, code: "no_file_uploaded", message: "Please upload your file.")
        }
        guard files.count == 1 else {
            throw DifyError(status: 400, code: "too_many_files", message: "Only one file is allowed.")
        }
        let file = files[0]
        guard let name = file.filename, !name.isEmpty else {
            throw DifyError(
                status: 400, code: "filename_not_exists_error", message: "The specified filename does not exist.")
        }
        guard !name.contains("/"), !name.contains("\\") else {
            throw DifyError.invalidParam("Filename contains invalid characters")
        }
        guard let mimeType = file.contentType, !mimeType.isEmpty else {
            throw DifyError(status: 415, code: "unsupported_file_type", message: "File type not allowed.")
        }
        let ext = name.split(separator: ".").count > 1 ? String(name.split(separator: ".").last!).lowercased() : ""
        let imageMB = await store.options.imageFileSizeLimitMB
        guard file.body.readableBytes <= Self.sizeLimit(forExtension: ext, imageMB: imageMB) else {
            throw DifyError(status: 413, code: "file_too_large", message: "File size exceeded.")
        }
        let user = try req.difyUser(
            parts.first { $0.name == "user" }.map { .string(String(buffer: $0.body)) }, required: false)
        let stored = await store.recordUpload(user: user, name: name, size: file.body.readableBytes, mimeType: mimeType)
        let now = Int(Date().timeIntervalSince1970)
        return difyJSONResponse(
            .object([
                ("id", .string(stored.id)), ("name", .string(name)), ("size", .int(stored.size)),
                ("extension", .string(ext)), ("mime_type", .string(mimeType)),
                ("created_by", .string(Self.endUserID(user))), ("created_at", .int(now)), ("preview_url", .null),
                ("source_url", .string("\(req.difyBaseURL)/files/\(stored.id)/file-preview")),
                ("original_url", .null), ("user_id", .null), ("tenant_id", .string(Self.tenantID)),
                ("conversation_id", .null), ("file_key", .null),
            ]), status: 201)
    }

    func audioToText(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        // Dify's AudioService looks at the app's setting before the file.
        guard await store.options.speechToTextEnabled else {
            throw DifyError.invalidParam("Speech to text is not enabled")
        }
        let parts = try req.difyFormParts()
        guard let audio = parts.first(where: { $0.name == "file" }) else {
            throw DifyError(status: 400, code: "no_audio_uploaded", message: "Please upload your audio.")
        }
        guard let type = audio.contentType, type.hasPrefix("audio/") || type.hasPrefix("video/") else {
            throw DifyError(status: 415, code: "unsupported_audio_type", message: "Audio type not allowed.")
        }
        guard audio.body.readableBytes <= 30 * 1024 * 1024 else {
            throw DifyError(status: 413, code: "audio_too_large", message: "Audio size exceeded.")
        }
        let user = try req.difyUser(
            parts.first { $0.name == "user" }.map { .string(String(buffer: $0.body)) }, required: false)
        _ = await store.recordUpload(
            user: user, name: audio.filename ?? "audio", size: audio.body.readableBytes, mimeType: type)
        return difyJSONResponse(
            .object([
                ("text", .string("Transcript of \(audio.body.readableBytes) bytes of \(audio.filename ?? "audio")"))
            ]))
    }

    /// Speech for a message's answer (`message_id` wins) or a text, as `audio/mpeg` in chunks.
    func textToAudio(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        let body = try req.difyJSONBody()
        let user = try req.difyUser(body["user"], required: false)
        let text: String
        if let id = body["message_id"]?.stringValue {
            guard let message = await store.message(id: id, user: user) else { throw DifyError.messageNotExists }
            text = message.answer
        } else if let given = body["text"]?.stringValue, !given.isEmpty {
            text = given
        } else {
            throw DifyError.invalidParam("text or message_id is required")
        }
        let audio = Self.speech(for: text)
        let response = Response(
            status: .ok,
            body: .init(asyncStream: { writer in
                var rest = audio
                while let chunk = rest.readSlice(length: min(4096, rest.readableBytes)), chunk.readableBytes > 0 {
                    try await writer.write(.buffer(chunk))
                }
                try await writer.write(.end)
            }))
        response.headers.replaceOrAdd(name: .contentType, value: "audio/mpeg")
        return response
    }

    /// Silence a browser can play: MPEG-1 Layer III frames (32 kbit/s, 32 kHz, mono; 36 ms each), one per character
    /// of text, between one and thirty seconds, so the same text always gives the same audio.
    static func speech(for text: String) -> ByteBuffer {
        let frames = min(max(text.count, 28), 834)
        var audio = ByteBuffer()
        audio.reserveCapacity(frames * silentFrame.count)
        for _ in 0..<frames { audio.writeBytes(silentFrame) }
        return audio
    }

    /// A frame header (sync, MPEG-1, Layer III, no CRC; 32 kbit/s, 32 kHz, no padding; mono, original), then side
    /// information and main data all zero: no bits for either granule, which decodes to silence.
    static let silentFrame: [UInt8] = [0xFF, 0xFB, 0x18, 0xC4] + Array(repeating: 0, count: 140)

    static let tenantID = "11223344-5566-7788-99aa-bbccddeeff00"

    /// Dify's end-user row id for a `user`: a UUID, the same for the same user.
    static func endUserID(_ user: String) -> String {
        let bytes = Array(SHA256.hash(data: Data(user.utf8)).prefix(16))
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }
}

extension Request {
    /// The parts of a `multipart/form-data` body; anything else is Dify's 415 for a file route.
    func difyFormParts() throws -> [FakeFormPart] {
        guard let type = headers.contentType, type.type == "multipart", let boundary = type.parameters["boundary"]
        else {
            throw DifyError(status: 415, code: "unsupported_file_type", message: "File type not allowed.")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [FakeFormPart] = []
        var current = FakeFormPart()
        parser.onHeader = { name, value in current.headers.append((name, value)) }
        parser.onBody = { chunk in current.body.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append(current)
            current = FakeFormPart()
        }
        // Werkzeug parses forms silently: a malformed body is an empty form, so "no file uploaded", not a 500.
        guard let data = body.data, Self.headerNamesAreASCII(data, boundary: boundary),
            (try? parser.execute(data)) != nil
        else { return [] }
        return parts
    }

    /// Whether every header line of every part (up to its `:`, or all of it without one) is ASCII: MultipartKit's
    /// parser traps on any other byte where it reads a header name.
    static func headerNamesAreASCII(_ data: ByteBuffer, boundary: String) -> Bool {
        let bytes = Array(data.readableBytesView)
        let delimiter = Array("--\(boundary)".utf8)
        var index = bytes.startIndex
        while let found = bytes[index...].firstRange(of: delimiter) {
            // Past the boundary line, header lines run to an empty line; without one, to the next boundary.
            var position = bytes[found.upperBound...].firstRange(of: Array("\r\n".utf8))?.upperBound ?? bytes.endIndex
            let next = bytes[position...].firstRange(of: delimiter)?.lowerBound ?? bytes.endIndex
            while position < next {
                let lineEnd = bytes[position..<next].firstRange(of: Array("\r\n".utf8))?.lowerBound ?? next
                if lineEnd == position { break }
                let nameEnd = bytes[position..<lineEnd].firstIndex(of: UInt8(ascii: ":")) ?? lineEnd
                guard bytes[position..<nameEnd].allSatisfy({ $0 < 0x80 }) else { return false }
                position = min(lineEnd + 2, next)
            }
            index = next
        }
        return true
    }

    /// This fake's own base URL, as the client reached it.
    var difyBaseURL: String {
        "http://\(headers.first(name: .host) ?? "127.0.0.1")/v1"
    }
}
