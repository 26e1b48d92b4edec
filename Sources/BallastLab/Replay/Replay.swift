import BallastCore
import Foundation
import Simulator
import Venues

/// A replay: every chosen policy, one after another, on its own copy of the same simulated
/// market path in virtual time, then measured from the venues' own records by the same rules.
///
/// Invariants:
/// - Every policy meets the same path, flow draws, fees, latency profiles, limits, fault rate
///   and cash flows; each runs on venues of its own, so no policy's trading moves another's prices.
/// - Nothing on the path reads the wall clock or sleeps: latency and waits are virtual time.
/// - The same settings give the same result, to the byte of its JSON.
public struct Replay: Sendable {
    public let settings: ReplaySettings

    public init(settings: ReplaySettings) { self.settings = settings }

    /// Runs every policy; `progress` hears one line per policy.
    public func run(progress: (String) -> Void = { _ in }) async throws(ReplayError) -> ReplayResult {
        guard !settings.policies.isEmpty else { throw .invalid("no policy to replay") }
        guard settings.venues >= 1, settings.venues <= 26 else { throw .invalid("--venues must be 1…26") }
        guard settings.checkEvery > 0, settings.stepSeconds > 0 else {
            throw .invalid("the check interval and the step must be positive")
        }
        let (start, seconds) = try settings.span()
        let config = try settings.simulatorConfig()
        let checks = ReplaySettings.checkTimes(start: start, seconds: seconds, every: settings.checkEvery)
        // The policies' worlds share nothing, so they run side by side; each result depends only
        // on its own world, never on the interleaving.
        let outcomes: [String: PolicyOutcome]
        let threads = Dictionary(uniqueKeysWithValues: settings.policies.map { ($0, PolicyThread(name: $0.rawValue)) })
        defer { for thread in threads.values { thread.stop() } }
        do {
            outcomes = try await withThrowingTaskGroup(of: (String, PolicyOutcome, TimeInterval).self) { group in
                for kind in settings.policies {
                    // Each policy on a thread of its own: its venue client's transfers block that thread
                    // (they never suspend), and the system shares the cores between the policies.
                    group.addTask(executorPreference: threads[kind]!) {
                        let began = Date()
                        let outcome = try await self.run(kind, config: config, start: start, checks: checks)
                        return (kind.rawValue, outcome, Date().timeIntervalSince(began))
                    }
                }
                var done: [String: PolicyOutcome] = [:]
                for try await (name, outcome, seconds) in group {
                    done[name] = outcome
                    progress(String(format: "%@: %d checks in %.1f s", name, checks.count, seconds))
                }
                return done
            }
        } catch let error as ReplayError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
        return ReplayResult(
            path: describe(settings.path), seed: settings.seed, venues: settings.venues, seconds: seconds,
            checks: checks.count, checkEverySeconds: settings.checkEvery, stepSeconds: settings.stepSeconds,
            portfolioValue: settings.portfolioValue, orderFaultRate: settings.orderFaultRate, policies: outcomes)
    }

    private func describe(_ path: ReplaySettings.Path) -> String {
        switch path {
        case .scenario(let scenario): return scenario.rawValue
        case .ohlcv(let files):
            return files.sorted { $0.key < $1.key }.map {
                "\($0.key)=\(URL(fileURLWithPath: $0.value).lastPathComponent)"
            }
            .joined(separator: ",")
        }
    }

    /// One policy over the whole path.
    private func run(_ kind: ReplayPolicyKind, config: SimulatorConfig, start: Date, checks: [Date])
        async throws(ReplayError) -> PolicyOutcome
    {
        let world = try ReplayWorld(
            settings: settings, config: config, start: start, venueCount: kind == .naiveCron ? 1 : settings.venues)
        defer { world.close() }
        let policy: any ReplayPolicy
        switch kind {
        case .naiveCron:
            // Generous limits: the bot keeps no headroom of its own; the venue's limits still hold.
            let client = world.client(
                world.venues[0].name,
                limits: RateLimits(
                    requestWeightPerMinute: 1_000_000, ordersPerTenSeconds: 1_000_000, safetyMargin: 0,
                    maxWait: .seconds(0)))
            policy = NaiveCronPolicy(client: client, targets: settings.targets, quote: ReplaySettings.quote)
        case .fixedBand, .ballast:
            var clients: [String: BinanceSpotClient] = [:]
            for venue in world.venues { clients[venue.name] = world.client(venue.name, limits: RateLimits()) }
            let urls = world.venues.map { ($0.name, world.simulator.venue($0.name)!.baseURL) }
            do {
                let job = try BallastPolicy.job(kind: kind, venues: urls, targets: settings.targets)
                policy = BallastPolicy(kind: kind, clients: clients, job: job, clock: world.clock)
            } catch {
                throw .failed("\(kind.rawValue): \(error)")
            }
        }
        var measure = ReplayMeasure(settings: settings, world: world)
        measure.fund()
        let ledger = ReplayLedger()
        var flows = settings.cashFlows.map {
            (at: start.addingTimeInterval($0.at * (checks.last!.timeIntervalSince(start))), share: $0.share)
        }
        for (index, time) in checks.enumerated() {
            world.clock.set(time)
            while let flow = flows.first, flow.at <= world.clock.now() {
                flows.removeFirst()
                measure.cashFlow(share: flow.share)
            }
            measure.sample(check: index)
            await policy.check(index, at: world.clock.now(), ledger: ledger)
        }
        measure.sample(check: checks.count)
        return measure.outcome(ledger: ledger, world: world)
    }
}

/// A thread that runs one policy's task: jobs run in the order they are enqueued, until `stop()`.
final class PolicyThread: TaskExecutor, @unchecked Sendable {
    // Safe to share: `jobs` and `stopped` are only touched under `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = "replay-\(name)"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs already enqueued have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
