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

-- ledger_advance moves the head from what a batch decided on to its new
-- transfer and hash, or fails with SQLSTATE 40001 when anything moved it
-- first; the batch is then decided again from the database.
-- +goose StatementBegin
CREATE FUNCTION ledger_advance(from_id BIGINT, from_epoch BIGINT, to_id BIGINT, to_hash BYTEA) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_head SET transfer_id = to_id, hash = to_hash WHERE id = 1 AND transfer_id = from_id AND epoch = from_epoch;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger head moved' USING ERRCODE = '40001';
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger_advance(BIGINT, BIGINT, BIGINT, BYTEA);
DROP TRIGGER accounts_epoch ON accounts;
DROP FUNCTION ledger_epoch_bump();
ALTER TABLE ledger_head DROP COLUMN epoch;
