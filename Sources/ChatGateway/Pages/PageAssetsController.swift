import Foundation
import Vapor

/// The chat page's own files (`/chat-assets/...`), its ES modules (`/chat-assets/chat/...`), the vendored
/// browser libraries (`/chat-assets/vendor/...`) and the embeddable `/widget.js`, served from the gateway's
/// resources: the page loads nothing from any other host.
struct PageAssetsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let catalog = PageAssetCatalog.shared
        routes.get("chat-assets", "**") { req -> Response in
            let path = req.parameters.getCatchall().joined(separator: "/")
            guard let asset = catalog.asset(at: path) else { throw Abort(.notFound) }
            let response = try await req.fileio.asyncStreamFile(at: APIDocsController.resourceDirectory + asset.file)
            return Self.cacheable(response, type: asset.type, maxAge: asset.maxAge)
        }
        routes.get("widget.js") { _ -> Response in
            let script = try WidgetScript.shared.get()
            return Self.cacheable(
                Response(status: .ok, body: .init(string: script)), type: PageAssetCatalog.javascript, maxAge: 300)
        }
    }

    /// Short caching for the page's files: their names carry no fingerprint, and a deploy should reach browsers soon.
    private static func cacheable(_ response: Response, type: HTTPMediaType, maxAge: Int) -> Response {
        response.headers.contentType = type
        response.headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=\(maxAge)")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return response
    }
}

/// Every file `/chat-assets/` may serve, fixed when the gateway starts: a request's path is only ever a key
/// into this table, never joined onto the filesystem, so no path can reach outside it.
struct PageAssetCatalog: Sendable {
    struct Asset: Sendable {
        /// Relative to the resource directory.
        let file: String
        let type: HTTPMediaType
        let maxAge: Int
    }

    static let javascript = HTTPMediaType(
        type: "application", subType: "javascript", parameters: ["charset": "utf-8"])
    static let css = HTTPMediaType(type: "text", subType: "css", parameters: ["charset": "utf-8"])
    static let woff2 = HTTPMediaType(type: "font", subType: "woff2")
    static let text = HTTPMediaType(type: "text", subType: "plain", parameters: ["charset": "utf-8"])

    /// The pages' top-level files; chat.css is shared by the operator pages, markdown.js by the history page.
    static let pageFiles = [
        "chat.css", "markdown.js", "history.css", "history.js", "usage.css", "usage.js", "admin.css", "admin.js",
    ]

    static let shared = PageAssetCatalog(resourceDirectory: APIDocsController.resourceDirectory)

    let assets: [String: Asset]

    init(resourceDirectory: String) {
        var assets: [String: Asset] = [:]
        for name in Self.pageFiles {
            if let type = Self.type(of: name) { assets[name] = Asset(file: "pages/" + name, type: type, maxAge: 300) }
        }
        for name in Self.files(in: resourceDirectory + "pages/chat") where name.hasSuffix(".js") {
            assets["chat/" + name] = Asset(file: "pages/chat/" + name, type: Self.javascript, maxAge: 300)
        }
        // The libraries change only with their Debian package, so a browser may keep them for a day.
        for name in Self.files(in: resourceDirectory + "vendor") {
            if let type = Self.type(of: name) {
                assets["vendor/" + name] = Asset(file: "vendor/" + name, type: type, maxAge: 86400)
            }
        }
        self.assets = assets
    }

    func asset(at path: String) -> Asset? { assets[path] }

    /// Only these kinds are served: a file of any other kind in the directories stays private.
    static func type(of name: String) -> HTTPMediaType? {
        if name.hasSuffix(".js") { return javascript }
        if name.hasSuffix(".css") { return css }
        if name.hasSuffix(".woff2") { return woff2 }
        if name.hasSuffix("/copyright") || name == "copyright" { return text }
        return nil
    }

    /// Regular files below `directory`, as paths relative to it.
    private static func files(in directory: String) -> [String] {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        guard
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var names: [String] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(root.path + "/") else { continue }
            names.append(String(path.dropFirst(root.path.count + 1)))
        }
        return names.sorted()
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
