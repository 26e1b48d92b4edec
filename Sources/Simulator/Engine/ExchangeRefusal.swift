import BallastCore

/// Why the matching engine refused a request, in its own terms: no venue's codes or
/// words. Each front words it the way its venue does (`BinanceError.init(_:)`,
/// `krakenError(_:)`, `coinbaseRefusal(_:market:)`).
enum ExchangeRefusal: Error, Equatable, CustomStringConvertible {
    /// The symbol is not listed on this venue.
    case unknownSymbol
    /// The account already has an open order with this client order id.
    case duplicateOpenClientOrderId
    /// A price, quantity or value outside the symbol's rules.
    case filterFailure(Filter)
    /// A post-only order that would cross the book and take liquidity.
    case wouldTakeLiquidity
    /// The account's free balance cannot pay for the order.
    case insufficientBalance
    /// No open order of the account matches what a cancel names.
    case noOpenOrder
    /// The API key belongs to no account.
    case unknownAccount

    /// The rule of a symbol an order broke.
    enum Filter: Equatable {
        /// The limit price: positive, inside the price band, a multiple of the tick.
        case price
        /// The quantity: positive, inside the size band, a multiple of the step.
        case quantity
        /// Price × quantity below the minimum value, or a market order by value that buys nothing.
        case notional
    }

    /// What happened, for a message outside any dialect (the venue's control calls).
    var description: String {
        switch self {
        case .unknownSymbol: "the symbol is not listed"
        case .duplicateOpenClientOrderId: "an open order already has this client order id"
        case .filterFailure(.price): "the price breaks the symbol's price rule"
        case .filterFailure(.quantity): "the quantity breaks the symbol's lot size"
        case .filterFailure(.notional): "the order's value is below the symbol's minimum"
        case .wouldTakeLiquidity: "a post-only order would take liquidity"
        case .insufficientBalance: "the account has insufficient balance"
        case .noOpenOrder: "no open order matches"
        case .unknownAccount: "no account has this API key"
        }
    }
}

extension SymbolRules.Violation {
    /// The engine's name for the rule broken.
    var engineFilter: ExchangeRefusal.Filter {
        switch self {
        case .priceFilter: .price
        case .lotSize: .quantity
        case .notional: .notional
        }
    }
}
