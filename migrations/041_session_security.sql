-- 041: session chains and failure counters (ours; the original kept lockouts in
-- process memory and had no refresh-token reuse detection).
--
-- refresh_tokens:
--   family_id      every token minted by rotation keeps the family of the login that
--                  started the chain; presenting a rotated token revokes the family.
--   revoked_reason why a row was revoked: 'rotated', 'logout', 'logout_all',
--                  'password_changed', 'suspended', 'reuse_detected', 'admin', ...
--   last_used_at   when the row was last presented (rotation time).
--
-- auth_lockouts: failed-attempt counters shared by every server process, per scope
-- ('login', 'recover', 'totp') and subject (lower-cased username). The counter decays:
-- a failure after the window has passed starts a new window.

ALTER TABLE refresh_tokens
    ADD COLUMN family_id UUID,
    ADD COLUMN revoked_reason VARCHAR(32),
    ADD COLUMN last_used_at TIMESTAMPTZ;

UPDATE refresh_tokens SET family_id = id WHERE family_id IS NULL;

ALTER TABLE refresh_tokens ALTER COLUMN family_id SET NOT NULL;

CREATE INDEX idx_refresh_tokens_family_id ON refresh_tokens (family_id);

CREATE INDEX idx_refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE auth_lockouts (
    scope             VARCHAR(16) NOT NULL,
    subject           TEXT NOT NULL,
    failures          INTEGER NOT NULL DEFAULT 0,
    window_started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until      TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, subject)
);

CREATE INDEX idx_auth_lockouts_updated_at ON auth_lockouts (updated_at);

CREATE INDEX idx_audit_log_created_at ON audit_log (created_at);
