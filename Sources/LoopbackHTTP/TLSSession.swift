internal import CSSL

#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection's TLS session (`SSL`), used only on that connection's thread.
///
/// The socket stays blocking. A call OpenSSL asks to repeat (`SSL_ERROR_WANT_READ`,
/// `SSL_ERROR_WANT_WRITE`, or a system call interrupted by a signal) is repeated with the same
/// arguments; any other failure is final and the session is then freed without a close_notify.
final class TLSSession: @unchecked Sendable {
    // Safe to send: made in the accept loop and handed over to the connection's thread, which
    // alone uses it from then on.
    private var ssl: OpaquePointer?
    /// A fatal error happened: OpenSSL forbids `SSL_shutdown` afterwards.
    private var failed = false

    init(_ ssl: OpaquePointer) { self.ssl = ssl }

    deinit { assert(ssl == nil, "TLSSession was not closed") }

    /// Runs the server side of the handshake; false when it failed (a plaintext client, an
    /// unknown CA, a peer that left or the server stopping).
    ///
    /// Blocks SIGPIPE on the calling thread first: OpenSSL writes to the socket with `write(2)`,
    /// which raises SIGPIPE when the peer has gone (the plain path uses `MSG_NOSIGNAL` instead).
    /// Blocked, the write fails with EPIPE. The thread is the connection's own and ends with it.
    func accept() -> Bool {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        return retrying { SSL_accept($0) } > 0
    }

    /// Reads decrypted bytes into `buffer`: the count, or 0 when the peer closed or the read failed.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = Int32(clamping: buffer.count)
        return Int(max(0, retrying { SSL_read($0, buffer.baseAddress, count) }))
    }

    /// Writes all of `bytes` as TLS records; false when the peer is gone.
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                retrying { SSL_write($0, raw.baseAddress! + offset, Int32(clamping: raw.count - offset)) }
            }
            guard n > 0 else { return false }
            offset += Int(n)
        }
        return true
    }

    /// Frees the session. With `notifyingPeer`, first sends a close_notify alert (once, without
    /// waiting for the peer's): the orderly end of a TLS stream. Without it the stream just stops,
    /// as after an aborted connection.
    func close(notifyingPeer: Bool) {
        guard let ssl else { return }
        if notifyingPeer && !failed {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
        }
        ERR_clear_error()
        SSL_free(ssl)
        self.ssl = nil
    }

    /// Calls `operation` until OpenSSL no longer asks for a retry; its last result.
    private func retrying(_ operation: (OpaquePointer) -> Int32) -> Int32 {
        guard let ssl, !failed else { return -1 }
        while true {
            ERR_clear_error()
            let result = operation(ssl)
            let systemError = errno
            if result > 0 { return result }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                continue
            case SSL_ERROR_SYSCALL where systemError == EINTR:
                continue
            case SSL_ERROR_ZERO_RETURN:
                // The peer's close_notify: an orderly end, answered in kind by `close`.
                return 0
            default:
                failed = true
                return result
            }
        }
    }
}
