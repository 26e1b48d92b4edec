import Digest

/// A child order's identity (DESIGN.md "Orders, keys and the execute state machine"):
/// the **intent key** is SHA-256 over (portfolio, batch, leg, venue, symbol,
/// side, generation), never `hashValue`; the client order id sent to the venue
/// is derived from it and fits Binance's `^[a-zA-Z0-9-_]{1,36}$`. A reprice is
/// a new generation, hence a new key.
public struct OrderIntent: Sendable, Hashable, Codable {
    public var portfolio: String
    public var batch: Int64
    public var leg: Int
    public var venue: String
    public var symbol: String
    public var side: Side
    public var generation: Int

    public init(
        portfolio: String, batch: Int64, leg: Int, venue: String, symbol: String, side: Side, generation: Int = 0
    ) {
        self.portfolio = portfolio
        self.batch = batch
        self.leg = leg
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.generation = generation
    }

    /// The canonical text hashed: fields in a fixed order, each length-prefixed,
    /// so no two different intents can produce the same text.
    public var canonical: String {
        let fields = [
            portfolio, String(batch), String(leg), venue, symbol, side.rawValue, String(generation),
        ]
        return fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
    }

    /// Lower-case hex SHA-256 of `canonical` (64 characters).
    public var key: String { Digest.hex(Digest.sha256(canonical)) }

    /// `bl` + the first 32 hex digits of the key: 34 characters of `[a-z0-9]` (the Binance form;
    /// a venue's dialect may spell it otherwise).
    public var clientOrderId: String { Self.clientOrderId(forKey: key) }

    /// `bl` + the first 32 hex digits of `key`.
    public static func clientOrderId(forKey key: String) -> String { "bl" + String(key.prefix(32)) }

    /// The same intent one generation later (a reprice).
    public func nextGeneration() -> OrderIntent {
        var next = self
        next.generation += 1
        return next
    }
}
