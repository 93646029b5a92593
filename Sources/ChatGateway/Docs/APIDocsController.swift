import Foundation
import Vapor

/// `GET /openapi.json` and `GET /docs` (Swagger UI, served by the gateway itself: no CDN).
struct APIDocsController: RouteCollection {
    let openAPI: ByteBuffer

    init() throws {
        openAPI = try OpenAPIDocument.served.get()
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("openapi.json") { _ in
            var headers = HTTPHeaders()
            headers.contentType = .json
            Self.securityHeaders.apply(to: &headers)
            headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=300")
            return Response(status: .ok, headers: headers, body: .init(buffer: openAPI))
        }
        routes.get("docs") { req in try await serve(req, "docs/index.html", type: .html) }
        routes.get("docs", ":file") { req -> Response in
            let file = try req.parameters.require("file")
            guard Self.assets[file] != nil else { throw Abort(.notFound) }
            return try await serve(req, "docs/\(file)", type: Self.assets[file]!)
        }
    }

    /// The pages' CSP, framed only by the gateway itself; Swagger UI sets inline styles, so those are allowed.
    static let securityHeaders = PageSecurityHeaders(
        framingOrigins: [], formAction: "'self'", framingPolicy: .sameOrigin, styleSource: "'self' 'unsafe-inline'")

    private static let assets: [String: HTTPMediaType] = [
        "swagger-ui-bundle.js": .init(type: "application", subType: "javascript", parameters: ["charset": "utf-8"]),
        "swagger-ui.css": .init(type: "text", subType: "css", parameters: ["charset": "utf-8"]),
        "init.js": .init(type: "application", subType: "javascript", parameters: ["charset": "utf-8"]),
    ]

    /// The folder holding `openapi.json` and `docs/`. Foundation on Linux sometimes reports the bundle's
    /// `Resources` folder as its resource path and sometimes the bundle itself, so look the file up.
    static let resourceDirectory: String = {
        let spec =
            Bundle.module.url(forResource: "openapi", withExtension: "json")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
        return (spec?.deletingLastPathComponent().path ?? Bundle.module.bundlePath + "/Resources") + "/"
    }()

    private func serve(_ req: Request, _ relativePath: String, type: HTTPMediaType) async throws -> Response {
        let response = try await req.fileio.asyncStreamFile(at: Self.resourceDirectory + relativePath)
        response.headers.contentType = type
        Self.securityHeaders.apply(to: &response.headers)
        response.headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=300")
        return response
    }
}
