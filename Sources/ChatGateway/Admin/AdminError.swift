/// Why an admin request was refused; mapped to HTTP by `APIErrorMiddleware`.
enum AdminError: Error, Equatable, Sendable {
    /// `CHAT_GATEWAY_ADMIN_KEY` is empty.
    case disabled
    case adminKeyRequired
    case invalidAdminKey
    /// A client or browser key (or a chat token) on an admin route.
    case notAnAdminCredential
    case systemNotFound
    case keyNotFound
    case systemExists
    /// Systems from the environment are read-only.
    case definedByEnvironment(systemID: String)
    /// A Dify key cannot be stored without `CHAT_GATEWAY_ENCRYPTION_KEY`.
    case encryptionKeyMissing
    case invalid(String)
    /// A system's own Dify URL without its own key: the environment's key never goes to an admin-set host.
    case difyKeyRequired
}
