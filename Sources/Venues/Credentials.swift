import Digest
import Foundation

/// An API key and secret. Neither is ever printed: `description` redacts them,
/// and the secret is only readable by the signer in this module.
public struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The API key, sent in the `X-MBX-APIKEY` header.
    public let apiKey: String
    let secret: String

    /// Credentials from a key and secret.
    public init(apiKey: String, secret: String) {
        self.apiKey = apiKey
        self.secret = secret
    }

    /// A short, stable, non-reversible tag for the key (first 16 hex digits of
    /// its SHA-256), used to group processes that share a key's rate budget.
    public var fingerprint: String {
        Digest.hex(Digest.sha256(apiKey).prefix(8))
    }

    public var description: String { "Credentials(key: \(fingerprint)…, secret: <redacted>)" }
    public var debugDescription: String { description }

    /// Lowercase hex HMAC-SHA256 of `payload` under the secret.
    func sign(_ payload: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: secret, message: payload))
    }
}
