import Foundation
import Vapor

/// `RATE_LIMIT_TOKEN_ISSUANCE`: chat tokens minted per API key and per client address, so a public browser key
/// cannot mint visitor after visitor, each with a fresh per-user bucket.
struct TokenIssuanceLimit: Sendable {
    let limiter: RateLimiter?
    let clients: ClientAddress

    init(settings: Settings, now: @escaping @Sendable () -> Date) {
        limiter = settings.rateLimitTokenIssuance.map { RateLimiter(limit: $0, now: now) }
        clients = ClientAddress(trustedProxies: settings.trustedProxies)
    }

    /// Spends one token of the key's and one of the client address's allowance.
    func admit(keyID: String, _ request: Request) async throws(LimitError) {
        guard let limiter else { return }
        if case .limited(let seconds) = await limiter.acquire("key:" + keyID) {
            throw .rateLimited(scope: .tokenIssuance, retryAfter: seconds)
        }
        if case .limited(let seconds) = await limiter.acquire("address:" + clients.of(request)) {
            throw .rateLimited(scope: .clientAddress, retryAfter: seconds)
        }
    }
}
