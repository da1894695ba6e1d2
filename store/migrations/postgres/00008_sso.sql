-- +goose Up
-- Each school's unified identity authentication (统一身份认证): kind is cas
-- or oidc; cas_url is CAS's base, issuer/client_id/user_claim OpenID
-- Connect's. The OIDC client secret is sealed (AES-256-GCM) under a key
-- derived from the store secret, bound to the school, so a copy of the
-- database does not let anyone act as OneCard at the identity provider.
CREATE TABLE school_sso (
    school_id     BIGINT  PRIMARY KEY REFERENCES schools (id),
    kind          TEXT    NOT NULL,
    cas_url       TEXT    NOT NULL DEFAULT '',
    issuer        TEXT    NOT NULL DEFAULT '',
    client_id     TEXT    NOT NULL DEFAULT '',
    client_secret BYTEA   NOT NULL DEFAULT ''::bytea,
    user_claim    TEXT    NOT NULL DEFAULT '',
    updated_at    BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE school_sso;
