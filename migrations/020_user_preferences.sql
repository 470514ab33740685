-- 020: per-user client preferences, stored as one opaque JSON object.
-- Deliberate differences from the original: none.

CREATE TABLE user_preferences (
    user_id     UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    preferences JSONB NOT NULL DEFAULT '{}',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
