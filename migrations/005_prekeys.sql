-- 005: signed prekeys and one-time prekeys (X3DH key bundles).
-- Both are unique per (user, key id); a partial index finds a user's unused
-- one-time keys.
-- Deliberate differences from the original: none (user_id already leads the
-- UNIQUE (user_id, key_id) index of both tables).

CREATE TABLE signed_prekeys (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_id     INTEGER NOT NULL,
    public_key BYTEA NOT NULL,
    signature  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, key_id)
);

CREATE TABLE one_time_prekeys (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_id     INTEGER NOT NULL,
    public_key BYTEA NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, key_id)
);

CREATE INDEX idx_otp_available ON one_time_prekeys (user_id, used) WHERE NOT used;
