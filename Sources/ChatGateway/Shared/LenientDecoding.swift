extension KeyedDecodingContainer {
    /// The member as a string; missing, `null` or of another JSON type, it reads as nil.
    func lenientString(_ key: Key) -> String? {
        (try? decodeIfPresent(String.self, forKey: key)) ?? nil
    }

    /// The member as an integer: a JSON number (truncated) or a string of digits; anything else is nil.
    func lenientInt(_ key: Key) -> Int? {
        if let number = (try? decodeIfPresent(Double.self, forKey: key)) ?? nil {
            return number.isFinite && abs(number) < 9_007_199_254_740_992 ? Int(number) : nil
        }
        return lenientString(key).flatMap { Int($0) }
    }

    /// The member passed through whole, unless it is missing or `null`.
    func nonNullJSON(_ key: Key) -> JSONValue? {
        guard let value = (try? decodeIfPresent(JSONValue.self, forKey: key)) ?? nil, value != .null else { return nil }
        return value
    }
}
