import BallastCore
import BallastTesting
import Foundation
import Postgres
import Simulator
import Testing

/// `ballast pull` run as an operator runs it, against simulated venues over
/// loopback HTTP and a real PostgreSQL.
struct PullScenario {
    let simulator: Simulator
    let databaseURL: String
    let jobPath: String
    let environment: [String: String]

    /// One venue `sim-p` holding `trades` historical BTCUSDT trades for its account.
    init(
        trades: Int, latency: LatencyProfile = LatencyProfile(baseMs: 0, jitterMs: 0), limits: LimitConfig = .init(),
        clock: any TimeSource = SystemTime(), margin: String = "0.1", dialect: SimDialect = .binanceSpot
    ) throws {
        var venue = VenueConfig(name: "sim-p", dialect: dialect)
        venue.latency = latency
        venue.limits = limits
        venue.accounts = [
            dialect == .coinbaseAdvanced
                ? AccountConfig.coinbaseDemo(venue: "sim-p") : AccountConfig.demo(venue: "sim-p")
        ]
        var tier = ""
        if dialect == .krakenSpot {
            venue.accounts[0].secret = Data(venue.accounts[0].secret.utf8).base64EncodedString()
            // A fast tier on both sides (the job file says which tier the account has), so the test
            // measures resuming, not the starter tier's waits.
            venue.limits.callCounterMax = 60
            venue.limits.callCounterDecayPerSecond = 20
            tier = "call_counter_max = 60\ncall_counter_decay_per_s = 20"
        }
        simulator = try Simulator(config: SimulatorConfig(seed: 3, venues: [venue]), clock: clock)
        if trades > 0 {
            try simulator.venues[0].seedTrades(apiKey: venue.accounts[0].apiKey, symbol: "BTCUSDT", count: trades)
        }
        databaseURL = try TestDatabase.migrated()
        jobPath = FileManager.default.temporaryDirectory.appendingPathComponent("pull-\(UUID()).toml").path
        let job = """
            [[venues]]
            id = "sim-p"
            dialect = "\(dialect.rawValue)"
            base_url = "\(simulator.venues[0].baseURL)"
            symbols = ["BTCUSDT", "ETHUSDT"]
            rate_limit_margin = \(margin)
            \(tier)

            [[accounts]]
            id = "sim-p-main"
            venue = "sim-p"
            api_key_env = "SIM_P_KEY"
            api_secret_env = "SIM_P_SECRET"
            """
        try job.write(toFile: jobPath, atomically: true, encoding: .utf8)
        environment = [
            "BALLAST_DATABASE_URL": databaseURL, "SIM_P_KEY": venue.accounts[0].apiKey,
            "SIM_P_SECRET": venue.accounts[0].secret,
        ]
    }

    var venue: SimulatedVenue { simulator.venues[0] }

    func pull() throws -> BallastBinary.Outcome {
        try BallastBinary.run(["pull", "--job", jobPath], environment: environment)
    }

    /// A `ballast pull` process, not waited for.
    /// Starts `ballast pull`; what it writes to stderr goes to `errors` when given (for a failure's message).
    func startPull(errors: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = BallastBinary.url
        process.arguments = ["pull", "--job", jobPath, "--log-level", "warning"]
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        if let errors {
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    func count(_ sql: String) throws -> Int {
        let connection = try TestDatabase.connect(databaseURL)
        defer { connection.close() }
        return try connection.query(Query(unsafeSQL: sql)).first!.decode("n", as: Int.self)
    }

    /// Row counts of what a pull stores.
    func tableCounts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for table in [
            "fills", "balance_snapshots", "balances", "book_tickers", "depth_snapshots", "venue_orders", "symbols",
        ] {
            out[table] = try count("SELECT count(*) AS n FROM \(table)")
        }
        return out
    }

    func stop() {
        simulator.stop()
        try? FileManager.default.removeItem(atPath: jobPath)
    }
}

@Suite(.serialized) struct PullSimulatorTests {
    @Test func pullingTwiceStoresTheSameRows() throws {
        // The venue's clock stands still: a second pull sees exactly what the first saw.
        let scenario = try PullScenario(trades: 2_500, clock: VirtualTime(Date()))
        defer { scenario.stop() }
        let first = try scenario.pull()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("2500/2500"))
        let counts = try scenario.tableCounts()
        #expect(counts["fills"] == 2_500)
        #expect(counts["book_tickers"] == 2 && counts["depth_snapshots"] == 2 && counts["balance_snapshots"] == 1)
        let second = try scenario.pull()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("0/0"))
        #expect(try scenario.tableCounts() == counts)
        // Every attempt is stored with its timings; the secret is nowhere.
        #expect(try scenario.count("SELECT count(*) AS n FROM http_attempts WHERE total_ms IS NULL") == 0)
        #expect(!first.stderr.contains("demo-secret") && !first.stdout.contains("demo-secret"))
    }

    /// Kraken reads trades newest first, 50 a page by offset: a second pull stores nothing new.
    @Test func aKrakenPullTwiceStoresTheSameRows() throws {
        let scenario = try PullScenario(trades: 230, clock: VirtualTime(Date()), dialect: .krakenSpot)
        defer { scenario.stop() }
        let first = try scenario.pull()
        #expect(first.status == 0, "\(first.stderr)")
        let counts = try scenario.tableCounts()
        #expect(counts["fills"] == 230 && counts["symbols"] == 5)
        #expect(
            try scenario.count("SELECT count(*) AS n FROM fills WHERE trade_id LIKE 'T%' AND order_id LIKE 'O%'") == 230
        )
        #expect(try scenario.count("SELECT count(*) AS n FROM fill_cursors WHERE symbol = '*'") == 1)
        let second = try scenario.pull()
        #expect(second.status == 0, "\(second.stderr)")
        let again = try scenario.tableCounts()
        for table in ["fills", "symbols", "venue_orders", "book_tickers", "depth_snapshots"] {
            #expect(again[table] == counts[table], "\(table)")
        }
        // Kraken reports no time of the account's last change, so each pull keeps its own snapshot.
        #expect(again["balance_snapshots"] == 2 && again["balances"] == 2 * counts["balances"]!)
        #expect(scenario.venue.statistics.byEndpoint["POST /0/private/TradesHistory"] ?? 0 >= 6)
    }

    /// A Kraken pull killed part-way through the account's history resumes at its offset.
    @Test func aKrakenPullKilledHalfwayResumesFromItsCursor() async throws {
        let total = 3_000
        let scenario = try PullScenario(
            trades: total, latency: LatencyProfile(baseMs: 40, jitterMs: 5), dialect: .krakenSpot)
        defer { scenario.stop() }
        let process = try scenario.startPull()
        var stored = 0
        let deadline = Date().addingTimeInterval(30)
        while stored < 400 && Date() < deadline && process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
            stored = try scenario.count("SELECT count(*) AS n FROM fills")
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let afterKill = try scenario.count("SELECT count(*) AS n FROM fills")
        #expect(afterKill >= 400 && afterKill < total, "killed with \(afterKill) fills stored")
        let pagesBefore = scenario.venue.statistics.byEndpoint["POST /0/private/TradesHistory"] ?? 0
        let rerun = try scenario.pull()
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == total)
        #expect(try scenario.count("SELECT count(DISTINCT trade_id) AS n FROM fills") == total)
        // The rerun read on from the stored offset, not from the newest trade again.
        let pagesAfter = scenario.venue.statistics.byEndpoint["POST /0/private/TradesHistory"] ?? 0
        #expect(pagesAfter - pagesBefore <= (total - afterKill) / 50 + 3, "\(pagesAfter - pagesBefore) pages")
    }

    /// Coinbase pages fills by its own cursor, account-wide: a second pull stores nothing new.
    @Test func aCoinbasePullTwiceStoresTheSameRows() throws {
        // The venue's clock runs (a JWT is checked against it), so each pull observes the market anew:
        // book and depth snapshots are new rows, history is not.
        let scenario = try PullScenario(trades: 2_300, dialect: .coinbaseAdvanced)
        defer { scenario.stop() }
        let first = try scenario.pull()
        #expect(first.status == 0, "\(first.stderr)")
        let counts = try scenario.tableCounts()
        #expect(counts["fills"] == 2_300 && counts["symbols"] == 5)
        #expect(try scenario.count("SELECT count(*) AS n FROM fills WHERE commission_asset = 'USDT'") == 2_300)
        #expect(try scenario.count("SELECT count(*) AS n FROM fill_cursors WHERE symbol = '*'") == 1)
        let second = try scenario.pull()
        #expect(second.status == 0, "\(second.stderr)")
        let again = try scenario.tableCounts()
        for table in ["fills", "symbols", "venue_orders"] {
            #expect(again[table] == counts[table], "\(table)")
        }
        // 2,300 fills in pages of 1,000 (3), then the second pull's one page from its stored start.
        let pages = scenario.venue.statistics.byEndpoint["GET /api/v3/brokerage/orders/historical/fills"] ?? 0
        #expect(pages == 4, "\(pages) fill pages")
    }

    /// A Coinbase pull killed part-way through the account's history resumes at its page cursor.
    @Test func aCoinbasePullKilledHalfwayResumesFromItsCursor() async throws {
        // 20 pages of 1,000 at about 250 ms each: slow enough that a loaded machine still kills it part-way.
        let total = 20_000
        let scenario = try PullScenario(
            trades: total, latency: LatencyProfile(baseMs: 250, jitterMs: 5), dialect: .coinbaseAdvanced)
        defer { scenario.stop() }
        let process = try scenario.startPull()
        var stored = 0
        let deadline = Date().addingTimeInterval(30)
        while stored < 1_000 && Date() < deadline && process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
            stored = try scenario.count("SELECT count(*) AS n FROM fills")
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let afterKill = try scenario.count("SELECT count(*) AS n FROM fills")
        #expect(afterKill >= 1_000 && afterKill < total, "killed with \(afterKill) fills stored")
        let endpoint = "GET /api/v3/brokerage/orders/historical/fills"
        let pagesBefore = scenario.venue.statistics.byEndpoint[endpoint] ?? 0
        let rerun = try scenario.pull()
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == total)
        #expect(try scenario.count("SELECT count(DISTINCT trade_id) AS n FROM fills") == total)
        // The rerun read on from the stored page cursor, not from the first page again.
        let pagesAfter = scenario.venue.statistics.byEndpoint[endpoint] ?? 0
        #expect(pagesAfter - pagesBefore <= (total - afterKill) / 1_000 + 2, "\(pagesAfter - pagesBefore) pages")
    }

    @Test func aPullKilledHalfwayResumesFromItsCursor() async throws {
        let total = 60_000
        // Slow enough pages (60 pages, about 60 ms each) that a loaded machine still kills it part-way.
        let scenario = try PullScenario(trades: total, latency: LatencyProfile(baseMs: 60, jitterMs: 10))
        defer { scenario.stop() }
        let process = try scenario.startPull()
        var stored = 0
        let deadline = Date().addingTimeInterval(20)
        while stored < 5_000 && Date() < deadline && process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
            stored = try scenario.count("SELECT count(*) AS n FROM fills")
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let afterKill = try scenario.count("SELECT count(*) AS n FROM fills")
        #expect(afterKill >= 5_000 && afterKill < total, "killed with \(afterKill) fills stored")
        let pagesBefore = scenario.venue.statistics.byEndpoint["GET /api/v3/myTrades"] ?? 0

        let rerun = try scenario.pull()
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == total)
        #expect(try scenario.count("SELECT count(DISTINCT trade_id) AS n FROM fills") == total)
        #expect(try scenario.count("SELECT max(trade_id::bigint) - min(trade_id::bigint) + 1 AS n FROM fills") == total)
        // The rerun started from the stored cursor, not from the beginning.
        let pagesAfter = scenario.venue.statistics.byEndpoint["GET /api/v3/myTrades"] ?? 0
        #expect(pagesAfter - pagesBefore <= (total - afterKill) / 1000 + 3)
    }

    @Test func twoProcessesSharingAKeyStayUnderTheWeightLimit() async throws {
        // 600 weight a minute at the venue, 10 % kept free: 540 for Ballast.
        // Each pull needs about 300 (12 pages of trades at 20, plus the rest), so
        // together they must wait for the next minute rather than exceed it.
        let scenario = try PullScenario(trades: 12_000, limits: LimitConfig(requestWeightPerMinute: 600))
        defer { scenario.stop() }
        let logs = (0..<2).map {
            FileManager.default.temporaryDirectory.appendingPathComponent("pull-\($0)-\(UUID()).log")
        }
        defer { for log in logs { try? FileManager.default.removeItem(at: log) } }
        let a = try scenario.startPull(errors: logs[0])
        let b = try scenario.startPull(errors: logs[1])
        a.waitUntilExit()
        b.waitUntilExit()
        let said = logs.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n")
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(said)")
        let stats = scenario.venue.statistics
        #expect(stats.rateLimited == 0)
        #expect(stats.maxWeightPerMinute <= 540, "venue saw \(stats.maxWeightPerMinute) weight in one minute")
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == 12_000)
        #expect(try scenario.count("SELECT count(*) AS n FROM throttle_events WHERE decision = 'waited'") >= 1)
    }

    @Test func aGarbageResponseFailsTheVenueAndWritesNoPartialPage() throws {
        let scenario = try PullScenario(trades: 3_500)
        defer { scenario.stop() }
        // The third page of trades comes back as truncated JSON.
        scenario.venue.addFault(FaultRule(kind: .malformed, path: "/api/v3/myTrades", after: 2, count: 1))
        let outcome = try scenario.pull()
        #expect(outcome.status == 69)
        #expect(outcome.stdout.contains("FAILED"))
        #expect(outcome.stderr.contains("unexpected response"))
        // Whole pages only: the two good pages, nothing of the bad one.
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == 2_000)
        // The raw payload is kept for the audit trail.
        #expect(
            try scenario.count(
                "SELECT count(*) AS n FROM http_attempts WHERE outcome = 'malformed' AND error LIKE '%body: [{\"symbol\"%'"
            )
                == 1)
        let rerun = try scenario.pull()
        #expect(rerun.status == 0)
        #expect(try scenario.count("SELECT count(*) AS n FROM fills") == 3_500)
    }
}
