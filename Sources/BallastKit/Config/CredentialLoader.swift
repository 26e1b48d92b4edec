public import Foundation
public import Venues

/// Loads API credentials from where an account's settings point: two
/// environment variables, or a TOML file (`api_key = "…"`, `api_secret = "…"`)
/// that only its owner may read. Values never appear in errors.
public struct CredentialLoader: Sendable {
    let environment: [String: String]

    /// A loader over `environment` (default: the process's).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The credentials of `account`.
    public func load(_ account: AccountSettings) throws -> Credentials {
        if let path = account.credentialsFile { return try loadFile(path, account: account.id) }
        guard let keyName = account.apiKeyEnv, let secretName = account.apiSecretEnv else {
            throw BallastError.invalidInput("account '\(account.id)' has no credentials configured")
        }
        guard let key = environment[keyName], !key.isEmpty else {
            throw BallastError.invalidInput("account '\(account.id)': environment variable \(keyName) is not set")
        }
        guard let secret = environment[secretName], !secret.isEmpty else {
            throw BallastError.invalidInput("account '\(account.id)': environment variable \(secretName) is not set")
        }
        return Credentials(apiKey: key, secret: secret)
    }

    private func loadFile(_ path: String, account: String) throws -> Credentials {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw BallastError.invalidInput("account '\(account)': credentials file \(path) cannot be read")
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
        guard mode & 0o077 == 0 else {
            throw BallastError.invalidInput(
                "account '\(account)': credentials file \(path) has mode \(String(mode, radix: 8)), readable by others; "
                    + "run chmod 600 \(path)")
        }
        struct File: Decodable {
            let apiKey: String
            let apiSecret: String
            enum CodingKeys: String, CodingKey { case apiKey = "api_key", apiSecret = "api_secret" }
        }
        let file: File
        do {
            file = try TOMLFile.decode(File.self, path: path)
        } catch {
            // The TOML error could quote a line of the file: keep the secret out of it.
            throw BallastError.invalidInput(
                "account '\(account)': credentials file \(path) must hold api_key = \"…\" and api_secret = \"…\"")
        }
        return Credentials(apiKey: file.apiKey, secret: file.apiSecret)
    }
}
