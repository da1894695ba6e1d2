-- +goose Up
-- Payments by code at a POS: the one-card payment code the app shows, and
-- Alipay's or WeChat's codes, which are paid through the channel.

-- One-card payment codes (付款码): only a keyed hash of the 18 digits is
-- kept, so a copy of the database shows no code a POS would accept. A code
-- is usable once (used_at) until expires_at; expired rows are deleted.
CREATE TABLE pay_codes (
    hash          BYTEA PRIMARY KEY,
    cardholder_id BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    used_at       BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX pay_codes_expires ON pay_codes (expires_at);
CREATE INDEX pay_codes_cardholder ON pay_codes (cardholder_id);

-- Code payments by the POS's order number. channel is alipay, wechat or
-- onecard; state paying, paid, closed or refunded. cardholder_id is the
-- payer's card (one-card codes, and channel payers whose account is bound
-- to a card), 0 otherwise. code_hash is the one-card code that paid, so a
-- retry of the same number with another code is told apart. transfer_id is
-- the ledger transfer that paid the merchant; refunded sums the refunds.
CREATE TABLE code_payments (
    no            TEXT PRIMARY KEY,
    school_id     BIGINT  NOT NULL,
    merchant_id   BIGINT  NOT NULL,
    terminal_id   BIGINT  NOT NULL DEFAULT 0,
    channel       TEXT    NOT NULL,
    amount        BIGINT  NOT NULL,
    refunded      BIGINT  NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,
    cardholder_id BIGINT  NOT NULL DEFAULT 0,
    payer         TEXT    NOT NULL DEFAULT '',
    gateway_no    TEXT    NOT NULL DEFAULT '',
    code_hash     BYTEA   NOT NULL DEFAULT ''::bytea,
    transfer_id   BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    paid_at       BIGINT  NOT NULL DEFAULT 0
);
-- A channel's day for reconciliation.
CREATE INDEX code_payments_channel ON code_payments (school_id, channel, paid_at);
-- A cardholder's bills.
CREATE INDEX code_payments_cardholder ON code_payments (cardholder_id, paid_at) WHERE cardholder_id <> 0;

-- Merchant refunds of code payments, by the refund's own number.
CREATE TABLE code_payment_refunds (
    refund_no   TEXT PRIMARY KEY,
    payment_no  TEXT    NOT NULL,
    school_id   BIGINT  NOT NULL,
    channel     TEXT    NOT NULL,
    amount      BIGINT  NOT NULL,
    transfer_id BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX code_payment_refunds_channel ON code_payment_refunds (school_id, channel, created_at);
CREATE INDEX code_payment_refunds_payment ON code_payment_refunds (payment_no);

-- +goose Down
DROP TABLE code_payment_refunds;
DROP TABLE code_payments;
DROP TABLE pay_codes;
