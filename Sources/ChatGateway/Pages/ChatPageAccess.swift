import Vapor

/// Whether the chat page may open for the token in its URL, and if not, why (each reason has its own text).
enum ChatPageAccess: Equatable {
    case granted(CallerIdentity, token: String)
    case refused(Refusal)

    enum Refusal: String, Equatable {
        /// No token in the URL. Also what a reload sees once the page dropped the token from the address bar:
        /// the page's script then resumes from the token it kept in sessionStorage.
        case missing
        case expired
        case invalid
        case forbidden

        /// 401 for anything wrong with the token itself (as the API answers), 403 for a valid token of a
        /// system that is not allowed here.
        var status: HTTPResponseStatus { self == .forbidden ? .forbidden : .unauthorized }
    }

    /// Verifies the token and the identity rules, exactly as the API would for the same token.
    static func check(token: String?, auth: GatewayAuthenticator) async -> ChatPageAccess {
        guard let token, !token.isEmpty else { return .refused(.missing) }
        do {
            let identity = try await auth.verify(token: token)
            let caller = try auth.identity(.token(identity), systemID: nil, userID: nil)
            return .granted(caller, token: token)
        } catch .invalidToken(ChatTokenService.expiredReason) {
            return .refused(.expired)
        } catch .systemNotAllowed {
            return .refused(.forbidden)
        } catch {
            return .refused(.invalid)
        }
    }
}
