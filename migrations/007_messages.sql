-- 007: messages.
-- Encrypted message bodies (ciphertext + nonce) per channel, with type, optional
-- sender key id (deliberately not a foreign key), optional reply target, and
-- edit / soft-delete timestamps.
-- Deliberate differences from the original:
--   * sender_id is nullable and ON DELETE SET NULL from the start (the original
--     created it NOT NULL without an action and fixed it in 016);
--   * reply_to_id is ON DELETE SET NULL (the original left it NO ACTION, so a
--     message that had replies could not be hard-deleted);
--   * new partial index idx_messages_reply_to_id (reply_to_id IS NOT NULL), so
--     deleting a message does not scan the table for replies.

CREATE TABLE messages (
    id            UUID PRIMARY KEY,
    channel_id    UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    sender_id     UUID REFERENCES users (id) ON DELETE SET NULL,
    ciphertext    BYTEA NOT NULL,
    nonce         BYTEA NOT NULL,
    message_type  VARCHAR(16) NOT NULL DEFAULT 'text',
    sender_key_id UUID,
    reply_to_id   UUID REFERENCES messages (id) ON DELETE SET NULL,
    edited_at     TIMESTAMPTZ,
    deleted_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_messages_channel ON messages (channel_id, created_at DESC);
CREATE INDEX idx_messages_sender ON messages (sender_id, created_at DESC);

CREATE INDEX idx_messages_reply_to_id ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
