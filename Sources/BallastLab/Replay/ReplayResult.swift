public import BallastCore
public import Foundation

/// A replay's figures: the settings it ran with and each policy's outcome, by policy name.
public struct ReplayResult: Sendable, Codable {
    public var path: String
    public var seed: UInt64
    public var venues: Int
    public var seconds: Double
    public var checks: Int
    public var checkEverySeconds: Double
    public var stepSeconds: Double
    public var portfolioValue: ExactDecimal
    public var orderFaultRate: Double
    public var policies: [String: PolicyOutcome]

    /// The result as JSON: keys sorted, so the same result gives the same bytes.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}

/// One policy's figures (see `ReplayMeasure` for each definition).
public struct PolicyOutcome: Sendable, Codable {
    public var rebalances = 0
    public var orders = 0
    public var deferred = 0
    public var tradedNotional = ExactDecimal.zero
    /// Arrival slippage in bps of traded notional (nil: nothing traded).
    public var slippageBps: Double?
    public var slippageQuote = ExactDecimal.zero
    public var feesQuote = ExactDecimal.zero
    /// Perold shortfall with the opportunity cost of unfilled parent quantity.
    public var shortfallQuote = ExactDecimal.zero
    public var shortfallBps: Double?
    /// Against the paper portfolio (kept on target for free): charges drift left untraded.
    public var paperShortfallQuote = 0.0
    public var paperShortfallBps = 0.0
    public var rateLimited = 0
    public var bans = 0
    public var duplicates = 0
    public var maxDriftPercent = 0.0
    public var meanDriftPercent = 0.0
    public var trackingErrorPercent = 0.0
    /// The policy's mean band half-width (ballast policies).
    public var meanBandPercent: Double?
    /// Router estimate against outcome, per order style.
    public var styles: [String: StyleOutcome] = [:]
    /// Portfolio drift at every check (for the workbook; left out of the JSON).
    public var drift: [DriftPoint] = []
    /// Every order at the policy's venues (for the workbook; left out of the JSON).
    public var orderLines: [OrderLine] = []

    enum CodingKeys: String, CodingKey {
        case rebalances, orders, deferred, tradedNotional, slippageBps, slippageQuote, feesQuote, shortfallQuote
        case shortfallBps, paperShortfallQuote, paperShortfallBps, rateLimited, bans, duplicates, maxDriftPercent
        case meanDriftPercent, trackingErrorPercent, meanBandPercent, styles
    }
}

/// What the router expected of one order style and what the orders of that style cost.
public struct StyleOutcome: Sendable, Codable {
    public var orders: Int
    public var notional: ExactDecimal
    /// Notional-weighted router estimate (bps), where the router made one.
    public var estimateBps: Double?
    /// Arrival slippage + fees, bps of the style's traded notional.
    public var realisedBps: Double?
}

/// One order as the venue holds it, with the parent it served.
public struct OrderLine: Sendable, Codable {
    public var venue: String
    public var acceptedAt: Date
    public var clientOrderId: String
    public var parent: Int?
    public var symbol: String
    public var side: String
    public var style: String
    public var type: String
    public var status: String
    public var price: ExactDecimal
    public var quantity: ExactDecimal
    public var executed: ExactDecimal
    public var arrivalMid: ExactDecimal
}

/// Portfolio drift at one check.
public struct DriftPoint: Sendable, Codable {
    public var time: Date
    public var maxPercent: Double
}

extension ReplayResult {
    /// The figures as a text table, one column per policy in `order`.
    public func table(order: [String]) -> String {
        let names = order.filter { policies[$0] != nil }
        func money(_ x: ExactDecimal) -> String { x.rounded(scale: 2, .halfEven).plainString }
        func number(_ x: Double?, _ places: Int = 2) -> String { x.map { String(format: "%.\(places)f", $0) } ?? "–" }
        let rows: [(String, (PolicyOutcome) -> String)] = [
            ("rebalances", { String($0.rebalances) }),
            ("orders at the venues", { String($0.orders) }),
            ("parents deferred", { String($0.deferred) }),
            ("traded notional (USDT)", { money($0.tradedNotional) }),
            ("arrival slippage (bps)", { number($0.slippageBps) }),
            ("arrival slippage (USDT)", { money($0.slippageQuote) }),
            ("fees (USDT)", { money($0.feesQuote) }),
            ("shortfall, Perold (USDT)", { money($0.shortfallQuote) }),
            ("shortfall, Perold (bps)", { number($0.shortfallBps) }),
            ("shortfall vs paper (USDT)", { number($0.paperShortfallQuote) }),
            ("shortfall vs paper (bps)", { number($0.paperShortfallBps) }),
            ("rate-limit errors", { String($0.rateLimited) }),
            ("bans", { String($0.bans) }),
            ("duplicate orders", { String($0.duplicates) }),
            ("max |drift| (%)", { number($0.maxDriftPercent) }),
            ("mean |drift| (%)", { number($0.meanDriftPercent) }),
            ("tracking error (%)", { number($0.trackingErrorPercent) }),
            ("mean band (%)", { number($0.meanBandPercent) }),
        ]
        var lines = [[String]]()
        lines.append(["\(path), seed \(seed)"] + names)
        for (label, value) in rows { lines.append([label] + names.map { value(policies[$0]!) }) }
        let styles = Set(names.flatMap { policies[$0]!.styles.keys }).sorted()
        for style in styles {
            lines.append(
                ["\(style): est / real (bps)"]
                    + names.map { name in
                        guard let line = policies[name]!.styles[style] else { return "–" }
                        return "\(number(line.estimateBps, 1)) / \(number(line.realisedBps, 1))"
                    })
        }
        let widths = (0..<lines[0].count).map { column in lines.map { $0[column].count }.max()! }
        return lines.map { line in
            line.enumerated().map { column, cell in
                column == 0
                    ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
