/// What a server presents in a TLS handshake: its certificate chain and private key, as PEM files.
///
/// The chain file starts with the server's own certificate, followed by any intermediates
/// (the root need not be included). The key must belong to the first certificate. Both files
/// are read once, when the `HTTPServer` starts.
public struct TLSIdentity: Sendable, Hashable {
    /// Path of the PEM certificate chain, the server's certificate first.
    public var certificateChainFile: String
    /// Path of the PEM private key of the server's certificate (unencrypted).
    public var privateKeyFile: String

    /// An identity from a certificate chain file and a private key file.
    public init(certificateChainFile: String, privateKeyFile: String) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }
}
