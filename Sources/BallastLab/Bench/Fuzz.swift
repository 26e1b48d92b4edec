import BallastCore
import BallastKit
import CurlHTTP
import Foundation
import Postgres
import Simulator
import Synchronization
import Transport
import Venues

/// Feeds every decoder Ballast reads untrusted input with — the venue's JSON answers, OHLCV
/// files, job and simulator files, decimals and timestamps — seeded mutations of valid inputs,
/// and counts what each accepted and refused. A decoder must refuse garbage with an error, never
/// crash or hang; one that traps stops the run, which is the finding.
///
/// Seeds: the venue answers are recorded from a simulated venue over HTTP (real bodies);
/// the files are small valid examples. Mutations, drawn from the seed: flip a byte, delete a
/// span, duplicate a span, insert one of the characters parsers trip on (quotes, commas, braces,
/// signs, exponents, NUL, huge digit runs), or cut the text short.
public struct Fuzz: Sendable {
    /// One decoder's figures.
    public struct Outcome: Sendable {
        public var target: String
        public var cases: Int
        public var accepted: Int
        public var refused: Int
        public var seconds: Double
    }

    public let cases: Int
    public let seed: UInt64

    public init(cases: Int, seed: UInt64) {
        self.cases = cases
        self.seed = seed
    }

    /// Runs `cases` mutations per target; `progress` hears one line per target.
    public func run(progress: (String) -> Void = { _ in }) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for target in try await Self.targets() {
            var random = SeededRandom(seed: seed ^ target.name.utf8.reduce(0x51) { $0 &* 131 &+ UInt64($1) })
            let started = Date()
            var outcome = Outcome(target: target.name, cases: 0, accepted: 0, refused: 0, seconds: 0)
            for i in 0..<cases {
                let base = target.seeds[i % target.seeds.count]
                let input = i < target.seeds.count ? base : Self.mutate(base, &random)
                // With BALLAST_FUZZ_LAST set, each input is written there first: after a crash, it is the culprit.
                if let last = ProcessInfo.processInfo.environment["BALLAST_FUZZ_LAST"] {
                    try? Data(input.utf8).write(to: URL(fileURLWithPath: last))
                }
                if await target.decode(input) { outcome.accepted += 1 } else { outcome.refused += 1 }
                outcome.cases += 1
            }
            outcome.seconds = Date().timeIntervalSince(started)
            progress(
                "\(target.name): \(outcome.cases) cases, \(outcome.accepted) accepted, \(outcome.refused) refused")
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// A decoder under test: its valid seeds and whether it accepted an input (a throw or nil is a refusal).
    struct Target: Sendable {
        var name: String
        var seeds: [String]
        var decode: @Sendable (String) async -> Bool
    }

    /// Characters and fragments parsers trip on.
    static let hazards = [
        "\"", ",", "{", "}", "[", "]", ":", "-", "+", "e", "E", ".", "0", "9", "\n", "\r\n", "\u{0}", " ", "=", "#",
        "nan", "inf", "e999", "99999999999999999999999999999999999999", "-0", "1e-400", "\u{FEFF}", "é", "'", "\\",
    ]

    /// One seeded mutation of `text`.
    static func mutate(_ text: String, _ random: inout SeededRandom) -> String {
        var bytes = Array(text.utf8)
        let rounds = 1 + Int(random.next() % 3)
        for _ in 0..<rounds {
            let at = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1 << (random.next() % 8))
            case 1 where !bytes.isEmpty:
                let length = min(bytes.count - at, 1 + Int(random.next() % 16))
                bytes.removeSubrange(at..<(at + length))
            case 2 where !bytes.isEmpty:
                let length = min(bytes.count - at, 1 + Int(random.next() % 32))
                bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
            case 3: bytes.insert(contentsOf: Array(hazards[Int(random.next() % UInt64(hazards.count))].utf8), at: at)
            case 4: bytes = Array(bytes.prefix(at))
            default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Every target, with the venue answers recorded from a simulated venue.
    static func targets() async throws -> [Target] {
        var targets: [Target] = [
            Target(name: "exact-decimal", seeds: ["0", "1", "-0.00001000", "123456789.123456789", "42000.5"]) {
                ExactDecimal($0) != nil
            },
            Target(
                name: "timestamp", seeds: ["2026-11-30 12:00:00.123456+00", "2026-11-30T12:00:00Z", "2026-01-01"]
            ) { Timestamp.parse($0) != nil },
            Target(name: "ohlcv-csv", seeds: ohlcvSeeds()) { text in
                (try? OHLCVSeries(csv: text, source: "fuzz")) != nil
            },
            Target(name: "job-toml", seeds: [jobSeed]) { text in
                (try? TOMLFile.decode(JobConfig.self, text: text, source: "fuzz")) != nil
            },
            Target(name: "simulator-toml", seeds: [simulatorSeed]) { text in
                (try? TOMLFile.decode(SimulatorConfig.self, text: text, source: "fuzz")) != nil
            },
            Target(name: "report-template", seeds: [reportTemplateSeed]) { text in
                (try? TOMLFile.decode(ReportTemplate.self, text: text, source: "fuzz")) != nil
            },
            Target(name: "summary-template", seeds: [summaryTemplateSeed]) { text in
                (try? ReportTemplates.checkSummary(text, source: "fuzz")) != nil
            },
        ]
        targets += try await venueTargets()
        return targets
    }

    /// A sheet template with what templates use: a query with named parameters, typed and
    /// formatted columns, a chart.
    static let reportTemplateSeed = #"""
        sheet = "Routes"
        csv = "routes.csv"
        position = 10
        after_measure = true
        query = """
        SELECT venue_id, symbol, round(filled_notional, 2) AS filled_notional, slippage_bps_mean
        FROM route_measures WHERE run_id = :run ORDER BY filled_notional DESC
        """

        [[columns]]
        field = "venue_id"
        header = "Venue"
        width = 14

        [[columns]]
        field = "symbol"
        header = "Symbol"

        [[columns]]
        field = "filled_notional"
        header = "Filled notional"
        type = "decimal"
        format = "#,##0.00"

        [[columns]]
        field = "slippage_bps_mean"
        header = "Slippage (bps)"
        type = "decimal"
        format = "0.00"

        [chart]
        kind = "bar"
        title = "Slippage per route"
        categories = "venue_id"
        values = ["slippage_bps_mean"]
        """#

    /// A summary template with variables, sections, an inverted section and a pragma.
    static let summaryTemplateSeed = """
        {{% CONTENT_TYPE: TEXT}}
        # Ballast run {{run_id}}
        {{#empty}}**Nothing traded.**{{/empty}}{{^empty}}Fills: {{ballast_fills}}{{/empty}}
        {{#routes}}| {{route}} | {{slippage}} |
        {{/routes}}
        """

    static func ohlcvSeeds() -> [String] {
        let bars = SyntheticOHLCV(start: Date(timeIntervalSince1970: 1_767_225_600), bars: 6, interval: 300, seed: 1)
        let csv = bars.csv(SyntheticOHLCV.demoAssets[0])
        let iso = """
            Date,Open,High,Low,Close,Volume
            2026-01-01,100,110,95,105,10
            2026-01-02T00:00:00+02:00,105,106,100,101,12
            2026-01-03 00:00:00,101,120,101,119,30
            """
        return [csv, iso, ",open,high,low,close,volume\n1767225600000,1,2,0.5,1.5,3\n1767225660000,1.5,2,1,1,4\n"]
    }

    static let jobSeed = """
        [[venues]]
        id = "sim-a"
        dialect = "binance-spot"
        base_url = "http://127.0.0.1:9"
        symbols = ["BTCUSDT", "ETHUSDT"]

        [[accounts]]
        id = "sim-a-main"
        venue = "sim-a"
        api_key_env = "SIM_A_KEY"
        api_secret_env = "SIM_A_SECRET"

        [[portfolios]]
        id = "core"
        quote = "USDT"
        accounts = ["sim-a-main"]
        approval_cap = "25000"
        targets = { BTC = "0.5", ETH = "0.3", USDT = "0.2" }

        [portfolios.bands]
        mode = "volatility"
        min = "0.01"
        max = "0.10"

        [portfolios.router]
        urgency = "low"
        budget_bps = 50
        """

    static let simulatorSeed = """
        seed = 7

        [[venues]]
        name = "fast"
        step_seconds = 1

        [venues.latency]
        base_ms = 2
        jitter_ms = 1

        [[venues.accounts]]
        api_key = "demo-key-fast"
        secret = "demo-secret-fast-0123456789abcdef"
        balances = { BTC = "1", USDT = "50000" }

        [[venues.symbols]]
        symbol = "BTCUSDT"
        base = "BTC"
        quote = "USDT"
        tick_size = "0.01"
        step_size = "0.00001"
        min_notional = "5"
        start_price = "43000.00"
        level_qty = "0.5"
        """

    /// The venue client's decoders, fed the bodies a simulated venue really sent (recorded over HTTP),
    /// then mutated; each call goes through the client exactly as a live answer would.
    static func venueTargets() async throws -> [Target] {
        let simulator = try Simulator(config: SimulatorConfig.demo(venues: 1, seed: 3))
        defer { simulator.stop() }
        let curl = CurlClient()
        defer { curl.close() }
        let recorder = RecordingTransport(base: curl)
        let venue = simulator.venues[0]
        let account = venue.config.accounts[0]
        let client = FuzzClient.make(url: venue.baseURL, transport: recorder, account: account)
        typealias Call = @Sendable (BinanceSpotClient) async throws -> Void
        let calls: [(String, Call)] = [
            ("venue-exchange-info", { _ = try await $0.exchangeInfo() }),
            ("venue-book-tickers", { _ = try await $0.bookTickers(["BTCUSDT", "ETHUSDT"]) }),
            ("venue-depth", { _ = try await $0.depth("BTCUSDT", limit: 20) }),
            ("venue-account", { _ = try await $0.account() }),
            (
                "venue-new-order",
                {
                    _ = try await $0.placeOrder(
                        NewOrder(
                            symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .ioc,
                            quantity: ExactDecimal("0.001")!, price: ExactDecimal("50000")!, clientOrderId: "fuzz-1"))
                }
            ),
            ("venue-my-trades", { _ = try await $0.myTrades("BTCUSDT") }),
        ]
        var targets: [Target] = []
        for (name, call) in calls {
            try await call(client)
            guard let body = recorder.last else { continue }
            targets.append(
                Target(name: name, seeds: [body]) { text in
                    let canned = FuzzClient.make(
                        url: "http://127.0.0.1:9", transport: CannedTransport(body: text), account: account)
                    return (try? await call(canned)) != nil
                })
        }
        return targets
    }
}

/// A client for the fuzz: no rate-limit waits, no records kept.
enum FuzzClient {
    static func make(url: String, transport: any HTTPTransport, account: AccountConfig) -> BinanceSpotClient {
        let credentials = Credentials(apiKey: account.apiKey, secret: account.secret)
        let events = DiscardingEventSink()
        let governor = RateGovernor(
            venue: "fuzz", keyFingerprint: credentials.fingerprint,
            limits: RateLimits(requestWeightPerMinute: 1_000_000, ordersPerTenSeconds: 1_000_000, maxWait: .zero),
            store: LocalRateBudgetStore(), events: events, clock: SystemTime())
        return BinanceSpotClient(
            venue: "fuzz", account: "fuzz", baseURL: url, credentials: credentials, transport: transport,
            governor: governor, events: events)
    }
}

/// Passes requests on and keeps the last body that came back.
final class RecordingTransport: HTTPTransport, Sendable {
    let base: any HTTPTransport
    private let body = Mutex<String?>(nil)

    init(base: any HTTPTransport) { self.base = base }

    var last: String? { body.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let response = try await base.send(request)
        body.withLock { $0 = String(decoding: response.body, as: UTF8.self) }
        return response
    }
}

/// Answers every request with 200 and the same body.
struct CannedTransport: HTTPTransport {
    let body: String

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [:], body: Array(body.utf8), timings: .zero)
    }
}
