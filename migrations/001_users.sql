-- 001: user accounts.
-- Creates the users table: login name, display name, e-mail, password hash,
-- presence status, optional avatar and TOTP secret, timestamps. Username and
-- e-mail carry case-sensitive UNIQUE constraints plus the original's two plain
-- lookup indexes (redundant with those constraints, kept for schema parity).
-- Deliberate difference from the original: two extra UNIQUE expression indexes
-- on lower(username) and lower(email), so that two accounts can never differ
-- only by letter case.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    username      VARCHAR(32) NOT NULL UNIQUE,
    display_name  VARCHAR(64) NOT NULL,
    email         VARCHAR(255) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    avatar_url    TEXT,
    status        VARCHAR(16) NOT NULL DEFAULT 'offline',
    custom_status VARCHAR(128),
    totp_secret   BYTEA,
    totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_users_username ON users (username);
CREATE INDEX idx_users_email ON users (email);

CREATE UNIQUE INDEX idx_users_username_lower ON users (lower(username));
CREATE UNIQUE INDEX idx_users_email_lower ON users (lower(email));
