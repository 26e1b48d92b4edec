import BallastCore
import BallastTesting
import CurlHTTP
import Foundation
import Simulator
import Testing
import Venues

/// A simulated venue serving HTTPS with a test CA's certificate, as the official Coinbase SDK
/// needs (it only builds https:// URLs): Ballast's client and Python's `requests` talk to it with
/// verification on.
@Suite(.serialized) struct SimulatorTLSTests {
    /// A fresh directory, removed by the caller.
    static func directory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-sim-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aVenueServingTLSAnswersBallastsClientAndPythonRequests() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (caFile, certificate, key) = try TestCertificateAuthority.make(in: dir)
        let h = try VenueHarness {
            $0.tlsCertificate = certificate
            $0.tlsPrivateKey = key
        }
        defer { h.close() }
        #expect(h.venue.baseURL.hasPrefix("https://127.0.0.1:"))
        #expect(h.venue.announcement.contains(#""baseURL":"https://127.0.0.1:"#), "\(h.venue.announcement)")

        let verifying = CurlClient(caBundle: caFile)
        defer { verifying.close() }
        let client = h.client(transport: verifying)
        try await client.synchroniseClock()
        let listing = try await client.listing()
        #expect(listing.symbols.map(\.pair.symbol).sorted() == ["BNBUSDT", "BTCUSDT", "ETHBTC", "ETHUSDT", "SOLUSDT"])
        let account = try await client.account()
        #expect(account.balances.first { $0.asset == "USDT" }?.free == ExactDecimal("100000")!)

        // A client trusting only the system's CAs is refused.
        await #expect(throws: VenueError.self) { _ = try await h.client().listing() }

        let script = """
            import os, sys
            os.environ["REQUESTS_CA_BUNDLE"] = sys.argv[2]
            import requests
            response = requests.get(sys.argv[1] + "/api/v3/time", timeout=10)
            print(response.status_code, response.json()["serverTime"] > 0)
            """
        let output = try Openpyxl.runPython(script, arguments: [h.venue.baseURL, caFile])
        #expect(String(decoding: output, as: UTF8.self) == "200 True\n")
    }

    @Test func aHalfGivenIdentityOrAMissingFileIsNamed() throws {
        let json = #"{"venues": [{"name": "tls-x", "tls_certificate": "/tmp/x.pem"}]}"#
        let config = try JSONDecoder().decode(SimulatorConfig.self, from: Data(json.utf8))
        let half = #expect(throws: SimulatorError.self) { try config.validate() }
        #expect(half?.description.contains("venue 'tls-x': tls_private_key: missing") == true, "\(half!)")

        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, certificate, _) = try TestCertificateAuthority.make(in: dir)
        let absent = dir.appendingPathComponent("absent-key.pem").path
        let missing = #expect(throws: SimulatorError.self) {
            _ = try VenueHarness {
                $0.tlsCertificate = certificate
                $0.tlsPrivateKey = absent
            }
        }
        let text = missing.map { "\($0)" } ?? ""
        #expect(text.contains("venue 'sim-t'") && text.contains(absent), "\(text)")
    }
}
