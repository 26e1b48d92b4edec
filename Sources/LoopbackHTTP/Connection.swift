import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Serves requests on one accepted socket until either side closes it.
struct Connection {
    let fd: Int32
    /// What requests are read from and responses written to: the socket, or TLS over it.
    let stream: ConnectionStream
    let peer: String
    unowned let server: HTTPServer
    static let maxHeaderBytes = 64 * 1024
    static let maxBodyBytes = 8 * 1024 * 1024

    /// Serves until the connection ends, then ends the stream (the caller closes the socket).
    func serve() {
        var abortive = false
        defer { stream.finish(abortive: abortive) }
        var buffer: [UInt8] = []
        while !server.stopping {
            guard let (request, keepAlive, consumed) = readRequest(&buffer) else { return }
            buffer.removeFirst(consumed)
            switch server.handle(request) {
            case .respond(let response):
                guard write(encode(response, keepAlive: keepAlive)) else { return }
            case .respondAfter(let delay, let response):
                Thread.sleep(
                    forTimeInterval: max(
                        0, Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18))
                guard write(encode(response, keepAlive: keepAlive)) else { return }
            case .reset:
                // No TLS close_notify either: the peer sees the reset, nothing before it.
                abortive = true
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            case .hangUp:
                return
            case .stall:
                waitForPeerToLeave()
                return
            case .raw(let bytes):
                _ = write(bytes)
                return
            }
            if !keepAlive { return }
        }
    }

    /// Reads one request; nil when the peer closed or sent something unusable
    /// (after answering 400/411/413 where a response makes sense).
    private func readRequest(_ buffer: inout [UInt8]) -> (ServerRequest, Bool, Int)? {
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find(crlfcrlf, in: buffer)
            if headerEnd == nil {
                guard buffer.count < Self.maxHeaderBytes, read(into: &buffer) else { return nil }
            }
        }
        // The head is split and trimmed on its bytes (Foundation's string functions were a
        // noticeable share of a replay, which sends every request through here).
        var lines = buffer[..<headerEnd!].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0
        }
        let requestLine = lines.isEmpty ? [] : lines.removeFirst().split(separator: UInt8(ascii: " "))
        guard requestLine.count == 3 else {
            _ = write(encode(.json(400, #"{"code":-1100,"msg":"Malformed request line."}"#), keepAlive: false))
            return nil
        }
        func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
            var slice = bytes
            while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
            while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
            return slice
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = trimmed(line[..<colon]).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            headers[String(decoding: name, as: UTF8.self)] = String(
                decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
        }
        if headers["transfer-encoding"] != nil {
            _ = write(encode(.json(411, #"{"code":-1100,"msg":"Content-Length required."}"#), keepAlive: false))
            return nil
        }
        let length = Int(headers["content-length"] ?? "0") ?? -1
        guard length >= 0, length <= Self.maxBodyBytes else {
            _ = write(encode(.json(413, #"{"code":-1100,"msg":"Bad Content-Length."}"#), keepAlive: false))
            return nil
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            guard write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return nil }
        }
        let bodyStart = headerEnd! + 4
        while buffer.count < bodyStart + length {
            guard read(into: &buffer) else { return nil }
        }
        let target = String(decoding: requestLine[1], as: UTF8.self)
        let (path, query) = target.split(separator: "?", maxSplits: 1).map(String.init).paired()
        let version = String(decoding: requestLine[2], as: UTF8.self)
        let connectionHeader = headers["connection"]?.lowercased()
        let keepAlive = version == "HTTP/1.1" ? connectionHeader != "close" : connectionHeader == "keep-alive"
        let request = ServerRequest(
            method: String(decoding: requestLine[0], as: UTF8.self), path: path, queryString: query, headers: headers,
            body: Array(buffer[bodyStart..<(bodyStart + length)]), peer: peer)
        return (request, keepAlive, bodyStart + length)
    }

    private func encode(_ response: ServerResponse, keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    /// Appends whatever arrives; false when the peer closed or the read failed.
    private func read(into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { stream.receive(into: $0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Writes all of `bytes`; false when the peer is gone.
    private func write(_ bytes: [UInt8]) -> Bool { stream.send(bytes) }

    /// Blocks until the peer closes the connection or the server stops. Reads the socket itself,
    /// below any TLS: whatever arrives is discarded, only the peer's leaving matters.
    private func waitForPeerToLeave() {
        var pending = [UInt8](repeating: 0, count: 4096)
        while !server.stopping {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready > 0 {
                let n = pending.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
            }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Payload Too Large"
        case 418: "I'm a teapot"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}

private let crlfcrlf: [UInt8] = [13, 10, 13, 10]

extension Array where Element == String {
    fileprivate func paired() -> (String, String) {
        (first ?? "", count > 1 ? self[1] : "")
    }
}
