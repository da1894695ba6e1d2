-- +goose Up
-- Each account's history is a chain through the journal instead of two
-- indexes by debit and by credit account: a journal row names the previous
-- transfer of its debit account and of its credit account, and an account
-- names its newest. The row and the account are written by every transfer
-- anyway, while each index entry is a write of its own (see
-- docs/BENCHMARKS.md). `onecard check` verifies every link.
ALTER TABLE journal ADD COLUMN debit_prev BIGINT NOT NULL DEFAULT 0, ADD COLUMN credit_prev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_transfer BIGINT NOT NULL DEFAULT 0;

CREATE TEMP TABLE history_links ON COMMIT DROP AS
    SELECT id, side, account, LAG(id, 1, 0::bigint) OVER (PARTITION BY account ORDER BY id) AS prev
    FROM (SELECT id, debit AS account, 0 AS side FROM journal UNION ALL SELECT id, credit, 1 FROM journal) p;

-- The links are filled in once, for the rows written before them; the
-- journal stays append-only for everything else.
ALTER TABLE journal DISABLE TRIGGER journal_no_change;
UPDATE journal j SET debit_prev = d.prev, credit_prev = c.prev
    FROM history_links d, history_links c
    WHERE d.id = j.id AND d.side = 0 AND c.id = j.id AND c.side = 1;
ALTER TABLE journal ENABLE TRIGGER journal_no_change;

UPDATE accounts a SET last_transfer = m.last
    FROM (SELECT account, MAX(id) AS last FROM history_links GROUP BY account) m WHERE m.account = a.id;

DROP INDEX journal_debit;
DROP INDEX journal_credit;

-- +goose Down
CREATE INDEX journal_debit ON journal (debit, id);
CREATE INDEX journal_credit ON journal (credit, id);
ALTER TABLE accounts DROP COLUMN last_transfer;
ALTER TABLE journal DROP COLUMN credit_prev, DROP COLUMN debit_prev;
