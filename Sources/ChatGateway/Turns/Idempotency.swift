import Foundation

/// A request's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), as it is kept: hashed with the
/// caller's scope (the key it came with, or the chat token's system and user), beside a hash of the request.
struct IdempotencyRecord: Sendable, Equatable {
    let keyHash: String
    let requestHash: String

    /// Another request claimed the key first: this one repeats that turn.
    struct Claimed: Error { let turnID: UUID }

    static let header = "Idempotency-Key"

    /// Nil without the header; throws `IdempotencyError.malformedKey` for a value that is not 1 to 255 printable
    /// ASCII characters (a structured-field string's quotes are taken off).
    static func parse(
        _ raw: String?, caller: CallerIdentity, request: ChatTurns.Turn, streaming: Bool, wire: String
    ) throws(IdempotencyError) -> IdempotencyRecord? {
        guard var key = raw else { return nil }
        if key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") { key = String(key.dropFirst().dropLast()) }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw .malformedKey
        }
        let scope =
            caller.isChatToken || caller.rateKeyID == nil
            ? "user\u{0}\(caller.systemID)\u{0}\(caller.userID)" : "key\u{0}\(caller.rateKeyID!)"
        let fingerprint =
            request.options.fingerprint
            ?? JSONValue.object([
                "wire": .string(wire), "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
                "message": .string(request.message),
                "conversation_id": request.conversationID.map(JSONValue.string) ?? .null,
                "inputs": .object(request.inputs), "extra": .object(request.extra), "stream": .bool(streaming),
            ])
        return IdempotencyRecord(
            keyHash: "\(scope)\u{0}\(key)".sha256Hex,
            requestHash: String(buffer: fingerprint.jsonBuffer(sortedKeys: true)).sha256Hex)
    }

}

/// Why a request with an `Idempotency-Key` is refused.
enum IdempotencyError: Error, Equatable {
    /// 400: not 1 to 255 printable ASCII characters.
    case malformedKey
    /// 422: the key was used for another request.
    case differentRequest
    /// 409: the first request is still being answered after `IDEMPOTENCY_WAIT`.
    case stillRunning(retryAfter: Int)
}

extension IdempotencyError {
    var retryAfter: Int? {
        if case .stillRunning(let seconds) = self { return seconds }
        return nil
    }
}
