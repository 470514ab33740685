-- 003: refresh tokens (one row per login session / device).
-- Stores only a hash of each token, with its expiry and revocation time, plus
-- the original's partial index over a user's non-revoked tokens.
-- Deliberate difference from the original: a plain index
-- idx_refresh_tokens_user_id on user_id, so that every row of the foreign key
-- (including revoked ones, e.g. when a user is deleted) is found by index.

CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  BYTEA NOT NULL UNIQUE,
    device_name VARCHAR(128),
    ip_address  TEXT,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX idx_refresh_active ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE INDEX idx_refresh_tokens_user_id ON refresh_tokens (user_id);
