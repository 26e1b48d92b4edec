import BallastCore
import Foundation
import LoopbackHTTP

/// The parameters of a request: query string and form body merged (the query
/// wins on conflict, as at the venue), with typed readers that fail the way
/// the venue does.
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

    func required(_ name: String) throws(APIError) -> String {
        guard let value = self[name] else {
            throw .badRequest(-1102, "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
        }
        return value
    }

    func decimal(_ name: String) throws(APIError) -> ExactDecimal? {
        guard let text = self[name] else { return nil }
        guard text.allSatisfy({ $0.isNumber || $0 == "." }), let value = ExactDecimal(text), !value.isNegative else {
            throw .badRequest(
                -1100,
                "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        }
        return value
    }

    func integer(_ name: String) throws(APIError) -> Int64? {
        guard let text = self[name] else { return nil }
        guard let value = Int64(text) else {
            throw .badRequest(-1100, "Illegal characters found in parameter '\(name)'; legal range is '^[0-9]{1,20}$'.")
        }
        return value
    }
}
