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

    /// The URL and those of its host's addresses a delivery may go to now (the sender connects to one of these, so a
    /// name that also has a refused address, such as `localhost`'s `::1` beside `127.0.0.1`, is still usable); or
    /// why it is refused: no address may be reached, or plain http to an address outside the allowed networks.
    @discardableResult
    func check(_ text: String) async throws(WebhookError) -> (url: URL, addresses: [[UInt8]]) {
        guard text.utf8.count <= 2048, let url = URL.http(text) else {
            throw .urlRefused("must be an https URL (at most 2048 bytes)")
        }
        if url.user != nil || url.password != nil || url.host?.contains("@") == true {
            throw .urlRefused("must not contain user-info (user@)")
        }
        if url.fragment != nil || text.contains("#") { throw .urlRefused("must not contain a fragment (#)") }
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            throw .urlRefused("has no host")
        }
        let resolved: [[UInt8]]
        do {
            resolved = try await DifyAddressPolicy.resolve(host)
        } catch {
            throw .urlRefused("host \(host) does not resolve")
        }
        let usable = resolved.filter { addresses.problem(with: $0) == nil }
        guard !usable.isEmpty else {
            let problem = resolved.first.flatMap(addresses.problem(with:)) ?? "without an address"
            throw .urlRefused("host \(host) is \(problem)")
        }
        guard url.scheme?.lowercased() == "http" else { return (url, usable) }
        let plain = usable.filter(addresses.isAllowed)
        guard !plain.isEmpty else {
            throw .urlRefused("must use https: plain http goes only to addresses in WEBHOOK_ALLOWED_NETWORKS")
        }
        return (url, plain)
    }
}
