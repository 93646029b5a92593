import NIOCore

/// Where one streaming answer's events go, as they arrive.
///
/// Called on the event loop the stream was opened on, never concurrently: first `receive` for each event in
/// order, then `end` exactly once. Synchronous on purpose: relaying an event to the client costs no hand-off
/// between threads (with a thousand streams open, such hand-offs were most of the gateway's CPU per token).
public protocol DifyStreamSink: AnyObject, Sendable {
    func receive(_ event: DifyStreamEvent)
    /// The stream is over: `nil` when Dify closed it, else why it broke (`.timeout` after the idle timeout).
    func end(_ error: DifyError?)
}
