public import Foundation
public import Postgres

/// The steps of one run as `run_steps` records them: each begins (`running`), then completes with
/// what it did, or fails with its error. A resumed run (`ballast run --resume RUN_ID`) skips the
/// steps an earlier attempt completed.
public struct RunSteps {
    /// One recorded step.
    public struct Step: Sendable {
        public var runID: String
        public var step: String
        public var position: Int
        public var startedAt: Date
        public var finishedAt: Date?
        /// `running`, `completed` or `failed`.
        public var outcome: String
        public var rows: Int?
        public var detail: String?
        public var error: String?
        /// How many attempts of the run began this step.
        public var attempts: Int
    }

    let runID: String
    let connection: Connection
    /// The steps an earlier attempt of this run completed.
    public let completed: Set<String>

    /// The steps of `runID`, reading which completed before.
    public init(runID: String, connection: Connection) throws {
        self.runID = runID
        self.connection = connection
        completed = Set(
            try connection.query(
                "SELECT step FROM run_steps WHERE run_id = \(runID) AND outcome = 'completed'"
            ).map { try $0.decode("step", as: String.self) })
    }

    /// Records that `step` began (again, on a resumed run).
    func begin(_ step: String, position: Int, at date: Date = Date()) throws {
        try connection.execute(
            """
            INSERT INTO run_steps (run_id, step, position, started_at, outcome)
            VALUES (\(runID), \(step), \(position), \(date), 'running')
            ON CONFLICT (run_id, step) DO UPDATE
                SET started_at = EXCLUDED.started_at, finished_at = NULL, outcome = 'running', rows = NULL,
                    detail = NULL, error = NULL, attempts = run_steps.attempts + 1
            """)
    }

    /// Records that `step` completed, with what it did.
    func complete(_ step: String, rows: Int?, detail: String?, at date: Date = Date()) throws {
        try connection.execute(
            """
            UPDATE run_steps SET finished_at = \(date), outcome = 'completed', rows = \(rows), detail = \(detail)
            WHERE run_id = \(runID) AND step = \(step)
            """)
    }

    /// Records that `step` failed; a failure to record it is left to the run's own end.
    func fail(_ step: String, error: any Error, at date: Date = Date()) {
        _ = try? connection.execute(
            """
            UPDATE run_steps SET finished_at = \(date), outcome = 'failed', error = \(String(describing: error))
            WHERE run_id = \(runID) AND step = \(step)
            """)
    }

    /// The recorded steps of `runs`, in run then step order.
    public static func of(_ runs: [String], on connection: Connection) throws -> [Step] {
        try connection.query(
            """
            SELECT run_id, step, position, started_at, finished_at, outcome, rows, detail, error, attempts
            FROM run_steps WHERE run_id = ANY(\(runs)::text[]) ORDER BY run_id, position
            """
        ).map { row in
            Step(
                runID: try row.decode("run_id"), step: try row.decode("step"), position: try row.decode("position"),
                startedAt: try row.decode("started_at"), finishedAt: try row.decode("finished_at"),
                outcome: try row.decode("outcome"), rows: try row.decode("rows"), detail: try row.decode("detail"),
                error: try row.decode("error"), attempts: try row.decode("attempts"))
        }
    }
}
