-- +goose Up
-- The ledger's committer remembers the accounts it has written, so that a
-- batch of transfers decides without reading them again (docs/BENCHMARKS.md).
-- What it remembers is true while the journal head has not moved and no
-- account changed outside a transfer: the epoch counts those changes (a
-- freeze, a close, a new floor or ceiling), and the committer checks the
-- head and epoch inside its write transaction before it decides.
ALTER TABLE ledger_head ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER accounts_epoch AFTER UPDATE OF floor, ceiling, frozen, closed ON accounts
BEGIN
    UPDATE ledger_head SET epoch = epoch + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_epoch_delete AFTER DELETE ON accounts
BEGIN
    UPDATE ledger_head SET epoch = epoch + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER accounts_epoch_delete;
DROP TRIGGER accounts_epoch;
ALTER TABLE ledger_head DROP COLUMN epoch;
