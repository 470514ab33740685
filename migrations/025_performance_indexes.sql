-- 025: performance indexes (the original's set, unchanged).
-- Group membership by user, channels by group, community invites by code
-- (duplicates the UNIQUE constraint; kept for parity), read cursors by channel,
-- and live (not soft-deleted) message history per channel.
-- Deliberate differences from the original: none.

CREATE INDEX idx_group_members_user ON group_members (user_id);
CREATE INDEX idx_channels_group ON channels (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX idx_community_invites_code ON community_invites (code);
CREATE INDEX idx_read_cursors_channel ON read_cursors (channel_id);
CREATE INDEX idx_messages_channel_active ON messages (channel_id, created_at DESC) WHERE deleted_at IS NULL;
