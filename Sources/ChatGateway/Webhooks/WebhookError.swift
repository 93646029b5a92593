/// Why a webhook admin request was refused; mapped to HTTP by `APIErrorMiddleware`.
enum WebhookError: Error, Equatable, Sendable {
    /// The endpoint's URL may not be delivered to: its form, its scheme or its addresses.
    case urlRefused(String)
    case endpointNotFound
    case deliveryNotFound
    /// A test goes only to an enabled endpoint.
    case endpointDisabled
    /// Secrets are sealed: without `CHAT_GATEWAY_ENCRYPTION_KEY` no endpoint can be made.
    case encryptionKeyMissing
    case invalid(String)

    var status: Int {
        switch self {
        case .urlRefused: 400
        case .endpointNotFound, .deliveryNotFound: 404
        case .encryptionKeyMissing, .endpointDisabled: 409
        case .invalid: 422
        }
    }

    var detail: String {
        switch self {
        case .urlRefused(let why): "url \(why)"
        case .endpointNotFound: "Webhook endpoint not found"
        case .deliveryNotFound: "No delivery of this event to this endpoint"
        case .encryptionKeyMissing:
            "Webhook secrets are sealed with CHAT_GATEWAY_ENCRYPTION_KEY: set it (generate one with `chat-gateway gen-env`)"
        case .endpointDisabled: "The endpoint is disabled: enable it before sending a test"
        case .invalid(let detail): detail
        }
    }
}
