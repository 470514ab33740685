-- 033: archived channels (read-only history, hidden from active lists).
-- Deliberate differences from the original: none.

ALTER TABLE channels ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
