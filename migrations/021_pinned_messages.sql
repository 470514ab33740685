-- 021: pinned messages (a message can be pinned once; channel_id is a copy of
-- the message's channel for listing).
-- Deliberate differences from the original:
--   * pinned_by is nullable and ON DELETE SET NULL (the original kept it
--     NOT NULL, so deleting a user who had pinned a message failed);
--   * new index idx_pinned_messages_pinned_by on that column.

CREATE TABLE pinned_messages (
    message_id UUID PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    pinned_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    pinned_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_pinned_messages_channel ON pinned_messages (channel_id, pinned_at DESC);

CREATE INDEX idx_pinned_messages_pinned_by ON pinned_messages (pinned_by);
