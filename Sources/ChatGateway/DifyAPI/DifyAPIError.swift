/// What only `/dify/v1` refuses; everything else it refuses is the gateway's usual errors, answered in Dify's shape.
enum DifyAPIError: Error, Equatable {
    /// A key for several systems (or all) must say which one it acts for.
    case systemHeaderRequired(KeyScope)
    /// `user` is required here, as in Dify.
    case userRequired
    /// A path or method Dify's chat API does not have, or an id that is not a UUID where Dify wants one.
    case urlNotFound
    /// Not valid JSON, or not an object.
    case invalidJSON
    /// A field Dify would refuse, said why.
    case invalidParameter(String)
    /// An upload whose body is not a readable form: Dify (werkzeug) reads it as an empty one.
    case noFileUploaded(audio: Bool)
}
