import BallastCore
import Foundation
import Venues

/// What a policy does at each check.
protocol ReplayPolicy: AnyObject {
    var kind: ReplayPolicyKind { get }
    /// Looks at the portfolio at check `index` (virtual time `now`) and trades as the policy says.
    func check(_ index: Int, at now: Date, ledger: ReplayLedger) async
}

/// The baseline the claim is about, written as a person would write a cron bot: every check
/// it reads its one venue's balances and tickers; if any asset's weight is more than 5
/// percentage points off target, it sends MARKET orders taking every asset back to target
/// (sells first, quantities rounded down to the lot step, buys capped by the cash it has),
/// and retries any failed order at once with the same client order id. No bands, no routing,
/// no lookup before a resend, no rate-limit care beyond what the venue client does itself.
final class NaiveCronPolicy: ReplayPolicy {
    let kind = ReplayPolicyKind.naiveCron
    let client: BinanceSpotClient
    let targets: [String: ExactDecimal]
    let quote: String
    /// The drift that triggers a rebalance.
    static let threshold = 0.05
    /// Tries per order (the first and four immediate retries).
    static let tries = 5
    private var rules: [String: SymbolRules] = [:]

    init(client: BinanceSpotClient, targets: [String: ExactDecimal], quote: String) {
        self.client = client
        self.targets = targets
        self.quote = quote
    }

    func check(_ index: Int, at now: Date, ledger: ReplayLedger) async {
        let symbols = targets.keys.filter { $0 != quote }.sorted().map { TradingPair.symbol(base: $0, quote: quote) }
        guard let (balances, tickers) = try? await read(symbols) else { return }
        var mids: [String: ExactDecimal] = [quote: .one]
        for ticker in tickers { mids[String(ticker.symbol.dropLast(quote.count))] = ticker.mid }
        let held = Dictionary(balances.map { ($0.asset, $0.total) }, uniquingKeysWith: +)
        let value = targets.keys.map { (held[$0] ?? .zero) * (mids[$0] ?? .zero) }.reduce(ExactDecimal.zero, +)
        guard value.isPositive else { return }
        let drift = targets.map { asset, target in
            (asset, ((held[asset] ?? .zero) * (mids[asset] ?? .zero)).divided(by: value, scale: 12)! - target)
        }
        guard drift.contains(where: { $0.0 != quote && abs($0.1.doubleValue) > Self.threshold }) else { return }
        ledger.rebalances += 1
        var orders: [(asset: String, side: Side, qty: ExactDecimal)] = []
        for asset in targets.keys.sorted() where asset != quote {
            guard let mid = mids[asset], let rule = rules[TradingPair.symbol(base: asset, quote: quote)] else {
                continue
            }
            let gap = targets[asset]! * value - (held[asset] ?? .zero) * mid
            let qty = rule.floorQuantity(gap.magnitude.divided(by: mid, scale: 12, .down)!)
            orders.append((asset, gap.isNegative ? .sell : .buy, qty))
        }
        orders.sort { ($0.side == .sell ? 0 : 1, $0.asset) < ($1.side == .sell ? 0 : 1, $1.asset) }
        for (asset, side, wanted) in orders {
            let symbol = TradingPair.symbol(base: asset, quote: quote)
            let rule = rules[symbol]!
            var qty = wanted
            if side == .buy, let ticker = tickers.first(where: { $0.symbol == symbol }),
                let cash = try? await client.account().balances.first(where: { $0.asset == quote })?.free
            {
                // Leave room for the walk up the book: spend at most 98 % of the cash at the ask.
                let affordable = (cash * ExactDecimal("0.98")!).divided(by: ticker.askPrice, scale: 12, .down)!
                qty = min(qty, rule.floorQuantity(affordable))
            }
            guard qty >= rule.minQty, qty * (mids[asset] ?? .zero) >= rule.minNotional else { continue }
            let parent = ledger.parent(check: index, asset: asset, side: side, quantity: qty)
            let id = "nc-\(index)-\(asset)"
            ledger.order(id, parent: parent, estimate: nil)
            for _ in 0..<Self.tries {
                let order = NewOrder(
                    symbol: symbol, side: side, type: .market, timeInForce: nil, quantity: qty, price: nil,
                    clientOrderId: id)
                if (try? await client.placeOrder(order)) != nil { break }
            }
        }
    }

    /// Balances and tickers (and the symbols' rules, the first time), each read retried at once on failure.
    private func read(_ symbols: [String]) async throws -> ([Balance], [BookTicker]) {
        if rules.isEmpty {
            let info = try await retried { try await self.client.exchangeInfo() }
            for rule in info.symbols where symbols.contains(rule.pair.symbol) { rules[rule.pair.symbol] = rule }
        }
        let account = try await retried { try await self.client.account() }
        let tickers = try await retried { try await self.client.bookTickers(symbols) }
        return (account.balances, tickers)
    }

    private func retried<T>(_ call: () async throws -> T) async throws -> T {
        var last: (any Error)?
        for _ in 0..<Self.tries {
            do { return try await call() } catch { last = error }
        }
        throw last!
    }
}
