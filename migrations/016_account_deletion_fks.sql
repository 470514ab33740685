-- 016: foreign keys that make account deletion possible.
-- In the original this migration repaired four user references so that a user
-- could be deleted. Here those columns were already created nullable with
-- ON DELETE SET NULL (004, 006, 007, 013), so this migration only re-asserts
-- that state: it makes sure the columns are nullable and replaces each foreign
-- key with an identical one under PostgreSQL's default constraint name.
-- Running it changes nothing in the resulting schema.
-- Deliberate difference from the original: it is a no-op in effect.

ALTER TABLE channels
    DROP CONSTRAINT channels_created_by_fkey,
    ADD CONSTRAINT channels_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_user_id_fkey,
    ADD CONSTRAINT audit_log_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE messages
    ALTER COLUMN sender_id DROP NOT NULL,
    DROP CONSTRAINT messages_sender_id_fkey,
    ADD CONSTRAINT messages_sender_id_fkey
        FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE channel_bans
    ALTER COLUMN banned_by DROP NOT NULL,
    DROP CONSTRAINT channel_bans_banned_by_fkey,
    ADD CONSTRAINT channel_bans_banned_by_fkey
        FOREIGN KEY (banned_by) REFERENCES users (id) ON DELETE SET NULL;
