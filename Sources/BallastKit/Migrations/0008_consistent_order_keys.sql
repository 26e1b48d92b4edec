-- An order's portfolio is its batch's and its venue is its account's; so is a parent trade's
-- portfolio. Each pair was two separate foreign keys that let the two disagree. One composite key
-- per pair says they agree, and checks one row where two were checked: a 10,000-portfolio
-- proposal writes some 40,000 orders and parents, each checked on the way in.
ALTER TABLE batches ADD CONSTRAINT batches_id_portfolio UNIQUE (id, portfolio_id);
ALTER TABLE accounts ADD CONSTRAINT accounts_id_venue UNIQUE (id, venue_id);

ALTER TABLE orders DROP CONSTRAINT orders_batch_id_fkey, DROP CONSTRAINT orders_portfolio_id_fkey,
    ADD CONSTRAINT orders_batch_portfolio_fkey FOREIGN KEY (batch_id, portfolio_id)
        REFERENCES batches (id, portfolio_id);
ALTER TABLE orders DROP CONSTRAINT orders_account_id_fkey, DROP CONSTRAINT orders_venue_id_fkey,
    ADD CONSTRAINT orders_account_venue_fkey FOREIGN KEY (account_id, venue_id) REFERENCES accounts (id, venue_id);
ALTER TABLE batch_parents DROP CONSTRAINT batch_parents_batch_id_fkey, DROP CONSTRAINT batch_parents_portfolio_id_fkey,
    ADD CONSTRAINT batch_parents_batch_portfolio_fkey FOREIGN KEY (batch_id, portfolio_id)
        REFERENCES batches (id, portfolio_id);
