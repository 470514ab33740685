-- 030: discoverability of communities and channels (both visible by default).
-- Deliberate differences from the original: none.

ALTER TABLE communities ADD COLUMN discoverable BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE channels ADD COLUMN discoverable BOOLEAN NOT NULL DEFAULT TRUE;
