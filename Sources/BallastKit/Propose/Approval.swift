import BallastCore
public import Foundation
public import Postgres

/// Approves a proposed batch (DESIGN.md "The pipeline", step 5): by a named
/// person, or automatically when its notional is under the portfolio's cap.
/// The approval moves the batch and its orders from `proposed` to `approved`
/// and appends an `approval` decision record saying who and why.
public struct Approval {
    let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Who approved a batch whose notional was under its portfolio's cap.
    static let capApprover = "approval_cap"

    /// What `approve` found.
    public enum Outcome: Sendable, Equatable {
        case approved(orders: Int)
        /// The batch was approved before (by whom): nothing changed.
        case alreadyApproved(by: String)
    }

    /// The record of an approval under the portfolio's cap, which `propose` stores with the batch
    /// (the batch and its orders are inserted `approved`).
    static func automaticRecord(batch: Int64, orders: Int, notional: ExactDecimal, quote: String, cap: ExactDecimal)
        throws -> String
    {
        try DecisionLog.canonical(
            ApprovalPayload(
                kind: "approval", batch: batch, approval: "automatic", by: capApprover, orders: orders,
                notional: notional.description, reason: "notional \(notional) \(quote) ≤ approval cap \(cap)"))
    }

    /// Approves `batch` by a named person; refuses a batch that is not `proposed` (or already approved).
    @discardableResult
    public func approve(batch: Int64, by name: String, at now: Date = Date()) throws -> Outcome {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw BallastError.invalidInput("--by needs the approver's name") }
        return try connection.withTransaction {
            guard
                let row = try connection.query(
                    """
                    SELECT portfolio_id, status, approved_by, notional, superseded_by FROM batches
                    WHERE id = \(batch) FOR UPDATE
                    """
                ).first
            else { throw BallastError.invalidInput("no batch \(batch)") }
            let status: String = try row.decode("status")
            if status == "superseded" {
                let by = try row.decode("superseded_by", as: Int64?.self)
                throw BallastError.invalidInput(
                    "batch \(batch) was superseded by "
                        + (by.map { "batch \($0), a later proposal for its portfolio: approve that one instead" }
                            ?? "a later proposal that found nothing to trade"))
            }
            if status != "proposed" {
                if let by = try row.decode("approved_by", as: String?.self) { return .alreadyApproved(by: by) }
                throw BallastError.invalidInput("batch \(batch) is \(status), not proposed: nothing to approve")
            }
            try connection.execute(
                """
                UPDATE batches SET status = 'approved', approved_by = \(trimmed), approval = 'manual',
                       approved_at = \(now) WHERE id = \(batch)
                """)
            let orders = try connection.execute(
                "UPDATE orders SET state = 'approved', updated_at = \(now) WHERE batch_id = \(batch) AND state = 'proposed'"
            )
            let notional: String = try row.decode("notional")
            let payload = ApprovalPayload(
                kind: "approval", batch: batch, approval: "manual", by: trimmed, orders: orders, notional: notional,
                reason: "approved by \(trimmed)")
            try DecisionLog.append(
                payload, kind: "approval", portfolio: try row.decode("portfolio_id"), batch: batch, order: nil, at: now,
                on: connection)
            return .approved(orders: orders)
        }
    }
}

struct ApprovalPayload: Encodable {
    var kind: String
    var batch: Int64
    var approval: String
    var by: String
    var orders: Int
    var notional: String
    var reason: String
}
