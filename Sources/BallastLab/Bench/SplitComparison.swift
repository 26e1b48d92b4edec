import BallastCore
public import BallastKit
import Foundation
public import Postgres

/// The router's exact split measured against the whole-slice split Ballast made before it
/// (issue 16 point 6), on stored decisions: each parent trade is split again from its record's
/// inputs both ways, and each split is costed with the router's own objective (Σ route cost in
/// bps × quantity, `Router.totalCost`), then turned into the quote at the decision mid.
///
/// The baseline, `sliceSplit`, is the algorithm the router used until the exact split replaced
/// it: the quantity in `slices` equal slices, each slice given whole to the lane with the lowest
/// marginal cost for it, with no leftover offered on when a share is floored to its step.
public struct SplitComparison {
    /// Totals over every parent compared.
    public struct Result: Sendable {
        public var parents = 0
        /// Parents the exact split sends to more than one venue.
        public var splitAcrossVenues = 0
        /// Parents whose children differ between the two splits.
        public var differing = 0
        /// Parents where both route the same quantity, and among them the cost the exact split saves.
        public var sameQuantity = 0
        public var savedQuote = 0.0
        public var worstSavedQuote = 0.0
        public var worstSavedBps = 0.0
        /// Parents where the exact split routes more, and how much more (quote at decision mid).
        public var routesMore = 0
        public var moreRoutedQuote = 0.0
        /// Parents where the slices route more (the exact split should never).
        public var routesLess = 0
        /// Parents where the exact split costs more for the same quantity (it should never, beyond rounding).
        public var exactCostsMore = 0
        /// The worst of those: each split's children (venue quantity @ bps) and the cost difference.
        public var worstLoss: String?
        var worstLossQuote = 0.0
        /// Routed notional and its cost (quote at decision mid) of each split.
        public var exactRouted = 0.0
        public var exactCost = 0.0
        public var slicesRouted = 0.0
        public var slicesCost = 0.0

        /// The figures, a line each, for a benchmark's output.
        public var lines: [String] {
            func bps(_ cost: Double, _ routed: Double) -> String {
                String(format: "%.3f", cost / max(routed, 1e-9) * 10_000)
            }
            return [
                "split: \(parents) parent trades split again from their records (\(splitAcrossVenues) across venues "
                    + "by the exact split; \(differing) split differently by the whole-slice baseline)",
                String(
                    format: "  exact       : routes %.2f, costs %.2f (%@ bps)", exactRouted, exactCost,
                    bps(exactCost, exactRouted)),
                String(
                    format: "  whole slices: routes %.2f, costs %.2f (%@ bps)", slicesRouted, slicesCost,
                    bps(slicesCost, slicesRouted)),
                String(
                    format: "  same quantity routed: %d parents, the exact split saves %.4f in all "
                        + "(at most %.4f = %.4f bps on one parent; costs more on %d)", sameQuantity, savedQuote,
                    worstSavedQuote, worstSavedBps, exactCostsMore),
                String(
                    format: "  the exact split routes more on %d parents (%.2f more notional), less on %d",
                    routesMore, moreRoutedQuote, routesLess),
            ] + (worstLoss.map { ["  worst loss: " + $0] } ?? [])
        }
    }

    let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// Compares the two splits for every parent the database's decision records carry inputs for.
    public func run() throws -> Result {
        var result = Result()
        try Recompute(connection: connection).forEachRouting { routing in
            Self.compare(routing, into: &result)
        }
        return result
    }

    /// One parent, split both ways.
    static func compare(_ routing: Recompute.RecordedRouting, into result: inout Result) {
        let trade = routing.trade
        let policy = routing.inputs.policy
        let sigma = routing.inputs.volatilityPerSqrtSecond
        let prepared = Router.prepare(
            trade, quotes: routing.quotes, volatilityPerSqrtSecond: sigma, policy: policy,
            now: Date(timeIntervalSince1970: routing.inputs.now))
        let (style, lanes) = (prepared.style, prepared.usable)
        guard trade.quantity.isPositive, !lanes.isEmpty else { return }
        func children(_ split: [Router.Lane]) -> [ChildPlan] {
            Router.children(of: split, parent: trade, style: style, sigma: sigma, policy: policy).children
        }
        let exact = children(
            Router.split(trade.quantity, lanes: lanes, side: trade.side, style: style, sigma: sigma, policy: policy))
        let slices = children(
            sliceSplit(trade.quantity, lanes: lanes, side: trade.side, style: style, sigma: sigma, policy: policy))
        let mid = trade.decisionMid.doubleValue
        func totals(_ children: [ChildPlan]) -> (quantity: ExactDecimal, routed: Double, cost: Double) {
            let quantity = children.map(\.quantity).reduce(ExactDecimal.zero, +)
            let cost = children.map { $0.cost.totalBps * $0.quantity.doubleValue }.reduce(0, +) * mid / 10_000
            return (quantity, quantity.doubleValue * mid, cost)
        }
        let (a, b) = (totals(exact), totals(slices))
        result.parents += 1
        if Set(exact.map(\.venue)).count > 1 { result.splitAcrossVenues += 1 }
        if exact != slices { result.differing += 1 }
        result.exactRouted += a.routed
        result.exactCost += a.cost
        result.slicesRouted += b.routed
        result.slicesCost += b.cost
        if a.quantity == b.quantity {
            result.sameQuantity += 1
            let saved = b.cost - a.cost
            result.savedQuote += saved
            if saved < -1e-9 * max(abs(b.cost), 1) {
                result.exactCostsMore += 1
                if -saved > result.worstLossQuote {
                    func describe(_ children: [ChildPlan]) -> String {
                        children.map { "\($0.venue) \($0.quantity.plainString) @ \($0.cost.totalBps.fixed(4))" }
                            .joined(separator: ", ")
                    }
                    result.worstLossQuote = -saved
                    result.worstLoss =
                        "\(trade.side) \(trade.quantity.plainString) \(trade.asset): exact [\(describe(exact))] costs "
                        + "\((-saved).fixed(4)) more than whole slices [\(describe(slices))]"
                }
            }
            if saved > result.worstSavedQuote {
                result.worstSavedQuote = saved
                result.worstSavedBps = a.routed > 0 ? saved / a.routed * 10_000 : 0
            }
        } else if a.quantity > b.quantity {
            result.routesMore += 1
            result.moreRoutedQuote += a.routed - b.routed
        } else {
            result.routesLess += 1
        }
    }

    /// The whole-slice split (the baseline): `policy.slices` equal slices of `quantity`, each given
    /// to the lane whose cost rises least per unit for it (the rest of a slice to the next lane when
    /// the first is full).
    static func sliceSplit(
        _ quantity: ExactDecimal, lanes: [Router.Lane], side: Side, style: OrderStyle, sigma: Double,
        policy: RouterPolicy
    ) -> [Router.Lane] {
        var lanes = lanes
        let slices = max(policy.slices, 1)
        let scale = max(quantity.scale, RouteCostModel.quantityScale)
        var previous = ExactDecimal.zero
        for k in 1...slices {
            let boundary =
                k == slices
                ? quantity : (quantity * ExactDecimal(k)).divided(by: ExactDecimal(slices), scale: scale, .down)!
            var slice = boundary - previous
            previous = boundary
            while slice.isPositive {
                var best: (lane: Int, amount: ExactDecimal, marginal: Double, cost: Double)?
                for (i, lane) in lanes.enumerated() {
                    let room = lane.capacity - lane.assigned
                    guard room.isPositive else { continue }
                    let amount = min(slice, room)
                    let cost = Router.totalCost(
                        of: lane.assigned + amount, side: side, style: style, on: lane.quote, sigma: sigma,
                        policy: policy)
                    let marginal = (cost - lane.assignedCost) / amount.doubleValue
                    if let current = best, !Router.isBetter(marginal, lane, than: current.marginal, lanes[current.lane])
                    {
                        continue
                    }
                    best = (i, amount, marginal, cost)
                }
                guard let best else { return lanes }
                lanes[best.lane].assigned += best.amount
                lanes[best.lane].assignedCost = best.cost
                slice -= best.amount
            }
        }
        return lanes
    }
}
