-- 027: upload quota accounting.
-- Adds the running total of bytes a user has uploaded, indexed for the admin
-- "largest uploaders" view. (Login lockout state is not stored in the
-- database.)
-- Deliberate differences from the original: none.

ALTER TABLE users ADD COLUMN upload_bytes_used BIGINT NOT NULL DEFAULT 0;

CREATE INDEX idx_users_upload_bytes ON users (upload_bytes_used DESC);
