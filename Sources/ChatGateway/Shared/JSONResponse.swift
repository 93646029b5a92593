import Vapor

extension Response {
    /// A JSON body written as it is, for the APIs that answer in another service's shapes (`/dify/v1`, `/openai/v1`).
    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: status, headers: headers, body: .init(buffer: value.jsonBuffer()))
    }
}
