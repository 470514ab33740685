-- 002: long-term identity keys for end-to-end encryption.
-- One row per user holding the public identity key and its fingerprint; the
-- row goes away with the user.
-- Deliberate differences from the original: none.

CREATE TABLE identity_keys (
    user_id      UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    identity_key BYTEA NOT NULL,
    fingerprint  VARCHAR(64) NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    rotated_at   TIMESTAMPTZ
);
