import Foundation

/// A chat's `files`, checked against the app's `file_upload` before Dify is asked, and passed on with only the
/// fields Dify reads.
enum ChatFiles {
    static func validated(_ items: [JSONValue], rules: UploadRules) throws(MediaError) -> [JSONValue] {
        guard rules.enabled else { throw .uploadsDisabled }
        guard items.count <= rules.numberLimits else { throw .tooManyFiles(limit: rules.numberLimits) }
        return try items.map { item throws(MediaError) -> JSONValue in
            guard let fields = item.objectValue, let type = fields["type"]?.stringValue,
                let method = fields["transfer_method"]?.stringValue
            else { throw .invalidFiles("each item needs type and transfer_method") }
            guard rules.types.contains(type) else { throw .invalidFiles("this assistant does not take \(type) files") }
            guard rules.transferMethods.contains(method) else {
                throw .invalidFiles("this assistant does not take files by \(method)")
            }
            var file: [String: JSONValue] = ["type": .string(type), "transfer_method": .string(method)]
            switch method {
            case "local_file":
                guard let id = fields["upload_file_id"]?.stringValue, let canonical = CanonicalID.uuid(id) else {
                    throw .invalidFiles("upload_file_id must be an id from /v1/files/upload")
                }
                file["upload_file_id"] = .string(canonical)
            case "remote_url":
                guard let url = fields["url"]?.stringValue, url.count <= 2048, URL.http(url) != nil else {
                    throw .invalidFiles("url must be an http(s) URL")
                }
                file["url"] = .string(url)
            default:
                throw .invalidFiles("transfer_method must be local_file or remote_url")
            }
            return .object(file)
        }
    }
}
