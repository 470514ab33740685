-- 034: cosmetic customisation.
-- Profile banners for users; theme, banner and welcome text for communities;
-- icon, banner and accent colour (#rrggbb) for groups; a background image for
-- voice channels.
-- Deliberate differences from the original: none.

ALTER TABLE users ADD COLUMN banner_url TEXT;

ALTER TABLE communities
    ADD COLUMN community_theme JSONB,
    ADD COLUMN banner_url TEXT,
    ADD COLUMN welcome_message TEXT;

ALTER TABLE groups
    ADD COLUMN icon_url TEXT,
    ADD COLUMN banner_url TEXT,
    ADD COLUMN accent_color VARCHAR(7);

ALTER TABLE channels ADD COLUMN voice_background TEXT;
