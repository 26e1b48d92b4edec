import Foundation
import LoopbackHTTP

/// The parameters of a request: query string and form body merged (the query
/// wins on conflict, as at the venue). Binance's typed readers, which fail the way
/// Binance does, are in `Binance/RequestParams+Binance.swift`.
struct RequestParams {
    private var values: [String: String] = [:]
    /// The raw text the signature covers: query string then body, signature removed.
    let signedPayload: String
    /// The signature sent, if any.
    let signature: String?

    init(_ request: ServerRequest) {
        let body =
            request.header("content-type")?.contains("application/x-www-form-urlencoded") == true
                || (request.method != "GET" && !request.body.isEmpty)
            ? request.bodyText : ""
        var signature: String?
        func strip(_ raw: String) -> String {
            raw.split(separator: "&", omittingEmptySubsequences: true).filter { part in
                if part.hasPrefix("signature=") {
                    signature = String(part.dropFirst("signature=".count))
                    return false
                }
                return true
            }.joined(separator: "&")
        }
        let query = strip(request.queryString)
        let form = strip(body)
        signedPayload = query + form
        self.signature = signature
        for raw in [form, query] {  // the query string is read last, so it wins
            for part in raw.split(separator: "&") {
                let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.decode(String(pieces[0]))
                values[key] = pieces.count > 1 ? Self.decode(String(pieces[1])) : ""
            }
        }
    }

    /// Form decoding: `+` is a space, `%XX` a byte. Most parameters have neither, and skip Foundation.
    static func decode(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return text }
        return text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }

    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }
}
