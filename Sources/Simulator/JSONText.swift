import BallastCore
import Foundation

/// Builds JSON text by hand: the venue's hot responses (a page of a thousand
/// trades) are written directly, with decimals as strings and ids as numbers.
struct JSONText {
    private(set) var text = ""

    init(capacity: Int = 256) { text.reserveCapacity(capacity) }

    mutating func raw(_ s: String) { text += s }

    /// A JSON string literal, escaped.
    mutating func string(_ s: String) {
        text += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// `"key":` followed by nothing (the caller writes the value).
    mutating func key(_ k: String) {
        string(k)
        text += ":"
    }

    mutating func field(_ k: String, _ value: String, comma: Bool = true) {
        key(k)
        string(value)
        if comma { text += "," }
    }

    /// A decimal as the venue writes it: a string with at least eight places.
    mutating func field(_ k: String, _ value: ExactDecimal, comma: Bool = true) {
        field(k, value.withScale(atLeast: 8).description, comma: comma)
    }

    mutating func field(_ k: String, number value: Int64, comma: Bool = true) {
        key(k)
        text += String(value)
        if comma { text += "," }
    }

    mutating func field(_ k: String, bool value: Bool, comma: Bool = true) {
        key(k)
        text += value ? "true" : "false"
        if comma { text += "," }
    }

    static func error(_ code: Int, _ message: String) -> String {
        var json = JSONText()
        json.raw("{")
        json.field("code", number: Int64(code))
        json.field("msg", message, comma: false)
        json.raw("}")
        return json.text
    }
}

extension Date {
    /// Milliseconds since 1970.
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension SimOrder {
    /// Binance's order object (order query, open orders, all orders, new order RESULT), in Binance's words.
    func json(_ json: inout JSONText, fills: [SimTrade]? = nil, transact: Bool = false) {
        json.raw("{")
        json.field("symbol", symbol)
        json.field("orderId", number: orderId)
        json.field("orderListId", number: -1)
        json.field("clientOrderId", clientOrderId)
        if transact { json.field("transactTime", number: updateTime.milliseconds) }
        json.field("price", price)
        json.field("origQty", origQty)
        json.field("executedQty", executedQty)
        json.field("cummulativeQuoteQty", cumulativeQuote)
        json.field("status", status.binanceName)
        json.field("timeInForce", (timeInForce ?? .gtc).binanceName)
        json.field("type", type.binanceName)
        json.field("side", side.venueName)
        if !transact {
            json.field("stopPrice", "0.00000000")
            json.field("icebergQty", "0.00000000")
            json.field("time", number: time.milliseconds)
            json.field("updateTime", number: updateTime.milliseconds)
            json.field("isWorking", bool: status.isOpen)
        }
        json.field("workingTime", number: time.milliseconds, comma: fills != nil)
        if let fills {
            json.raw("\"fills\":[")
            for (i, fill) in fills.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw("{")
                json.field("price", fill.price)
                json.field("qty", fill.qty)
                json.field("commission", fill.commission)
                json.field("commissionAsset", fill.commissionAsset)
                json.field("tradeId", number: fill.id, comma: false)
                json.raw("}")
            }
            json.raw("]")
        }
        json.raw("}")
    }
}

extension SimTrade {
    /// The trade object of myTrades.
    func json(_ json: inout JSONText, symbol: String) {
        json.raw("{")
        json.field("symbol", symbol)
        json.field("id", number: id)
        json.field("orderId", number: orderId)
        json.field("orderListId", number: -1)
        json.field("price", price)
        json.field("qty", qty)
        json.field("quoteQty", quoteQty)
        json.field("commission", commission)
        json.field("commissionAsset", commissionAsset)
        json.field("time", number: time.milliseconds)
        json.field("isBuyer", bool: isBuyer)
        json.field("isMaker", bool: isMaker)
        json.field("isBestMatch", bool: true, comma: false)
        json.raw("}")
    }
}
