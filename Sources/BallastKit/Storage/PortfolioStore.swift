import BallastCore
import Digest
import Foundation
import Postgres

/// Keeps the portfolios table in step with the job configuration: targets and
/// accounts are replaced as configured, in one transaction per portfolio. The portfolio's whole
/// configuration is stored as canonical JSON with its SHA-256; every change of it is kept in
/// `input_versions` (migration 0014), so what a decision was configured with stays answerable.
struct PortfolioStore {
    let connection: Connection

    /// Stores every configured portfolio; accounts not yet known to the
    /// database (their venue was never pulled) are left out until they are.
    func save(_ portfolios: [PortfolioSettings]) throws {
        for portfolio in portfolios {
            let config = try DecisionLog.canonical(portfolio)
            let hash = Digest.hex(Digest.sha256(config))
            try connection.withTransaction {
                try connection.execute(
                    """
                    INSERT INTO portfolios (id, quote_asset, config, config_hash, updated_at)
                    VALUES (\(portfolio.id), \(portfolio.quote), \(config)::jsonb, \(hash), now())
                    ON CONFLICT (id) DO UPDATE SET quote_asset = excluded.quote_asset, config = excluded.config,
                        config_hash = excluded.config_hash, updated_at = now()
                    """)
                try connection.execute("DELETE FROM portfolio_targets WHERE portfolio_id = \(portfolio.id)")
                for (asset, weight) in portfolio.targets.sorted(by: { $0.key < $1.key }) {
                    try connection.execute(
                        """
                        INSERT INTO portfolio_targets (portfolio_id, asset, weight)
                        VALUES (\(portfolio.id), \(asset), \(weight))
                        """)
                }
                try connection.execute("DELETE FROM portfolio_accounts WHERE portfolio_id = \(portfolio.id)")
                for account in portfolio.accounts {
                    try connection.execute(
                        """
                        INSERT INTO portfolio_accounts (portfolio_id, account_id)
                        SELECT \(portfolio.id), id FROM accounts WHERE id = \(account)
                        """)
                }
            }
        }
    }
}
