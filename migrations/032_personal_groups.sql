-- 032: personal groups.
-- A group may be assigned to one member, and may or may not allow that member
-- to invite others (off by default).
-- Deliberate differences from the original:
--   * assigned_member_id is ON DELETE SET NULL from the start (the original had
--     no action until 045);
--   * new index idx_groups_assigned_member_id on that column.

ALTER TABLE groups
    ADD COLUMN assigned_member_id UUID REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN allow_invites BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX idx_groups_assigned_member_id ON groups (assigned_member_id);
