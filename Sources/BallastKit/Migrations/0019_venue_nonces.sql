-- The last nonce handed out for each API key of a dialect that signs with an always-increasing
-- number (Kraken). Every process using the key draws its next nonce here, under an advisory lock
-- held until its request is answered, so nonces reach the venue in the order they were drawn.
-- The key is named by its fingerprint (never the key itself).
CREATE TABLE venue_nonces (
    key_fingerprint  text PRIMARY KEY,
    last_nonce       numeric(20, 0) NOT NULL CHECK (last_nonce > 0),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

SELECT ballast_grant_roles();
