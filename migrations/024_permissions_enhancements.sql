-- 024: permission settings.
-- Group visibility, read-only channels and slow mode, community policies for
-- who may create groups and invites, and a per-user slow-mode tracker.
-- Deliberate difference from the original: new index
-- idx_channel_slowmode_tracker_user_id on the tracker's user_id column.

ALTER TABLE groups ADD COLUMN visibility VARCHAR(16) NOT NULL DEFAULT 'public';

ALTER TABLE channels
    ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;

ALTER TABLE communities
    ADD COLUMN who_can_create_groups VARCHAR(16) NOT NULL DEFAULT 'admin',
    ADD COLUMN who_can_create_invites VARCHAR(16) NOT NULL DEFAULT 'admin';

CREATE TABLE channel_slowmode_tracker (
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_sent  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX idx_channel_slowmode_tracker_user_id ON channel_slowmode_tracker (user_id);
