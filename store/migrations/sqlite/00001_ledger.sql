-- +goose Up
-- Times are unix microseconds in every table, in both dialects.

-- A ledger account. The CHECKs are the last line of defence: whatever the
-- engine decides, no account leaves its floor or ceiling.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    school_id       INTEGER NOT NULL,
    kind            TEXT    NOT NULL,   -- purse, transition, merchant, cash, fee_income, ...
    owner_id        INTEGER NOT NULL DEFAULT 0, -- cardholder or merchant id; 0 for system accounts
    floor           INTEGER NOT NULL,
    ceiling         INTEGER NOT NULL,
    balance         INTEGER NOT NULL DEFAULT 0,
    debits_pending  INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    frozen          INTEGER NOT NULL DEFAULT 0,
    closed          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    CHECK (balance - debits_pending >= floor),
    CHECK (balance + credits_pending <= ceiling),
    CHECK (debits_pending >= 0 AND credits_pending >= 0)
);
CREATE INDEX accounts_owner ON accounts (school_id, kind, owner_id);

-- The journal: every transfer, append-only, in ID order, hash-chained.
-- A row carries what it did to both accounts: its kind (flags), amount and,
-- for posts and voids of holds, the held amount it released.
CREATE TABLE journal (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL UNIQUE,
    debit      INTEGER NOT NULL,
    credit     INTEGER NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    flags      INTEGER NOT NULL,
    pending_id INTEGER NOT NULL DEFAULT 0,
    released   INTEGER NOT NULL DEFAULT 0,
    code       TEXT    NOT NULL,
    memo       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    hash       BLOB    NOT NULL
);
CREATE INDEX journal_debit ON journal (debit, id);
CREATE INDEX journal_credit ON journal (credit, id);

-- +goose StatementBegin
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd

-- The one mutable part of a pending transfer: whether it is still held.
CREATE TABLE holds (
    transfer_id INTEGER PRIMARY KEY,
    state       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX holds_expiring ON holds (expires_at) WHERE state = 'pending' AND expires_at > 0;

-- Transfers as readers see them: the journal with each hold's state.
CREATE VIEW transfers AS
    SELECT j.id, j.key, j.debit, j.credit, j.amount, j.flags, j.pending_id, j.released, j.code, j.memo,
        COALESCE(h.state, '') AS state, COALESCE(h.expires_at, 0) AS expires_at, j.created_at
    FROM journal j LEFT JOIN holds h ON h.transfer_id = j.id;

-- The end of the journal. Every ledger batch locks this one row.
CREATE TABLE ledger_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    transfer_id INTEGER NOT NULL,
    hash        BLOB    NOT NULL
);
INSERT INTO ledger_head (id, transfer_id, hash) VALUES (1, 0, zeroblob(32));

-- +goose Down
DROP TABLE ledger_head;
DROP VIEW transfers;
DROP TABLE holds;
DROP TABLE journal;
DROP TABLE accounts;
