import Foundation
import Vapor

/// The chat page's own files (`/chat-assets/...`) and the embeddable `/widget.js`, served from the
/// gateway's resources: the page loads nothing from any other host.
struct PageAssetsController: RouteCollection {
    private static let javascript = HTTPMediaType(
        type: "application", subType: "javascript", parameters: ["charset": "utf-8"])
    private static let css = HTTPMediaType(type: "text", subType: "css", parameters: ["charset": "utf-8"])
    private static let assets: [String: HTTPMediaType] = [
        "chat.css": css,
        "chat.js": javascript,
        "markdown.js": javascript,
        // The operators' history page (`GET /cache`) shares chat.css and markdown.js.
        "history.css": css,
        "history.js": javascript,
        // Its usage view (`GET /cache/usage`).
        "usage.css": css,
        "usage.js": javascript,
        // The admin console (`GET /admin`) also loads history.css for its sign-in form and tables.
        "admin.css": css,
        "admin.js": javascript,
    ]

    func boot(routes: any RoutesBuilder) throws {
        routes.get("chat-assets", ":file") { req -> Response in
            let file = try req.parameters.require("file")
            guard let type = Self.assets[file] else { throw Abort(.notFound) }
            let response = try await req.fileio.asyncStreamFile(
                at: APIDocsController.resourceDirectory + "pages/" + file)
            return Self.cacheable(response, type: type)
        }
        routes.get("widget.js") { _ -> Response in
            let script = try WidgetScript.shared.get()
            return Self.cacheable(Response(status: .ok, body: .init(string: script)), type: Self.javascript)
        }
    }

    /// Short caching: the files have no fingerprint in their names, and a deploy should reach browsers soon.
    private static func cacheable(_ response: Response, type: HTTPMediaType) -> Response {
        response.headers.contentType = type
        response.headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=300")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return response
    }
}

/// `widget.js` with the widget's fallback strings in all five languages filled in from `WidgetStrings`,
/// the same table `/v1/chat-token?lang=` answers with, so the two never disagree.
enum WidgetScript {
    static let placeholder = "__WIDGET_STRINGS__"
    static let shared = Result { try render() }

    static func render() throws -> String {
        let template = try String(
            contentsOfFile: APIDocsController.resourceDirectory + "pages/widget.js", encoding: .utf8)
        let table = Dictionary(
            uniqueKeysWithValues: WidgetStrings.supportedLanguages.map { ($0, WidgetStrings.forLanguage($0)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return template.replacingOccurrences(
            of: placeholder, with: String(decoding: try encoder.encode(table), as: UTF8.self))
    }
}
