import NIOCore
import Vapor

extension Response {
    /// The SSE response for a chat stream: headers right for proxies, events as the session yields them,
    /// and a keep-alive comment whenever `keepAlive` passes in silence.
    static func chatStream(_ session: ChatStreamSession, keepAlive: Duration) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "event-stream", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        return Response(status: .ok, headers: headers, body: .init(managedAsyncStream: { writer in
            do {
                while let batch = await session.nextBatch(keepAlive: keepAlive) {
                    var buffer = ByteBufferAllocator().buffer(capacity: 256)
                    if batch.isEmpty {
                        buffer.writeString(ChatStreamEvent.keepAlive)
                    } else {
                        for event in batch { event.write(into: &buffer) }
                    }
                    try await writer.write(.buffer(buffer))
                }
            } catch {
                // The client is gone; the pump keeps reading Dify and stores the whole answer.
                await session.clientDisconnected()
                throw error
            }
        }))
    }
}
