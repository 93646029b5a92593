import Foundation

/// An operator's map from a system's sources to their documents: a `url` template for one document, one dataset,
/// or (with neither id) every source. `{dataset_id}`, `{document_id}`, `{segment_id}` and `{document_name}` are
/// filled in, percent-encoded.
struct SourceLink: Codable, Equatable, Sendable {
    var datasetID: String?
    var documentID: String?
    var url: String

    enum CodingKeys: String, CodingKey { case datasetID = "dataset_id", documentID = "document_id", url }

    static let placeholders = ["dataset_id", "document_id", "segment_id", "document_name"]
    static let maxCount = 200
    static let maxURLLength = 2048

    /// Why `links` cannot be kept, or nil: only http(s) templates, so a source never links to script.
    static func problem(in links: [SourceLink]) -> String? {
        guard links.count <= maxCount else { return "source_links may hold at most \(maxCount) mappings" }
        for link in links {
            let sample = link.url.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "")
            guard link.url.count <= maxURLLength, let url = URL(string: sample),
                ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false
            else { return "source_links url \"\(link.url.prefix(80))\" must be an http(s) URL template" }
            for id in [link.datasetID, link.documentID].compactMap({ $0 }) where id.isEmpty || id.count > 128 {
                return "source_links ids must be 1 to 128 characters"
            }
        }
        return nil
    }
}

/// One system's `SourceLink`s, applied to its answers' sources.
struct SourceLinks: Sendable, Equatable {
    var links: [SourceLink] = []

    /// The link of one source: a document's mapping wins over its dataset's, which wins over a catch-all.
    func url(for source: [String: JSONValue]) -> String? {
        func matches(_ key: String, _ id: String?) -> Bool { id != nil && source[key]?.stringValue == id }
        let link =
            links.first { matches("document_id", $0.documentID) }
            ?? links.first { $0.documentID == nil && matches("dataset_id", $0.datasetID) }
            ?? links.first { $0.documentID == nil && $0.datasetID == nil }
        guard let template = link?.url else { return nil }
        return SourceLink.placeholders.reduce(template) { url, name in
            let value = source[name].map { $0.stringValue ?? $0.jsonText } ?? ""
            return url.replacingOccurrences(of: "{\(name)}", with: Self.encoded(value))
        }
    }

    /// The sources with a `url` where a mapping gives one (and without any `url` they came with otherwise).
    func linked(_ sources: [JSONValue]) -> [JSONValue] {
        sources.map { source in
            guard var fields = source.objectValue else { return source }
            fields["url"] = url(for: fields).map(JSONValue.string)
            return .object(fields)
        }
    }

    /// An answer's `metadata` with its `retriever_resources` linked.
    func linked(metadata: JSONValue) -> JSONValue {
        guard !links.isEmpty, var fields = metadata.objectValue,
            let sources = fields["retriever_resources"]?.arrayValue
        else { return metadata }
        fields["retriever_resources"] = .array(linked(sources))
        return .object(fields)
    }

    private static let unreserved = CharacterSet(charactersIn: "-._~").union(
        CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))

    private static func encoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
