-- 014: groups (containers of channels) and group membership.
-- Also gives channels an optional group_id; NULL means a standalone channel or
-- a DM. Deleting a group deletes its channels.
-- Deliberate differences from the original:
--   * groups.owner_id is nullable and ON DELETE SET NULL from the start (the
--     original kept it NOT NULL, and after 046 deleting an owner failed);
--   * new index idx_groups_owner_id on that foreign key column.

CREATE TABLE groups (
    id          UUID PRIMARY KEY,
    name        VARCHAR(64) NOT NULL,
    description TEXT,
    owner_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_groups_owner_id ON groups (owner_id);

CREATE TABLE group_members (
    group_id  UUID NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      VARCHAR(16) NOT NULL DEFAULT 'member',
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);

ALTER TABLE channels ADD COLUMN group_id UUID REFERENCES groups (id) ON DELETE CASCADE;
