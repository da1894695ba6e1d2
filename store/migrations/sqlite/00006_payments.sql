-- +goose Up
-- Money from the payment channels (Alipay, WeChat Pay, the bank link):
-- accounts bound to cards, top-up orders, automatic top-ups, SMS notices
-- and codes, and reconciliation reports. Amounts are fen, times unix
-- microseconds (0: unset), booleans INTEGER 0/1.

-- The bank link's debit agreement for the bound bank card; NULL until the
-- bank signs it. Rebinding a card deletes the row, so the old card's
-- agreement never debits the new one.
ALTER TABLE bank_bindings ADD COLUMN agreement TEXT;

-- Alipay and WeChat accounts bound to cards: one per card and channel, and
-- an account on at most one card. account is the channel's payer ID
-- (buyer_id, openid), kept in full because orders name it as the payer.
CREATE TABLE channel_bindings (
    cardholder_id  INTEGER NOT NULL REFERENCES cardholders (id),
    channel        TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    account_masked TEXT    NOT NULL,
    bound_at       INTEGER NOT NULL,
    PRIMARY KEY (cardholder_id, channel),
    UNIQUE (channel, account)
);

-- Top-up orders by OneCard's order number (the channel's out_trade_no).
-- request_key is the caller's idempotency key. paid_at, paid_by and
-- gateway_no are the channel's report of the payment, also for orders it
-- did not credit (rejected); transfer_id is the credit's ledger transfer.
CREATE TABLE top_ups (
    order_no      TEXT    PRIMARY KEY,
    school_id     INTEGER NOT NULL,
    cardholder_id INTEGER NOT NULL REFERENCES cardholders (id),
    channel       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    amount        INTEGER NOT NULL,
    fee           INTEGER NOT NULL,
    total         INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    payer         TEXT    NOT NULL DEFAULT '',
    paid_by       TEXT    NOT NULL DEFAULT '',
    gateway_no    TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    pay_url       TEXT    NOT NULL DEFAULT '',
    transfer_id   INTEGER NOT NULL DEFAULT 0,
    request_key   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    paid_at       INTEGER NOT NULL DEFAULT 0,
    closed_at     INTEGER NOT NULL DEFAULT 0,
    returned_at   INTEGER NOT NULL DEFAULT 0,
    refunded_at   INTEGER NOT NULL DEFAULT 0,
    refund_reason TEXT    NOT NULL DEFAULT '',
    UNIQUE (cardholder_id, request_key)
);
-- A cardholder's orders and the day's sums for the limits.
CREATE INDEX top_ups_cardholder ON top_ups (cardholder_id, created_at);
-- The settle job's queue.
CREATE INDEX top_ups_pending ON top_ups (created_at) WHERE state = 'pending';
-- A channel's day for reconciliation: payments received, refunds sent.
CREATE INDEX top_ups_paid ON top_ups (channel, paid_at) WHERE paid_at <> 0;
CREATE INDEX top_ups_returned ON top_ups (channel, returned_at) WHERE returned_at <> 0;

-- Automatic top-ups from the bound bank card. consent_at is when the
-- cardholder last turned them on (0 while off); last_at the last one
-- credited.
CREATE TABLE auto_top_ups (
    cardholder_id INTEGER PRIMARY KEY REFERENCES cardholders (id),
    enabled       INTEGER NOT NULL,
    threshold     INTEGER NOT NULL,
    amount        INTEGER NOT NULL,
    consent_at    INTEGER NOT NULL DEFAULT 0,
    last_at       INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);

-- The SMS notices a cardholder asked for; no row means the defaults.
CREATE TABLE notice_prefs (
    cardholder_id     INTEGER PRIMARY KEY REFERENCES cardholders (id),
    top_up            INTEGER NOT NULL,
    low_balance       INTEGER NOT NULL,
    card_freeze       INTEGER NOT NULL,
    low_balance_below INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- SMS verification codes, one live code per cardholder and purpose. Only a
-- keyed hash of the code is kept; attempts counts wrong tries, used_at
-- marks it consumed. The row stays after use: created_at is the rate limit.
CREATE TABLE sms_codes (
    cardholder_id INTEGER NOT NULL REFERENCES cardholders (id),
    purpose       TEXT    NOT NULL,
    code_hash     BLOB    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (cardholder_id, purpose)
);

-- Reconciliation reports of a channel's day; issues is JSON. school_id 0
-- is a deployment-wide report (one merchant account serves every school).
CREATE TABLE reconciliations (
    id         INTEGER PRIMARY KEY,
    school_id  INTEGER NOT NULL,
    channel    TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    matched    INTEGER NOT NULL,
    ours       INTEGER NOT NULL,
    theirs     INTEGER NOT NULL,
    issues     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX reconciliations_school ON reconciliations (school_id, id);

-- +goose Down
DROP TABLE reconciliations;
DROP TABLE sms_codes;
DROP TABLE notice_prefs;
DROP TABLE auto_top_ups;
DROP TABLE top_ups;
DROP TABLE channel_bindings;
ALTER TABLE bank_bindings DROP COLUMN agreement;
