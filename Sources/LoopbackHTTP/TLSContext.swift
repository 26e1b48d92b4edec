internal import CSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A server's OpenSSL context (`SSL_CTX`): its certificate chain and key, loaded once.
///
/// Every `TLSSession` made from it takes its own reference to the `SSL_CTX` (OpenSSL counts
/// them), so `close()` may run while connections are still open: the context is freed when the
/// last of them ends.
final class TLSContext: @unchecked Sendable {
    // Safe to share: the context is configured in `init` and only read afterwards (`SSL_new` may
    // run on any thread); `close()` runs once, from `HTTPServer.stop()` after the accept loop —
    // the only caller of `makeSession` — has ended.
    private var context: OpaquePointer?

    /// Loads `identity` into a new server context.
    /// - Throws: `ServerError` naming the file that could not be used and OpenSSL's reason.
    init(_ identity: TLSIdentity) throws(ServerError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw ServerError("cannot create a TLS context: \(Self.drainErrors())")
        }
        self.context = context
        _ = cssl_ctx_set_min_proto_version(context, TLS1_2_VERSION)
        // A write retried after SSL_ERROR_WANT_WRITE may come from a different buffer address.
        _ = cssl_ctx_set_mode(context, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        let chain = identity.certificateChainFile
        let key = identity.privateKeyFile
        guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
            close()
            throw ServerError("TLS certificate chain \(chain): cannot load it: \(Self.drainErrors())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            close()
            throw ServerError("TLS private key \(key): cannot load it: \(Self.drainErrors())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            close()
            throw ServerError(
                "TLS private key \(key) does not belong to the certificate in \(chain): \(Self.drainErrors())")
        }
    }

    deinit { assert(context == nil, "TLSContext was not closed") }

    /// A server-side session on the accepted socket `fd`, before its handshake; nil if OpenSSL
    /// cannot make one (out of memory) or the context is closed.
    func makeSession(fd: Int32) -> TLSSession? {
        guard let context else { return nil }
        ERR_clear_error()
        guard let ssl = SSL_new(context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        return TLSSession(ssl)
    }

    /// Drops the server's reference to the context; sessions still open keep theirs.
    func close() {
        if let context { SSL_CTX_free(context) }
        context = nil
    }

    /// The messages on this thread's OpenSSL error queue, oldest first; empties the queue.
    static func drainErrors() -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: text, as: UTF8.self))
        }
        return messages.isEmpty ? "no reason given by OpenSSL" : messages.joined(separator: "; ")
    }
}
