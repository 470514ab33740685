-- 029: a batch of features.
-- Webhooks; plaintext and expiry (TTL) columns on messages; timeouts and
-- warnings; a warning-escalation policy on communities; scheduled messages; a
-- per-channel message TTL; polls and votes; profile bio and pronouns;
-- bookmarks; custom community emoji; instance announcements and their
-- per-user dismissals.
-- Deliberate differences from the original:
--   * the user references webhooks.created_by, user_timeouts.issued_by,
--     warnings.issued_by, polls.created_by, custom_emojis.uploaded_by and
--     announcements.created_by are nullable with ON DELETE SET NULL (the
--     original kept them NOT NULL; after 046 deleting such a user failed);
--   * new indexes on foreign key columns: idx_webhooks_created_by,
--     idx_user_timeouts_channel_id, idx_user_timeouts_issued_by,
--     idx_warnings_channel_id, idx_warnings_issued_by,
--     idx_scheduled_messages_channel_id, idx_polls_channel_id,
--     idx_polls_created_by, idx_poll_votes_user_id, idx_bookmarks_message_id,
--     idx_custom_emojis_uploaded_by, idx_announcements_created_by and
--     idx_announcement_dismissals_announcement_id.
-- The original's indexes are all kept, including the redundant ones
-- (idx_webhooks_token, idx_poll_votes_poll, idx_bookmarks_user,
-- idx_emojis_community, idx_warnings_user) and idx_warnings_channel, which,
-- despite its name, is on (user_id, channel_id).

-- Webhooks.
CREATE TABLE webhooks (
    id         UUID PRIMARY KEY,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    name       VARCHAR(64) NOT NULL,
    token      VARCHAR(128) NOT NULL UNIQUE,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    avatar_url TEXT,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_webhooks_channel ON webhooks (channel_id);
CREATE INDEX idx_webhooks_token ON webhooks (token);

CREATE INDEX idx_webhooks_created_by ON webhooks (created_by);

-- Plaintext body (webhook messages) and per-message expiry.
ALTER TABLE messages
    ADD COLUMN plaintext TEXT,
    ADD COLUMN expires_at TIMESTAMPTZ;

CREATE INDEX idx_messages_expires ON messages (expires_at) WHERE expires_at IS NOT NULL;

-- Timeouts.
CREATE TABLE user_timeouts (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    issued_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    reason     TEXT,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_timeouts_user_channel ON user_timeouts (user_id, channel_id);
CREATE INDEX idx_timeouts_expires ON user_timeouts (expires_at);

CREATE INDEX idx_user_timeouts_channel_id ON user_timeouts (channel_id);
CREATE INDEX idx_user_timeouts_issued_by ON user_timeouts (issued_by);

-- Warnings.
CREATE TABLE warnings (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    issued_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_warnings_user ON warnings (user_id);
CREATE INDEX idx_warnings_channel ON warnings (user_id, channel_id);

CREATE INDEX idx_warnings_channel_id ON warnings (channel_id);
CREATE INDEX idx_warnings_issued_by ON warnings (issued_by);

-- Automatic escalation of warnings, configured per community.
ALTER TABLE communities ADD COLUMN warn_escalation JSONB;

-- Scheduled messages (ciphertext and nonce are TEXT here, unlike messages).
CREATE TABLE scheduled_messages (
    id            UUID PRIMARY KEY,
    channel_id    UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ciphertext    TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    scheduled_for TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_scheduled_due ON scheduled_messages (scheduled_for);

CREATE INDEX idx_scheduled_messages_channel_id ON scheduled_messages (channel_id);

-- Default time-to-live of new messages in a channel.
ALTER TABLE channels ADD COLUMN message_ttl_seconds INTEGER;

-- Polls and votes (a multi-select vote is several rows).
CREATE TABLE polls (
    id           UUID PRIMARY KEY,
    channel_id   UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    question     TEXT NOT NULL,
    options      JSONB NOT NULL,
    multi_select BOOLEAN NOT NULL DEFAULT FALSE,
    anonymous    BOOLEAN NOT NULL DEFAULT FALSE,
    closed       BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_polls_channel_id ON polls (channel_id);
CREATE INDEX idx_polls_created_by ON polls (created_by);

CREATE TABLE poll_votes (
    id           UUID PRIMARY KEY,
    poll_id      UUID NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    option_index INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (poll_id, user_id, option_index)
);

CREATE INDEX idx_poll_votes_poll ON poll_votes (poll_id);

CREATE INDEX idx_poll_votes_user_id ON poll_votes (user_id);

-- Profile fields.
ALTER TABLE users
    ADD COLUMN bio TEXT,
    ADD COLUMN pronouns VARCHAR(50);

-- Bookmarks.
CREATE TABLE bookmarks (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    note       TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, message_id)
);

CREATE INDEX idx_bookmarks_user ON bookmarks (user_id);

CREATE INDEX idx_bookmarks_message_id ON bookmarks (message_id);

-- Custom emoji, per community.
CREATE TABLE custom_emojis (
    id           UUID PRIMARY KEY,
    community_id UUID NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    shortcode    VARCHAR(32) NOT NULL,
    file_path    TEXT NOT NULL,
    content_type VARCHAR(64) NOT NULL,
    uploaded_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (community_id, shortcode)
);

CREATE INDEX idx_emojis_community ON custom_emojis (community_id);

CREATE INDEX idx_custom_emojis_uploaded_by ON custom_emojis (uploaded_by);

-- Instance-wide announcements and who dismissed them.
CREATE TABLE announcements (
    id         UUID PRIMARY KEY,
    title      VARCHAR(200) NOT NULL,
    body       TEXT NOT NULL,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_announcements_created_by ON announcements (created_by);

CREATE TABLE announcement_dismissals (
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    announcement_id UUID NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    dismissed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, announcement_id)
);

CREATE INDEX idx_announcement_dismissals_announcement_id ON announcement_dismissals (announcement_id);
