import Foundation
import Testing

@testable import ChatGateway

/// The page's own files and `/widget.js`, all served by the gateway.
@Suite("Chat page assets and widget", .hangLimit)
struct PageAssetsTests {
    @Test(arguments: [
        ("chat.css", "text/css"), ("markdown.js", "application/javascript"),
        ("chat/boot.js", "application/javascript"), ("chat/main.js", "application/javascript"),
        ("chat/render.js", "application/javascript"),
        ("vendor/marked/marked.min.js", "application/javascript"),
        ("vendor/dompurify/purify.min.js", "application/javascript"),
        ("vendor/highlight.js/highlight.min.js", "application/javascript"),
        ("vendor/katex/katex.min.js", "application/javascript"), ("vendor/katex/katex.min.css", "text/css"),
        ("vendor/katex/fonts/KaTeX_Main-Regular.woff2", "font/woff2"), ("vendor/katex/copyright", "text/plain"),
    ])
    func assetsAreServed(file: String, type: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat-assets/\(file)")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix(type) == true)
            #expect(reply.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(reply.body.count > 500)
        }
    }

    /// Each vendored library comes with its licence.
    @Test(arguments: ["marked", "dompurify", "highlight.js", "katex"])
    func everyLibraryCarriesItsLicence(library: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat-assets/vendor/\(library)/copyright")
            #expect(reply.status == 200)
            #expect(reply.text.contains("License"))
        }
    }

    @Test func onlyKnownAssetsAreServed() async throws {
        try await GatewayHarness.with { gateway in
            for path in [
                "/chat-assets/widget.js.map", "/chat-assets/..%2Fopenapi.json", "/chat-assets/", "/chat-assets/chat.js",
                "/chat-assets/chat/../i18n/en.json", "/chat-assets/vendor/..%2F..%2Fopenapi.json",
                "/chat-assets/vendor/katex/fonts/%2e%2e/katex.min.js",
                "/chat-assets/vendor/katex/fonts/KaTeX_Main-Regular.ttf",
                "/chat-assets/vendor", "/chat-assets/chat", "/chat-assets/i18n/en.json",
            ] {
                let status = try await gateway.call(.GET, path).status
                #expect(status == 404, "\(path)")
            }
        }
    }

    @Test func theCatalogListsOnlyFilesOfServedKinds() {
        let catalog = PageAssetCatalog.shared
        #expect(catalog.asset(at: "chat/main.js") != nil)
        #expect(catalog.asset(at: "vendor/katex/fonts/KaTeX_Main-Regular.woff2")?.type == PageAssetCatalog.woff2)
        #expect(catalog.assets.keys.allSatisfy { !$0.contains("..") && !$0.hasPrefix("/") })
        #expect(catalog.assets.keys.allSatisfy { PageAssetCatalog.type(of: $0) != nil })
    }

    /// The page's own scripts never hand text to the HTML parser: markup reaches the DOM only through DOMPurify.
    @Test func thePageScriptsBuildNodesNotHTML() async throws {
        try await GatewayHarness.with { gateway in
            let own = PageAssetCatalog.shared.assets.keys.filter { $0.hasPrefix("chat/") } + ["markdown.js"]
            #expect(own.count > 10)
            for file in own {
                let script = try await gateway.call(.GET, "/chat-assets/\(file)").text
                for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]
                {
                    #expect(!script.contains(sink), "\(file) uses \(sink)")
                }
            }
        }
    }

    @Test func widgetScriptCarriesTheWidgetStringsOfEveryLanguage() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/widget.js")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("application/javascript") == true)
            #expect(!reply.text.contains(WidgetScript.placeholder))
            for language in WidgetStrings.supportedLanguages {
                #expect(reply.text.contains(WidgetStrings.forLanguage(language).open))
            }
            #expect(reply.text.contains("embed=1"))
            #expect(!reply.text.contains(GatewayHarness.apiKey))
        }
    }
}
