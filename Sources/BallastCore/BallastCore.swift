// Ballast's pure domain: exact decimals, trading vocabulary, venue rules,
// portfolios, drift and bands, slippage and shortfall, the cost model, the
// router, intent keys, reconciliation and the order state machine.
//
// Invariants:
// - No C library, no network, no database: every function here is testable
//   with values alone, and deterministic for the same inputs.
// - Amounts are `ExactDecimal`; `Double` appears only in statistics
//   (volatility, scores, latencies) and never in what is sent or stored.
// - Time is passed in, never read from a clock. The one clock abstraction the
//   venues, the simulator and execute share (`TimeSource`) is declared here;
//   only its `SystemTime` reads the wall clock, and nothing else in this module
//   calls it.
