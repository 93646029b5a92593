import Foundation

/// Dify's `metadata.usage` of one answer (a blocking answer's `metadata`, a stream's `message_end`).
/// `total_price` arrives as a decimal string and is kept as a `Decimal`, never a float.
struct DifyUsage: Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    var totalPrice: Decimal?
    var currency: String?
    /// Dify's own latency, in seconds.
    var latency: Double?

    /// nil when the metadata carries no `usage` object with token counts.
    init?(metadata: JSONValue?) {
        guard case .object(let fields)? = metadata, case .object(let usage)? = fields["usage"] else { return nil }
        func integer(_ key: String) -> Int? {
            switch usage[key] {
            case .number(let value)? where value >= 0 && value.rounded() == value: Int(value)
            case .string(let text)?: Int(text)
            default: nil
            }
        }
        guard let prompt = integer("prompt_tokens"), let completion = integer("completion_tokens") else { return nil }
        promptTokens = prompt
        completionTokens = completion
        totalTokens = integer("total_tokens") ?? prompt + completion
        switch usage["total_price"] {
        case .string(let text)?: totalPrice = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        case .number(let value)?: totalPrice = Decimal(string: String(value), locale: Locale(identifier: "en_US_POSIX"))
        default: totalPrice = nil
        }
        if case .string(let code)? = usage["currency"] { currency = code } else { currency = nil }
        switch usage["latency"] {
        case .number(let value)?: latency = value
        case .string(let text)?: latency = Double(text)
        default: latency = nil
        }
    }
}
