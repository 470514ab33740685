-- 039: threads.
-- A reply inside a thread points at the thread's root message; the partial
-- index lists a thread's replies in chronological order (and also serves the
-- foreign key, since thread_id leads it).
-- Deliberate difference from the original: thread_id is ON DELETE SET NULL
-- (the original left it NO ACTION, so a thread root with replies could not be
-- hard-deleted); a reply whose root disappears becomes an ordinary message.

ALTER TABLE messages ADD COLUMN thread_id UUID REFERENCES messages (id) ON DELETE SET NULL;

CREATE INDEX idx_messages_thread ON messages (thread_id, created_at ASC) WHERE thread_id IS NOT NULL;
