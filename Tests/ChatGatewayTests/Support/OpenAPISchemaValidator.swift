import Foundation

/// Checks a decoded JSON value against an OpenAPI 3.0 schema: the subset our document uses
/// ($ref, type, nullable, required, properties, additionalProperties: false, items, enum, pattern, minLength).
struct OpenAPISchemaValidator {
    let document: [String: Any]

    func problems(_ value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        if let ref = schema["$ref"] as? String { return problems(value, against: resolve(ref), at: path) }
        if value is NSNull { return schema["nullable"] as? Bool == true ? [] : ["\(path): null is not allowed"] }
        var found: [String] = []
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path): expected an object"] }
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(path).\(key): required")
            }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for (key, member) in object {
                if let property = properties[key] {
                    found += problems(member, against: property, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(path).\(key): not in the schema")
                }
            }
        case "array":
            guard let items = value as? [Any] else { return ["\(path): expected an array"] }
            if let itemSchema = schema["items"] as? [String: Any] {
                for (index, item) in items.enumerated() {
                    found += problems(item, against: itemSchema, at: "\(path)[\(index)]")
                }
            }
        case "string":
            guard let text = value as? String else { return ["\(path): expected a string"] }
            if let options = schema["enum"] as? [String], !options.contains(text) {
                found.append("\(path): \(text) not in \(options)")
            }
            if let minimum = schema["minLength"] as? Int, text.count < minimum {
                found.append("\(path): shorter than \(minimum)")
            }
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): does not match \(pattern)")
            }
        case "integer":
            // `is Bool` also holds for the numbers 0 and 1 from JSONSerialization; a JSON boolean's type code is `c`.
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
                number.doubleValue.rounded() == number.doubleValue
            else {
                return ["\(path): expected an integer"]
            }
        case "number":
            guard value is NSNumber else { return ["\(path): expected a number"] }
        case "boolean":
            guard value is Bool else { return ["\(path): expected a boolean"] }
        default:
            break
        }
        return found
    }

    func resolve(_ ref: String) -> [String: Any] {
        ref.dropFirst(2).split(separator: "/").reduce(document as Any) { ($0 as? [String: Any])?[String($1)] as Any }
            as? [String: Any] ?? [:]
    }

    /// The response schema documented for an operation and status, or nil when the status is undocumented.
    func responseSchema(path: String, method: String, status: Int) -> [String: Any]?? {
        guard
            let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()]
                as? [String: Any],
            var response = (operation["responses"] as? [String: Any])?[String(status)] as? [String: Any]
        else { return nil }
        if let ref = response["$ref"] as? String { response = resolve(ref) }
        let schema =
            ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
            as? [String: Any]
        return .some(schema)
    }
}
