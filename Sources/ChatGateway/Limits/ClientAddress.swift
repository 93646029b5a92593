import Vapor

/// Who is on the other end of a request: the socket's peer, or, when that peer is one of `TRUSTED_PROXIES`, the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy (the entries further left are the client's
/// to write, so they count for nothing).
struct ClientAddress: Sendable {
    let trustedProxies: [IPAddressRange]

    func of(_ request: Request) -> String {
        let peer = request.remoteAddress?.ipAddress ?? "unknown"
        guard isTrusted(peer) else { return peer }
        let forwarded = request.headers[canonicalForm: "X-Forwarded-For"].map { String($0) }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var nearest = peer
        for hop in forwarded.reversed() {
            nearest = hop
            if !isTrusted(hop) { break }
        }
        return nearest
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
