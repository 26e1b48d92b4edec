import ArgumentParser
import BallastCore
import BallastKit
import Foundation

/// `ballast propose`: drift against bands → sized, routed child orders in a batch.
struct ProposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Propose a batch of orders for each portfolio whose drift exceeds its band. Sends nothing.",
        discussion: """
            Reads the latest stored snapshots (run `ballast pull` first). Each portfolio's bands scale with its \
            assets' realised volatility: half-width = k·(c·σ²)^⅓ clamped to [min, max] (Davis–Norman / Leland \
            no-trade region). Trades are routed across the allowed venues by route cost (half-spread, depth \
            impact, fee, latency risk from p95 ack latency, health penalty) and split at equal marginal cost. \
            The batch, its orders and one hash-chained decision record per order are stored together; a batch \
            whose notional is under the portfolio's approval_cap is approved at once. --dry-run prints the \
            same proposal and stores nothing.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The job file (TOML).", valueName: "file"))
    var job: String

    @Option(name: .long, help: ArgumentHelp("Only this portfolio (repeatable).", valueName: "id"))
    var portfolio: [String] = []

    @Flag(help: "Print the proposal; store nothing.")
    var dryRun = false

    func run() async throws {
        try await global.run("propose") { logger in
            let config = try JobConfig.load(path: job)
            let connection = try global.connect(logger)
            defer { connection.close() }
            try Schema.requireCurrent(connection)
            let run = dryRun ? nil : try JobRun.start("propose", configHash: config.fingerprint, on: connection)
            let proposals: [Propose.Proposal]
            do {
                proposals = try Propose(connection: connection, logger: logger).run(
                    config: config, only: portfolio, runID: run?.id, dryRun: dryRun)
                try run?.finish(on: connection)
            } catch {
                run?.finish(on: connection, failedWith: error, logger: logger)
                throw error
            }
            for proposal in proposals { print(ProposalText.render(proposal, dryRun: dryRun)) }
        }
    }
}

/// The proposal as a person reads it: drift against bands, then each parent's candidates and split.
enum ProposalText {
    static func render(_ p: Propose.Proposal, dryRun: Bool) -> String {
        var out = "portfolio \(p.portfolio) (\(p.quote))"
        if let held = p.held {
            out += ": held, \(held)"
        } else if let batch = p.batchID {
            out += ": batch \(batch) \(p.status ?? "")"
        } else if p.routes.isEmpty {
            out += ": within bands, nothing to trade"
        } else if dryRun {
            out += ": dry run, nothing stored"
        }
        out += "\n  asset   drift(pp)  band(pp)  σ(/√yr)  basis\n"
        for asset in p.inputs.bands.keys.sorted() {
            let drift = (p.plan.drift[asset] ?? 0) * 100
            let band = (p.inputs.bands[asset] ?? 0) * 100
            let sigma = p.inputs.volatility[asset].map { String(format: "%.3f", $0) } ?? "  -  "
            let mark = p.plan.breached.contains(asset) ? " *" : ""
            out += "  " + asset.padding(toLength: 6, withPad: " ", startingAt: 0)
            out += String(format: "  %+8.3f  %8.3f  ", drift, band) + sigma + "  " + (p.inputs.bandBasis[asset] ?? "")
            out += mark + "\n"
        }
        for note in p.plan.notes { out += "  note: \(note)\n" }
        for route in p.routes {
            let t = route.parent
            out += "  \(t.side.rawValue) \(t.quantity) \(t.asset) @ mid \(t.decisionMid): \(t.reason)\n"
            for c in route.candidates {
                out += String(
                    format:
                        "    %@ %@ %@: half-spread %.2f + impact %.2f + fee %.2f + latency %.2f + health %.2f = %.2f bps",
                    c.venue, c.symbol, c.style.rawValue, c.halfSpreadBps, c.impactBps, c.feeBps, c.latencyBps,
                    c.healthBps, c.totalBps)
                out += (c.excluded.map { " — excluded: \($0)" } ?? "") + "\n"
            }
            if let deferred = route.deferred { out += "    DEFERRED: \(deferred)\n" }
            for child in route.children {
                out += "    → \(child.venue) \(child.side.rawValue) \(child.quantity) \(child.symbol) "
                out += "\(child.orderType.rawValue)\(child.timeInForce.map { " " + $0.rawValue } ?? "") "
                out += "limit \(child.limitPrice) (\(child.style.rawValue), "
                out += String(format: "%.2f bps)\n", child.cost.totalBps)
            }
            out += "    why: \(route.reason)\n"
        }
        if !p.clientOrderIDs.isEmpty { out += "  orders: \(p.clientOrderIDs.joined(separator: ", "))\n" }
        if p.batchID != nil { out += "  notional: \(p.notional) \(p.quote)\n" }
        if !p.superseded.isEmpty {
            let list = p.superseded.map(String.init).joined(separator: ", ")
            out +=
                "  superseded: batch \(list) (never sent; execute and approve now refuse \(p.superseded.count == 1 ? "it" : "them"))\n"
        }
        return out
    }
}
