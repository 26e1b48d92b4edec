import BallastCore
import Foundation

/// What a policy meant, kept by the replay beside what the venues did: each parent trade
/// (asset, side, intended quantity, the check it came from), which client order ids belong
/// to it, and what the router expected each order to cost. The outcome is measured from the
/// venues' own records; this only says which order served which intent.
final class ReplayLedger {
    struct Parent {
        var check: Int
        var asset: String
        var side: Side
        /// Base quantity the policy set out to trade.
        var quantity: ExactDecimal
    }

    /// What the router expected an order to cost, by style.
    struct Estimate {
        var style: OrderStyle
        var bps: Double
    }

    private(set) var parents: [Parent] = []
    /// Client order id → parent index (every generation and every resend of it).
    private(set) var parentOf: [String: Int] = [:]
    /// Client order id → the router's estimate for the child it belongs to.
    private(set) var estimates: [String: Estimate] = [:]
    /// Checks at which the policy decided to trade.
    var rebalances = 0
    /// Parents the router deferred (nothing sent).
    var deferred = 0
    /// The policy's band half-width per check (mean over assets), where it has bands.
    var bands: [Double] = []

    /// Records a parent trade; returns its index.
    func parent(check: Int, asset: String, side: Side, quantity: ExactDecimal) -> Int {
        parents.append(Parent(check: check, asset: asset, side: side, quantity: quantity))
        return parents.count - 1
    }

    /// Says that `clientOrderId` serves parent `index`.
    func order(_ clientOrderId: String, parent index: Int, estimate: Estimate? = nil) {
        parentOf[clientOrderId] = index
        if let estimate { estimates[clientOrderId] = estimate }
    }
}
