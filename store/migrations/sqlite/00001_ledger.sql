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

-- Transfers, including pending holds and their posts and voids.
CREATE TABLE transfers (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL UNIQUE,
    debit      INTEGER NOT NULL REFERENCES accounts (id),
    credit     INTEGER NOT NULL REFERENCES accounts (id),
    amount     INTEGER NOT NULL CHECK (amount > 0),
    flags      INTEGER NOT NULL,
    pending_id INTEGER NOT NULL DEFAULT 0,
    code       TEXT    NOT NULL,
    memo       TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX transfers_debit ON transfers (debit, id);
CREATE INDEX transfers_credit ON transfers (credit, id);
CREATE INDEX transfers_expiring ON transfers (expires_at) WHERE state = 'pending' AND expires_at > 0;

-- The append-only, hash-chained journal: one row per account a transfer touched.
CREATE TABLE journal (
    seq             INTEGER PRIMARY KEY,
    transfer_id     INTEGER NOT NULL,
    account_id      INTEGER NOT NULL,
    balance         INTEGER NOT NULL,
    debits_pending  INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    hash            BLOB    NOT NULL
);
CREATE INDEX journal_account ON journal (account_id);

-- +goose StatementBegin
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd

-- The end of the journal. Every ledger batch locks this one row.
CREATE TABLE ledger_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    transfer_id INTEGER NOT NULL
);
INSERT INTO ledger_head (id, seq, hash, transfer_id) VALUES (1, 0, zeroblob(32), 0);

-- +goose Down
DROP TABLE ledger_head;
DROP TABLE journal;
DROP TABLE transfers;
DROP TABLE accounts;
