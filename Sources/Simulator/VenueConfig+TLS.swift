import LoopbackHTTP

extension VenueConfig {
    /// What the venue's server presents in a TLS handshake; nil serves plain HTTP. `validate()`
    /// has made sure the certificate and the key come together.
    var tlsIdentity: TLSIdentity? {
        guard let tlsCertificate, let tlsPrivateKey else { return nil }
        return TLSIdentity(certificateChainFile: tlsCertificate, privateKeyFile: tlsPrivateKey)
    }
}
