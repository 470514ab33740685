-- 045: the `gallery` channel type the web client knows (the original added it in its 051).
-- A gallery channel is a text channel the client shows as a grid of images.

ALTER TYPE channel_type ADD VALUE IF NOT EXISTS 'gallery';
