import FakeDify
import Foundation
import SQLKit
import Testing

@testable import ChatGateway

@Suite("An answer's sources, kept with it and linked", .hangLimit)
struct SourcesTests {
    static let handbook = FakeDifyRetrieverResource(
        position: 1, datasetID: "ds-handbook", datasetName: "Handbook", documentID: "doc-7",
        documentName: "Drills & safety.pdf", segmentID: "seg-3", score: 0.87, content: "Always wear goggles.")
    static let notes = FakeDifyRetrieverResource(
        position: 2, datasetID: "ds-notes", datasetName: "Notes", documentID: "doc-9", documentName: "notes.md",
        segmentID: "seg-1", score: 0.5, content: "Unlinked.")

    @Test func aLinkFillsItsTemplateAndTheMostSpecificMappingWins() {
        let links = SourceLinks(links: [
            SourceLink(url: "https://all.example/{document_id}"),
            SourceLink(datasetID: "ds-handbook", url: "https://kb.example/{dataset_id}/{document_name}#{segment_id}"),
            SourceLink(documentID: "doc-9", url: "https://notes.example/{document_id}"),
        ])
        let source: [String: JSONValue] = [
            "dataset_id": .string("ds-handbook"), "document_id": .string("doc-7"),
            "document_name": .string("Drills & safety.pdf"), "segment_id": .string("seg-3"),
        ]
        #expect(links.url(for: source) == "https://kb.example/ds-handbook/Drills%20%26%20safety.pdf#seg-3")
        #expect(
            links.url(for: ["dataset_id": .string("ds-handbook"), "document_id": .string("doc-9")])
                == "https://notes.example/doc-9")
        #expect(links.url(for: ["document_id": .string("other")]) == "https://all.example/other")
        #expect(SourceLinks().url(for: source) == nil)
        #expect(SourceLink.problem(in: [SourceLink(url: "javascript:alert(1)//{document_id}")]) != nil)
        #expect(SourceLink.problem(in: [SourceLink(url: "data:text/html,x")]) != nil)
        #expect(SourceLink.problem(in: [SourceLink(url: "https://kb.example/{document_id}")]) == nil)
    }

    @Test func sourcesAreStoredListedLinkedCachedAndExported() async throws {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.retrieverResources = [Self.handbook, Self.notes]
        try await AdminAPITests.withAdmin({ _ in }) { gateway in
            await gateway.fake.store.setOptions(options)
            let mapped = try await gateway.call(
                .POST, "/admin/v1/systems", headers: AdminAPITests.admin,
                json: [
                    "system_id": "drillquiz", "name": "DrillQuiz",
                    "source_links": [["dataset_id": "ds-handbook", "url": "https://kb.example/{document_id}"]],
                ])
            #expect(mapped.status == 201)
            let refused = try await gateway.call(
                .PATCH, "/admin/v1/systems/drillquiz", headers: AdminAPITests.admin,
                json: ["source_links": [["url": "javascript:alert(1)"]]])
            #expect(refused.status == 422)

            let chat = try await PageFeaturesHarness.chat(gateway, ["message": "Is it safe?", "stream": true])
            #expect(chat.status == 200)
            // The stream's `done` carries the links too, for the page to show them at once.
            let done = try #require(chat.text.components(separatedBy: "\n").first { $0.contains("\"event\":\"done\"") })
            #expect(done.contains("https:\\/\\/kb.example\\/doc-7") || done.contains("https://kb.example/doc-7"))
            let stored = try await gateway.messages(system: "drillquiz", user: "u1").first { $0.role == "assistant" }
            #expect(stored?.retrieverResources?.contains("Always wear goggles.") == true)

            let conversation = try #require(
                try await gateway.messages(system: "drillquiz", user: "u1").first?.conversationID)
            let rows = try await PageFeaturesHarness.messages(gateway, conversation: conversation)
            let sources = try #require(rows.last?["retriever_resources"] as? [[String: Any]])
            #expect(sources.map { $0["document_name"] as? String } == ["Drills & safety.pdf", "notes.md"])
            #expect(sources[0]["url"] as? String == "https://kb.example/doc-7")
            #expect(sources[1]["url"] == nil)
            #expect(sources[0]["score"] as? Double == 0.87)

            let cached = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversation)/messages", headers: GatewayHarness.keyHeader)
            let answer = try #require(cached.array.first { $0["role"] as? String == "assistant" })
            let cachedSources = try #require(answer["retriever_resources"] as? [[String: Any]])
            #expect(cachedSources.first?["content"] as? String == "Always wear goggles.")
            #expect(cachedSources.first?["url"] as? String == "https://kb.example/doc-7")
            let export = try await gateway.call(
                .GET, "/v1/cache/export?format=jsonl", headers: GatewayHarness.keyHeader)
            let lines = export.text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let exported = try #require(lines.first { $0["role"] as? String == "assistant" })
            // Every value of a line is text, as in the CSV: the sources are their JSON.
            let exportedSources = try #require(exported["retriever_resources"] as? String)
            #expect((try JSONSerialization.jsonObject(with: Data(exportedSources.utf8)) as? [Any])?.count == 2)
            let csv = try await gateway.call(.GET, "/v1/cache/export", headers: GatewayHarness.keyHeader)
            #expect(csv.text.hasPrefix(CSV.header(CacheExporter.columns)))
            #expect(csv.text.contains("goggles"))
        }
    }

    @Test func theEnvironmentMapsASystemsSourcesAndWinsOverTheAdminAPI() async throws {
        let environment = try Settings.parsePageSettings([
            "DIFY_DRILLQUIZ_SOURCE_LINKS": #"[{"document_id": "doc-9", "url": "https://env.example/{document_id}"}]"#,
            "DIFY_DRILLQUIZ_INLINE_MATH": "true",
        ])
        #expect(environment.inlineMath == ["DRILLQUIZ": true])
        let pages = PageSettings(registry: nil, environment: environment)
        #expect(
            pages.sourceLinks(of: "drillquiz").url(for: ["document_id": .string("doc-9")])
                == "https://env.example/doc-9")
        #expect(pages.inlineMath(of: "drillquiz") && !pages.inlineMath(of: "cointutor"))
        #expect(throws: SettingsError.self) {
            try Settings.parsePageSettings(["DIFY_X_SOURCE_LINKS": "[{\"url\": \"ftp://x\"}]"])
        }
        #expect(throws: SettingsError.self) { try Settings.parsePageSettings(["DIFY_X_SOURCE_LINKS": "not json"]) }
        #expect(throws: SettingsError.self) { try Settings.parsePageSettings(["DIFY_X_INLINE_MATH": "maybe"]) }
    }
}
