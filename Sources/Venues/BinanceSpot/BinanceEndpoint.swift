/// A Binance Spot REST endpoint: method, path, weight and how it may be retried.
public struct BinanceEndpoint: Sendable, Hashable {
    public let method: String
    public let path: String
    /// Needs `timestamp` + `signature` and the API key header.
    public let signed: Bool
    /// Places an order (counts against the ORDERS limit).
    public let placesOrder: Bool
    /// Safe to repeat after an unknown outcome (reads).
    public let idempotent: Bool

    static let ping = BinanceEndpoint(
        method: "GET", path: "/api/v3/ping", signed: false, placesOrder: false, idempotent: true)
    static let time = BinanceEndpoint(
        method: "GET", path: "/api/v3/time", signed: false, placesOrder: false, idempotent: true)
    static let exchangeInfo = BinanceEndpoint(
        method: "GET", path: "/api/v3/exchangeInfo", signed: false, placesOrder: false, idempotent: true)
    static let bookTicker = BinanceEndpoint(
        method: "GET", path: "/api/v3/ticker/bookTicker", signed: false, placesOrder: false, idempotent: true)
    static let depth = BinanceEndpoint(
        method: "GET", path: "/api/v3/depth", signed: false, placesOrder: false, idempotent: true)
    static let account = BinanceEndpoint(
        method: "GET", path: "/api/v3/account", signed: true, placesOrder: false, idempotent: true)
    static let myTrades = BinanceEndpoint(
        method: "GET", path: "/api/v3/myTrades", signed: true, placesOrder: false, idempotent: true)
    static let openOrders = BinanceEndpoint(
        method: "GET", path: "/api/v3/openOrders", signed: true, placesOrder: false, idempotent: true)
    static let allOrders = BinanceEndpoint(
        method: "GET", path: "/api/v3/allOrders", signed: true, placesOrder: false, idempotent: true)
    static let newOrder = BinanceEndpoint(
        method: "POST", path: "/api/v3/order", signed: true, placesOrder: true, idempotent: false)
    static let queryOrder = BinanceEndpoint(
        method: "GET", path: "/api/v3/order", signed: true, placesOrder: false, idempotent: true)
    static let cancelOrder = BinanceEndpoint(
        method: "DELETE", path: "/api/v3/order", signed: true, placesOrder: false, idempotent: false)

    /// The request weight of a call with these parameters (Binance's published weights).
    func weight(_ params: [(String, String)]) -> Int {
        func has(_ name: String) -> Bool { params.contains { $0.0 == name } }
        switch path {
        case "/api/v3/exchangeInfo", "/api/v3/account", "/api/v3/allOrders": return 20
        case "/api/v3/ticker/bookTicker", "/api/v3/ticker/price": return has("symbol") ? 2 : 4
        case "/api/v3/depth":
            let limit = params.first { $0.0 == "limit" }.flatMap { Int($0.1) } ?? 100
            switch limit {
            case ...100: return 5
            case ...500: return 25
            case ...1000: return 50
            default: return 250
            }
        case "/api/v3/myTrades": return has("orderId") ? 5 : 20
        case "/api/v3/openOrders": return has("symbol") ? 6 : 80
        case "/api/v3/order": return method == "GET" ? 4 : 1
        default: return 1
        }
    }
}
