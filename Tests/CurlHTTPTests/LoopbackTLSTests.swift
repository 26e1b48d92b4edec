import BallastTesting
import CurlHTTP
import Foundation
import LoopbackHTTP
import Testing
import Transport

#if canImport(Glibc)
    import Glibc
#endif

/// Our own loopback server speaking TLS, and our libcurl client talking to it with peer and host
/// verification on, against a throwaway test CA. Real sockets, real handshakes.
@Suite(.serialized) struct LoopbackTLSTests {
    /// A test CA in a fresh directory, removed by `close()`.
    struct Fixture {
        let dir: URL
        let ca: TestCertificateAuthority
        /// A server certificate for `localhost` and `127.0.0.1`.
        let identity: TLSIdentity

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            ca = try TestCertificateAuthority(in: dir)
            let server = try ca.issue("server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
            identity = TLSIdentity(certificateChainFile: server.certificateFile, privateKeyFile: server.privateKeyFile)
        }

        func close() { try? FileManager.default.removeItem(at: dir) }
    }

    /// A body larger than one TLS record (16 KiB).
    static let bigBody = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    /// The routes these tests use; the `X-Peer` header tells connections apart.
    static func serve(_ request: ServerRequest) -> ServerAction {
        switch (request.method, request.path) {
        case ("GET", "/hello"):
            return .respond(.json(200, #"{"greeting":"hello"}"#, headers: [("X-Peer", request.peer)]))
        case ("GET", "/big"):
            return .respond(ServerResponse(status: 200, headers: [("X-Peer", request.peer)], body: bigBody))
        case ("POST", "/echo"):
            return .respond(ServerResponse(status: 201, body: request.body))
        case ("GET", "/reset"):
            return .reset
        case ("GET", "/hangup"):
            return .hangUp
        case ("GET", "/stall"):
            return .stall
        case ("GET", "/garbage"):
            return .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial".utf8))
        default:
            return .respond(.json(404, "{}"))
        }
    }

    @Test func ourServerAnswersOverHTTPSOnOneKeptAliveConnection() async throws {
        let fixture = try Fixture()
        defer { fixture.close() }
        let server = try HTTPServer(tls: fixture.identity, handler: Self.serve)
        defer { server.stop() }
        #expect(server.baseURL == "https://127.0.0.1:\(server.port)")
        let client = CurlClient(caBundle: fixture.ca.caFile)
        defer { client.close() }

        var peers: Set<String> = []
        for i in 0..<5 {
            let response = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/hello"))
            #expect(response.status == 200)
            #expect(response.text == #"{"greeting":"hello"}"#)
            // Only the first request shakes hands; the others reuse its connection.
            #expect((response.timings.tls > .zero) == (i == 0), "request \(i): \(response.timings)")
            peers.insert(response.header("x-peer") ?? "")
        }
        let big = try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/big"))
        #expect(big.status == 200)
        #expect(big.body == Self.bigBody)
        peers.insert(big.header("x-peer") ?? "")
        #expect(peers.count == 1, "expected one client connection, saw \(peers)")

        // A large request body arrives intact too (a POST gets a fresh connection from CurlClient).
        let echoed = try await client.send(
            HTTPRequest(method: .post, url: server.baseURL + "/echo", body: Self.bigBody))
        #expect(echoed.status == 201)
        #expect(echoed.body == Self.bigBody)

        // The certificate names localhost too.
        let named = try await client.send(
            HTTPRequest(method: .get, url: "https://localhost:\(server.port)/hello"))
        #expect(named.status == 200)
    }

    @Test func withoutTheTestCAOurServerIsRefused() async throws {
        let fixture = try Fixture()
        defer { fixture.close() }
        let server = try HTTPServer(tls: fixture.identity, handler: Self.serve)
        defer { server.stop() }
        let system = CurlClient()
        defer { system.close() }
        let error = await #expect(throws: TransportError.self) {
            _ = try await system.send(HTTPRequest(method: .get, url: server.baseURL + "/hello"))
        }
        #expect(error?.kind == .tls)
        #expect(error?.reach == .never)
    }

    @Test func aCertificateNotNamingTheHostIsRefused() async throws {
        let fixture = try Fixture()
        defer { fixture.close() }
        // Signed by the trusted CA, but for another name only.
        let other = try fixture.ca.issue("other", dnsNames: ["venue.invalid"], ipAddresses: [])
        let server = try HTTPServer(
            tls: TLSIdentity(certificateChainFile: other.certificateFile, privateKeyFile: other.privateKeyFile),
            handler: Self.serve)
        defer { server.stop() }
        let client = CurlClient(caBundle: fixture.ca.caFile)
        defer { client.close() }
        for url in [server.baseURL, "https://localhost:\(server.port)"] {
            let error = await #expect(throws: TransportError.self) {
                _ = try await client.send(HTTPRequest(method: .get, url: url + "/hello"))
            }
            #expect(error?.kind == .tls, "\(url)")
        }
    }

    /// The fault table: what each fault action reaches our client as, over plain HTTP and over TLS
    /// alike. None of them says the request was never sent.
    @Test(arguments: [
        ("/reset", TransportError.Kind.connectionReset), ("/hangup", .emptyReply), ("/garbage", .other),
        ("/stall", .timedOut),
    ])
    func aFaultMeansOverTLSWhatItMeansOverPlainHTTP(path: String, kind: TransportError.Kind) async throws {
        let fixture = try Fixture()
        defer { fixture.close() }
        let plain = try HTTPServer(handler: Self.serve)
        defer { plain.stop() }
        let tls = try HTTPServer(tls: fixture.identity, handler: Self.serve)
        defer { tls.stop() }
        let client = CurlClient(caBundle: fixture.ca.caFile)
        defer { client.close() }
        for server in [plain, tls] {
            let error = await #expect(throws: TransportError.self) {
                _ = try await client.send(
                    HTTPRequest(method: .get, url: server.baseURL + path, timeout: .milliseconds(500)))
            }
            #expect(error?.kind == kind, "\(server.baseURL)\(path): \(String(describing: error))")
            #expect(error?.reach == .maybe, "\(server.baseURL)\(path)")
            // The client recovers on a fresh connection.
            #expect(try await client.send(HTTPRequest(method: .get, url: server.baseURL + "/hello")).status == 200)
        }
    }

    @Test func aPlaintextOrSilentClientDoesNotStopTLSClientsBeingServed() async throws {
        let fixture = try Fixture()
        defer { fixture.close() }
        let server = try HTTPServer(tls: fixture.identity, handler: Self.serve)
        defer { server.stop() }

        // A client that connects and says nothing holds up only its own handshake.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = server.port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)

        let plaintext = CurlClient()
        defer { plaintext.close() }
        // The server gives up the handshake and closes with the request unread: a reset.
        let error = await #expect(throws: TransportError.self) {
            _ = try await plaintext.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/hello"))
        }
        #expect(error?.kind == .connectionReset, "\(String(describing: error))")

        let client = CurlClient(caBundle: fixture.ca.caFile)
        defer { client.close() }
        for _ in 0..<3 {
            let response = try await client.send(
                HTTPRequest(method: .get, url: server.baseURL + "/hello", timeout: .seconds(2)))
            #expect(response.status == 200)
        }
    }
}
