import Foundation

/// Where webhooks may be delivered: `https` to public addresses, or to addresses inside `WEBHOOK_ALLOWED_NETWORKS`
/// (over `http` too). Checked when an endpoint is saved and before each delivery, after DNS.
struct WebhookURLPolicy: Sendable {
    let addresses: DifyAddressPolicy

    init(allowedNetworks: [IPAddressRange]) {
        addresses = DifyAddressPolicy(
            allowedNetworks: allowedNetworks, allowingVariable: "WEBHOOK_ALLOWED_NETWORKS",
            linkLocalMayBeAllowed: true)
    }

    /// The URL and the addresses its host has now, or why it is refused.
    @discardableResult
    func check(_ text: String) async throws(WebhookError) -> (url: URL, addresses: [[UInt8]]) {
        guard text.utf8.count <= 2048, let url = URL.http(text) else {
            throw .urlRefused("must be an https URL (at most 2048 bytes)")
        }
        if url.user != nil || url.password != nil || url.host?.contains("@") == true {
            throw .urlRefused("must not contain user-info (user@)")
        }
        if url.fragment != nil || text.contains("#") { throw .urlRefused("must not contain a fragment (#)") }
        let resolved: [[UInt8]]
        do {
            resolved = try await addresses.check(url)
        } catch {
            throw .urlRefused(error.description)
        }
        if url.scheme?.lowercased() == "http", !resolved.allSatisfy(addresses.isAllowed) {
            throw .urlRefused("must use https: plain http goes only to addresses in WEBHOOK_ALLOWED_NETWORKS")
        }
        return (url, resolved)
    }
}
