import Foundation

/// The sources of an answer: Dify's `retriever_resources` (`position`, `dataset_id`, `dataset_name`, `document_id`,
/// `document_name`, `segment_id`, `score`, `content`, and whatever newer versions add), kept whole with the answer.
enum RetrieverResources {
    /// The column's text for an answer's `metadata`; nil when it cited nothing.
    static func text(inMetadata metadata: JSONValue?) -> String? {
        JSONValue.columnText(ofList: metadata?.objectValue?["retriever_resources"]?.arrayValue)
    }
}
