// A small HTTP/1.1 server for loopback peers: the simulated venues and tests.
//
// Why not a general server package: the simulator must fail the way networks
// fail — reset a connection (RST), hang up mid-exchange, stall until the
// client gives up, send broken framing — and must answer in one write with
// TCP_NODELAY so loopback latency is what the latency profile says, not
// Nagle's 40 ms. That needs the socket in hand.
//
// Invariants:
// - One thread per connection, blocking I/O; the handler runs on it and may sleep.
// - Keep-alive by default; Content-Length request bodies (chunked requests get 411).
// - `stop()` closes the listener and every connection, then returns.
// - With a `TLSIdentity`, every connection speaks TLS. The certificate and key are loaded once,
//   at init; the handshake runs on the connection's own thread, never in the accept loop, so a
//   slow or plaintext client holds up only itself; a failed handshake just closes the socket.
// - Faults mean the same over TLS: `.reset` is an RST with no close_notify before it, `.hangUp`
//   an orderly close, `.stall` silence until the peer leaves or the server stops, `.raw` bytes
//   written inside the TLS stream, then an orderly close.
// - The plain path reads and writes the socket directly, exactly as without TLS.
// - The `SSL_CTX` is freed in `stop()` (or deinit) once the accept loop has ended; each open
//   connection's `SSL` holds its own reference, so the context lives until the last is freed.
// - This is the only module that imports libssl; no OpenSSL type is public.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the server does with one request.
public enum ServerAction: Sendable {
    /// Send this response.
    case respond(ServerResponse)
    /// Wait, then send this response (network latency).
    case respondAfter(Duration, ServerResponse)
    /// Abort the connection with a TCP reset, sending nothing.
    case reset
    /// Close the connection without a response.
    case hangUp
    /// Send nothing and keep the connection open until the client gives up
    /// or the server stops (a response lost after the work was done).
    case stall
    /// Write these bytes verbatim, then close (broken framing).
    case raw([UInt8])
}

/// A response to send.
public struct ServerResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> ServerResponse {
        ServerResponse(
            status: status, headers: [("Content-Type", "application/json;charset=UTF-8")] + headers,
            body: Array(text.utf8))
    }
}

/// A parsed request.
public struct ServerRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The path without the query, e.g. `/api/v3/order`.
    public var path: String
    /// The raw query string (no `?`), exactly as sent.
    public var queryString: String
    /// Header fields with lower-cased names.
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]
    /// The client's address, `ip:port`.
    public var peer: String

    /// The body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An HTTP/1.1 server on a loopback (or any IPv4) address.
public final class HTTPServer: @unchecked Sendable {
    // Safe to share: `connections` and `running` are guarded by `lock`; the
    // listening descriptor is only closed once, in `stop()`; the TLS context is read-only
    // after init and closed once the accept loop has ended (in `stop()`, else in deinit).
    public typealias Handler = @Sendable (ServerRequest) -> ServerAction

    /// The port the server listens on.
    public let port: UInt16
    /// The host it is bound to.
    public let host: String
    private let listener: Int32
    private let handler: Handler
    private let lock = NSLock()
    private var connections: Set<Int32> = []
    private var running = true
    private let acceptDone = DispatchSemaphore(value: 0)
    /// The certificate and key every connection's handshake presents; nil for plain HTTP.
    private let tlsContext: TLSContext?

    /// `http://host:port`, or `https://host:port` when the server speaks TLS.
    public var baseURL: String { "\(tlsContext == nil ? "http" : "https")://\(host):\(port)" }

    /// Binds `host:port` (port 0 picks a free one) and starts accepting.
    /// - Parameter tls: the certificate chain and key to serve HTTPS with; nil serves plain HTTP.
    /// - Throws: `ServerError` when the address cannot be bound, or a TLS file cannot be loaded
    ///   (the error names the file and gives OpenSSL's reason).
    public init(
        host: String = "127.0.0.1", port: UInt16 = 0, tls: TLSIdentity? = nil, handler: @escaping Handler
    ) throws {
        self.host = host
        self.handler = handler
        let tlsContext = try tls.map(TLSContext.init)
        do {
            (listener, self.port) = try Self.bindListener(host: host, port: port)
        } catch {
            tlsContext?.close()
            throw error
        }
        self.tlsContext = tlsContext
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        // Only reached once the accept loop and every connection thread (each holds the server)
        // have ended: usually `stop()` closed the context already; an accept loop that ended on
        // its own (a failing `accept`) did not.
        tlsContext?.close()
    }

    /// A listening socket bound to `host:port`, and the port it got.
    private static func bindListener(host: String, port: UInt16) throws(ServerError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw ServerError("'\(host)' is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerError("cannot listen on \(host):\(port): \(message)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    /// Stops accepting, closes every connection and waits for the accept loop to end.
    public func stop() {
        let open: Set<Int32>? = lock.withLock {
            guard running else { return nil }
            running = false
            return connections
        }
        guard let open else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        acceptDone.wait()
        // No session is made after the accept loop; those still open hold their own reference.
        tlsContext?.close()
    }

    /// The number of connections accepted so far and still open.
    public var openConnections: Int { lock.withLock { connections.count } }

    private var isRunning: Bool { lock.withLock { running } }

    private func acceptLoop() {
        defer { acceptDone.signal() }
        while isRunning {
            var peerAddress = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = withUnsafeMutablePointer(to: &peerAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard fd >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let registered = lock.withLock { () -> Bool in
                guard running else { return false }
                connections.insert(fd)
                return true
            }
            guard registered else {
                close(fd)
                return
            }
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let peer = Self.describe(peerAddress)
            // Made here, before `stop()` can close the context; the handshake waits for the thread.
            let session = tlsContext?.makeSession(fd: fd)
            if tlsContext != nil && session == nil {
                lock.withLock { _ = connections.remove(fd) }
                close(fd)
                continue
            }
            Thread.detachNewThread { [self] in
                if let stream = Self.open(fd: fd, session: session) {
                    Connection(fd: fd, stream: stream, peer: peer, server: self).serve()
                }
                lock.withLock { _ = connections.remove(fd) }
                close(fd)
            }
        }
    }

    /// The connection's stream: the socket, or TLS once the handshake has succeeded (nil if it
    /// failed). Runs on the connection's own thread.
    private static func open(fd: Int32, session: TLSSession?) -> ConnectionStream? {
        guard let session else { return .plain(fd) }
        guard session.accept() else {
            session.close(notifyingPeer: false)
            return nil
        }
        return .tls(session)
    }

    func handle(_ request: ServerRequest) -> ServerAction { handler(request) }
    var stopping: Bool { !isRunning }

    private static func describe(_ address: sockaddr_in) -> String {
        var copy = address.sin_addr
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &copy, &buffer, socklen_t(buffer.count))
        let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return "\(String(decoding: text, as: UTF8.self)):\(UInt16(bigEndian: address.sin_port))"
    }
}

/// The server could not start.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
