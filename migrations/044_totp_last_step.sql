-- 044: the last TOTP time step a user's code was accepted for (ours; the original let a code
-- be used again while it was still valid, i.e. for up to 90 s).
--
-- A code is accepted only for a step greater than this one, in the same UPDATE that records
-- it, so the same code can never sign in or change 2FA settings twice. NULL: no code accepted
-- since the secret was (re)set up.

ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
