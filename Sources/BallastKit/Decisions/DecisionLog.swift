public import BallastCore
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
///
/// Invariants:
/// - Every column a report reads is under the hash: a record's text is the envelope
///   `{"at", "batch", "format": "decision-record/3", "kind", "order", "portfolio", "record"}`
///   (`record` the decision itself), the table's `created_at`, `batch_id`, `order_id`,
///   `portfolio_id` and `kind` hold the same values, and `verify` refuses a row where they differ.
/// - A record is never rewritten, so it keeps the words it was written in. `decision-record/3`
///   records spell order types and times in force in Ballast's words (`post_only`, `ioc`);
///   `decision-record/2` records (written before migration 0020) and legacy ones in Binance's
///   (`LIMIT_MAKER`, `IOC`), which `orderSpelling(recordText:)` names for reading them. No
///   `decision-record/2` record may follow a `decision-record/3` one.
/// - Records written before migration 0011 hashed the decision alone (`legacy`): they still
///   verify, their columns are not covered, and no legacy record may follow a covered one.
public enum DecisionLog {
    /// The hash the first record chains onto.
    public static let genesis = String(repeating: "0", count: 64)
    /// Records written by one INSERT of `append(_:on:)`.
    static let rowsPerInsert = 2000

    /// The canonical text of a payload: JSON with sorted keys, no escaped slashes (`CanonicalJSON`).
    public static func canonical(_ payload: some Encodable) throws -> String {
        try CanonicalJSON.encode(payload)
    }

    /// The canonical text of a payload whose encoding sees `userInfo` (an `OrderSpelling` under
    /// `.orderSpelling`, to write order words as a record of an earlier format spells them).
    public static func canonical(_ payload: some Encodable, userInfo: [CodingUserInfoKey: Any]) throws -> String {
        try CanonicalJSON.encode(payload, userInfo: userInfo)
    }

    /// The hash of a record chained onto `previous`.
    public static func hash(previous: String, payloadText: String) -> String {
        Digest.hex(Digest.sha256(previous + payloadText))
    }

    /// The `format` of a record whose columns are under its hash, written in Ballast's order words.
    public static let coveredFormat = "decision-record/3"
    /// The `format` of a record whose columns are under its hash, written before Ballast had its own
    /// order words (before migration 0020): its order types and times in force are Binance's.
    public static let binanceWordsFormat = "decision-record/2"

    /// How a record's text spells order types and times in force: nil for Ballast's own words (a
    /// `decision-record/3` record), Binance's for a record written before them (a
    /// `decision-record/2` record, or a legacy one without an envelope).
    public static func orderSpelling(recordText text: String) -> (any OrderSpelling)? {
        Header(recordText: text)?.format == coveredFormat ? nil : RecordedBinanceWords()
    }

    /// Appends one record made at `at`; call inside the transaction that writes what it explains.
    @discardableResult
    static func append(
        _ payload: some Encodable, kind: String, portfolio: String, batch: Int64?, order: Int64?, at: Date,
        on connection: Connection
    ) throws -> String {
        let entry = Entry(
            kind: kind, portfolio: portfolio, batch: batch, order: order, payloadText: try canonical(payload), at: at)
        return try append([entry], on: connection)!
    }

    /// A record to append: what it explains, when, and the canonical text of its payload.
    struct Entry {
        var kind: String
        var portfolio: String
        var batch: Int64?
        var order: Int64?
        var payloadText: String
        var at: Date

        /// The record's time as stored and hashed: ISO-8601 UTC to the millisecond (truncated).
        var timestamp: String { DecisionLog.timestamp(at) }

        /// The hashed text: the envelope, in canonical key order, around the payload's canonical text.
        var recordText: String {
            var out: [UInt8] = []
            out.reserveCapacity(payloadText.utf8.count + 160)
            func member(_ key: String, first: Bool = false) {
                if !first { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
            }
            out.append(UInt8(ascii: "{"))
            member("at", first: true)
            CanonicalJSON.appendQuoted(timestamp, to: &out)
            if let batch {
                member("batch")
                out.append(contentsOf: String(batch).utf8)
            }
            member("format")
            CanonicalJSON.appendQuoted(DecisionLog.coveredFormat, to: &out)
            member("kind")
            CanonicalJSON.appendQuoted(kind, to: &out)
            if let order {
                member("order")
                out.append(contentsOf: String(order).utf8)
            }
            member("portfolio")
            CanonicalJSON.appendQuoted(portfolio, to: &out)
            member("record")
            out.append(contentsOf: payloadText.utf8)
            out.append(UInt8(ascii: "}"))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `date` as a record stores it: `2026-11-30T14:37:01.123Z` (milliseconds, truncated).
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t((milliseconds - ((milliseconds % 1000) + 1000) % 1000) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
            Int(((milliseconds % 1000) + 1000) % 1000))
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
        let texts = entries.map(\.recordText)
        for text in texts {
            previousHashes.append(previous)
            previous = hash(previous: previous, payloadText: text)
            hashes.append(previous)
        }
        // One row of binds per record, the payload a bind of its own: a few hundred records are
        // megabytes of text, which as one text[] literal would be escaped here and parsed again
        // there. At most `rowsPerInsert` rows a statement (a statement holds up to 65,535 binds).
        for start in stride(from: 0, to: entries.count, by: rowsPerInsert) {
            let rows = start..<min(start + rowsPerInsert, entries.count)
            var sql =
                "INSERT INTO decisions (batch_id, order_id, portfolio_id, kind, payload_text, prev_hash, hash, created_at) "
                + "VALUES "
            var binds: [String?] = []
            binds.reserveCapacity(rows.count * 8)
            for index in rows {
                let entry = entries[index]
                let n = binds.count
                sql += n == 0 ? "" : ","
                sql += "($\(n + 1)::bigint,$\(n + 2)::bigint,$\(n + 3),$\(n + 4),$\(n + 5),$\(n + 6),$\(n + 7),"
                sql += "$\(n + 8)::timestamptz)"
                binds += [
                    entry.batch?.postgresText ?? nil, entry.order?.postgresText ?? nil, entry.portfolio, entry.kind,
                    texts[index], previousHashes[index], hashes[index], entry.timestamp,
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
        /// Records whose columns (time, batch, order, portfolio, kind) are under the hash.
        public var covered = 0
        /// Records written before migration 0011, whose hash covers the decision alone.
        public var legacy = 0
        /// Records written before migration 0020 (covered `decision-record/2` ones and legacy ones),
        /// whose order types and times in force are Binance's words.
        public var binanceWords = 0
        /// The first record that does not match, and why; nil when the chain holds.
        public var firstBroken: (id: Int64, reason: String)?
        /// The hash of the last record (the chain's head).
        public var head = DecisionLog.genesis
        /// Whether the chain holds the expected head kept outside the database (nil: none was given).
        public var expected: Bool?

        /// The chain's head and length, as kept outside the database.
        public var chainHead: ChainHead { ChainHead(hash: head, length: checked) }
    }

    /// Recomputes the chain from the first record and names the first one that does not match:
    /// a hash that is not SHA-256(prev_hash ‖ payload_text), or a column that says something other
    /// than the hashed text. With `expecting`, also says whether the chain still holds that head (at
    /// its length, when one is given): a chain whose tail was deleted or rewritten, consistently
    /// with itself, no longer does.
    public static func verify(on connection: Connection, expecting: ChainHead? = nil) throws -> Verification {
        var result = Verification()
        if expecting != nil { result.expected = false }
        var previous = genesis
        var inBallastWords = false
        _ = try connection.forEachRow(
            """
            SELECT id, prev_hash, hash, payload_text, batch_id, order_id, portfolio_id, kind,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
            FROM decisions ORDER BY id
            """, fetchSize: 5000
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
            } else if let header = Header(recordText: text) {
                result.covered += 1
                let columns = Header(
                    at: try row.decode("at"), batch: try row.decode("batch_id"), kind: try row.decode("kind"),
                    order: try row.decode("order_id"), portfolio: try row.decode("portfolio_id"))
                if let column = header.differingColumn(columns) {
                    result.firstBroken = (id, "column \(column) was altered: it differs from the hashed record")
                } else if header.format == coveredFormat {
                    inBallastWords = true
                } else if !inBallastWords {
                    result.binanceWords += 1
                } else {
                    result.firstBroken = (
                        id,
                        "a record in Binance's order words (\(header.format)) follows records in Ballast's "
                            + "(\(coveredFormat))"
                    )
                }
            } else if result.covered > 0 {
                result.firstBroken = (id, "a record whose columns are not hashed follows records whose columns are")
            } else {
                result.legacy += 1
                result.binanceWords += 1
            }
            previous = stored
            result.head = stored
            if let expecting, stored == expecting.hash, expecting.length.map({ $0 == result.checked }) ?? true {
                result.expected = true
            }
        }
        return result
    }

    /// What a covered record says about itself, and what its row's columns say.
    struct Header: Decodable, Equatable {
        /// `coveredFormat` or `binanceWordsFormat` (not a column: the columns' header keeps the default).
        var format = DecisionLog.coveredFormat
        var at: String
        var batch: Int64?
        var kind: String
        var order: Int64?
        var portfolio: String

        init(at: String, batch: Int64?, kind: String, order: Int64?, portfolio: String) {
            self.at = at
            self.batch = batch
            self.kind = kind
            self.order = order
            self.portfolio = portfolio
        }

        /// Reads the envelope's members before `record` (nil: a legacy record, the decision alone).
        /// `,"record":` cannot occur inside the members before it: a quote in a string is escaped.
        init?(recordText text: String) {
            guard text.hasPrefix("{\"at\":"), let end = text.range(of: ",\"record\":") else { return nil }
            struct Envelope: Decodable {
                var at: String
                var batch: Int64?
                var format: String
                var kind: String
                var order: Int64?
                var portfolio: String
            }
            guard
                let envelope = try? JSONDecoder().decode(
                    Envelope.self, from: Data((text[..<end.lowerBound] + "}").utf8)),
                [DecisionLog.coveredFormat, DecisionLog.binanceWordsFormat].contains(envelope.format)
            else { return nil }
            self.init(
                at: envelope.at, batch: envelope.batch, kind: envelope.kind, order: envelope.order,
                portfolio: envelope.portfolio)
            format = envelope.format
        }

        /// The first column whose value is not the hashed one.
        func differingColumn(_ columns: Header) -> String? {
            if columns.at != at { return "created_at" }
            if columns.batch != batch { return "batch_id" }
            if columns.order != order { return "order_id" }
            if columns.portfolio != portfolio { return "portfolio_id" }
            if columns.kind != kind { return "kind" }
            return nil
        }
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
