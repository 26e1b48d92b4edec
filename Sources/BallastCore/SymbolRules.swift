/// The trading rules a venue enforces on one symbol (Binance's exchangeInfo filters).
///
/// A zero tick, step or bound disables that rule, as on the venue.
public struct SymbolRules: Sendable, Hashable, Codable {
    /// The pair these rules govern.
    public var pair: TradingPair
    /// `TRADING`, `HALT`, `BREAK`, …
    public var status: String
    /// PRICE_FILTER.
    public var tickSize: ExactDecimal
    public var minPrice: ExactDecimal
    public var maxPrice: ExactDecimal
    /// LOT_SIZE.
    public var stepSize: ExactDecimal
    public var minQty: ExactDecimal
    public var maxQty: ExactDecimal
    /// NOTIONAL / MIN_NOTIONAL: price × quantity bounds (max nil = none).
    public var minNotional: ExactDecimal
    public var maxNotional: ExactDecimal?

    public init(
        pair: TradingPair, status: String = "TRADING", tickSize: ExactDecimal, minPrice: ExactDecimal = .zero,
        maxPrice: ExactDecimal = .zero, stepSize: ExactDecimal, minQty: ExactDecimal = .zero,
        maxQty: ExactDecimal = .zero, minNotional: ExactDecimal = .zero, maxNotional: ExactDecimal? = nil
    ) {
        self.pair = pair
        self.status = status
        self.tickSize = tickSize
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.stepSize = stepSize
        self.minQty = minQty
        self.maxQty = maxQty
        self.minNotional = minNotional
        self.maxNotional = maxNotional
    }

    /// A filter a price or quantity broke, named as the venue names it.
    public enum Violation: Error, Sendable, Hashable, CustomStringConvertible {
        case priceFilter(String)
        case lotSize(String)
        case notional(String)

        /// The venue's filter name (`PRICE_FILTER`, `LOT_SIZE`, `NOTIONAL`).
        public var filter: String {
            switch self {
            case .priceFilter: "PRICE_FILTER"
            case .lotSize: "LOT_SIZE"
            case .notional: "NOTIONAL"
            }
        }

        public var description: String {
            switch self {
            case .priceFilter(let why), .lotSize(let why), .notional(let why): "Filter failure: \(filter) (\(why))"
            }
        }
    }

    /// Checks a limit price against PRICE_FILTER.
    public func checkPrice(_ price: ExactDecimal) -> Violation? {
        if !price.isPositive { return .priceFilter("price \(price) is not positive") }
        if !minPrice.isZero, price < minPrice { return .priceFilter("price \(price) below \(minPrice)") }
        if !maxPrice.isZero, price > maxPrice { return .priceFilter("price \(price) above \(maxPrice)") }
        if !price.isMultiple(of: tickSize) { return .priceFilter("price \(price) is not a multiple of \(tickSize)") }
        return nil
    }

    /// Checks a quantity against LOT_SIZE.
    public func checkQuantity(_ qty: ExactDecimal) -> Violation? {
        if !qty.isPositive { return .lotSize("quantity \(qty) is not positive") }
        if !minQty.isZero, qty < minQty { return .lotSize("quantity \(qty) below \(minQty)") }
        if !maxQty.isZero, qty > maxQty { return .lotSize("quantity \(qty) above \(maxQty)") }
        if !qty.isMultiple(of: stepSize) { return .lotSize("quantity \(qty) is not a multiple of \(stepSize)") }
        return nil
    }

    /// Checks price × quantity against NOTIONAL.
    public func checkNotional(price: ExactDecimal, qty: ExactDecimal) -> Violation? {
        let notional = price * qty
        if notional < minNotional { return .notional("notional \(notional) below \(minNotional)") }
        if let maxNotional, notional > maxNotional { return .notional("notional \(notional) above \(maxNotional)") }
        return nil
    }

    /// The first filter a limit order at `price` for `qty` breaks, if any.
    public func check(price: ExactDecimal, qty: ExactDecimal) -> Violation? {
        checkPrice(price) ?? checkQuantity(qty) ?? checkNotional(price: price, qty: qty)
    }

    /// `qty` rounded down to the lot step (never up: rounding must not exceed what is available).
    public func floorQuantity(_ qty: ExactDecimal) -> ExactDecimal {
        qty.rounded(toMultipleOf: stepSize, .down)
    }

    /// `price` rounded to the tick on the side that is less aggressive for `side`
    /// (down for a buy, up for a sell).
    public func passivePrice(_ price: ExactDecimal, for side: Side) -> ExactDecimal {
        price.rounded(toMultipleOf: tickSize, side == .buy ? .down : .up)
    }
}
