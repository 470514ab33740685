-- 018: registration invite codes (for invite-only registration).
-- Deliberate differences from the original:
--   * created_by is nullable and ON DELETE SET NULL from the start (the
--     original created it NOT NULL without an action and fixed it in 045);
--   * new index idx_registration_invites_created_by on that column.
-- idx_registration_invites_code duplicates the UNIQUE constraint; kept for
-- parity.

CREATE TABLE registration_invites (
    id         UUID PRIMARY KEY,
    code       VARCHAR(32) NOT NULL UNIQUE,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    max_uses   INTEGER,
    used_count INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_registration_invites_code ON registration_invites (code);

CREATE INDEX idx_registration_invites_created_by ON registration_invites (created_by);
