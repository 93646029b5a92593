import Foundation

extension URL {
    /// `text` as an absolute `http` or `https` URL with a host, or nil: what a Dify URL or an origin must be.
    static func http(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host?.isEmpty == false
        else { return nil }
        return url
    }
}
