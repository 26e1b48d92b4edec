import Foundation

extension Router {
    /// One usable route while the parent is being split: its quote, how much it may take, how much it has.
    struct Lane {
        var index: Int
        var quote: VenueQuote
        var capacity: ExactDecimal
        var assigned: ExactDecimal = .zero
        /// Total cost of `assigned` (bps × quantity), kept so each step prices only the new amount.
        var assignedCost: Double = 0
    }

    /// The routes that can take some quantity, and why each of the others cannot.
    static func lanes(
        _ listed: [VenueQuote], candidates: [RouteCost], side: Side, style: OrderStyle, policy: RouterPolicy, now: Date
    ) -> (usable: [Lane], unusable: [(venue: String, why: String)]) {
        var lanes: [Lane] = []
        var unusable: [(venue: String, why: String)] = []
        for (i, quote) in listed.enumerated() {
            let capacity = RouteCostModel.capacity(side: side, style: style, on: quote, policy: policy, now: now)
            if capacity.isPositive {
                lanes.append(Lane(index: i, quote: quote, capacity: capacity))
            } else {
                unusable.append((quote.venue, candidates[i].excluded ?? "no capacity"))
            }
        }
        return (lanes, unusable)
    }

    /// The child orders of a split, and the shares dropped because no order the venue accepts could carry them.
    static func children(
        of split: [Lane], parent: ParentTrade, style: OrderStyle, sigma: Double, policy: RouterPolicy
    ) -> (children: [ChildPlan], dropped: [String]) {
        var children: [ChildPlan] = []
        var dropped: [String] = []
        for lane in split where lane.assigned.isPositive {
            switch child(for: lane, parent: parent, style: style, sigma: sigma, policy: policy) {
            case .success(let child): children.append(child)
            case .failure(let why): dropped.append("\(lane.quote.venue)'s \(lane.assigned.plainString) dropped: \(why)")
            }
        }
        return (children, dropped)
    }

    /// Splits `quantity` by marginal cost: `slices` equal slices, each given to
    /// the lane whose marginal cost per unit — (cost(a + δ) · (a + δ) − cost(a) · a) / δ
    /// in bps, a the lane's quantity so far — is lowest, never past a lane's
    /// capacity (a slice that does not fit spills to the next-cheapest lane).
    /// Ties go to the lane holding less, then to the earlier quote, so equal
    /// venues share evenly. Returns the lanes with what each was assigned.
    static func split(
        _ quantity: ExactDecimal, lanes: [Lane], side: Side, style: OrderStyle, sigma: Double, policy: RouterPolicy
    ) -> [Lane] {
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
                    let cost = totalCost(
                        of: lane.assigned + amount, side: side, style: style, on: lane.quote, sigma: sigma,
                        policy: policy)
                    let marginal = (cost - lane.assignedCost) / amount.doubleValue
                    if let current = best, !isBetter(marginal, lane, than: current.marginal, lanes[current.lane]) {
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

    /// The cost of routing `quantity` to one venue: its cost in bps times the quantity (0 for none).
    static func totalCost(
        of quantity: ExactDecimal, side: Side, style: OrderStyle, on quote: VenueQuote, sigma: Double,
        policy: RouterPolicy
    ) -> Double {
        guard quantity.isPositive else { return 0 }
        let cost = RouteCostModel.terms(of: quantity, side: side, style: style, on: quote, sigma: sigma, policy: policy)
        return cost.totalBps * quantity.doubleValue
    }

    /// Lower marginal cost wins; within 1e-9 bps, the lane holding less, then the earlier quote.
    private static func isBetter(_ marginal: Double, _ lane: Lane, than other: Double, _ otherLane: Lane) -> Bool {
        if abs(marginal - other) > 1e-9 { return marginal < other }
        if lane.assigned != otherLane.assigned { return lane.assigned < otherLane.assigned }
        return lane.index < otherLane.index
    }
}
