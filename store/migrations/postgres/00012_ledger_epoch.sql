-- +goose Up
-- The ledger's committer remembers the accounts it has written, so that a
-- batch of transfers decides without reading them again (docs/BENCHMARKS.md).
-- What it remembers is true while the journal head has not moved and no
-- account changed outside a transfer: the epoch counts those changes (a
-- freeze, a close, a new floor or ceiling), and the committer's write names
-- the head and epoch it decided on.
ALTER TABLE ledger_head ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION ledger_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_head SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- Before the statement, so that the head is locked before any account row,
-- the order every ledger writer takes its locks in.
CREATE TRIGGER accounts_epoch BEFORE UPDATE OF floor, ceiling, frozen, closed OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_epoch_bump();

-- ledger_advance moves the head from what a batch decided on (its transfer,
-- hash and epoch: a database restored from a backup and written again can
-- reach the same transfer with another history) to the batch's new transfer
-- and hash, or fails with SQLSTATE 40001 when anything moved it first; the
-- batch is then decided again from the database.
-- +goose StatementBegin
CREATE FUNCTION ledger_advance(from_id BIGINT, from_hash BYTEA, from_epoch BIGINT, to_id BIGINT, to_hash BYTEA) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    h ledger_head%ROWTYPE;
BEGIN
    -- The lock waits for a batch still committing and then reads the head
    -- it left; an UPDATE ... WHERE would judge the row by the statement's
    -- snapshot, taken before that commit.
    SELECT * INTO h FROM ledger_head WHERE id = 1 FOR UPDATE;
    IF h.transfer_id <> from_id OR h.hash <> from_hash OR h.epoch <> from_epoch THEN
        RAISE EXCEPTION 'ledger head moved: at transfer % epoch %, the batch was decided at transfer % epoch %',
            h.transfer_id, h.epoch, from_id, from_epoch USING ERRCODE = '40001';
    END IF;
    UPDATE ledger_head SET transfer_id = to_id, hash = to_hash WHERE id = 1;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger_advance(BIGINT, BYTEA, BIGINT, BIGINT, BYTEA);
DROP TRIGGER accounts_epoch ON accounts;
DROP FUNCTION ledger_epoch_bump();
ALTER TABLE ledger_head DROP COLUMN epoch;
