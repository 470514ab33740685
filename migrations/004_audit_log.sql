-- 004: audit log of security-relevant actions.
-- Each entry names the acting user (if any), the action, client address and
-- user agent, and free-form JSON metadata.
-- Deliberate difference from the original: user_id is ON DELETE SET NULL from
-- the start (the original only switched to SET NULL in 016), so deleting a user
-- keeps their audit trail with an empty actor.

CREATE TABLE audit_log (
    id         UUID PRIMARY KEY,
    user_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    action     VARCHAR(64) NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    metadata   JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_audit_user ON audit_log (user_id, created_at DESC);
CREATE INDEX idx_audit_action ON audit_log (action, created_at DESC);
