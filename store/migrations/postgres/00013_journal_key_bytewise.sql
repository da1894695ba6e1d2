-- +goose Up
-- Idempotency keys are compared byte by byte. Every transfer's insert
-- checks its key against the journal's unique index; under the database's
-- default collation each comparison went through the C library's locale
-- functions, a measurable part of the ledger batch's time under the head
-- lock (docs/BENCHMARKS.md). Keys are identifiers, never sorted for people,
-- so the locale adds nothing. The view that reads the column is made again
-- around the change; the unique index is rebuilt, which on a large journal
-- takes a while under an exclusive lock (docs/OPERATIONS.md).
DROP VIEW transfers;
ALTER TABLE journal ALTER COLUMN key TYPE TEXT COLLATE "C";
CREATE VIEW transfers AS
    SELECT j.id, j.key, j.debit, j.credit, j.amount, j.flags, j.pending_id, j.released, j.code, j.memo,
        COALESCE(h.state, '') AS state, COALESCE(h.expires_at, 0) AS expires_at, j.created_at
    FROM journal j LEFT JOIN holds h ON h.transfer_id = j.id;

-- +goose Down
DROP VIEW transfers;
ALTER TABLE journal ALTER COLUMN key TYPE TEXT COLLATE "default";
CREATE VIEW transfers AS
    SELECT j.id, j.key, j.debit, j.credit, j.amount, j.flags, j.pending_id, j.released, j.code, j.memo,
        COALESCE(h.state, '') AS state, COALESCE(h.expires_at, 0) AS expires_at, j.created_at
    FROM journal j LEFT JOIN holds h ON h.transfer_id = j.id;
