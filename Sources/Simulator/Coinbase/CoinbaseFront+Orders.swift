import BallastCore
import Foundation

/// An order the Coinbase front refuses: HTTP 200 with `success: false` and these reasons.
struct CoinbaseRefusal: Error {
    /// `error`: the new-order failure reason, or the preview reason where Coinbase has no
    /// new-order reason for the refusal (`new_order_failure_reason` is then `UNKNOWN_FAILURE_REASON`).
    let error: String
    let newOrderReason: String
    let previewReason: String
    let message: String

    init(_ reason: String, preview: String? = nil, _ message: String) {
        error = reason
        newOrderReason = reason.hasPrefix("PREVIEW_") ? "UNKNOWN_FAILURE_REASON" : reason
        previewReason = preview ?? "PREVIEW_" + reason
        self.message = message
    }

    static let insufficientFunds = CoinbaseRefusal(
        "INSUFFICIENT_FUND", "Insufficient balance in source account")
    static let postOnly = CoinbaseRefusal(
        "INVALID_LIMIT_PRICE_POST_ONLY", "Post-only order would cross the book and take liquidity")
    static let configuration = CoinbaseRefusal(
        "UNSUPPORTED_ORDER_CONFIGURATION", preview: "PREVIEW_INVALID_ORDER_CONFIG",
        "order_configuration must hold one of limit_limit_gtc, sor_limit_ioc, limit_limit_fok, market_market_ioc")
}

/// An order request in the engine's terms.
private struct CoinbaseOrderTerms {
    var type: OrderType
    var timeInForce: TimeInForce?
    var base: ExactDecimal?
    var quote: ExactDecimal?
    var price: ExactDecimal?
}

/// The Coinbase front's orders: create (idempotent by `client_order_id`), look up, list, cancel.
extension SimulatedVenue {
    // MARK: Create

    /// `POST orders`. A `client_order_id` the key has used before places nothing: the answer is the
    /// original order's, whatever became of it.
    func coinbaseCreateOrder(_ body: [String: Any], apiKey: String, now: Date) -> Reply {
        guard let clientID = body["client_order_id"] as? String, !clientID.isEmpty else {
            stats.rejected += 1
            let error = CoinbaseError.invalid("client_order_id is required")
            return Reply(status: error.status, body: error.body)
        }
        if let first = exchange.byClientID[apiKey]?[clientID]?.first, let original = exchange.orders[first] {
            return Reply(body: coinbaseCreated(original))
        }
        var terms: CoinbaseOrderTerms?
        do throws(CoinbaseRefusal) {
            guard let productID = body["product_id"] as? String, let symbol = coinbaseSymbol(productID) else {
                throw CoinbaseRefusal("INVALID_PRODUCT_ID", "product_id is not a product of this venue")
            }
            guard let sideText = body["side"] as? String, ["BUY", "SELL"].contains(sideText),
                let side = Side(venueName: sideText)
            else { throw CoinbaseRefusal("INVALID_SIDE", "side must be BUY or SELL") }
            let parsed = try Self.coinbaseTerms(body["order_configuration"], side: side)
            terms = parsed
            try Self.coinbaseCheck(parsed, symbol)
            let request = Exchange.NewOrder(
                symbol: symbol.symbol, side: side, type: parsed.type, timeInForce: parsed.timeInForce,
                quantity: parsed.base, quoteOrderQty: parsed.quote, price: parsed.price, clientOrderId: clientID)
            let order: SimOrder
            do throws(ExchangeRefusal) {
                (order, _) = try exchange.place(request, apiKey: apiKey, at: now)
            } catch {
                throw Self.coinbaseRefusal(error, market: parsed.type == .market)
            }
            if let quote = parsed.quote { coinbase.quoteSizes[order.orderId] = quote }
            return Reply(body: coinbaseCreated(order), placedOrder: true)
        } catch {
            stats.rejected += 1
            var json = JSONText()
            json.raw("{\"success\":false,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",\"order_id\":\"\",")
            json.raw("\"error_response\":{")
            json.field("error", error.error)
            json.field("message", error.message)
            json.field("error_details", error.message)
            json.field("preview_failure_reason", error.previewReason)
            json.field("new_order_failure_reason", error.newOrderReason, comma: false)
            json.raw("}")
            if let terms {
                json.raw(",\"order_configuration\":")
                Self.coinbaseConfiguration(&json, terms)
            }
            json.raw("}")
            return Reply(body: json.text)
        }
    }

    /// The success answer naming `order`.
    private func coinbaseCreated(_ order: SimOrder) -> String {
        let id = coinbaseID("order", order.orderId)
        var json = JSONText()
        json.raw("{\"success\":true,\"failure_reason\":\"UNKNOWN_FAILURE_REASON\",")
        json.field("order_id", id)
        json.raw("\"success_response\":{")
        json.field("order_id", id)
        json.field("product_id", coinbaseProductID(of: order))
        json.field("side", order.side.venueName)
        json.field("client_order_id", order.clientOrderId, comma: false)
        json.raw("},\"order_configuration\":")
        Self.coinbaseConfiguration(&json, coinbaseTerms(of: order))
        json.raw("}")
        return json.text
    }

    /// Reads `order_configuration`: exactly one of the configurations the front supports.
    private static func coinbaseTerms(_ value: Any?, side: Side) throws(CoinbaseRefusal) -> CoinbaseOrderTerms {
        guard let configuration = value as? [String: Any], configuration.count == 1,
            let name = configuration.keys.first, let fields = configuration[name] as? [String: Any]
        else { throw .configuration }
        func decimal(_ key: String) throws(CoinbaseRefusal) -> ExactDecimal? {
            guard let raw = fields[key] else { return nil }
            guard let text = raw as? String, let value = ExactDecimal(text), value.isPositive else {
                throw CoinbaseRefusal(
                    "INVALID_REQUEST", preview: "PREVIEW_INVALID_ORDER_CONFIG",
                    "\(name).\(key) must be a positive decimal string")
            }
            return value
        }
        func required(_ key: String) throws(CoinbaseRefusal) -> ExactDecimal {
            guard let value = try decimal(key) else {
                throw CoinbaseRefusal(
                    "INVALID_REQUEST", preview: "PREVIEW_INVALID_ORDER_CONFIG", "\(name).\(key) is required")
            }
            return value
        }
        switch name {
        case "limit_limit_gtc":
            let postOnly = fields["post_only"] as? Bool ?? false
            return CoinbaseOrderTerms(
                type: postOnly ? .postOnly : .limit, timeInForce: postOnly ? nil : .gtc,
                base: try required("base_size"), price: try required("limit_price"))
        case "sor_limit_ioc", "limit_limit_fok":
            return CoinbaseOrderTerms(
                type: .limit, timeInForce: name == "sor_limit_ioc" ? .ioc : .fok, base: try required("base_size"),
                price: try required("limit_price"))
        case "market_market_ioc":
            let base = try decimal("base_size")
            let quote = try decimal("quote_size")
            guard (base == nil) != (quote == nil) else {
                throw CoinbaseRefusal(
                    "INVALID_REQUEST", preview: "PREVIEW_INVALID_ORDER_CONFIG",
                    "market_market_ioc needs one of base_size and quote_size")
            }
            guard quote == nil || side == .buy else {
                throw CoinbaseRefusal(
                    "UNSUPPORTED_ORDER_CONFIGURATION", preview: "PREVIEW_INVALID_ORDER_CONFIG",
                    "a market sell is sized by base_size")
            }
            return CoinbaseOrderTerms(type: .market, base: base, quote: quote)
        default: throw .configuration
        }
    }

    /// The product's increments and bounds, checked as Coinbase checks them before the book.
    private static func coinbaseCheck(_ terms: CoinbaseOrderTerms, _ symbol: SymbolConfig) throws(CoinbaseRefusal) {
        if let base = terms.base {
            guard base.isMultiple(of: symbol.stepSize) else {
                throw CoinbaseRefusal("INVALID_SIZE_PRECISION", "base_size must be a multiple of \(symbol.stepSize)")
            }
            guard base >= symbol.minQty else {
                throw CoinbaseRefusal("PREVIEW_INVALID_BASE_SIZE_TOO_SMALL", "base_size is below \(symbol.minQty)")
            }
            guard base <= symbol.maxQty else {
                throw CoinbaseRefusal("PREVIEW_INVALID_BASE_SIZE_TOO_LARGE", "base_size is above \(symbol.maxQty)")
            }
        }
        if let price = terms.price {
            guard price.isMultiple(of: symbol.tickSize) else {
                throw CoinbaseRefusal("INVALID_PRICE_PRECISION", "limit_price must be a multiple of \(symbol.tickSize)")
            }
            if let base = terms.base, price * base < symbol.minNotional {
                throw CoinbaseRefusal(
                    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL", "the order's value is below \(symbol.minNotional)")
            }
        }
        if let quote = terms.quote {
            guard quote.isMultiple(of: symbol.tickSize) else {
                throw CoinbaseRefusal(
                    "PREVIEW_INVALID_QUOTE_SIZE_PRECISION", "quote_size must be a multiple of \(symbol.tickSize)")
            }
            guard quote >= symbol.minNotional else {
                throw CoinbaseRefusal(
                    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL", "quote_size is below \(symbol.minNotional)")
            }
        }
    }

    /// The engine's refusal in Coinbase's words (a `market` order's value too small means the book
    /// could not fill it).
    static func coinbaseRefusal(_ refusal: ExchangeRefusal, market: Bool) -> CoinbaseRefusal {
        switch refusal {
        case .wouldTakeLiquidity: .postOnly
        case .insufficientBalance: .insufficientFunds
        case .unknownSymbol: CoinbaseRefusal("INVALID_PRODUCT_ID", "product_id is not a product of this venue")
        case .filterFailure(.notional) where market:
            CoinbaseRefusal("INVALID_NO_LIQUIDITY", "the book cannot fill the order's size")
        case .filterFailure(.notional):
            CoinbaseRefusal("PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL", "the order's value is below the product's minimum")
        case .filterFailure(.quantity):
            CoinbaseRefusal("INVALID_SIZE_PRECISION", "base_size is outside the product's increment or bounds")
        case .filterFailure(.price):
            CoinbaseRefusal("INVALID_LIMIT_PRICE", "limit_price is outside the product's increment or bounds")
        // A reused client_order_id is answered with its original order before the engine sees it.
        case .duplicateOpenClientOrderId, .noOpenOrder, .unknownAccount:
            CoinbaseRefusal("UNKNOWN_FAILURE_REASON", preview: "UNKNOWN_PREVIEW_FAILURE_REASON", "\(refusal)")
        }
    }

    // MARK: Orders as Coinbase shows them

    func coinbaseProductID(of order: SimOrder) -> String {
        config.symbols.first { $0.symbol == order.symbol }.map(Self.coinbaseProductID) ?? order.symbol
    }

    /// What an order was placed as (a market buy by quote keeps its quote budget).
    private func coinbaseTerms(of order: SimOrder) -> CoinbaseOrderTerms {
        if order.type == .market, let quote = coinbase.quoteSizes[order.orderId] {
            return CoinbaseOrderTerms(type: .market, quote: quote)
        }
        return CoinbaseOrderTerms(
            type: order.type, timeInForce: order.timeInForce, base: order.origQty,
            price: order.type == .market ? nil : order.price)
    }

    /// The order's `order_configuration`.
    func coinbaseConfiguration(_ json: inout JSONText, _ order: SimOrder) {
        Self.coinbaseConfiguration(&json, coinbaseTerms(of: order))
    }

    /// `{"<configuration>": {…}}`.
    private static func coinbaseConfiguration(_ json: inout JSONText, _ terms: CoinbaseOrderTerms) {
        func size(comma: Bool) {
            if let quote = terms.quote { json.field("quote_size", CoinbaseText.amount(quote), comma: comma) }
            if let base = terms.base { json.field("base_size", CoinbaseText.amount(base), comma: comma) }
        }
        let price = CoinbaseText.amount(terms.price ?? .zero)
        switch (terms.type, terms.timeInForce) {
        case (.market, _):
            json.raw("{\"market_market_ioc\":{")
            size(comma: false)
        case (.postOnly, _), (.limit, .gtc), (.limit, nil):
            json.raw("{\"limit_limit_gtc\":{")
            size(comma: true)
            json.field("limit_price", price)
            json.field("post_only", bool: terms.type == .postOnly, comma: false)
        case (.limit, .some(let timeInForce)):
            json.raw(timeInForce == .fok ? "{\"limit_limit_fok\":{" : "{\"sor_limit_ioc\":{")
            size(comma: true)
            json.field("limit_price", price, comma: false)
        }
        json.raw("}}")
    }
}
