import ArgumentParser
import BallastKit
import Foundation
import Simulator

/// `ballast sim`: simulated venues on loopback until interrupted.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run simulated Binance-Spot-dialect venues on 127.0.0.1 until interrupted.",
        discussion: """
            Prints one JSON line per venue: {"venue", "baseURL", "accounts": [{"apiKey", "secret"}]} — demo \
            credentials, not secrets. A venue given tls_certificate and tls_private_key in --config serves \
            HTTPS: its baseURL starts https://. Without --config, runs --venues demo venues (sim-a, sim-b, …) with \
            BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT and ETHBTC and one funded account each.

            Control endpoints on every venue (no auth, no limits): GET /sim/stats, /sim/orders, /sim/balances, \
            /sim/trades; POST /sim/faults (JSON array of rules), DELETE /sim/faults; \
            POST /sim/seed-trades?symbol=S&count=N; POST /sim/skew?ms=N.
            """)

    @Option(name: .long, help: ArgumentHelp("A simulator file (TOML): seed and [[venues]].", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Demo venues to run when no --config is given.")
    var venues: Int = 3

    @Option(name: .long, help: "Seed of every random draw (prices, latency, faults).")
    var seed: Int = 1

    @Option(name: .long, help: "Port of the first venue; the others follow. 0 picks free ports.")
    var port: Int = 0

    @Option(name: .long, help: "Historical trades to give each venue's first account on --symbol.")
    var seedTrades: Int = 0

    @Option(name: .long, help: "Symbol for --seed-trades.")
    var symbol: String = "BTCUSDT"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...26).contains(venues) else { throw ValidationError("--venues must be 1…26") }
        guard (0...65_000).contains(port) else { throw ValidationError("--port must be 0…65000") }
        guard seedTrades >= 0 else { throw ValidationError("--seed-trades must be ≥ 0") }
    }

    func run() async throws {
        try await global.run("sim") { logger in
            var settings =
                try config.map { try TOMLFile.decode(SimulatorConfig.self, path: $0) }
                ?? SimulatorConfig.demo(venues: venues, seed: UInt64(seed))
            if port > 0 {
                for i in settings.venues.indices { settings.venues[i].port = UInt16(port + i) }
            }
            let simulator: Simulator
            do throws(SimulatorError) {
                simulator = try Simulator(config: settings)
            } catch {
                throw BallastError.invalidInput(error.description)
            }
            defer { simulator.stop() }
            for venue in simulator.venues where seedTrades > 0 {
                guard let key = venue.config.accounts.first?.apiKey else { continue }
                do throws(SimulatorError) {
                    try venue.seedTrades(apiKey: key, symbol: symbol, count: seedTrades)
                } catch {
                    throw BallastError.invalidInput(error.description)
                }
            }
            // Written straight to the descriptor: a parent reading the lines must not wait on a buffer.
            let lines = simulator.venues.map { $0.announcement + "\n" }.joined()
            FileHandle.standardOutput.write(Data(lines.utf8))
            logger.info("simulator running with \(simulator.venues.count) venue(s); interrupt to stop")
            let signal = await Interrupt.wait()
            for venue in simulator.venues {
                let stats = venue.statistics
                logger.info(
                    "\(venue.name): \(stats.requests) requests, \(stats.ordersAccepted) orders, \(stats.rateLimited) rate-limited, \(stats.refusedWhileBanned) refused while banned"
                )
            }
            logger.info("stopped on \(signal)")
        }
    }
}

/// Waits for SIGINT or SIGTERM.
enum Interrupt {
    static func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "ballast.signals")
            let once = OnceFlag()
            var sources: [any DispatchSourceSignal] = []
            for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    if once.take() { continuation.resume(returning: name) }
                }
                source.resume()
                sources.append(source)
            }
            Keep.sources = sources
        }
    }

    /// Keeps the signal sources alive for the life of the process.
    private enum Keep {
        nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    }
}

/// True the first time only.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false
    func take() -> Bool {
        lock.withLock {
            defer { taken = true }
            return !taken
        }
    }
}
