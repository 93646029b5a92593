/// `metadata.usage` the way Dify's LLM usage serialises it: token counts as ints, prices as
/// decimal strings quantised to 7 places, latency as a float in seconds.
struct FakeDifyUsage: Sendable {
    let promptTokens: Int
    let completionTokens: Int
    let latency: Double

    /// Tokens are counted as stream chunks (about one word each), so they are deterministic.
    init(query: String, completionChunks: Int, latency: Double) {
        promptTokens = max(1, FakeDifyAnswer.chunks(of: query).count)
        completionTokens = completionChunks
        self.latency = (latency * 1_000_000).rounded() / 1_000_000
    }

    // Prices in units of 1e-7 USD: prompt 0.001 × 0.001 per token, completion 0.002 × 0.001.
    private var promptPrice: Int { promptTokens * 10 }
    private var completionPrice: Int { completionTokens * 20 }

    static func decimal(_ tenMillionths: Int) -> String {
        let whole = tenMillionths / 10_000_000
        let fraction = String(tenMillionths % 10_000_000)
        return "\(whole)." + String(repeating: "0", count: 7 - fraction.count) + fraction
    }

    var json: FakeDifyJSON {
        .object([
            ("prompt_tokens", .int(promptTokens)),
            ("prompt_unit_price", .string("0.001")),
            ("prompt_price_unit", .string("0.001")),
            ("prompt_price", .string(Self.decimal(promptPrice))),
            ("completion_tokens", .int(completionTokens)),
            ("completion_unit_price", .string("0.002")),
            ("completion_price_unit", .string("0.001")),
            ("completion_price", .string(Self.decimal(completionPrice))),
            ("total_tokens", .int(promptTokens + completionTokens)),
            ("total_price", .string(Self.decimal(promptPrice + completionPrice))),
            ("currency", .string("USD")),
            ("latency", .double(latency)),
        ])
    }

    /// The message's `metadata`, passed through whole by Dify.
    func metadata(retrieverResources: [FakeDifyJSON]) -> FakeDifyJSON {
        .object([("annotation_reply", .null), ("retriever_resources", .array(retrieverResources)), ("usage", json)])
    }
}
