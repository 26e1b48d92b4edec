import BallastCore
import Postgres

extension SymbolRules {
    /// A `symbols` row.
    init(row: Row) throws {
        self.init(
            pair: TradingPair(
                symbol: try row.decode("symbol"), base: try row.decode("base_asset"),
                quote: try row.decode("quote_asset")),
            status: try row.decode("status"), tickSize: try row.decode("tick_size"),
            minPrice: try row.decode("min_price"), maxPrice: try row.decode("max_price"),
            stepSize: try row.decode("step_size"), minQty: try row.decode("min_qty"), maxQty: try row.decode("max_qty"),
            minNotional: try row.decode("min_notional"), maxNotional: try row.decode("max_notional"))
    }
}
