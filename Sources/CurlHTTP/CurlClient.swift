internal import CCurl
import Foundation
// HTTP over libcurl.
//
// Invariants:
// - This is the only module that imports libcurl; no curl type is public.
// - Each host gets one easy handle, used only on that host's serial queue, so
//   its connection is reused and blocking calls never occupy Swift's
//   cooperative threads.
// - Every failure states whether the request may have reached the server.
public import Transport

/// An `HTTPTransport` over libcurl with one kept-alive connection per host.
public final class CurlClient: HTTPTransport, @unchecked Sendable {
    // Safe to share: `handles` is guarded by `lock`; each `EasyHandle` is only
    // touched on its own serial queue.
    private let lock = NSLock()
    private var handles: [String: EasyHandle] = [:]
    private var closed = false
    private let connectTimeout: Duration
    private let defaultTimeout: Duration
    private let maxResponseBytes: Int
    private let caBundle: String?
    private let performsInline: Bool

    /// Creates a client.
    /// - Parameters:
    ///   - connectTimeout: limit for establishing a connection.
    ///   - timeout: default overall limit per request.
    ///   - maxResponseBytes: larger bodies fail with `tooLarge`.
    ///   - caBundle: a PEM file of CA certificates to verify TLS peers against (nil: the system's).
    ///   - performsInline: run each transfer on the calling thread (still one at a time per host)
    ///     instead of handing it to the host's queue and suspending; for a caller whose requests
    ///     are strictly one after another and whose peer answers at once (a replay against
    ///     simulated venues on loopback), where the hand-off costs more than the transfer.
    public init(
        connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(15), maxResponseBytes: Int = 64 << 20,
        caBundle: String? = nil, performsInline: Bool = false
    ) {
        self.performsInline = performsInline
        CurlGlobal.initialise()
        self.connectTimeout = connectTimeout
        self.defaultTimeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.caBundle = caBundle
    }

    deinit {
        assert(closed || handles.isEmpty, "CurlClient was not closed")
        for handle in handles.values { handle.close() }
    }

    /// Releases every connection. Later requests fail.
    public func close() {
        let all = lock.withLock { () -> [EasyHandle] in
            closed = true
            defer { handles = [:] }
            return Array(handles.values)
        }
        for handle in all { handle.close() }
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let handle = try handle(for: request.url)
        let options = EasyHandle.Options(
            connectTimeout: connectTimeout, timeout: request.timeout ?? defaultTimeout,
            maxResponseBytes: maxResponseBytes, caBundle: caBundle)
        if performsInline { return try handle.queue.sync { handle.perform(request, options) }.get() }
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            handle.queue.async {
                continuation.resume(returning: handle.perform(request, options))
            }
        }
        return try result.get()
    }

    private func handle(for url: String) throws(TransportError) -> EasyHandle {
        guard let key = Self.hostKey(url) else {
            throw TransportError(kind: .badURL, reach: .never, code: 3, message: "not an http(s) URL: \(url)")
        }
        let found: EasyHandle?? = lock.withLock {
            if closed { return .none }
            if let existing = handles[key] { return existing }
            let created = EasyHandle(name: key)
            if let created { handles[key] = created }
            return .some(created)
        }
        guard case .some(let maybe) = found else {
            throw TransportError(kind: .other, reach: .never, code: 0, message: "client is closed")
        }
        guard let handle = maybe else {
            throw TransportError(kind: .other, reach: .never, code: 2, message: "curl_easy_init failed")
        }
        return handle
    }

    /// `scheme://host:port` of an http(s) URL.
    static func hostKey(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host):\(components.port ?? (scheme == "https" ? 443 : 80))"
    }
}

/// Runs `curl_global_init` once per process.
enum CurlGlobal {
    private static let once: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    static func initialise() { _ = once }
}
