import Vapor

/// Request parsing with Dify's checks, in Dify's order: auth, body, `user`, then fields.
extension Request {
    /// `validate_app_token`: missing header or no space, wrong scheme, unknown key, each with its own 401.
    func difyAuthenticate(_ store: FakeDifyStore) async throws {
        guard let header = headers.first(name: .authorization), header.contains(" ") else {
            throw DifyError.unauthorized("Authorization header must be provided and start with 'Bearer'")
        }
        // Python's split(None, 1): leading whitespace dropped, split at the first whitespace run.
        let trimmed = header.drop { $0.isWhitespace }
        guard let gap = trimmed.firstIndex(where: \.isWhitespace) else {
            throw DifyError.invalidParam("not enough values to unpack (expected 2, got 1)")
        }
        let scheme = trimmed[..<gap]
        let token = trimmed[gap...].drop { $0.isWhitespace }
        guard scheme.lowercased() == "bearer" else {
            throw DifyError.unauthorized("Authorization scheme must be 'Bearer'")
        }
        guard !token.isEmpty else {
            throw DifyError.invalidParam("not enough values to unpack (expected 2, got 1)")
        }
        guard await store.options.apiKeys.contains(String(token)) else {
            throw DifyError.unauthorized("Access token is invalid")
        }
    }

    /// Flask's `get_json()`: 415 unless the Content-Type is JSON, 400 when the body does not parse.
    /// A body that parses but is not an object is a 400 here; real Dify crashes with a 500 on it.
    func difyJSONBody() throws -> FakeDifyJSON {
        let mime =
            (headers.first(name: .contentType) ?? "").split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mime == "application/json" || (mime.hasPrefix("application/") && mime.hasSuffix("+json")) else {
            throw DifyError.unsupportedMediaType
        }
        let data = body.data.map { Data(buffer: $0) } ?? Data()
        guard let json = FakeDifyJSON.parse(data) else {
            // Only Python's "Expecting value: line 1 column 1 (char 0)" gets Dify's friendlier text.
            let atCharZero = data.first.map { !"{[\"-0123456789tfnNI \t\r\n".utf8.contains($0) } ?? true
            throw atCharZero
                ? DifyError.emptyJSON
                : DifyError(status: 400, code: "bad_request", message: "Failed to decode JSON object: invalid JSON")
        }
        guard case .object = json else { throw DifyError.invalidParam("Input should be a valid dictionary") }
        return json
    }

    /// The end user: 400 when required and missing or empty, `DEFAULT-USER` when optional and missing,
    /// 500 beyond 255 characters (Dify's varchar(255) end-user column).
    func difyUser(_ value: FakeDifyJSON?, required: Bool) throws -> String {
        let user: String
        switch value {
        case .string(let s) where !s.isEmpty: user = s
        case nil, .null?, .string?:
            if required { throw DifyError.userRequired }
            user = "DEFAULT-USER"
        default:
            throw DifyError.userRequired
        }
        if user.unicodeScalars.count > 255 { throw DifyError.internalServerError }
        return user
    }

    func difyQueryUser(required: Bool) throws -> String {
        try difyUser(query[String.self, at: "user"].map { .string($0) }, required: required)
    }

    /// `limit`: 1...100, default 20, with the old reqparse texts.
    func difyLimit() throws -> Int {
        guard let raw = query[String.self, at: "limit"] else { return 20 }
        guard let limit = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw DifyError.invalidParam("invalid literal for int() with base 10: '\(raw)'", params: "limit")
        }
        guard (1...100).contains(limit) else {
            throw DifyError.invalidParam(
                "Invalid limit: \(limit). limit must be within the range 1 - 100", params: "limit")
        }
        return limit
    }

    /// An optional UUID query parameter (`uuid_value`): empty means absent.
    func difyUUIDQuery(_ name: String) throws -> String? {
        guard let raw = query[String.self, at: name], !raw.isEmpty else { return nil }
        guard let id = pythonUUID(raw) else {
            throw DifyError.invalidParam("\(raw) is not a valid uuid.", params: name)
        }
        return id
    }

    /// A path id: werkzeug's `<uuid:...>` converter. Anything else does not match the route at all.
    func difyPathUUID(_ name: String) throws -> String {
        guard let raw = parameters.get(name), isStrictUUID(raw) else { throw DifyError.urlNotFound }
        return raw.lowercased()
    }
}

/// Python's `uuid.UUID(str)`: accepts braces, `urn:uuid:`, missing hyphens; returns the canonical form.
func pythonUUID(_ raw: String) -> String? {
    let hex = raw.replacingOccurrences(of: "urn:", with: "").replacingOccurrences(of: "uuid:", with: "")
        .trimmingCharacters(in: CharacterSet(charactersIn: "{}")).replacingOccurrences(of: "-", with: "")
    guard hex.count == 32, hex.allSatisfy(\.isASCIIHexDigit) else { return nil }
    let h = Array(hex.lowercased())
    return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
}

/// werkzeug's UUIDConverter pattern: 8-4-4-4-12 hex digits.
func isStrictUUID(_ s: String) -> Bool {
    let parts = s.split(separator: "-", omittingEmptySubsequences: false)
    return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isASCIIHexDigit) }
}

extension Character {
    var isASCIIHexDigit: Bool { isASCII && isHexDigit }
}
