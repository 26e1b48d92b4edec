import CurlHTTP
import Foundation
import Testing
import Transport

/// TLS peers and host names are verified, against the system's CAs or a named bundle; a
/// self-signed venue is refused unless its certificate is the bundle. A real TLS server
/// (`openssl s_server`) on loopback.
@Suite(.serialized) struct TLSVerificationTests {
    /// A self-signed certificate for `localhost` and an `openssl s_server` using it; stopped by the caller.
    static func server(in dir: URL) throws -> (process: Process, port: Int, cert: String) {
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]
        make.standardError = FileHandle.nullDevice
        try make.run()
        make.waitUntilExit()
        #expect(make.terminationStatus == 0)
        let port = Int.random(in: 20_000...40_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["openssl", "s_server", "-accept", "\(port)", "-cert", cert, "-key", key, "-www", "-quiet"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        Thread.sleep(forTimeInterval: 0.5)
        return (server, port, cert)
    }

    @Test func aSelfSignedVenueIsRefusedUnlessItsCertificateIsTheBundle() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, port, cert) = try Self.server(in: dir)
        defer {
            // openssl s_server does not end on SIGTERM while it waits for a connection.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let request = HTTPRequest(method: .get, url: "https://localhost:\(port)/", headers: [], body: [])

        let system = CurlClient()
        defer { system.close() }
        await #expect {
            _ = try await system.send(request)
        } throws: { error in
            (error as? TransportError)?.kind == .tls
        }

        let pinned = CurlClient(caBundle: cert)
        defer { pinned.close() }
        let response = try await pinned.send(request)
        #expect(response.status == 200)

        // The bundle vouches for "localhost" only: the same server under another name is refused.
        await #expect(throws: TransportError.self) {
            _ = try await pinned.send(
                HTTPRequest(method: .get, url: "https://127.0.0.1:\(port)/", headers: [], body: []))
        }
    }
}
