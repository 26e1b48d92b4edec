import BallastCore
import Foundation
import Simulator
import Testing
import Venues

@testable import BallastKit

@Suite struct JobConfigTests {
    static let valid = """
        [[venues]]
        id = "sim-a"
        base_url = "http://127.0.0.1:9001"

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
        """

    func load(_ text: String) throws -> JobConfig {
        try TOMLFile.decode(JobConfig.self, text: text, source: "job.toml")
    }

    @Test func validFileLoadsWithDefaults() throws {
        let config = try load(Self.valid)
        #expect(config.venues[0].dialect == "binance-spot")
        #expect(config.venues[0].recvWindowMs == 5000)
        #expect(config.portfolios[0].targets["BTC"] == (try ExactDecimal(parsing: "0.5")))
        #expect(config.portfolios[0].approvalCap == 25000)
        #expect(config.portfolios[0].symbols == ["BTCUSDT", "ETHUSDT"])
        #expect(config.fingerprint.count == 64)
    }

    /// The check run before the TOML parser passes everything TOML allows: multi-line arrays with
    /// comments and a trailing comma, inline tables holding arrays, dotted and quoted keys,
    /// non-ASCII inside strings and comments, multi-line strings.
    @Test func theCheckBeforeTheParserPassesValidTOML() throws {
        let text = #"""
            # Réglages — comments may hold anything: é, σ, ≤
            title = "Ballast ≤ σ \" quoted"
            'quoted key' = 'literal é'
            "basic key".dotted = 1
            a.b.c = -2.5e3
            list = [
              "one",  # a comment
              'two',
              [1, 2],
              { x = [1, 2], y = "z" },
            ]
            empty = []
            inline = { k = { n = 1 }, m = [ "p", 'q' ] }
            text = """
            spans lines, with "quotes" and é
            """
            raw = '''
            C:\path\é
            '''

            [table.sub]
            key-1 = true
            [[items]]
            name = "x"
            """#
        #expect(TOMLFile.outsideStrings(text) == nil)
        struct Anything: Decodable {}
        #expect(throws: Never.self) { _ = try TOMLFile.decode(Anything.self, text: text, source: "test") }
    }

    @Test(arguments: [
        ("[[venues]\nid = 1", "job.toml:1"),
        (valid.replacingOccurrences(of: "base_url", with: "baseurl"), "unknown setting 'baseurl'"),
        (valid.replacingOccurrences(of: "http://127.0.0.1:9001", with: "ftp://x"), "not an http(s) URL"),
        (valid.replacingOccurrences(of: "venue = \"sim-a\"", with: "venue = \"nowhere\""), "venue 'nowhere'"),
        (
            valid.replacingOccurrences(of: "accounts = [\"sim-a-main\"]", with: "accounts = [\"ghost\"]"),
            "account 'ghost'"
        ),
        (valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "BTC = 0.5"), "decimal number written as a string"),
        (valid.replacingOccurrences(of: "id = \"core\"\n", with: ""), "portfolios[0].id: missing"),
        (
            valid.replacingOccurrences(of: "api_secret_env = \"SIM_A_SECRET\"", with: ""),
            "either api_key_env and api_secret_env"
        ),
        ("[[accounts]]\nid = \"a\"\nvenue = \"v\"\ncredentials_file = \"x\"", "missing field 'venues'"),
        (valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "BTC = \"0.6\""), "targets add up to 1.1, not 1"),
        (valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "BTC = \"-0.5\""), "target BTC = -0.5 is negative"),
        (valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "btc = \"0.5\""), "target 'btc' is not an asset code"),
        (valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "BTC = \"\""), "targets.BTC"),
        (
            valid.replacingOccurrences(
                of: "targets = { BTC = \"0.5\", ETH = \"0.3\", USDT = \"0.2\" }", with: "targets = {}"),
            "targets is empty"
        ),
        (valid + "\n[portfolios.router]\nurgency = \"asap\"\n", "must be low, normal or high"),
        (valid + "\n[portfolios.router]\nbudget_bps = 0\n", "router.budget_bps: must be positive"),
        (valid + "\n[portfolios.bands]\nmin = \"0.2\"\nmax = \"0.1\"\n", "need 0 < min ≤ max < 1"),
        (valid + "\n[tls]\nca_bundle = \"/nonexistent/ca.pem\"\n", "cannot read /nonexistent/ca.pem"),
        (valid + "\n[tls]\nverify = false\n", "verify"),
        // Typos the TOML parser under TOMLKit would stop the process on (found by `ballast bench fuzz`).
        (valid + "\n[[[accounts]]\n", "where a key must start (after [[)"),
        (valid + "\nmax_chases = [}2]\n", "where a value must start (after [)"),
        (valid + "\nbüdget_bps = 1\n", "'ü' outside a quoted string"),
    ])
    func badFilesNameTheProblem(_ text: String, _ expected: String) throws {
        // (Each case names what is wrong; those about one field also name its line, below.)
        let error = #expect(throws: BallastError.self) { try load(text) }
        let message = error?.description ?? ""
        #expect(message.contains(expected), "\(message)")
        #expect(message.hasPrefix("job.toml"), "\(message)")
    }

    /// `valid` with `lines` added to its venue, after its base URL.
    static func venue(adding lines: String) -> String {
        valid.replacingOccurrences(
            of: "base_url = \"http://127.0.0.1:9001\"", with: "base_url = \"http://127.0.0.1:9001\"\n" + lines)
    }

    @Test(arguments: [
        (venue(adding: "call_counter_max = 20"), "dialect 'binance-spot' has no call counter"),
        (
            venue(adding: "dialect = \"kraken-spot\"\ncall_counter_max = 20"),
            "give both call_counter_max and call_counter_decay_per_s"
        ),
        (
            venue(adding: "dialect = \"coinbase-pro\""),
            "unknown dialect 'coinbase-pro' (known: binance-spot, kraken-spot, coinbase-advanced)"
        ),
    ])
    func badVenueDialectSettingsAreNamed(_ text: String, _ expected: String) throws {
        let error = #expect(throws: BallastError.self) { try load(text) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test func aKrakenVenueTakesItsAccountsTier() throws {
        let config = try load(
            Self.venue(adding: "dialect = \"kraken-spot\"\ncall_counter_max = 20\ncall_counter_decay_per_s = 1"))
        #expect(config.venues[0].callCounter == RateLimits.CallCounter(max: 20, decayPerSecond: 1))
    }

    /// A field's problem names the file, the line the field is written on, and the field.
    @Test(arguments: [
        (valid.replacingOccurrences(of: "base_url", with: "baseurl"), "job.toml:3: field venues[0].baseurl"),
        (
            valid.replacingOccurrences(of: "http://127.0.0.1:9001", with: "ftp://x"),
            "job.toml:3: field venues[0].base_url"
        ),
        (
            valid.replacingOccurrences(of: "BTC = \"0.5\"", with: "BTC = 0.5"),
            "job.toml:16: field portfolios[0].targets"
        ),
        (valid + "\n[portfolios.router]\nbudget_bps = 0\n", "job.toml:18: field portfolios[0].router.budget_bps"),
        (valid + "\n[[portfolios]]\nid = \"second\"\nquote = 5\n", "job.toml:19: field portfolios[1].quote"),
        ("[run]\ntrigger = \"hourly\"\n" + valid, "job.toml:2: field run.trigger: unknown trigger 'hourly'"),
    ])
    func aFieldsProblemNamesItsLine(_ text: String, _ expected: String) throws {
        let error = #expect(throws: BallastError.self) { try load(text) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test func routerSettingsAreRead() throws {
        let config = try load(
            Self.valid
                + "\n[portfolios.router]\nurgency = \"low\"\nbudget_bps = 80\nmax_chases = 3\npassive_timeout_s = 0.5\n"
        )
        let policy = config.portfolios[0].router
        #expect(policy.urgency == .low)
        #expect(policy.urgencyBudgetBps == 80)
        #expect(policy.maxChases == 3)
        #expect(policy.passiveTimeoutSeconds == 0.5)
        #expect(policy.priceCapBps == RouterPolicy().priceCapBps)
    }

    @Test func theExampleJobFileIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Jobs/example.toml").path
        let config = try JobConfig.load(path: path)
        #expect(config.portfolios.first?.bands.sizeTo == "target")
        #expect(config.accounts.first?.apiKeyEnv == "BINANCE_API_KEY")
    }

    @Test func theExampleSimulatorFileIsValidAndMistakesAreNamed() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Jobs/sim-example.toml").path
        let config = try TOMLFile.decode(SimulatorConfig.self, path: path)
        try config.validate()
        #expect(config.seed == 7)
        #expect(config.venues.map(\.name) == ["fast", "flaky"])
        #expect(config.venues[0].symbols[1].minQty == ExactDecimal("0.0001")!)  // defaults to the step
        #expect(config.venues[0].latency.baseMs == 2)
        #expect(config.venues[1].limits.requestWeightPerMinute == 1200)
        #expect(config.venues[1].faults.map(\.kind) == [.serverError, .rateLimit])
        #expect(config.venues[1].faults[0].placed && config.venues[1].faults[0].probability == 0.2)
        #expect(config.venues[1].accounts.first?.apiKey == "demo-key-flaky")

        let wrongType = "[[venues]]\nname = \"x\"\n[venues.latency]\nbase_ms = \"fast\"\n"
        #expect {
            _ = try TOMLFile.decode(SimulatorConfig.self, text: wrongType, source: "sim.toml")
        } throws: { error in
            "\(error)".contains("sim.toml") && "\(error)".contains("venues[0].latency.base_ms")
        }
        let badFault = "[[venues]]\nname = \"x\"\n[[venues.faults]]\nkind = \"gremlins\"\n"
        #expect {
            _ = try TOMLFile.decode(SimulatorConfig.self, text: badFault, source: "sim.toml")
        } throws: { error in "\(error)".contains("venues[0].faults[0].kind") }
    }

    @Test func credentialsComeFromTheEnvironmentOrAPrivateFile() throws {
        let config = try load(Self.valid)
        let loader = CredentialLoader(environment: ["SIM_A_KEY": "key-1", "SIM_A_SECRET": "super-secret-value"])
        let credentials = try loader.load(config.accounts[0])
        #expect(credentials.apiKey == "key-1")
        #expect(!"\(credentials)".contains("super-secret-value"))
        let missing = #expect(throws: BallastError.self) {
            try CredentialLoader(environment: [:]).load(config.accounts[0])
        }
        #expect(missing?.description.contains("SIM_A_KEY is not set") == true)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("cred.toml").path
        try "api_key = \"file-key\"\napi_secret = \"file-secret-value\"\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let account = AccountSettings(id: "f", venue: "sim-a", credentialsFile: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let open = #expect(throws: BallastError.self) { try CredentialLoader().load(account) }
        #expect(open?.description.contains("chmod 600") == true)
        #expect(open?.description.contains("file-secret-value") == false)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try CredentialLoader().load(account).apiKey == "file-key")
    }
}
