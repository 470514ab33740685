-- 012: unread tracking.
-- read_cursors keeps, per user and channel, the last message read and when.
-- Deliberate differences from the original:
--   * plain CREATE TABLE (the original used IF NOT EXISTS);
--   * new index idx_read_cursors_last_read_message_id, so that deleting a
--     message clears the cursors pointing at it without a table scan.

CREATE TABLE read_cursors (
    user_id              UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id           UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_message_id UUID REFERENCES messages (id) ON DELETE SET NULL,
    last_read_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id)
);

CREATE INDEX idx_read_cursors_last_read_message_id ON read_cursors (last_read_message_id);
