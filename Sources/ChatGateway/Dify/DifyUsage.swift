import Foundation

/// Dify's `metadata.usage` of one answer (a blocking answer's `metadata`, a stream's `message_end`).
/// `total_price` arrives as a decimal string and is kept as that text, never a float.
struct DifyUsage: Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    /// `total_price` exactly as Dify sent it (`"0.0012890"`), when it is a plain non-negative decimal.
    var totalPriceText: String?
    var currency: String?
    /// Dify's own latency, in seconds.
    var latency: Double?

    /// Decimal places kept by `totalPriceScaled`, the integer the ledger sums exactly (Dify sends 7).
    static let priceScale = 12

    /// nil when the metadata carries no `usage` object with token counts.
    init?(metadata: JSONValue?) {
        guard case .object(let fields)? = metadata, case .object(let usage)? = fields["usage"] else { return nil }
        func integer(_ key: String) -> Int? {
            switch usage[key] {
            case .number(let value)? where value >= 0 && value.rounded() == value && value < 1e15: Int(value)
            case .string(let text)?: Int(text).flatMap { $0 >= 0 ? $0 : nil }
            default: nil
            }
        }
        guard let prompt = integer("prompt_tokens"), let completion = integer("completion_tokens") else { return nil }
        promptTokens = prompt
        completionTokens = completion
        totalTokens = integer("total_tokens") ?? prompt + completion
        if case .string(let text)? = usage["total_price"], Self.scaled(text) != nil {
            totalPriceText = text
        } else {
            totalPriceText = nil
        }
        if case .string(let code)? = usage["currency"], !code.isEmpty { currency = code } else { currency = nil }
        switch usage["latency"] {
        case .number(let value)?: latency = value
        case .string(let text)?: latency = Double(text)
        default: latency = nil
        }
    }

    var totalPrice: Decimal? {
        totalPriceText.flatMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }
    }
    var totalPriceScaled: Int64? { totalPriceText.flatMap(Self.scaled) }
    var latencyMS: Int64? { latency.flatMap { $0 >= 0 && $0 < 1e9 ? Int64(($0 * 1000).rounded()) : nil } }

    /// `"0.0012890"` × 10¹² as an integer, exactly: digits, one optional point, at most `priceScale` decimals.
    static func scaled(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), whole.count <= 6 else {
            return nil
        }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        while fraction.count > priceScale, fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= priceScale else { return nil }
        fraction += String(repeating: "0", count: priceScale - fraction.count)
        return Int64(whole + fraction)
    }

    /// The inverse of `scaled`: `1289000000` → `"0.001289"` (trailing zeros dropped down to `minimumDecimals`).
    static func decimalText(scaled value: Int64, minimumDecimals: Int = 1) -> String {
        let digits = String(value).leftPadded(to: priceScale + 1)
        var fraction = String(digits.suffix(priceScale))
        while fraction.count > minimumDecimals, fraction.hasSuffix("0") { fraction.removeLast() }
        return String(digits.dropLast(priceScale)) + "." + fraction
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
