-- +goose Up
-- The low-balance and freeze notices already texted, so that each goes out
-- once: key is "low:" and the school day, or "freeze:" with the card and the
-- time it was frozen.
CREATE TABLE notices_sent (
    cardholder_id BIGINT NOT NULL REFERENCES cardholders (id),
    key           TEXT   NOT NULL,
    sent_at       BIGINT NOT NULL,
    PRIMARY KEY (cardholder_id, key)
);

-- +goose Down
DROP TABLE notices_sent;
