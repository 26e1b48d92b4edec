import Digest
import Foundation
public import Postgres

/// The append-only, hash-chained decision records (DESIGN.md "Auditors").
///
/// Each record stores the previous record's hash; its own hash is
/// SHA-256(prev_hash ‖ payload_text), hex. `payload_text` is the canonical JSON
/// (sorted keys) the hash covers, and the only stored form of the payload (the
/// `decision_records` view parses it to jsonb for queries). The chain is one sequence over the whole table, in id order;
/// appenders serialise on a transaction-scoped advisory lock so two proposers
/// never chain onto the same record. A trigger refuses UPDATE and DELETE.
public enum DecisionLog {
    /// The hash the first record chains onto.
    public static let genesis = String(repeating: "0", count: 64)
    /// Records written by one INSERT of `append(_:on:)`.
    static let rowsPerInsert = 2000

    /// The canonical text of a payload: JSON with sorted keys, no escaped slashes (`CanonicalJSON`).
    public static func canonical(_ payload: some Encodable) throws -> String {
        try CanonicalJSON.encode(payload)
    }

    /// The hash of a record chained onto `previous`.
    public static func hash(previous: String, payloadText: String) -> String {
        Digest.hex(Digest.sha256(previous + payloadText))
    }

    /// Appends one record; call inside the transaction that writes what it explains.
    @discardableResult
    static func append(
        _ payload: some Encodable, kind: String, portfolio: String, batch: Int64?, order: Int64?,
        on connection: Connection
    ) throws -> String {
        let entry = Entry(
            kind: kind, portfolio: portfolio, batch: batch, order: order, payloadText: try canonical(payload))
        return try append([entry], on: connection)!
    }

    /// A record to append: what it explains and the canonical text of its payload.
    struct Entry {
        var kind: String
        var portfolio: String
        var batch: Int64?
        var order: Int64?
        var payloadText: String
    }

    /// Appends `entries` in order with one INSERT: the chain is computed here, onto the head read
    /// under the lock, and the rows draw their ids in that order (checked, so the chain's id order
    /// cannot silently differ). Call inside the transaction that writes what they explain.
    @discardableResult
    static func append(_ entries: [Entry], on connection: Connection) throws -> String? {
        guard !entries.isEmpty else { return nil }
        var previous = try lockedHead(on: connection)
        var previousHashes: [String] = []
        var hashes: [String] = []
        for entry in entries {
            previousHashes.append(previous)
            previous = hash(previous: previous, payloadText: entry.payloadText)
            hashes.append(previous)
        }
        // One row of binds per record, the payload a bind of its own: a few hundred records are
        // megabytes of text, which as one text[] literal would be escaped here and parsed again
        // there. At most `rowsPerInsert` rows a statement (a statement holds up to 65,535 binds).
        for start in stride(from: 0, to: entries.count, by: rowsPerInsert) {
            let rows = start..<min(start + rowsPerInsert, entries.count)
            var sql =
                "INSERT INTO decisions (batch_id, order_id, portfolio_id, kind, payload_text, prev_hash, hash) VALUES "
            var binds: [String?] = []
            binds.reserveCapacity(rows.count * 7)
            for index in rows {
                let entry = entries[index]
                let n = binds.count
                sql += n == 0 ? "" : ","
                sql += "($\(n + 1)::bigint,$\(n + 2)::bigint,$\(n + 3),$\(n + 4),$\(n + 5),$\(n + 6),$\(n + 7))"
                binds += [
                    entry.batch?.postgresText ?? nil, entry.order?.postgresText ?? nil, entry.portfolio, entry.kind,
                    entry.payloadText, previousHashes[index], hashes[index],
                ]
            }
            // The SQL is placeholders only; every value travels as a bind.
            let stored = try connection.query(Query(unsafeSQL: sql + " RETURNING id, hash", binds: binds))
            let inIDOrder = try stored.map { row in
                (id: try row.decode("id", as: Int64.self), hash: try row.decode("hash", as: String.self))
            }.sorted { $0.id < $1.id }
            guard inIDOrder.map(\.hash) == Array(hashes[rows]) else {
                throw BallastError.internalFailure("decision records drew ids out of chain order; nothing was stored")
            }
        }
        return previous
    }

    /// Takes the append lock, held until the transaction ends (again, if it is held already).
    static func lock(on connection: Connection) throws {
        try AdvisoryLock.decisionAppend.lockForTransaction(on: connection)
    }

    /// Takes the append lock (held until the transaction ends), then reads the chain's head.
    /// Two statements on purpose: under READ COMMITTED the second one's snapshot is taken after
    /// the lock is held, so it sees every record the previous holder committed.
    private static func lockedHead(on connection: Connection) throws -> String {
        try lock(on: connection)
        return try connection.query("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1").first?.decode(
            "hash", as: String.self) ?? genesis
    }

    /// The outcome of `verify`.
    public struct Verification: Sendable {
        /// Records checked.
        public var checked = 0
        /// The first record that does not match, and why; nil when the chain holds.
        public var firstBroken: (id: Int64, reason: String)?
        /// The hash of the last record (the chain's head).
        public var head = DecisionLog.genesis
        /// Whether the chain holds the expected head kept outside the database (nil: none was given).
        public var expected: Bool?

        /// The chain's head and length, as kept outside the database.
        public var chainHead: ChainHead { ChainHead(hash: head, length: checked) }
    }

    /// Recomputes the chain from the first record and names the first one that does not match.
    /// With `expecting`, also says whether the chain still holds that head (at its length, when
    /// one is given): a chain whose tail was deleted or rewritten, consistently with itself, no
    /// longer does.
    public static func verify(on connection: Connection, expecting: ChainHead? = nil) throws -> Verification {
        var result = Verification()
        if expecting != nil { result.expected = false }
        var previous = genesis
        _ = try connection.forEachRow(
            "SELECT id, prev_hash, hash, payload_text FROM decisions ORDER BY id", fetchSize: 5000
        ) { row in
            guard result.firstBroken == nil else { return }
            let id: Int64 = try row.decode("id")
            let stored: String = try row.decode("hash")
            let prev: String = try row.decode("prev_hash")
            let text: String = try row.decode("payload_text")
            result.checked += 1
            if prev != previous {
                result.firstBroken = (
                    id,
                    "prev_hash \(prev.prefix(12))… does not match the previous record's hash \(previous.prefix(12))…"
                )
            } else if hash(previous: previous, payloadText: text) != stored {
                result.firstBroken = (
                    id, "hash \(stored.prefix(12))… is not SHA-256(prev_hash ‖ payload_text): the payload was altered"
                )
            }
            previous = stored
            result.head = stored
            if let expecting, stored == expecting.hash, expecting.length.map({ $0 == result.checked }) ?? true {
                result.expected = true
            }
        }
        return result
    }
}

/// A point of the decision chain kept outside the database: the hash of a record and, when
/// known, how many records the chain had up to it (`HASH@LENGTH`, as `chain-head.txt` holds it).
public struct ChainHead: Sendable, Equatable, CustomStringConvertible {
    public var hash: String
    public var length: Int?

    public init(hash: String, length: Int?) {
        self.hash = hash
        self.length = length
    }

    /// Reads `HASH` or `HASH@LENGTH` (64 hex digits, a positive length).
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit) else { return nil }
        hash = parts[0].lowercased()
        if parts.count == 2 {
            guard let length = Int(parts[1]), length > 0 else { return nil }
            self.length = length
        } else {
            length = nil
        }
    }

    public var description: String { length.map { "\(hash)@\($0)" } ?? hash }
}
