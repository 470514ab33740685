-- 043: a user's voice-call background image (the original's 047).

ALTER TABLE users ADD COLUMN voice_background_url TEXT;
