-- 049: what files, web push and scheduled messages need beyond the seed's tables.
-- The original added these in its 042 (push_subscriptions), 043 (scheduled preview) and
-- 050 (thumbnails); our numbers 040-048 went to other topics, so they land here together.
--   * push_subscriptions: one row per browser push endpoint of a user. UNIQUE (user_id,
--     endpoint) also serves lookups by user; failure_count and last_used drive the clean-up.
--   * files.thumbnail_path (the JPEG thumbnail's storage key, NULL when there is none) and
--     files.exif_stripped (the stored bytes are a metadata-free re-encoding).
--   * scheduled_messages.content_preview: an opaque, client-encrypted preview.
-- Beyond the original:
--   * idx_scheduled_messages_user_id: the per-user count (50 at most) and list;
--   * idx_files_checksum: blocking a hash finds the files that already have it.
-- Adding nullable columns, or a NOT NULL column with a constant default, rewrites no table.

CREATE TABLE push_subscriptions (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint      TEXT NOT NULL,
    p256dh_key    TEXT NOT NULL,
    auth_key      TEXT NOT NULL,
    user_agent    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used     TIMESTAMPTZ,
    failure_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, endpoint)
);

ALTER TABLE files
    ADD COLUMN thumbnail_path TEXT,
    ADD COLUMN exif_stripped BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX idx_files_checksum ON files (checksum);

ALTER TABLE scheduled_messages ADD COLUMN content_preview TEXT;

CREATE INDEX idx_scheduled_messages_user_id ON scheduled_messages (user_id);
