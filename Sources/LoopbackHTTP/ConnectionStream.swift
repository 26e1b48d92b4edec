#if canImport(Glibc)
    import Glibc
#endif

/// The byte stream of one accepted connection: the socket itself, or a TLS session over it.
///
/// The plain case calls `recv`/`send` on the socket directly, exactly as the server did before
/// it spoke TLS.
enum ConnectionStream {
    case plain(Int32)
    case tls(TLSSession)

    /// Reads what has arrived into `buffer`: the count, or 0 when the peer closed or the read failed.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        switch self {
        case .plain(let fd):
            while true {
                let n = recv(fd, buffer.baseAddress, buffer.count, 0)
                if n < 0, errno == EINTR { continue }
                return max(0, n)
            }
        case .tls(let session):
            return session.receive(into: buffer)
        }
    }

    /// Writes all of `bytes`; false when the peer is gone.
    func send(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .plain(let fd):
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        case .tls(let session):
            return session.send(bytes)
        }
    }

    /// Ends the stream before the socket is closed. Orderly (`abortive` false), a TLS stream sends
    /// its close_notify; aborted, nothing more is sent. A plain stream has nothing to do.
    func finish(abortive: Bool) {
        if case .tls(let session) = self { session.close(notifyingPeer: !abortive) }
    }
}
