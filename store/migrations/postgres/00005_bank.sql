-- +goose Up
-- The bank card bound to a cardholder for loads at kiosks and bank top-ups:
-- a masked number to show and a keyed hash to match, never the number.
CREATE TABLE bank_bindings (
    cardholder_id BIGINT PRIMARY KEY REFERENCES cardholders (id),
    bank          TEXT NOT NULL,
    card_masked   TEXT NOT NULL,
    card_hash     BYTEA NOT NULL,
    bound_via     TEXT NOT NULL,
    bound_at      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE bank_bindings;
