import BallastCore
import CurlHTTP
import Logging
import Postgres
import Venues

/// What a run's venue clients stand on: one libcurl transport, and two PostgreSQL
/// connections of their own — one recording every HTTP attempt, one keeping the shared
/// rate budget — so neither waits on the run's main connection. `close()` releases them.
final class VenueSession {
    let wiring: VenueWiring
    private let transport: CurlClient
    private let eventsDB: LockedConnection
    private let budgetsDB: LockedConnection
    private let nonces: PostgresNonceSource

    init(
        databaseURL: String, runID: String, clock: any TimeSource, environment: [String: String], logger: Logger,
        caBundle: String? = nil
    ) throws {
        eventsDB = LockedConnection(try Connection(conninfo: databaseURL, logger: logger))
        do {
            budgetsDB = LockedConnection(try Connection(conninfo: databaseURL, logger: logger))
        } catch {
            eventsDB.close()
            throw error
        }
        transport = CurlClient(caBundle: caBundle)
        nonces = PostgresNonceSource(databaseURL: databaseURL, logger: logger)
        wiring = VenueWiring(
            transport: transport, clock: clock, credentials: CredentialLoader(environment: environment),
            events: PostgresEventSink(database: eventsDB, runID: runID, logger: logger),
            budgets: PostgresRateBudgetStore(database: budgetsDB), nonces: nonces, logger: logger)
    }

    func close() {
        transport.close()
        eventsDB.close()
        budgetsDB.close()
        nonces.close()
    }
}
