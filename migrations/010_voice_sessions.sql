-- 010: voice sessions and their participants.
-- A session is active while ended_at is NULL; participants are active while
-- left_at is NULL.
-- Deliberate differences from the original:
--   * voice_sessions.started_by is nullable and ON DELETE SET NULL from the
--     start (the original fixed it in 045);
--   * voice_session_participants.user_id is ON DELETE CASCADE from the start
--     (the original fixed it in 045);
--   * new UNIQUE partial index idx_voice_sessions_active_channel: at most one
--     active session per channel, so "get or create the call" is race-free.
--     The original's non-unique idx_voice_sessions_channel (same key and
--     predicate) is kept as well, for schema parity;
--   * new plain indexes idx_voice_sessions_channel_id,
--     idx_voice_sessions_started_by and idx_voice_session_participants_user_id,
--     so that every foreign key column leads an unconditional index (the
--     original's partial indexes only cover active rows).

CREATE TABLE voice_sessions (
    id         UUID PRIMARY KEY,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    started_by UUID REFERENCES users (id) ON DELETE SET NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at   TIMESTAMPTZ
);

CREATE TABLE voice_session_participants (
    session_id UUID NOT NULL REFERENCES voice_sessions (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    left_at    TIMESTAMPTZ,
    PRIMARY KEY (session_id, user_id)
);

CREATE INDEX idx_voice_sessions_channel ON voice_sessions (channel_id) WHERE ended_at IS NULL;
CREATE INDEX idx_voice_participants_user ON voice_session_participants (user_id) WHERE left_at IS NULL;

CREATE UNIQUE INDEX idx_voice_sessions_active_channel ON voice_sessions (channel_id) WHERE ended_at IS NULL;
CREATE INDEX idx_voice_sessions_channel_id ON voice_sessions (channel_id);
CREATE INDEX idx_voice_sessions_started_by ON voice_sessions (started_by);
CREATE INDEX idx_voice_session_participants_user_id ON voice_session_participants (user_id);
