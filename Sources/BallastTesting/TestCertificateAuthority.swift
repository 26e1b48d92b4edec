public import Foundation

/// A throwaway certificate authority for TLS tests, made with the `openssl` command (OpenSSL 3):
/// an EC P-256 root valid for two days, and server certificates it signs.
///
/// A client that trusts `caFile` (and nothing else) accepts a server presenting one of its
/// certificates under a name the certificate lists, and refuses any other name.
public struct TestCertificateAuthority: Sendable {
    /// The CA's certificate (PEM): the bundle a client verifies against.
    public let caFile: String
    /// The CA's private key (PEM).
    let caKeyFile: String
    /// Where the CA's files and the certificates it issues are written.
    let directory: URL

    /// Makes a new CA in `dir` (which must exist).
    public init(in dir: URL) throws {
        directory = dir
        caFile = dir.appendingPathComponent("ca.pem").path
        caKeyFile = dir.appendingPathComponent("ca-key.pem").path
        let config = try writeConfig(named: "ca", subjectAltName: nil)
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", caKeyFile])
        try Self.openssl([
            "req", "-x509", "-new", "-key", caKeyFile, "-subj", "/CN=Ballast test CA", "-config", config,
            "-extensions", "ca", "-days", "2", "-out", caFile,
        ])
    }

    /// A CA in `dir` and a server certificate it signed for `localhost` and `127.0.0.1`.
    public static func make(in dir: URL) throws -> (caFile: String, certificateFile: String, privateKeyFile: String) {
        let ca = try TestCertificateAuthority(in: dir)
        let server = try ca.issue("server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        return (ca.caFile, server.certificateFile, server.privateKeyFile)
    }

    /// A server certificate signed by this CA, valid for `dnsNames` and `ipAddresses` (its
    /// subjectAltName) and nothing else; `name` names its files, `name.pem` and `name-key.pem`.
    public func issue(_ name: String, dnsNames: [String], ipAddresses: [String]) throws -> (
        certificateFile: String, privateKeyFile: String
    ) {
        let certificate = directory.appendingPathComponent("\(name).pem").path
        let key = directory.appendingPathComponent("\(name)-key.pem").path
        let request = directory.appendingPathComponent("\(name).csr").path
        let names = dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }
        let config = try writeConfig(named: name, subjectAltName: names.joined(separator: ", "))
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        try Self.openssl([
            "req", "-new", "-key", key, "-subj", "/CN=\(dnsNames.first ?? name)", "-config", config, "-out", request,
        ])
        try Self.openssl([
            "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKeyFile,
            "-set_serial", "0x" + String(UInt64.random(in: 1...UInt64.max), radix: 16), "-days", "2",
            "-extfile", config, "-extensions", "server", "-out", certificate,
        ])
        return (certificate, key)
    }

    /// An openssl configuration with the CA's and a server's extensions (strict verifiers, such as
    /// Python's, want key usages and key identifiers).
    private func writeConfig(named name: String, subjectAltName: String?) throws -> String {
        let path = directory.appendingPathComponent("\(name).cnf").path
        var text = """
            [req]
            distinguished_name = dn
            [dn]
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [server]
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """
        if let subjectAltName { text += "subjectAltName = \(subjectAltName)\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `/usr/bin/openssl` with `arguments`; throws with its error output when it fails.
    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError(
                "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))"
            )
        }
    }
}
