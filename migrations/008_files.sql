-- 008: uploaded files.
-- Metadata of encrypted uploads: uploader, encrypted name, size, content type,
-- storage path, checksum and the channel the file was shared in (if any).
-- Deliberate difference from the original: uploader_id is nullable and
-- ON DELETE SET NULL from the start (the original created it NOT NULL without
-- an action and only fixed it in 046).

CREATE TABLE files (
    id             UUID PRIMARY KEY,
    uploader_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    encrypted_name VARCHAR(512) NOT NULL,
    size_bytes     BIGINT NOT NULL,
    content_type   VARCHAR(128),
    storage_path   TEXT NOT NULL,
    checksum       VARCHAR(128) NOT NULL,
    channel_id     UUID REFERENCES channels (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_files_uploader ON files (uploader_id);
CREATE INDEX idx_files_channel ON files (channel_id);
