import Foundation
import Vapor

/// The history page's URL parameters (`lang` and the filters) minus `api_key`: what survives a sign-in,
/// a sign-out and the compatibility redirect, so the operator lands on the same view, in the same language,
/// and the key never stays in a URL.
struct HistoryPageQuery: Equatable {
    static let apiKeyParameter = "api_key"

    let items: [URLQueryItem]

    init(_ url: URI) {
        items = (URLComponents(string: url.string)?.queryItems ?? []).filter { $0.name != Self.apiKeyParameter }
    }

    func value(_ name: String) -> String? {
        items.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `path` with the kept parameters; only ever one of the page's own paths, so no open redirect.
    func path(_ path: String) -> String {
        var components = URLComponents()
        components.path = path
        components.queryItems = items.isEmpty ? nil : items
        return components.string ?? path
    }
}
