import Foundation

/// The sources of an answer: Dify's `retriever_resources` (`position`, `dataset_id`, `dataset_name`, `document_id`,
/// `document_name`, `segment_id`, `score`, `content`, and whatever newer versions add), kept whole with the answer.
enum RetrieverResources {
    /// The column's text for an answer's `metadata`; nil when it cited nothing.
    static func text(inMetadata metadata: JSONValue?) -> String? {
        text(of: metadata?.objectValue?["retriever_resources"]?.arrayValue)
    }

    static func text(of items: [JSONValue]?) -> String? {
        guard let items, !items.isEmpty else { return nil }
        return JSONValue.array(items).jsonText
    }

    /// What a column holds, as a list ([] for none).
    static func items(inText text: String?) -> [JSONValue] {
        JSONValue(jsonText: text)?.arrayValue ?? []
    }
}
