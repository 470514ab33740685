-- 006: channels and channel membership.
-- Adds the channel_type enum ('text', 'voice', 'dm'), the channels table (a DM
-- channel has no name) and channel_members with a per-channel role.
-- Deliberate differences from the original:
--   * channels.created_by is ON DELETE SET NULL from the start (the original
--     switched it in 016);
--   * new index idx_channels_created_by on that foreign key column.

CREATE TYPE channel_type AS ENUM ('text', 'voice', 'dm');

CREATE TABLE channels (
    id           UUID PRIMARY KEY,
    name         VARCHAR(64),
    channel_type channel_type NOT NULL,
    topic        TEXT,
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_channels_created_by ON channels (created_by);

CREATE TABLE channel_members (
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       VARCHAR(16) NOT NULL DEFAULT 'member',
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX idx_channel_members_user ON channel_members (user_id);
