-- 035: more lookup indexes: invites by group, DM pairs by second user,
-- scheduled messages by author, and a user's newest signed prekey.
-- Deliberate difference from the original: plain CREATE INDEX (the original
-- used IF NOT EXISTS; none of these names exists before this migration).

CREATE INDEX idx_group_invites_group ON group_invites (group_id);
CREATE INDEX idx_dm_pairs_user_b ON dm_pairs (user_b);
CREATE INDEX idx_scheduled_messages_user ON scheduled_messages (user_id);
CREATE INDEX idx_signed_prekeys_user_latest ON signed_prekeys (user_id, created_at DESC);
