public import BallastCore
import Foundation
import LoopbackHTTP

/// Every simulated venue of one configuration, started together.
public final class Simulator: Sendable {
    public let venues: [SimulatedVenue]

    /// Starts each venue on its own port. Venue `i` draws from `seed` mixed with `i`,
    /// so venues differ but a run repeats exactly for the same seed.
    /// With `latencyMovesClock` (replays, on a `VirtualTime`), latency is virtual time passing
    /// rather than a wait: see `SimulatedVenue.init(config:seed:clock:latencyMovesClock:)`.
    public init(config: SimulatorConfig, clock: any TimeSource = SystemTime(), latencyMovesClock: Bool = false)
        throws(SimulatorError)
    {
        try config.validate()
        var started: [SimulatedVenue] = []
        do {
            for (i, venue) in config.venues.enumerated() {
                let seed = config.seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15
                started.append(
                    try SimulatedVenue(config: venue, seed: seed, clock: clock, latencyMovesClock: latencyMovesClock))
            }
        } catch {
            for venue in started { venue.stop() }
            throw error
        }
        venues = started
    }

    /// The venue called `name`.
    public func venue(_ name: String) -> SimulatedVenue? { venues.first { $0.name == name } }

    /// Stops every venue.
    public func stop() {
        for venue in venues { venue.stop() }
    }
}

extension SimulatedVenue {
    /// The `/sim/...` control endpoints: statistics, faults, orders, balances,
    /// seeded history and clock skew. They bypass limits, faults and latency.
    func control(_ request: ServerRequest) -> ServerAction {
        let params = RequestParams(request)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func ok(_ value: some Encodable) -> ServerAction {
            guard let data = try? encoder.encode(value) else { return .respond(.json(500, "{}")) }
            return .respond(.json(200, String(decoding: data, as: UTF8.self)))
        }
        func bad(_ why: String) -> ServerAction { .respond(.json(400, JSONText.error(-1, why))) }
        let apiKey = params["apiKey"] ?? config.accounts.first?.apiKey ?? ""
        switch (request.method, request.path) {
        case ("GET", "/sim/stats"): return ok(statistics)
        case ("GET", "/sim/orders"): return ok(orders(apiKey: apiKey))
        case ("GET", "/sim/balances"): return ok(balances(apiKey: apiKey))
        case ("GET", "/sim/trades"): return ok(trades(apiKey: apiKey))
        case ("POST", "/sim/faults"):
            guard let rules = try? JSONDecoder().decode([FaultRule].self, from: Data(request.body)) else {
                return bad("expected a JSON array of fault rules")
            }
            for rule in rules { addFault(rule) }
            return ok(["added": rules.count])
        case ("DELETE", "/sim/faults"):
            clearFaults()
            return ok(["cleared": true])
        case ("POST", "/sim/seed-trades"):
            guard let symbol = params["symbol"], let count = Int(params["count"] ?? ""), count > 0 else {
                return bad("symbol and a positive count are required")
            }
            do throws(SimulatorError) {
                try seedTrades(apiKey: apiKey, symbol: symbol, count: count)
            } catch { return bad(error.description) }
            return ok(["seeded": count])
        case ("POST", "/sim/skew"):
            guard let ms = Int(params["ms"] ?? "") else { return bad("ms is required") }
            setClockSkew(milliseconds: ms)
            return ok(["skewMs": ms])
        default:
            return .respond(
                .json(404, JSONText.error(-1, "unknown control endpoint \(request.method) \(request.path)")))
        }
    }
}
