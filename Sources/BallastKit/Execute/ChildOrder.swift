import BallastCore
import Foundation
import Postgres
import Venues

/// One generation of a leg as stored in `orders`.
struct ChildOrder {
    var id: Int64
    var batch: Int64
    var parent: Int
    var leg: Int
    var generation: Int
    var clientOrderId: String
    var portfolio: String
    var account: String
    var venue: String
    var symbol: String
    var side: Side
    var style: OrderStyle
    var orderType: OrderType
    var timeInForce: TimeInForce?
    var price: ExactDecimal
    var quantity: ExactDecimal
    var arrivalMid: ExactDecimal?
    var decisionMid: ExactDecimal?
    var state: OrderState
    var venueOrderId: String?
    /// When the venue accepted the order (its clock), once it has said.
    var venueCreatedAt: Date?
    var executed: ExactDecimal
    var cumulativeQuote: ExactDecimal

    init(row: Row) throws {
        id = try row.decode("id")
        batch = try row.decode("batch_id")
        parent = try row.decode("parent")
        leg = try row.decode("leg")
        generation = try row.decode("generation")
        clientOrderId = try row.decode("client_order_id")
        portfolio = try row.decode("portfolio_id")
        account = try row.decode("account_id")
        venue = try row.decode("venue_id")
        symbol = try row.decode("symbol")
        side = Side(rawValue: try row.decode("side"))!
        style = OrderStyle(rawValue: try row.decode("style"))!
        orderType = OrderType(rawValue: try row.decode("order_type"))!
        timeInForce = try row.decode("time_in_force", as: String?.self).flatMap(TimeInForce.init(rawValue:))
        price = try row.decode("price")
        quantity = try row.decode("qty")
        arrivalMid = try row.decode("arrival_mid", as: ExactDecimal?.self)
        decisionMid = try row.decode("decision_mid", as: ExactDecimal?.self)
        state = OrderState(rawValue: try row.decode("state"))!
        venueOrderId = try row.decode("venue_order_id", as: String?.self)
        venueCreatedAt = try row.decode("venue_created_at", as: Date?.self)
        executed = try row.decode("executed_qty")
        cumulativeQuote = try row.decode("cumulative_quote")
    }

    /// Rests on the book until filled, cancelled or repriced.
    var rests: Bool { orderType == .postOnly || timeInForce == .gtc }

    /// What the venue is asked for.
    var request: NewOrder {
        NewOrder(
            symbol: symbol, side: side, type: orderType, timeInForce: timeInForce, quantity: quantity, price: price,
            clientOrderId: clientOrderId)
    }

    /// The leg's latest generation.
    static func latest(batch: Int64, leg: Int, on connection: Connection) throws -> ChildOrder {
        guard
            let row = try connection.query(
                "SELECT * FROM orders WHERE batch_id = \(batch) AND leg = \(leg) ORDER BY generation DESC LIMIT 1"
            ).first
        else { throw BallastError.internalFailure("batch \(batch) has no leg \(leg)") }
        return try ChildOrder(row: row)
    }
}

/// One row of `order_attempts`: a request about an order and what it led to.
struct AttemptRecord {
    var action: String
    var outcome: String
    /// The HTTP attempt the step came of (`http_attempts.id`), as the venue's answer or failure names it.
    var httpAttemptId: HTTPAttempt.ID?
    var httpStatus: Int?
    var venueCode: Int?
    var message: String?
    var detail: String?
}
