import BallastTesting
import CurlHTTP
import Foundation
import LoopbackHTTP
import Testing
import Transport

@Suite struct CurlClientTests {
    /// A loopback server with the routes these tests use.
    static func server() throws -> HTTPServer {
        try HTTPServer { request in
            switch (request.method, request.path) {
            case ("GET", "/hello"):
                return .respond(
                    .json(
                        200, #"{"greeting":"hello"}"#,
                        headers: [
                            ("X-MBX-USED-WEIGHT-1M", "7"), ("X-Peer", request.peer),
                            ("X-Echo-Key", request.header("X-MBX-APIKEY") ?? ""),
                        ]))
            case ("POST", "/echo"):
                return .respond(ServerResponse(status: 201, body: request.body))
            case ("DELETE", "/thing"):
                return .respond(ServerResponse(status: 200, body: Array("deleted \(request.queryString)".utf8)))
            case ("GET", "/slow"):
                return .respondAfter(.seconds(3), ServerResponse(status: 200))
            case ("GET", "/big"):
                return .respond(ServerResponse(status: 200, body: [UInt8](repeating: 65, count: 200_000)))
            case ("GET", "/teapot"):
                return .respond(.json(418, #"{"code":-1003,"msg":"banned"}"#, headers: [("Retry-After", "120")]))
            case ("GET", "/reset"):
                return .reset
            case ("GET", "/hangup"):
                return .hangUp
            case ("GET", "/garbage"):
                return .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial".utf8))
            default:
                return .respond(.json(404, "{}"))
            }
        }
    }

    @Test func getReturnsStatusHeadersBodyAndOrderedTimings() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        let response = try await client.send(
            HTTPRequest(method: .get, url: server.baseURL + "/hello", headers: [HTTPHeader("X-MBX-APIKEY", "abc")]))
        #expect(response.status == 200)
        #expect(response.text == #"{"greeting":"hello"}"#)
        #expect(response.header("x-mbx-used-weight-1m") == "7")
        #expect(response.header("X-Echo-Key") == "abc")
        let t = response.timings
        #expect(t.total > .zero)
        #expect(t.dns <= t.connect)
        #expect(t.connect <= t.firstByte)
        #expect(t.firstByte <= t.total)
    }

    @Test func postAndDeleteCarryTheirBodiesAndQueries() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        let form = "symbol=BTCUSDT&side=BUY&quantity=0.001"
        let posted = try await client.send(
            HTTPRequest(
                method: .post, url: server.baseURL + "/echo",
                headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")], body: Array(form.utf8)))
        #expect(posted.status == 201)
        #expect(posted.text == form)
        let deleted = try await client.send(HTTPRequest(method: .delete, url: server.baseURL + "/thing?id=42"))
        #expect(deleted.text == "deleted id=42")
        let empty = try await client.send(HTTPRequest(method: .post, url: server.baseURL + "/echo"))
        #expect(empty.status == 201)
        #expect(empty.body.isEmpty)
    }

    @Test func errorStatusesAreResponsesNotErrors() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        let response = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/teapot"))
        #expect(response.status == 418)
        #expect(response.header("retry-after") == "120")
        let missing = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/nowhere"))
        #expect(missing.status == 404)
    }

    @Test func oneConnectionIsReusedPerHostAndRequestsAreFast() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        var peers: Set<String> = []
        var totals: [Duration] = []
        for _ in 0..<21 {
            let response = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/hello"))
            peers.insert(response.header("x-peer") ?? "")
            totals.append(response.timings.total)
        }
        // No Nagle / delayed-ACK stall (about 40 ms) on loopback: the median exchange is quick.
        #expect(totals.sorted()[10] < .milliseconds(20), "median \(totals.sorted()[10])")
        #expect(peers.count == 1, "expected one client port, saw \(peers)")
    }

    @Test func timeoutAfterSendingIsAnUnknownOutcome() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        let error = await #expect(throws: TransportError.self) {
            _ = try await client.send(
                HTTPRequest(method: .get, url: server.baseURL + "/slow", timeout: .milliseconds(300)))
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.reach == .maybe)
        #expect(error?.code == 28)
    }

    @Test func resetsHangupsAndBrokenFramingAreUnknownOutcomes() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        for path in ["/reset", "/hangup", "/garbage"] {
            let error = await #expect(throws: TransportError.self) {
                _ = try await client.send(HTTPRequest(method: .get, url: server.baseURL + path))
            }
            #expect(error?.reach == .maybe, "\(path)")
        }
        // The client recovers on a fresh connection.
        #expect(try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/hello")).status == 200)
    }

    @Test func aStateChangingRequestIsNeverResentByLibcurl() async throws {
        // libcurl resends a request by itself when a reused connection dies
        // before any response byte; for POST and DELETE that must not happen.
        let hits = Counter()
        let server = try HTTPServer { request in
            if request.method == "GET" { return .respond(.json(200, "{}")) }
            hits.add()
            return .reset
        }
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        for method in [HTTPRequest.Method.post, .delete] {
            // A reusable connection first.
            _ = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/warm"))
            let error = await #expect(throws: TransportError.self) {
                _ = try await client.send(
                    HTTPRequest(method: method, url: server.baseURL + "/order", body: Array("a=1".utf8)))
            }
            #expect(error?.reach == .maybe)
        }
        #expect(hits.value == 2)
    }

    @Test func refusedConnectionWasNeverSent() async throws {
        let server = try Self.server()
        let url = server.baseURL + "/x"
        server.stop()
        let client = CurlClient()
        defer { client.close() }
        let error = await #expect(throws: TransportError.self) {
            _ = try await client.send(HTTPRequest(method: .get, url: url))
        }
        #expect(error?.kind == .couldNotConnect)
        #expect(error?.reach == .never)
    }

    @Test func oversizedBodiesAndBadURLsAreNamed() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient(maxResponseBytes: 100_000)
        defer { client.close() }
        let big = await #expect(throws: TransportError.self) {
            _ = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/big"))
        }
        #expect(big?.kind == .tooLarge)
        let bad = await #expect(throws: TransportError.self) {
            _ = try await client.send(HTTPRequest(method: .get, url: "ftp://example.com/file"))
        }
        #expect(bad?.kind == .badURL)
        #expect(bad?.reach == .never)
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = CurlClient()
        defer { client.close() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/hello")).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 40))
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
