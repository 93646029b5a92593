/// Why a personal-data request was refused; mapped to HTTP by `APIErrorMiddleware`.
enum LifecycleError: Error, Equatable, Sendable {
    /// The user's data is being erased: their chats wait until it ends.
    case erasureInProgress
    case erasureNotFound
    case conversationNotFound
    case unknownSystem(String)
    /// A conversation of the user is on legal hold.
    case legalHold(conversationID: String)
    case selfExportOff
    /// `/v1/me/export` serves the signed-in user's chat token only.
    case chatTokenRequired
    case invalid(String)

    var status: Int {
        switch self {
        case .erasureInProgress: 410
        case .erasureNotFound, .conversationNotFound, .unknownSystem: 404
        case .legalHold: 409
        case .selfExportOff, .chatTokenRequired: 403
        case .invalid: 422
        }
    }

    var detail: String {
        switch self {
        case .erasureInProgress:
            "This user's data is being erased: chats are refused until the erasure completes"
        case .erasureNotFound: "Erasure not found"
        case .conversationNotFound: "Conversation not found"
        case .unknownSystem(let systemID): "Unknown system_id \"\(systemID)\""
        case .legalHold(let conversationID):
            "Conversation \(conversationID) of this user is on legal hold: release the hold before erasing the user"
        case .selfExportOff: "This system does not offer self-service export"
        case .chatTokenRequired:
            "Only a signed-in user's chat token downloads their own data here; operators use /admin/v1/systems/{system_id}/users/{user_id}/export"
        case .invalid(let detail): detail
        }
    }
}
