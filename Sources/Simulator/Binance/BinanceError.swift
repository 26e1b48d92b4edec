/// A refusal in Binance's words: HTTP status, error code and message (`{"code":…,"msg":…}`).
struct BinanceError: Error {
    let status: Int
    let code: Int
    let message: String

    static func badRequest(_ code: Int, _ message: String) -> BinanceError {
        BinanceError(status: 400, code: code, message: message)
    }
    static let invalidSymbol = badRequest(-1121, "Invalid symbol.")
    static let noSuchOrder = badRequest(-2013, "Order does not exist.")
    static let invalidKey = BinanceError(
        status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action.")

    /// Binance's name for a symbol filter.
    static func name(_ filter: ExchangeRefusal.Filter) -> String {
        switch filter {
        case .price: "PRICE_FILTER"
        case .quantity: "LOT_SIZE"
        case .notional: "NOTIONAL"
        }
    }

    /// The answer's body.
    var body: String { JSONText.error(code, message) }
}

extension BinanceError {
    /// The matching engine's refusal as Binance answers it.
    init(_ refusal: ExchangeRefusal) {
        self =
            switch refusal {
            case .unknownSymbol: .invalidSymbol
            case .duplicateOpenClientOrderId: .badRequest(-2010, "Duplicate order sent.")
            case .filterFailure(let filter): .badRequest(-1013, "Filter failure: \(Self.name(filter))")
            case .wouldTakeLiquidity: .badRequest(-2010, "Order would immediately match and take.")
            case .insufficientBalance: .badRequest(-2010, "Account has insufficient balance for requested action.")
            case .noOpenOrder: .badRequest(-2011, "Unknown order sent.")
            case .unknownAccount: .badRequest(-2015, "Invalid API-key, IP, or permissions for action.")
            }
    }
}

/// Runs an engine call, wording its refusal as Binance does.
func binanceWords<T>(_ call: () throws(ExchangeRefusal) -> T) throws(BinanceError) -> T {
    do {
        return try call()
    } catch {
        throw BinanceError(error)
    }
}
