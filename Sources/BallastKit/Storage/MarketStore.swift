public import BallastCore
public import Foundation
public import Postgres
public import Venues

/// Writes what a pull brings back: venues, accounts, symbol rules, books,
/// balances, orders and fills. Every write is idempotent: natural keys and
/// `ON CONFLICT`, and snapshots identical to the latest one are not stored again.
public struct MarketStore {
    let connection: Connection
    let runID: String?

    /// A store writing through `connection`, tagging rows with `runID`.
    public init(connection: Connection, runID: String?) {
        self.connection = connection
        self.runID = runID
    }

    /// Upserts a venue.
    public func saveVenue(_ venue: VenueSettings) throws {
        try connection.execute(
            """
            INSERT INTO venues (id, dialect, base_url) VALUES (\(venue.id), \(venue.dialect), \(venue.baseURL))
            ON CONFLICT (id) DO UPDATE SET dialect = EXCLUDED.dialect, base_url = EXCLUDED.base_url, updated_at = now()
            WHERE venues.dialect <> EXCLUDED.dialect OR venues.base_url <> EXCLUDED.base_url
            """)
    }

    /// Records the limits the venue publishes.
    public func saveVenueLimits(_ venue: String, weightPerMinute: Int, ordersPer10s: Int) throws {
        try connection.execute(
            """
            UPDATE venues SET request_weight_per_minute = \(weightPerMinute), orders_per_10s = \(ordersPer10s)
            WHERE id = \(venue) AND (request_weight_per_minute IS DISTINCT FROM \(weightPerMinute)
                                   OR orders_per_10s IS DISTINCT FROM \(ordersPer10s))
            """)
    }

    /// Upserts an account with its key fingerprint and fee rates (never the key).
    ///
    /// An insert that gives way on any unique key (the primary key, or the (id, venue_id) key that
    /// orders reference: two processes adding the same new account at once collide on either),
    /// then an update of what changed.
    public func saveAccount(
        id: String, venue: String, fingerprint: String, makerFee: ExactDecimal?, takerFee: ExactDecimal?
    ) throws {
        try connection.execute(
            """
            INSERT INTO accounts (id, venue_id, key_fingerprint, maker_fee, taker_fee)
            VALUES (\(id), \(venue), \(fingerprint), \(makerFee), \(takerFee))
            ON CONFLICT DO NOTHING
            """)
        try connection.execute(
            """
            UPDATE accounts SET venue_id = \(venue), key_fingerprint = \(fingerprint),
                maker_fee = coalesce(\(makerFee)::numeric, maker_fee), taker_fee = coalesce(\(takerFee)::numeric, taker_fee),
                updated_at = now()
            WHERE id = \(id)
              AND (venue_id, key_fingerprint, maker_fee, taker_fee) IS DISTINCT FROM
                  (\(venue)::text, \(fingerprint)::text, coalesce(\(makerFee)::numeric, maker_fee),
                   coalesce(\(takerFee)::numeric, taker_fee))
            """)
    }

    /// Upserts the trading rules of `symbols`; returns how many rows changed.
    @discardableResult
    public func saveSymbols(_ symbols: [SymbolRules], venue: String) throws -> Int {
        var changed = 0
        try connection.withTransaction {
            for rules in symbols {
                changed += try connection.execute(
                    """
                    INSERT INTO symbols (venue_id, symbol, base_asset, quote_asset, status, tick_size, min_price,
                        max_price, step_size, min_qty, max_qty, min_notional, max_notional)
                    VALUES (\(venue), \(rules.pair.symbol), \(rules.pair.base), \(rules.pair.quote), \(rules.status),
                        \(rules.tickSize), \(rules.minPrice), \(rules.maxPrice), \(rules.stepSize), \(rules.minQty),
                        \(rules.maxQty), \(rules.minNotional), \(rules.maxNotional))
                    ON CONFLICT (venue_id, symbol) DO UPDATE SET base_asset = EXCLUDED.base_asset,
                        quote_asset = EXCLUDED.quote_asset, status = EXCLUDED.status, tick_size = EXCLUDED.tick_size,
                        min_price = EXCLUDED.min_price, max_price = EXCLUDED.max_price, step_size = EXCLUDED.step_size,
                        min_qty = EXCLUDED.min_qty, max_qty = EXCLUDED.max_qty, min_notional = EXCLUDED.min_notional,
                        max_notional = EXCLUDED.max_notional, updated_at = now()
                    WHERE (symbols.status, symbols.tick_size, symbols.step_size, symbols.min_qty, symbols.max_qty,
                           symbols.min_notional, symbols.max_notional, symbols.min_price, symbols.max_price)
                        IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.tick_size, EXCLUDED.step_size, EXCLUDED.min_qty,
                           EXCLUDED.max_qty, EXCLUDED.min_notional, EXCLUDED.max_notional, EXCLUDED.min_price,
                           EXCLUDED.max_price)
                    """)
            }
        }
        return changed
    }

    /// Stores book tickers that differ from the latest stored one; returns how many were new.
    @discardableResult
    public func saveBookTickers(_ tickers: [BookTicker], venue: String, at time: Date) throws -> Int {
        var stored = 0
        for t in tickers {
            stored += try connection.execute(
                """
                INSERT INTO book_tickers (run_id, venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at)
                SELECT \(runID), \(venue), \(t.symbol), \(t.bidPrice), \(t.bidQty), \(t.askPrice), \(t.askQty), \(time)
                WHERE NOT EXISTS (
                    SELECT 1 FROM (SELECT bid_price, bid_qty, ask_price, ask_qty FROM book_tickers
                                   WHERE venue_id = \(venue) AND symbol = \(t.symbol)
                                   ORDER BY observed_at DESC, id DESC LIMIT 1) latest
                    WHERE latest.bid_price = \(t.bidPrice)::numeric AND latest.bid_qty = \(t.bidQty)::numeric
                      AND latest.ask_price = \(t.askPrice)::numeric AND latest.ask_qty = \(t.askQty)::numeric)
                """)
        }
        return stored
    }

    /// Stores a depth snapshot unless the venue's update id was seen; returns 1 if new.
    @discardableResult
    public func saveDepth(_ depth: DepthSnapshot, venue: String, at time: Date) throws -> Int {
        try connection.execute(
            """
            INSERT INTO depth_snapshots (run_id, venue_id, symbol, last_update_id, bid_prices, bid_qtys, ask_prices,
                ask_qtys, observed_at)
            SELECT \(runID), \(venue), \(depth.symbol), \(depth.lastUpdateId), \(depth.bids.map(\.price))::numeric[],
                \(depth.bids.map(\.qty))::numeric[], \(depth.asks.map(\.price))::numeric[],
                \(depth.asks.map(\.qty))::numeric[], \(time)
            WHERE NOT EXISTS (SELECT 1 FROM depth_snapshots WHERE venue_id = \(venue) AND symbol = \(depth.symbol)
                              AND last_update_id = \(depth.lastUpdateId))
            """)
    }

    /// Stores a balance snapshot unless the venue reported the same update time before; returns its id if new.
    @discardableResult
    public func saveBalances(_ snapshot: AccountSnapshot, account: String, at time: Date) throws -> Int64? {
        try connection.withTransaction {
            guard
                let id: Int64 = try connection.query(
                    """
                    INSERT INTO balance_snapshots (run_id, account_id, taken_at, venue_time)
                    VALUES (\(runID), \(account), \(time), \(snapshot.updateTime))
                    ON CONFLICT (account_id, venue_time) DO NOTHING
                    RETURNING id
                    """
                ).first?.decode("id")
            else { return nil }
            for balance in snapshot.balances where !balance.total.isZero {
                try connection.execute(
                    """
                    INSERT INTO balances (snapshot_id, asset, free, locked)
                    VALUES (\(id), \(balance.asset), \(balance.free), \(balance.locked))
                    """)
            }
            return id
        }
    }

    /// Upserts orders as the venue reports them (their type, time in force and status in Ballast's
    /// words, as the dialect read them); returns how many rows changed.
    @discardableResult
    public func saveVenueOrders(_ orders: [VenueOrder], venue: String, account: String) throws -> Int {
        var changed = 0
        for o in orders {
            changed += try connection.execute(
                """
                INSERT INTO venue_orders (venue_id, account_id, symbol, order_id, client_order_id, side, type,
                    time_in_force, price, orig_qty, executed_qty, cumulative_quote, status, created_at, updated_at)
                VALUES (\(venue), \(account), \(o.symbol), \(o.orderId), \(o.clientOrderId), \(o.side.rawValue),
                    \(o.type.rawValue), \(o.timeInForce?.rawValue), \(o.price), \(o.origQty), \(o.executedQty),
                    \(o.cumulativeQuoteQty), \(o.status.rawValue), \(o.time), \(o.updateTime))
                ON CONFLICT (venue_id, account_id, symbol, order_id) DO UPDATE SET
                    executed_qty = EXCLUDED.executed_qty, cumulative_quote = EXCLUDED.cumulative_quote,
                    status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, observed_at = now()
                WHERE (venue_orders.status, venue_orders.executed_qty) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.executed_qty)
                """)
        }
        return changed
    }

    /// Where the next fills page for (`account`, `symbol`) starts: the venue's dialect wrote it
    /// and reads it (nil: from the start of the account's history).
    public func fillCursor(account: String, symbol: String) throws -> String? {
        try connection.query(
            "SELECT cursor FROM fill_cursors WHERE account_id = \(account) AND symbol = \(symbol)"
        ).first?.decode("cursor")
    }

    /// Stores a page of fills (COPY, then `ON CONFLICT DO NOTHING`) and moves the cursor to `cursor`
    /// (the dialect's position after this page; nil leaves it), in one transaction: a pull killed at
    /// any moment resumes exactly where it stopped. Returns how many fills were new.
    public func saveFills(_ fills: [Fill], venue: String, account: String, symbol: String, cursor: String?) throws
        -> Int
    {
        guard !fills.isEmpty || cursor != nil else { return 0 }
        return try connection.withTransaction {
            try connection.execute(
                """
                CREATE TEMP TABLE IF NOT EXISTS incoming_fills (LIKE fills INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
            try connection.copyIn(
                """
                COPY incoming_fills (venue_id, account_id, symbol, trade_id, order_id, order_list_id, side, price, qty,
                    quote_qty, commission, commission_asset, is_maker, executed_at, run_id) FROM STDIN
                """
            ) { writer in
                for f in fills {
                    try writer.field(venue)
                    try writer.field(account)
                    try writer.field(f.symbol)
                    try writer.field(f.tradeId)
                    try writer.field(f.orderId)
                    try writer.field(Int(f.orderListId))
                    try writer.field(f.side.rawValue)
                    try writer.field(f.price.description)
                    try writer.field(f.qty.description)
                    try writer.field(f.quoteQty.description)
                    try writer.field(f.commission.description)
                    try writer.field(f.commissionAsset)
                    try writer.field(f.isMaker ? "t" : "f")
                    try writer.field(f.time)
                    try writer.field(runID)
                    try writer.endRow()
                }
            }
            let inserted = try connection.execute(
                "INSERT INTO fills SELECT * FROM incoming_fills ON CONFLICT DO NOTHING")
            if let cursor {
                try connection.execute(
                    """
                    INSERT INTO fill_cursors (account_id, symbol, cursor) VALUES (\(account), \(symbol), \(cursor))
                    ON CONFLICT (account_id, symbol) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
                    """)
            }
            return inserted
        }
    }
}
