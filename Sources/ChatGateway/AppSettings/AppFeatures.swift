import Foundation
import Vapor

/// What the chat page's app-dependent routes share: the caller's Dify, the app's settings, the system's page
/// settings and the per-user limit on uploads, transcriptions and read-alouds.
struct AppFeatures: Sendable {
    let access: DifyAccess
    let parameters: AppParameters
    let pages: PageSettings
    /// `RATE_LIMIT_MEDIA`, per (system, user); nil: unlimited.
    let mediaLimit: RateLimiter?
    let uploads: ConcurrencyGate
    let maxVoiceBytes: Int
    let now: @Sendable () -> Date
    /// Where a chat's `remote_url` file may be: Dify fetches it from inside its own network, so public hosts only.
    var remoteFiles = DifyAddressPolicy(allowedNetworks: [])

    func app(for caller: CallerIdentity) async throws -> (DifyTarget, AppParameters.Parameters) {
        let target = try access.target(for: caller)
        return (target, try await parameters.parameters(of: target))
    }

    /// Spends one of the caller's media requests, or refuses with when the next is due.
    func admitMedia(_ caller: CallerIdentity) async throws(LimitError) {
        guard let mediaLimit else { return }
        if case .limited(let seconds) = await mediaLimit.acquire(caller.userKey) {
            throw .rateLimited(scope: .user, retryAfter: seconds)
        }
    }

    /// The largest recording `/v1/audio-to-text` passes on: the gateway's limit or the app's, whichever is smaller.
    func voiceLimit(_ app: AppParameters.Parameters) -> Int {
        min(maxVoiceBytes, app.uploads.sizeLimits["audio"] ?? maxVoiceBytes)
    }

    /// The identity of an upload, from its headers and query alone: its body streams to Dify unread, and is never
    /// decoded as content (`identityFromQueryOrBody` would, when its first bytes are in, and MultipartKit traps on some
    /// forms).
    func uploader(_ req: Request) async throws -> CallerIdentity {
        try await access.auth.identity(
            for: req, systemID: req.query[String.self, at: "system_id"], userID: req.query[String.self, at: "user_id"])
    }
}

extension AppFeatures {
    /// Streams the caller's multipart upload to Dify as theirs (any `user` part is replaced), one at a time per
    /// user, each file part within `fileLimit` and the whole body within `largest` and its form's overhead.
    func forwardUpload(
        _ req: Request, endpoint: String, as caller: CallerIdentity, to target: DifyTarget, largest: Int,
        limitVariable: String = "MAX_UPLOAD_BYTES", fileLimit: @escaping MultipartUserRewriter.FileLimit
    ) async throws -> DifyPassthroughResponse {
        let gateKey = caller.userKey
        try uploads.enter(key: gateKey)
        defer { uploads.release(key: gateKey) }
        return try await MultipartForwarding.forward(
            req, endpoint: endpoint, to: target, dify: access.dify, limit: largest + 64 * 1024,
            limitVariable: limitVariable, now: now,
            fileLimit: fileLimit, answering: MediaError.callersOwn, difyUser: { _ in caller.difyUser })
    }
}
