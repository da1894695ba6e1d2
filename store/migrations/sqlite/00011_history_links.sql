-- +goose Up
-- Each account's history is a chain through the journal instead of two
-- indexes by debit and by credit account: a journal row names the previous
-- transfer of its debit account and of its credit account, and an account
-- names its newest. The row and the account are written by every transfer
-- anyway, while each index entry dirtied a page of its own (measured in
-- docs/BENCHMARKS.md). `onecard check` verifies every link.
ALTER TABLE journal ADD COLUMN debit_prev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN credit_prev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_transfer INTEGER NOT NULL DEFAULT 0;

CREATE TEMP TABLE history_links AS
    SELECT id, side, account, LAG(id, 1, 0) OVER (PARTITION BY account ORDER BY id) AS prev
    FROM (SELECT id, debit AS account, 0 AS side FROM journal UNION ALL SELECT id, credit, 1 FROM journal);
CREATE INDEX temp.history_links_id ON history_links (id, side);

-- The links are filled in once, for the rows written before them; the
-- journal stays append-only for everything else.
DROP TRIGGER journal_no_update;
UPDATE journal SET
    debit_prev = (SELECT prev FROM history_links l WHERE l.id = journal.id AND l.side = 0),
    credit_prev = (SELECT prev FROM history_links l WHERE l.id = journal.id AND l.side = 1);
-- +goose StatementBegin
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd

UPDATE accounts SET last_transfer = COALESCE((SELECT MAX(id) FROM history_links l WHERE l.account = accounts.id), 0);
DROP TABLE history_links;

DROP INDEX journal_debit;
DROP INDEX journal_credit;

-- +goose Down
CREATE INDEX journal_debit ON journal (debit, id);
CREATE INDEX journal_credit ON journal (credit, id);
ALTER TABLE accounts DROP COLUMN last_transfer;
DROP TRIGGER journal_no_update;
ALTER TABLE journal DROP COLUMN credit_prev;
ALTER TABLE journal DROP COLUMN debit_prev;
-- +goose StatementBegin
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
-- +goose StatementEnd
