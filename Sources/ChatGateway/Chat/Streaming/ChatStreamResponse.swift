import Vapor

extension Response {
    /// The SSE response for a chat stream: headers right for proxies, then the session writes the events, and a
    /// keep-alive comment whenever `keepAlive` passes in silence.
    static func chatStream(_ session: ChatStreamSession, keepAlive: Duration) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "event-stream", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        return Response(
            status: .ok, headers: headers,
            body: .init(asyncStream: { writer in
                await session.write(to: writer, keepAlive: keepAlive)
            }))
    }
}
