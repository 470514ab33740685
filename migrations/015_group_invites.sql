-- 015: group invite codes.
-- A 12-character code with optional use limit and expiry.
-- Deliberate differences from the original:
--   * created_by is nullable and ON DELETE SET NULL from the start (the
--     original created it NOT NULL without an action and fixed it in 045);
--   * new index idx_group_invites_created_by on that foreign key column.
-- idx_group_invites_code duplicates the UNIQUE constraint; kept for parity.

CREATE TABLE group_invites (
    id         UUID PRIMARY KEY,
    group_id   UUID NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    code       VARCHAR(12) NOT NULL UNIQUE,
    max_uses   INTEGER,
    used_count INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_group_invites_code ON group_invites (code);

CREATE INDEX idx_group_invites_created_by ON group_invites (created_by);
