import Foundation
import Testing

@testable import ChatGateway

/// The page's own files and `/widget.js`, all served by the gateway.
@Suite("Chat page assets and widget", .hangLimit)
struct PageAssetsTests {
    @Test(arguments: [
        ("chat.css", "text/css"), ("chat.js", "application/javascript"), ("markdown.js", "application/javascript"),
    ])
    func assetsAreServed(file: String, type: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat-assets/\(file)")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix(type) == true)
            #expect(reply.body.count > 1000)
        }
    }

    @Test func onlyKnownAssetsAreServed() async throws {
        try await GatewayHarness.with { gateway in
            for path in ["/chat-assets/widget.js.map", "/chat-assets/..%2Fopenapi.json", "/chat-assets/"] {
                let status = try await gateway.call(.GET, path).status
                #expect(status == 404, "\(path)")
            }
        }
    }

    /// The renderer never hands answer text to the HTML parser.
    @Test func theMarkdownRendererBuildsNodesNotHTML() async throws {
        try await GatewayHarness.with { gateway in
            for file in ["markdown.js", "chat.js"] {
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
