-- 023: instance owner.
-- Adds users.is_owner and marks the earliest-created admin, if there is one, as
-- the owner. On a database without admins the update touches no row.
-- Deliberate differences from the original: none (ties on created_at are
-- broken by id so the choice is deterministic).

ALTER TABLE users ADD COLUMN is_owner BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE users
SET is_owner = TRUE
WHERE id = (
    SELECT a.id
    FROM users AS a
    WHERE a.is_admin
    ORDER BY a.created_at ASC, a.id ASC
    LIMIT 1
);
