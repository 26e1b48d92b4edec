import Foundation
public import Transport
import Venues

/// A transport that answers from a script and remembers what was sent.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // Safe to share: every access to the arrays holds `lock`.
    private let lock = NSLock()
    private var script: [Result<HTTPResponse, TransportError>] = []
    private var sent: [HTTPRequest] = []

    public init() {}

    /// Queues a response with `status` and a JSON `body`.
    public func reply(_ status: Int, _ body: String, headers: [String: String] = [:]) {
        lock.withLock {
            script.append(
                .success(HTTPResponse(status: status, headers: headers, body: Array(body.utf8), timings: .zero)))
        }
    }

    /// Queues a transport failure.
    public func fail(_ error: TransportError) {
        lock.withLock { script.append(.failure(error)) }
    }

    /// The requests sent so far.
    public var requests: [HTTPRequest] { lock.withLock { sent } }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let next: Result<HTTPResponse, TransportError>? = lock.withLock {
            sent.append(request)
            return script.isEmpty ? nil : script.removeFirst()
        }
        guard let next else {
            throw TransportError(kind: .other, reach: .never, code: 0, message: "script exhausted at \(request.url)")
        }
        return try next.get()
    }
}
