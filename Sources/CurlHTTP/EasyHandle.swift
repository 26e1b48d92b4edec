internal import CCurl
import Foundation
import Transport

/// One libcurl easy handle and the serial queue that alone may touch it.
final class EasyHandle: @unchecked Sendable {
    // Safe to share: `pointer` is used only on `queue`, except by `close()`,
    // which also runs on `queue`.
    let queue: DispatchQueue
    private var pointer: UnsafeMutableRawPointer?

    struct Options {
        var connectTimeout: Duration
        var timeout: Duration
        var maxResponseBytes: Int
        /// A CA bundle (PEM file) to verify TLS peers against instead of the system's.
        var caBundle: String? = nil
    }

    init?(name: String) {
        guard let pointer = curl_easy_init() else { return nil }
        self.pointer = pointer
        self.queue = DispatchQueue(label: "ballast.curl.\(name)")
    }

    func close() {
        queue.sync {
            if let pointer { curl_easy_cleanup(pointer) }
            pointer = nil
        }
    }

    /// Performs one request on this handle. Call only on `queue`.
    func perform(_ request: HTTPRequest, _ options: Options) -> Result<HTTPResponse, TransportError> {
        guard let h = pointer else {
            return .failure(TransportError(kind: .other, reach: .never, code: 0, message: "handle is closed"))
        }
        curl_easy_reset(h)  // clears options, keeps the live connection
        let sink = ResponseSink(limit: options.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        headerList = curl_slist_append(headerList, "Expect:")

        var setup = CURLE_OK
        func set(_ code: CURLcode) { if setup == CURLE_OK { setup = code } }
        set(ccurl_setopt_string(h, CURLOPT_URL, request.url))
        set(ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeout.milliseconds))
        set(ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, options.timeout.milliseconds))
        set(ccurl_setopt_long(h, CURLOPT_TCP_NODELAY, 1))
        // TLS peers and host names are always verified; nothing in Ballast turns that off.
        set(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1))
        set(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2))
        if let bundle = options.caBundle { set(ccurl_setopt_string(h, CURLOPT_CAINFO, bundle)) }
        set(ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList))
        set(ccurl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, bodyCallback))
        set(ccurl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, headerCallback))
        let box = Unmanaged.passUnretained(sink).toOpaque()
        set(ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, box))
        set(ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, box))
        switch request.method {
        case .get:
            set(ccurl_setopt_long(h, CURLOPT_HTTPGET, 1))
        case .post, .put, .delete:
            // A new connection for every request that changes state: when a
            // reused connection dies before any response byte, libcurl silently
            // sends the request again on a new one — for an order, a second order.
            set(ccurl_setopt_long(h, CURLOPT_FRESH_CONNECT, 1))
            if request.method == .post {
                set(ccurl_setopt_long(h, CURLOPT_POST, 1))
            } else {
                set(ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
            }
            if !request.body.isEmpty || request.method == .post {
                set(ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
                if request.body.isEmpty {
                    set(ccurl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, ""))
                } else {
                    set(
                        request.body.withUnsafeBytes { bytes in
                            ccurl_setopt_pointer(
                                h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
                        })
                }
            }
        }
        guard setup == CURLE_OK else {
            return .failure(
                TransportError(
                    kind: .other, reach: .never, code: Int(setup.rawValue), message: Self.message(setup)))
        }

        let code = withExtendedLifetime(sink) { curl_easy_perform(h) }
        let timings = Self.timings(h)
        if code != CURLE_OK {
            var requestSize = 0
            _ = ccurl_getinfo_long(h, CURLINFO_REQUEST_SIZE, &requestSize)
            return .failure(Self.error(code, sent: requestSize > 0, timings: timings, tooLarge: sink.overflowed))
        }
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body, timings: timings))
    }

    private static func timings(_ h: UnsafeMutableRawPointer) -> HTTPTimings {
        func micros(_ info: CURLINFO) -> Duration {
            var value: curl_off_t = 0
            _ = ccurl_getinfo_off(h, info, &value)
            return .microseconds(Int64(value))
        }
        return HTTPTimings(
            dns: micros(CURLINFO_NAMELOOKUP_TIME_T), connect: micros(CURLINFO_CONNECT_TIME_T),
            tls: micros(CURLINFO_APPCONNECT_TIME_T), firstByte: micros(CURLINFO_STARTTRANSFER_TIME_T),
            total: micros(CURLINFO_TOTAL_TIME_T))
    }

    private static func message(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    /// Maps a libcurl failure to a transport error; `sent` says whether any of
    /// the request left this process.
    static func error(_ code: CURLcode, sent: Bool, timings: HTTPTimings, tooLarge: Bool) -> TransportError {
        let maybe: TransportError.Reach = sent ? .maybe : .never
        let (kind, reach): (TransportError.Kind, TransportError.Reach) =
            switch code {
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: (.couldNotResolve, .never)
            case CURLE_COULDNT_CONNECT: (.couldNotConnect, .never)
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: (.badURL, .never)
            case CURLE_OPERATION_TIMEDOUT: (.timedOut, maybe)
            case CURLE_GOT_NOTHING: (.emptyReply, .maybe)
            case CURLE_SEND_ERROR: (.sendFailed, maybe)
            case CURLE_RECV_ERROR: (.connectionReset, .maybe)
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION: (.tls, .never)
            case CURLE_WRITE_ERROR where tooLarge: (.tooLarge, .maybe)
            default: (.other, .maybe)
            }
        return TransportError(
            kind: kind, reach: reach, code: Int(code.rawValue),
            message: tooLarge ? "response body exceeds the size limit" : message(code), timings: timings)
    }
}

/// Collects one response's headers and body for the C callbacks.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    let limit: Int
    var overflowed = false

    init(limit: Int) { self.limit = limit }

    /// One header line as libcurl hands it over (with its CR LF): the name lower-cased, the value
    /// without surrounding spaces and tabs. Parsed on the bytes: this runs for every header of
    /// every response, and Foundation's trimming was a tenth of a replay's time.
    func header(line: UnsafeBufferPointer<UInt8>) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        if line.starts(with: "HTTP/".utf8) {
            headers = [:]  // a new response (after 100 Continue or a redirect) starts over
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        var nameStart = line.startIndex
        var nameEnd = colon
        while nameStart < nameEnd, isSpace(line[nameStart]) { nameStart += 1 }
        while nameEnd > nameStart, isSpace(line[nameEnd - 1]) { nameEnd -= 1 }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, isSpace(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, isSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        let name = String(
            decoding: line[nameStart..<nameEnd].map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        headers[name] = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self)
    }
}

private let bodyCallback: ccurl_data_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard sink.body.count + length <= sink.limit else {
        sink.overflowed = true
        return 0
    }
    data?.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        sink.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private let headerCallback: ccurl_data_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    data?.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        sink.header(line: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

extension Duration {
    /// Whole milliseconds, at least 1.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
