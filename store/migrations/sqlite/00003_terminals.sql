-- +goose Up
-- Terminals of the offline card world: POS, bath controllers, kiosks, cash
-- and replacement machines. Each signs its requests with its own key, kept
-- here sealed with a key derived from the store secret.
CREATE TABLE terminals (
    id           INTEGER PRIMARY KEY,
    school_id    INTEGER NOT NULL REFERENCES schools (id),
    campus_id    INTEGER NOT NULL DEFAULT 0,
    merchant_id  INTEGER NOT NULL DEFAULT 0,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    sealed_key   BLOB NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0,
    seq          INTEGER NOT NULL DEFAULT 0,
    last_seen_at INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (school_id, code)
);

-- Nonces of signed device requests seen within the replay window.
CREATE TABLE terminal_nonces (
    terminal_id INTEGER NOT NULL,
    nonce       TEXT NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
);
CREATE INDEX terminal_nonces_seen ON terminal_nonces (seen_at);

-- +goose Down
DROP TABLE terminal_nonces;
DROP TABLE terminals;
