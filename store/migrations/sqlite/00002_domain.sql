-- +goose Up
-- The domain: schools, cardholders, cards, PINs, merchants, operators,
-- sessions and the audit log. Times are unix microseconds; 0 means unset.
-- Booleans are INTEGER 0/1.

CREATE TABLE schools (
    id         INTEGER PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE, -- login code, lowercase
    name       TEXT    NOT NULL,
    settings   TEXT    NOT NULL,        -- onecard.Settings as JSON
    created_at INTEGER NOT NULL
);

CREATE TABLE campuses (
    id        INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools (id),
    name      TEXT    NOT NULL,
    UNIQUE (school_id, name)
);

-- The ID document number itself is never stored: id_hash is a keyed hash of
-- the normalised number, id_masked what a person may be shown.
CREATE TABLE cardholders (
    id                 INTEGER PRIMARY KEY,
    school_id          INTEGER NOT NULL REFERENCES schools (id),
    campus_id          INTEGER NOT NULL DEFAULT 0,
    number             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    id_type            TEXT    NOT NULL,
    id_hash            BLOB    NOT NULL,
    id_masked          TEXT    NOT NULL,
    phone              TEXT    NOT NULL DEFAULT '',
    purse_account      INTEGER NOT NULL DEFAULT 0,
    transition_account INTEGER NOT NULL DEFAULT 0,
    left_at            INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    UNIQUE (school_id, number)
);
CREATE INDEX cardholders_name ON cardholders (school_id, name);

-- Two PINs per cardholder. initial_hash is kept so that a reset can restore
-- the initial PIN without the ID number.
CREATE TABLE pins (
    cardholder_id   INTEGER NOT NULL REFERENCES cardholders (id),
    kind            TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    initial_hash    TEXT    NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    changed_at      INTEGER NOT NULL,
    PRIMARY KEY (cardholder_id, kind)
);

CREATE TABLE cards (
    id            INTEGER PRIMARY KEY,
    school_id     INTEGER NOT NULL REFERENCES schools (id),
    cardholder_id INTEGER NOT NULL REFERENCES cardholders (id),
    uid           TEXT    NOT NULL UNIQUE,
    status        TEXT    NOT NULL,
    lost          INTEGER NOT NULL DEFAULT 0,
    freeze_reason TEXT    NOT NULL DEFAULT '',
    freeze_note   TEXT    NOT NULL DEFAULT '',
    issued_at     INTEGER NOT NULL,
    lost_at       INTEGER NOT NULL DEFAULT 0,
    frozen_at     INTEGER NOT NULL DEFAULT 0,
    cancelled_at  INTEGER NOT NULL DEFAULT 0,
    replaced_by   INTEGER NOT NULL DEFAULT 0,
    replace_key   TEXT              -- the request key of the replacement that cancelled this card
);
CREATE INDEX cards_cardholder ON cards (cardholder_id, id);
CREATE UNIQUE INDEX cards_one_active ON cards (cardholder_id) WHERE status = 'active';
CREATE UNIQUE INDEX cards_replace_key ON cards (replace_key) WHERE replace_key IS NOT NULL;

-- The blacklist terminals pull by delta: one row per change of a card's
-- blocked state, numbered per school.
CREATE TABLE blacklist (
    id        INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    card_id   INTEGER NOT NULL,
    uid       TEXT    NOT NULL,
    blocked   INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    UNIQUE (school_id, version)
);

CREATE TABLE blacklist_versions (
    school_id INTEGER PRIMARY KEY,
    version   INTEGER NOT NULL
);

CREATE TABLE merchants (
    id         INTEGER PRIMARY KEY,
    school_id  INTEGER NOT NULL REFERENCES schools (id),
    campus_id  INTEGER NOT NULL DEFAULT 0,
    code       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    account    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (school_id, code)
);

CREATE TABLE operators (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL UNIQUE,
    name                 TEXT    NOT NULL,
    role                 TEXT    NOT NULL,
    school_id            INTEGER NOT NULL DEFAULT 0, -- 0: every school
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL
);

-- Bearer sessions; only the SHA-256 of the token is kept.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,
    operator_id   INTEGER NOT NULL DEFAULT 0,
    cardholder_id INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_cardholder ON sessions (cardholder_id) WHERE cardholder_id <> 0;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_type  TEXT    NOT NULL, -- operator, cardholder, system
    actor_id    INTEGER NOT NULL DEFAULT 0,
    action      TEXT    NOT NULL,
    school_id   INTEGER NOT NULL DEFAULT 0,
    target_type TEXT    NOT NULL DEFAULT '',
    target_id   INTEGER NOT NULL DEFAULT 0,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_school ON audit_log (school_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE operators;
DROP TABLE merchants;
DROP TABLE blacklist_versions;
DROP TABLE blacklist;
DROP TABLE cards;
DROP TABLE pins;
DROP TABLE cardholders;
DROP TABLE campuses;
DROP TABLE schools;
