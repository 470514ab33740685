-- 031: discoverability of groups (visible by default).
-- Deliberate differences from the original: none.

ALTER TABLE groups ADD COLUMN discoverable BOOLEAN NOT NULL DEFAULT TRUE;
