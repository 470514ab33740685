-- 017: instance administrators and account suspension.
-- Adds the is_admin flag and the suspension time and reason to users.
-- Deliberate differences from the original: none.

ALTER TABLE users
    ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN suspended_at TIMESTAMPTZ,
    ADD COLUMN suspended_reason TEXT;
