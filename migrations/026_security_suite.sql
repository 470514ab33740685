-- 026: moderation and security tooling.
-- A list of blocked file hashes, quarantine markers (when and by whom) on files
-- and messages, and indexes for the admin views (quarantined items, newest and
-- largest files, soft-deleted messages).
-- Deliberate differences from the original:
--   * blocked_hashes.blocked_by is nullable and ON DELETE SET NULL from the
--     start, and files.quarantined_by / messages.quarantined_by are
--     ON DELETE SET NULL from the start (the original fixed all three in 045);
--   * new indexes idx_blocked_hashes_blocked_by, idx_files_quarantined_by and
--     idx_messages_quarantined_by (the last two partial, quarantined_by IS NOT
--     NULL, since almost every row has none).
-- idx_blocked_hashes_hash duplicates the UNIQUE constraint; kept for parity.

CREATE TABLE blocked_hashes (
    id         UUID PRIMARY KEY,
    hash       VARCHAR(128) NOT NULL UNIQUE,
    reason     TEXT,
    blocked_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_blocked_hashes_hash ON blocked_hashes (hash);

CREATE INDEX idx_blocked_hashes_blocked_by ON blocked_hashes (blocked_by);

ALTER TABLE files
    ADD COLUMN quarantined_at TIMESTAMPTZ,
    ADD COLUMN quarantined_by UUID REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE messages
    ADD COLUMN quarantined_at TIMESTAMPTZ,
    ADD COLUMN quarantined_by UUID REFERENCES users (id) ON DELETE SET NULL;

CREATE INDEX idx_files_quarantined ON files (quarantined_at) WHERE quarantined_at IS NOT NULL;
CREATE INDEX idx_messages_quarantined ON messages (quarantined_at) WHERE quarantined_at IS NOT NULL;
CREATE INDEX idx_files_created ON files (created_at DESC);
CREATE INDEX idx_files_size ON files (size_bytes DESC);
CREATE INDEX idx_messages_deleted ON messages (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE INDEX idx_files_quarantined_by ON files (quarantined_by) WHERE quarantined_by IS NOT NULL;
CREATE INDEX idx_messages_quarantined_by ON messages (quarantined_by) WHERE quarantined_by IS NOT NULL;
