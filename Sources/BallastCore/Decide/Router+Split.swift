package import Foundation

extension Router {
    /// One usable route while the parent is being split: its quote, how much it may take, how much it has.
    package struct Lane {
        package var index: Int
        package var quote: VenueQuote
        package var capacity: ExactDecimal
        package var assigned: ExactDecimal = .zero
        /// Total cost of `assigned` (bps × quantity), kept so each step prices only the new amount.
        package var assignedCost: Double = 0
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
    package static func children(
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

    /// Splits `quantity` where marginal costs are equal — the exact minimum of the summed route
    /// costs, not a slice-by-slice approximation. Each lane's total cost (bps × quantity) is convex
    /// and piecewise linear in its quantity: its marginal cost per unit is the constant terms
    /// (half-spread, fee, latency risk, health, measured) plus, when crossing, s · (level price −
    /// touch) / mid · 10⁴ for the book level that unit takes (`RouteCostModel.marginalSegments`).
    /// Filling the cheapest segments first across all lanes is therefore optimal (water-filling);
    /// segments of equal marginal cost are filled evenly, so equal venues share. Each lane's share
    /// is then floored to its step, and what flooring left over is offered, step by step, to the
    /// lane that can take it at the lowest marginal cost (a finer step, room left), never past a
    /// lane's capacity. Returns the lanes with what each was assigned.
    package static func split(
        _ quantity: ExactDecimal, lanes: [Lane], side: Side, style: OrderStyle, sigma: Double, policy: RouterPolicy
    ) -> [Lane] {
        var lanes = lanes
        let scale = max(quantity.scale, RouteCostModel.quantityScale)
        var segments: [(lane: Int, marginal: Double, amount: ExactDecimal)] = []
        for (i, lane) in lanes.enumerated() {
            for segment in RouteCostModel.marginalSegments(
                side: side, style: style, on: lane.quote, sigma: sigma, policy: policy, capacity: lane.capacity)
            {
                segments.append((i, segment.marginal, segment.amount))
            }
        }
        segments.sort { abs($0.marginal - $1.marginal) > 1e-9 ? $0.marginal < $1.marginal : $0.lane < $1.lane }
        var left = quantity
        var start = 0
        while start < segments.count, left.isPositive {
            var end = start + 1
            while end < segments.count, abs(segments[end].marginal - segments[start].marginal) <= 1e-9 { end += 1 }
            // Fill the tied group evenly: equal shares, capped by each segment, until the group or the quantity runs out.
            var open = Array(start..<end).filter { segments[$0].amount.isPositive }
            while left.isPositive, !open.isEmpty {
                let share = left.divided(by: ExactDecimal(open.count), scale: scale, .down)!
                for k in open {
                    let give = share.isPositive ? min(share, segments[k].amount) : min(left, segments[k].amount)
                    guard give.isPositive else { continue }
                    lanes[segments[k].lane].assigned += give
                    segments[k].amount -= give
                    left -= give
                    if !left.isPositive { break }
                }
                open = open.filter { segments[$0].amount.isPositive }
            }
            start = end
        }
        // Floor each share to its venue's step; offer what that leaves to the lanes that can still take it.
        var leftover = ExactDecimal.zero
        for i in lanes.indices {
            let floored = lanes[i].quote.rules.floorQuantity(lanes[i].assigned)
            leftover += lanes[i].assigned - floored
            lanes[i].assigned = floored
        }
        while leftover.isPositive {
            var best: (lane: Int, amount: ExactDecimal, marginal: Double)?
            for (i, lane) in lanes.enumerated() {
                let amount = lane.quote.rules.floorQuantity(min(leftover, lane.capacity - lane.assigned))
                guard amount.isPositive else { continue }
                let marginal =
                    (totalCost(
                        of: lane.assigned + amount, side: side, style: style, on: lane.quote, sigma: sigma,
                        policy: policy)
                        - totalCost(
                            of: lane.assigned, side: side, style: style, on: lane.quote, sigma: sigma, policy: policy))
                    / amount.doubleValue
                if let current = best, !isBetter(marginal, lane, than: current.marginal, lanes[current.lane]) {
                    continue
                }
                best = (i, amount, marginal)
            }
            guard let best else { break }
            lanes[best.lane].assigned += best.amount
            leftover -= best.amount
        }
        for i in lanes.indices {
            lanes[i].assignedCost = totalCost(
                of: lanes[i].assigned, side: side, style: style, on: lanes[i].quote, sigma: sigma, policy: policy)
        }
        return lanes
    }

    /// The cost of routing `quantity` to one venue: its cost in bps times the quantity (0 for none).
    package static func totalCost(
        of quantity: ExactDecimal, side: Side, style: OrderStyle, on quote: VenueQuote, sigma: Double,
        policy: RouterPolicy
    ) -> Double {
        guard quantity.isPositive else { return 0 }
        let cost = RouteCostModel.terms(of: quantity, side: side, style: style, on: quote, sigma: sigma, policy: policy)
        return cost.totalBps * quantity.doubleValue
    }

    /// Lower marginal cost wins; within 1e-9 bps, the lane holding less, then the earlier quote.
    package static func isBetter(_ marginal: Double, _ lane: Lane, than other: Double, _ otherLane: Lane) -> Bool {
        if abs(marginal - other) > 1e-9 { return marginal < other }
        if lane.assigned != otherLane.assigned { return lane.assigned < otherLane.assigned }
        return lane.index < otherLane.index
    }
}
