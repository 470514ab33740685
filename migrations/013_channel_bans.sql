-- 013: channel bans.
-- A banned user, who banned them, why and when; one ban per (channel, user).
-- Deliberate differences from the original:
--   * banned_by is nullable and ON DELETE SET NULL from the start (the original
--     created it NOT NULL without an action and fixed it in 016);
--   * new indexes idx_channel_bans_user_id and idx_channel_bans_banned_by on the
--     two user foreign key columns.

CREATE TABLE channel_bans (
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    reason     TEXT,
    banned_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX idx_channel_bans_user_id ON channel_bans (user_id);
CREATE INDEX idx_channel_bans_banned_by ON channel_bans (banned_by);
