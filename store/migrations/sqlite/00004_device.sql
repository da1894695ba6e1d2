-- +goose Up
-- The offline card world's books: what terminals uploaded and loaded, and
-- what the server knows of each card's purse (docs/DEVICE_API.md).

-- Accepted purchase records. A record is stored once, by either of its
-- identities: the terminal's sequence and the card's counter. at is the
-- card's (the terminal's) time of the purchase; transfer_id the first ledger
-- transfer that paid the merchant (a record is one to three linked ones).
CREATE TABLE device_records (
    id             INTEGER PRIMARY KEY,
    school_id      INTEGER NOT NULL,
    terminal_id    INTEGER NOT NULL,
    terminal_seq   INTEGER NOT NULL,
    card_id        INTEGER NOT NULL,
    cardholder_id  INTEGER NOT NULL,
    card_counter   INTEGER NOT NULL,
    type           TEXT   NOT NULL,
    amount         INTEGER NOT NULL,
    balance_before INTEGER NOT NULL,
    balance_after  INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    tac            TEXT   NOT NULL,
    transfer_id    INTEGER NOT NULL,
    uploaded_at    INTEGER NOT NULL,
    UNIQUE (terminal_id, terminal_seq),
    UNIQUE (card_id, type, card_counter)
);
-- The per-meal and daily sums at a tap.
CREATE INDEX device_records_cardholder ON device_records (cardholder_id, at);

-- Records refused (forged, malformed, another terminal's), kept for the
-- card centre with the record as uploaded.
CREATE TABLE device_rejects (
    id          INTEGER PRIMARY KEY,
    school_id   INTEGER NOT NULL,
    terminal_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    code        TEXT   NOT NULL,
    reason      TEXT   NOT NULL,
    record      TEXT   NOT NULL
);
CREATE INDEX device_rejects_terminal ON device_rejects (terminal_id, id);

-- Loads the issuer authorised (MAC2 given). counter is the card's online
-- counter after the load. A load is pending until its TAC comes back or a
-- later tap shows the card's counter, then confirmed or reversed; the money
-- moved at authorisation under transfer_key and back under reverse_key.
-- A reversed load frees its counter for the load the card really does next.
CREATE TABLE device_loads (
    id            INTEGER PRIMARY KEY,
    school_id     INTEGER NOT NULL,
    card_id       INTEGER NOT NULL,
    cardholder_id INTEGER NOT NULL,
    counter       INTEGER NOT NULL,
    kind          TEXT   NOT NULL,
    amount        INTEGER NOT NULL,
    terminal_id   INTEGER NOT NULL,
    init          TEXT   NOT NULL,
    mac2          TEXT   NOT NULL,
    authorised_at INTEGER NOT NULL,
    state         TEXT   NOT NULL,
    tac           TEXT   NOT NULL DEFAULT '',
    settled_at    INTEGER NOT NULL DEFAULT 0,
    transfer_key  TEXT   NOT NULL,
    reverse_key   TEXT   NOT NULL
);
CREATE UNIQUE INDEX device_loads_counter ON device_loads (card_id, counter) WHERE state <> 'reversed';
CREATE INDEX device_loads_pending ON device_loads (card_id) WHERE state = 'pending';
-- The daily bank-load limit.
CREATE INDEX device_loads_cardholder ON device_loads (cardholder_id, kind, authorised_at);

-- What the server knows of each card's purse: the highest confirmed load
-- and accepted purchase counters, how many purchases were accepted (fewer
-- than offline_counter: a counter gap) and the card's balance as of the
-- last of them.
CREATE TABLE card_purses (
    card_id         INTEGER PRIMARY KEY,
    online_counter  INTEGER NOT NULL DEFAULT 0,
    offline_counter INTEGER NOT NULL DEFAULT 0,
    purchases       INTEGER NOT NULL DEFAULT 0,
    last_balance    INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE card_purses;
DROP TABLE device_loads;
DROP TABLE device_rejects;
DROP TABLE device_records;
