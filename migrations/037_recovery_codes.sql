-- 037: account recovery.
-- A hashed recovery code and the list of hashed one-time TOTP backup codes.
-- Deliberate differences from the original: none.

ALTER TABLE users
    ADD COLUMN recovery_code_hash TEXT,
    ADD COLUMN totp_backup_codes TEXT[];
