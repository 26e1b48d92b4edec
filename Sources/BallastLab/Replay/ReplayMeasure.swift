import BallastCore
import Foundation
import Simulator

/// Measures one policy's replay from the venues' own records, by the same rules for every policy
/// (README "Replay", measures):
///
/// - **Decision mid** m_dec of a parent: the mean over the policy's venues of the venue mids at
///   the check that decided it, read by the replay before the policy acts.
/// - **Arrival mid** m₀ of a parent at a venue: the venue's own mid when the parent's first order
///   there reached its matching engine (stamped by the venue). Chases and resends keep it.
/// - **Arrival slippage** = Σ s·(p − m₀)·q over fills, in quote, and in bps of traded notional.
/// - **Fees** in quote: commission, converted at the fill price when charged in the base asset.
/// - **Implementation shortfall** (Perold) of a parent = Σ s·(p − m_dec)·q + fees +
///   s·(m_end − m_dec)·q_unfilled, m_end the decision mid of the next check (or the end); summed
///   over parents, in quote and in bps of Σ decision notional.
/// - **Shortfall against the paper portfolio**: a costless portfolio that receives the same cash
///   flows and is put back on target at every check's decision mids; its end value minus the
///   policy's, in quote and in bps of the starting value. This charges drift left untraded too.
/// - **Drift** at each check, before the policy acts: max |wᵢ − targetᵢ| over assets (quote
///   included); its maximum and its time average; **tracking error** √(mean Σᵢ dᵢ²).
struct ReplayMeasure {
    let settings: ReplaySettings
    let world: ReplayWorld
    /// Decision mids per check (asset → mid), the last one the end.
    private var mids: [[String: ExactDecimal]] = []
    private var paper: [String: Double] = [:]
    private var drift: [(time: Date, max: Double, squares: Double)] = []

    init(settings: ReplaySettings, world: ReplayWorld) {
        self.settings = settings
        self.world = world
    }

    private var quote: String { ReplaySettings.quote }

    /// Asset → mean venue mid now.
    private func assetMids() -> [String: ExactDecimal] {
        var out: [String: ExactDecimal] = [quote: .one]
        for (symbol, mid) in world.mids() where symbol.hasSuffix(quote) {
            out[String(symbol.dropLast(quote.count))] = mid
        }
        return out
    }

    /// Puts the starting portfolio on target at the venues' mids, spread over the policy's accounts.
    mutating func fund() {
        let now = assetMids()
        for (asset, target) in settings.targets.sorted(by: { $0.key < $1.key }) {
            let value = settings.portfolioValue * target
            let qty = asset == quote ? value : value.divided(by: now[asset]!, scale: 8, .down)!
            world.move(asset, qty)
            paper[asset] = qty.doubleValue
        }
    }

    /// Deposits (share > 0) or withdraws quote worth `share` of the starting value; the paper
    /// portfolio gets what really moved.
    mutating func cashFlow(share: Double) {
        let amount = (settings.portfolioValue * ExactDecimal(String(format: "%.6f", share))!).rounded(scale: 2, .down)
        let moved = world.move(quote, amount)
        paper[quote, default: 0] += moved.doubleValue
    }

    /// Records check `index`'s decision mids and drift, and rebalances the paper portfolio.
    mutating func sample(check index: Int) {
        let now = assetMids()
        mids.append(now)
        let held = world.holdings()
        let value = settings.targets.keys.map { (held[$0] ?? .zero) * (now[$0] ?? .zero) }.reduce(ExactDecimal.zero, +)
        guard value.isPositive else { return }
        var worst = 0.0
        var squares = 0.0
        for (asset, target) in settings.targets {
            let weight = ((held[asset] ?? .zero) * now[asset]!).doubleValue / value.doubleValue
            let d = weight - target.doubleValue
            worst = max(worst, abs(d))
            squares += d * d
        }
        drift.append((world.clock.now(), worst, squares))
        let paperValue = settings.targets.keys.map { (paper[$0] ?? 0) * now[$0]!.doubleValue }.reduce(0, +)
        for (asset, target) in settings.targets {
            paper[asset] = target.doubleValue * paperValue / now[asset]!.doubleValue
        }
    }

    /// The policy's figures.
    func outcome(ledger: ReplayLedger, world: ReplayWorld) -> PolicyOutcome {
        var out = PolicyOutcome()
        out.rebalances = ledger.rebalances
        out.deferred = ledger.deferred
        (out.rateLimited, out.bans) = world.limitsHit()
        var slippage = ExactDecimal.zero
        var notional = ExactDecimal.zero
        var fees = ExactDecimal.zero
        var filled: [Int: ExactDecimal] = [:]
        var executionCost: [Int: ExactDecimal] = [:]
        var styles:
            [String: (
                orders: Int, notional: ExactDecimal, slippage: ExactDecimal, fees: ExactDecimal, estimate: Double
            )] = [:]
        for (venue, orders, trades) in world.record() {
            var byClientID: [String: Int] = [:]
            for order in orders { byClientID[order.clientOrderId, default: 0] += 1 }
            out.orders += orders.count
            out.duplicates += byClientID.values.map { $0 - 1 }.reduce(0, +)
            let ordersByID = Dictionary(orders.map { ($0.orderId, $0) }, uniquingKeysWith: { first, _ in first })
            // m₀ per parent at this venue: its first order's arrival mid.
            var arrival: [Int: ExactDecimal] = [:]
            for order in orders.sorted(by: { $0.orderId < $1.orderId }) {
                if let parent = ledger.parentOf[order.clientOrderId], arrival[parent] == nil {
                    arrival[parent] = order.arrivalMid
                }
            }
            for trade in trades {
                guard let order = ordersByID[trade.orderId], let parent = ledger.parentOf[order.clientOrderId],
                    let m0 = arrival[parent]
                else { continue }
                let s = ExactDecimal(trade.isBuyer ? 1 : -1)
                let quoteFee = trade.commissionAsset == quote ? trade.commission : trade.commission * trade.price
                let tradeNotional = trade.price * trade.qty
                let tradeSlippage = s * (trade.price - m0) * trade.qty
                slippage += tradeSlippage
                notional += tradeNotional
                fees += quoteFee
                filled[parent, default: .zero] += trade.qty
                let mDec = mids[ledger.parents[parent].check][ledger.parents[parent].asset]!
                executionCost[parent, default: .zero] += s * (trade.price - mDec) * trade.qty + quoteFee
                let style = ledger.estimates[order.clientOrderId]?.style.rawValue ?? "market"
                var line = styles[style] ?? (0, .zero, .zero, .zero, 0)
                line.notional += tradeNotional
                line.slippage += tradeSlippage
                line.fees += quoteFee
                line.estimate += (ledger.estimates[order.clientOrderId]?.bps ?? 0) * tradeNotional.doubleValue
                styles[style] = line
            }
            for order in orders {
                let style = ledger.estimates[order.clientOrderId]?.style.rawValue ?? "market"
                styles[style, default: (0, .zero, .zero, .zero, 0)].orders += 1
                out.orderLines.append(
                    OrderLine(
                        venue: venue, acceptedAt: order.time, clientOrderId: order.clientOrderId,
                        parent: ledger.parentOf[order.clientOrderId], symbol: order.symbol, side: order.side,
                        style: style, type: order.type, status: order.status, price: order.price,
                        quantity: order.origQty, executed: order.executedQty, arrivalMid: order.arrivalMid))
            }
        }
        out.tradedNotional = notional.rounded(scale: 2, .halfEven)
        out.slippageQuote = slippage.rounded(scale: 2, .halfEven)
        out.slippageBps = notional.isPositive ? Self.round(slippage.doubleValue / notional.doubleValue * 10_000) : nil
        out.feesQuote = fees.rounded(scale: 2, .halfEven)
        var shortfall = ExactDecimal.zero
        var decisionNotional = ExactDecimal.zero
        for (index, parent) in ledger.parents.enumerated() {
            let mDec = mids[parent.check][parent.asset]!
            let mEnd = mids[min(parent.check + 1, mids.count - 1)][parent.asset]!
            let s = ExactDecimal(parent.side.sign)
            let unfilled = max(.zero, parent.quantity - (filled[index] ?? .zero))
            shortfall += (executionCost[index] ?? .zero) + s * (mEnd - mDec) * unfilled
            decisionNotional += parent.quantity * mDec
        }
        out.shortfallQuote = shortfall.rounded(scale: 2, .halfEven)
        out.shortfallBps =
            decisionNotional.isPositive
            ? Self.round(shortfall.doubleValue / decisionNotional.doubleValue * 10_000) : nil
        let end = mids.last!
        let held = world.holdings()
        let actual = settings.targets.keys.map { (held[$0] ?? .zero) * end[$0]! }.reduce(ExactDecimal.zero, +)
        let paperValue = settings.targets.keys.map { (paper[$0] ?? 0) * end[$0]!.doubleValue }.reduce(0, +)
        out.paperShortfallQuote = Self.round(paperValue - actual.doubleValue, places: 2)
        out.paperShortfallBps = Self.round(
            (paperValue - actual.doubleValue) / settings.portfolioValue.doubleValue * 10_000)
        out.maxDriftPercent = Self.round((drift.map(\.max).max() ?? 0) * 100)
        out.meanDriftPercent = Self.round(drift.isEmpty ? 0 : drift.map(\.max).reduce(0, +) / Double(drift.count) * 100)
        out.trackingErrorPercent = Self.round(
            drift.isEmpty ? 0 : (drift.map(\.squares).reduce(0, +) / Double(drift.count)).squareRoot() * 100)
        out.meanBandPercent =
            ledger.bands.isEmpty ? nil : Self.round(ledger.bands.reduce(0, +) / Double(ledger.bands.count) * 100)
        out.styles = Dictionary(
            uniqueKeysWithValues: styles.map { style, line in
                (
                    style,
                    StyleOutcome(
                        orders: line.orders, notional: line.notional.rounded(scale: 2, .halfEven),
                        estimateBps: line.notional.isPositive && style != "market"
                            ? Self.round(line.estimate / line.notional.doubleValue) : nil,
                        realisedBps: line.notional.isPositive
                            ? Self.round((line.slippage + line.fees).doubleValue / line.notional.doubleValue * 10_000)
                            : nil)
                )
            })
        out.drift = drift.map { DriftPoint(time: $0.time, maxPercent: $0.max * 100) }
        return out
    }

    /// Rounded to `places` decimals, so a result prints and encodes the same every time.
    static func round(_ x: Double, places: Int = 4) -> Double {
        let scale = pow(10.0, Double(places))
        return (x * scale).rounded() / scale
    }
}
